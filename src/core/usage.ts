/**
 * Normalisers from provider usage objects to {@link Usage}, with the OpenTelemetry GenAI
 * semantics: input tokens INCLUDE cache reads and cache writes, output tokens INCLUDE reasoning.
 *
 * "Not reported" stays `undefined` (a missing or `null` field never becomes 0; a reported 0 stays
 * 0). A usage object that is absent (`null`/`undefined`) gives `undefined`. Garbage (negative,
 * fractional, non-numeric counts, or a part larger than its whole) throws a `ValidationError`
 * naming the provider and the field, rather than silently skewing token and cost totals.
 *
 * When a provider reports only one of input/output, the other is 0: `Usage` needs both, and the
 * call did happen. Provider totals are kept as reported (`totalTokens`), not recomputed.
 */

import { ValidationError } from "../errors.ts";
import type { Usage } from "./types.ts";
import { typeName } from "./validate.ts";

type Fields = Record<string, unknown>;

/**
 * OpenAI Chat Completions `usage`: `prompt_tokens` (already includes cached and cache-written
 * tokens), `completion_tokens` (includes reasoning), `prompt_tokens_details.cached_tokens` /
 * `.cache_write_tokens`, `completion_tokens_details.reasoning_tokens`.
 */
export function fromOpenAIChatUsage(usage: unknown): Usage | undefined {
  const u = asObject(usage, "OpenAI chat usage");
  if (u === undefined) return undefined;
  const where = "OpenAI chat usage";
  return build(where, {
    prompt: count(u, "prompt_tokens", where),
    completion: count(u, "completion_tokens", where),
    total: count(u, "total_tokens", where),
    cacheRead: nested(u, "prompt_tokens_details", "cached_tokens", where),
    cacheWrite: nested(u, "prompt_tokens_details", "cache_write_tokens", where),
    reasoning: nested(u, "completion_tokens_details", "reasoning_tokens", where),
  });
}

/**
 * OpenAI Responses API `usage`: `input_tokens`, `output_tokens`, `input_tokens_details.cached_tokens`
 * / `.cache_write_tokens`, `output_tokens_details.reasoning_tokens`.
 */
export function fromOpenAIResponsesUsage(usage: unknown): Usage | undefined {
  const u = asObject(usage, "OpenAI responses usage");
  if (u === undefined) return undefined;
  const where = "OpenAI responses usage";
  return build(where, {
    prompt: count(u, "input_tokens", where),
    completion: count(u, "output_tokens", where),
    total: count(u, "total_tokens", where),
    cacheRead: nested(u, "input_tokens_details", "cached_tokens", where),
    cacheWrite: nested(u, "input_tokens_details", "cache_write_tokens", where),
    reasoning: nested(u, "output_tokens_details", "reasoning_tokens", where),
  });
}

/**
 * Anthropic Messages `usage`. Anthropic's `input_tokens` EXCLUDES cache reads and cache writes,
 * so they are added back into `promptTokens` (the double-counting bug elsewhere is the reverse
 * mistake: adding cache tokens to an input that already includes them). Thinking tokens come from
 * `output_tokens_details.thinking_tokens` where the API reports them (they are part of
 * `output_tokens`); otherwise `reasoningTokens` stays undefined.
 */
export function fromAnthropicUsage(usage: unknown): Usage | undefined {
  const u = asObject(usage, "Anthropic usage");
  if (u === undefined) return undefined;
  const where = "Anthropic usage";
  const input = count(u, "input_tokens", where);
  const cacheRead = count(u, "cache_read_input_tokens", where);
  const cacheWrite = count(u, "cache_creation_input_tokens", where);
  const output = count(u, "output_tokens", where);
  const prompt =
    input === undefined && cacheRead === undefined && cacheWrite === undefined
      ? undefined
      : (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0);
  const reasoning = nested(u, "output_tokens_details", "thinking_tokens", where);
  return build(where, { prompt, completion: output, cacheRead, cacheWrite, reasoning });
}

/**
 * Vercel AI SDK usage, in any of its shapes:
 * - v4: `{ promptTokens, completionTokens, totalTokens }`;
 * - v5 (`LanguageModelV2Usage`): `{ inputTokens, outputTokens, totalTokens, reasoningTokens?, cachedInputTokens? }`;
 * - v6+ `LanguageModelUsage`: `{ inputTokens, inputTokenDetails: { cacheReadTokens, cacheWriteTokens, … },
 *   outputTokens, outputTokenDetails: { reasoningTokens, … }, totalTokens }`;
 * - provider level (`LanguageModelV3Usage`/`V4Usage`, what middleware sees):
 *   `{ inputTokens: { total, noCache, cacheRead, cacheWrite }, outputTokens: { total, text, reasoning } }`.
 *
 * The AI SDK already uses the inclusive semantics (its input total includes cache tokens) — except
 * v5's Anthropic provider, whose `inputTokens` left cache tokens out; that cannot be repaired here.
 */
