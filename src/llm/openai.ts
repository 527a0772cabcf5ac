/**
 * One-line instrumentation for a real `openai` client: every `chat.completions.create` and
 * `responses.create` call, streamed or not, becomes a step (in a turn of its own, or of
 * `options.turn`) with model, usage, time to first token, stream stats and an error class.
 * The SDK's own helpers (`.parse()`, `.stream()`, `runTools`) go through `create` and are recorded
 * too. This file imports nothing from `openai`; it is reached only through the
 * `session-metrics/llm/openai` subpath, so the package root never loads it.
 *
 * Streamed chat completions only report usage when asked (`stream_options.include_usage`). Unless
 * the caller set `include_usage` or `includeUsage: false`, the instrumentation asks for it and
 * keeps the extra usage-only chunk (no `choices`) to itself, so the caller's stream looks exactly
 * as it would without instrumentation, and the step still gets its tokens.
 *
 * A streamed call's step ends when the caller's iteration ends (completed, broken off, failed or
 * aborted). A stream that is never iterated, or only read through `stream.tee()` (which bypasses
 * the stream's iterator), leaves its step open.
 */

import { fromOpenAIChatUsage, fromOpenAIResponsesUsage } from "../core/usage.ts";
import {
  CallStep,
  type Create,
  type CreateBody,
  type InstrumentOptions,
  type InstrumentTarget,
  observeCreate,
  type RequestOptions,
  replaceMethod,
  timeSdkStream,
} from "./instrument-shared.ts";

export type { InstrumentOptions, InstrumentTarget } from "./instrument-shared.ts";

export interface OpenAIInstrumentOptions extends InstrumentOptions {
  /** Ask streamed chat completions for usage (see the file comment). Default `true`. */
  includeUsage?: boolean;
}

/** The parts of an `OpenAI` client that get wrapped (structural, so any SDK version with them fits). */
export interface OpenAILike {
  chat: { completions: { create: (...args: never[]) => unknown } };
  responses?: { create: (...args: never[]) => unknown };
}

type Chunk = Record<string, unknown>;

/** Instruments `client` in place and returns it. Calling it again re-targets it (never double-records). */
export function instrumentOpenAI<C extends OpenAILike>(
  client: C,
  target: InstrumentTarget,
  options: OpenAIInstrumentOptions = {},
): C {
  for (const [holder, api] of [
    [client.chat.completions, CHAT],
    [client.responses, RESPONSES],
  ] as const) {
    if (holder === undefined) continue;
    replaceMethod<Create>(
      holder,
      "create",
      (original) =>
        function create(this: unknown, body, requestOptions) {
          return instrumentCall(original, this, body, requestOptions, target, options, api);
        },
    );
  }
  return client;
}

interface Api {
  normalise: typeof fromOpenAIChatUsage;
  isContent: (chunk: Chunk) => boolean;
  /** Usage, model and failure carried by a stream event, if any. */
  inspect: (chunk: Chunk, seen: StreamSeen) => void;
  injectUsage: boolean;
}

interface StreamSeen {
  usage?: unknown;
  model?: unknown;
  /** An error class from an in-stream failure event (`response.failed`). */
  failure?: string;
}

function instrumentCall(
  original: Create,
  self: unknown,
  body: CreateBody,
  requestOptions: RequestOptions,
  target: InstrumentTarget,
  options: OpenAIInstrumentOptions,
  api: Api,
): PromiseLike<unknown> {
  const step = new CallStep(target, options);
  let injected = false;
  if (body?.stream === true && api.injectUsage && options.includeUsage !== false) {
    const so = body.stream_options;
    if (so === undefined || so === null || (typeof so === "object" && !("include_usage" in so))) {
      body = { ...body, stream_options: { ...(so as object | null), include_usage: true } };
      injected = true;
    }
  }
  const signal = requestOptions?.signal;
  return observeCreate(
    step,
    body,
    signal,
    () => original.call(self, body, requestOptions),
    api.normalise,
    (stream) => instrumentStream(stream, step, api, injected, signal),
  );
}

function instrumentStream(
  stream: AsyncIterable<unknown>,
  step: CallStep,
  api: Api,
  injected: boolean,
  signal: AbortSignal | null | undefined,
): void {
  const seen: StreamSeen = {};
  timeSdkStream<Chunk>(stream, step, signal, {
    observe(chunk) {
      api.inspect(chunk, seen);
      step.setModel(typeof chunk.model === "string" ? chunk.model : seen.model);
      if (seen.failure !== undefined) {
        step.fail(seen.failure);
        seen.failure = undefined;
      }
      // The usage-only chunk we asked for (no choices) stays with us.
      return !(injected && chunk.usage != null && Array.isArray(chunk.choices) && chunk.choices.length === 0);
    },
    isContent: api.isContent,
    usage: () => step.normalise(api.normalise, seen.usage),
  });
}

const nonEmpty = (v: unknown) => typeof v === "string" && v.length > 0;

const CHAT: Api = {
  normalise: fromOpenAIChatUsage,
  isContent(chunk) {
    const choices = chunk.choices;
    if (!Array.isArray(choices)) return false;
    for (const choice of choices) {
      const d = (choice as { delta?: Record<string, unknown> }).delta;
      // Text, a refusal, or reasoning (`reasoning_content`/`reasoning` from compatible servers).
      if (
        d != null &&
        (nonEmpty(d.content) || nonEmpty(d.refusal) || nonEmpty(d.reasoning_content) || nonEmpty(d.reasoning))
      )
        return true;
    }
    return false;
  },
  inspect(chunk, seen) {
    if (chunk.usage != null) seen.usage = chunk.usage;
  },
  injectUsage: true,
};

const CONTENT_EVENTS = new Set([
  "response.output_text.delta",
  "response.refusal.delta",
  "response.reasoning_text.delta",
  "response.reasoning_summary_text.delta",
]);
const FINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);

const RESPONSES: Api = {
  normalise: fromOpenAIResponsesUsage,
  isContent: (chunk) => CONTENT_EVENTS.has(chunk.type as string),
  inspect(chunk, seen) {
    const response = chunk.response as Chunk | undefined;
    if (response == null) return;
    if (typeof response.model === "string") seen.model = response.model;
    if (FINAL_EVENTS.has(chunk.type as string) && response.usage != null) seen.usage = response.usage;
    if (chunk.type === "response.failed") seen.failure = failureClass(response.error);
  },
  injectUsage: false,
};

/** `response.failed` carries `{ code, message }`; a code we cannot place is still the provider's failure. */
function failureClass(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "rate_limit_exceeded") return "rate_limit";
  return "provider_error";
}
