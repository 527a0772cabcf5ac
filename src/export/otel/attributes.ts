/**
 * Small pure pieces the span builder and the replay share: exact time conversion, the provider
 * a model name implies, and the usage attributes of a `chat` span.
 */
import type { Attributes, HrTime } from "@opentelemetry/api";
import type { NormalizedUsage } from "../../core/state.ts";
import type { Usage } from "../../core/types.ts";
import { ATTR } from "./names.ts";

/**
 * Epoch milliseconds (fractions kept) as an `HrTime`. Passed to the SDK as a tuple, never as a
 * number: the SDK reads a small number as a `performance.now()` reading, which would shift an
 * injected clock's early timestamps.
 */
export function hrTime(epochMs: number): HrTime {
  let seconds = Math.floor(epochMs / 1000);
  let nanos = Math.round((epochMs - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}

/** Seconds between two `HrTime`s. */
export function hrSeconds(from: HrTime, to: HrTime): number {
  return to[0] - from[0] + (to[1] - from[1]) / 1e9;
}

/** Model-name prefixes and the `gen_ai.provider.name` they imply (the conventions' values). */
const PROVIDERS: readonly [RegExp, string][] = [
  [/^(claude|anthropic)/i, "anthropic"],
  [
    /^(gpt-|o[1-9](?:-|$)|chatgpt|text-embedding|davinci|babbage|codex|computer-use|omni-moderation)/i,
    "openai",
  ],
  [/^gemini/i, "gcp.gemini"],
  [/^(mistral|mixtral|codestral|magistral|pixtral|ministral|devstral)/i, "mistral_ai"],
  [/^deepseek/i, "deepseek"],
  [/^grok/i, "x_ai"],
  [/^command/i, "cohere"],
  [/^sonar/i, "perplexity"],
  [/^(kimi|moonshot)/i, "moonshot_ai"],
];

/** Routers name models `provider/model` (OpenRouter, the AI SDK gateway); these prefixes are kept. */
const ROUTED: Readonly<Record<string, string>> = {
  anthropic: "anthropic",
  openai: "openai",
  google: "gcp.gemini",
  mistral: "mistral_ai",
  mistralai: "mistral_ai",
  deepseek: "deepseek",
  xai: "x_ai",
  "x-ai": "x_ai",
  cohere: "cohere",
  perplexity: "perplexity",
  groq: "groq",
  moonshotai: "moonshot_ai",
};

/**
 * The provider a model name implies, by its well-known prefix: `claude-…` → `anthropic`,
 * `gpt-…`/`o3` → `openai`, `openai/gpt-4o` → `openai`, … Undefined when it implies none.
 */
export function providerOf(model: string | undefined): string | undefined {
  if (model === undefined || model === "") return undefined;
  const slash = model.indexOf("/");
  if (slash > 0) {
    const routed = ROUTED[model.slice(0, slash).toLowerCase()];
    if (routed !== undefined) return routed;
    model = model.slice(slash + 1);
  }
  for (const [pattern, provider] of PROVIDERS) if (pattern.test(model)) return provider;
  return undefined;
}

/**
 * The usage attributes of a `chat` span: input includes cache reads and writes and output includes
 * reasoning (the conventions' rule, and this library's `Usage`); the parts only when reported.
 */
export function usageAttributes(target: Attributes, usage: NormalizedUsage | Usage): void {
  target[ATTR.inputTokens] = usage.promptTokens;
  target[ATTR.outputTokens] = usage.completionTokens;
  if (usage.cacheReadTokens !== undefined) target[ATTR.cacheReadTokens] = usage.cacheReadTokens;
  if (usage.cacheWriteTokens !== undefined) target[ATTR.cacheWriteTokens] = usage.cacheWriteTokens;
  if (usage.reasoningTokens !== undefined) target[ATTR.reasoningTokens] = usage.reasoningTokens;
}