export function fromAISDKUsage(usage: unknown): Usage | undefined {
  const u = asObject(usage, "AI SDK usage");
  if (u === undefined) return undefined;
  const where = "AI SDK usage";
  if (typeof u.inputTokens === "object" && u.inputTokens !== null) return fromProviderLevel(u, where);
  if ("inputTokens" in u || "outputTokens" in u) {
    const inDetails = asObject(u.inputTokenDetails, `${where}.inputTokenDetails`);
    const outDetails = asObject(u.outputTokenDetails, `${where}.outputTokenDetails`);
    return build(where, {
      prompt: count(u, "inputTokens", where),
      completion: count(u, "outputTokens", where),
      total: count(u, "totalTokens", where),
      // v6 kept the v5 fields as deprecated aliases of the details; the details win.
      cacheRead:
        inDetails?.cacheReadTokens != null
          ? count(inDetails, "cacheReadTokens", where)
          : count(u, "cachedInputTokens", where),
      cacheWrite: inDetails === undefined ? undefined : count(inDetails, "cacheWriteTokens", where),
      reasoning:
        outDetails?.reasoningTokens != null
          ? count(outDetails, "reasoningTokens", where)
          : count(u, "reasoningTokens", where),
    });
  }
  if ("promptTokens" in u || "completionTokens" in u) {
    return build(where, {
      prompt: count(u, "promptTokens", where),
      completion: count(u, "completionTokens", where),
      total: count(u, "totalTokens", where),
    });
  }
  throw new ValidationError(
    `[usage] ${where} has none of inputTokens, outputTokens, promptTokens, completionTokens; is this an AI SDK usage object?`,
  );
}

function fromProviderLevel(u: Fields, where: string): Usage | undefined {
  const input = asObject(u.inputTokens, `${where}.inputTokens`) ?? {};
  const output = asObject(u.outputTokens, `${where}.outputTokens`) ?? {};
  const cacheRead = count(input, "cacheRead", `${where}.inputTokens`);
  const cacheWrite = count(input, "cacheWrite", `${where}.inputTokens`);
  const noCache = count(input, "noCache", `${where}.inputTokens`);
  const reasoning = count(output, "reasoning", `${where}.outputTokens`);
  const text = count(output, "text", `${where}.outputTokens`);
  // Prefer the reported totals; rebuild one from its parts only when the total is missing.
  const prompt =
    count(input, "total", `${where}.inputTokens`) ??
    (noCache === undefined ? undefined : noCache + (cacheRead ?? 0) + (cacheWrite ?? 0));
  const completion =
    count(output, "total", `${where}.outputTokens`) ??
    (text === undefined ? undefined : text + (reasoning ?? 0));
  return build(where, { prompt, completion, cacheRead, cacheWrite, reasoning });
}

interface Parts {
  prompt: number | undefined;
  completion: number | undefined;
  total?: number | undefined;
  cacheRead?: number | undefined;
  cacheWrite?: number | undefined;
  reasoning?: number | undefined;
}

/** Assembles a `Usage` with only the reported optional fields, after consistency checks. */
function build(where: string, p: Parts): Usage | undefined {
  if (p.prompt === undefined && p.completion === undefined) return undefined;
  const usage: Usage = { promptTokens: p.prompt ?? 0, completionTokens: p.completion ?? 0 };
  if (p.total !== undefined) usage.totalTokens = p.total;
  if (p.cacheRead !== undefined) usage.cacheReadTokens = p.cacheRead;
  if (p.cacheWrite !== undefined) usage.cacheWriteTokens = p.cacheWrite;
  if (p.reasoning !== undefined) usage.reasoningTokens = p.reasoning;
  const cached = (p.cacheRead ?? 0) + (p.cacheWrite ?? 0);
  if (cached > usage.promptTokens)
    throw new ValidationError(
      `[usage] ${where}: cache tokens (${cached}) exceed the input tokens (${usage.promptTokens}); input must include cache reads and writes`,
    );
  if ((p.reasoning ?? 0) > usage.completionTokens)
    throw new ValidationError(
      `[usage] ${where}: reasoning tokens (${p.reasoning}) exceed the output tokens (${usage.completionTokens})`,
    );
  if (!Number.isSafeInteger(usage.promptTokens + usage.completionTokens))
    throw new ValidationError(`[usage] ${where}: input + output tokens pass 2^53−1`);
  return usage;
}

function asObject(value: unknown, where: string): Fields | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value))
    throw new ValidationError(`[usage] ${where} must be an object, got ${typeName(value)}`);
  return value as Fields;
}

/** A token count: absent/null → undefined; otherwise a whole number from 0 to 2^53−1. */
function count(u: Fields, key: string, where: string): number | undefined {
  const value = u[key];
  if (value === undefined || value === null) return undefined;
  // `+ 0` turns -0 into 0.
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value + 0;
  throw new ValidationError(
    `[usage] ${where}.${key} must be a whole number from 0 to 2^53−1, got ${typeof value === "number" ? String(value) : typeName(value)}`,
  );
}

function nested(u: Fields, parent: string, key: string, where: string): number | undefined {
  const details = u[parent];
  if (details === undefined || details === null) return undefined;
  if (typeof details !== "object" || Array.isArray(details))
    throw new ValidationError(`[usage] ${where}.${parent} must be an object, got ${typeName(details)}`);
  return count(details as Fields, key, `${where}.${parent}`);
}
