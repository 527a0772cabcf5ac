/**
 * One-line instrumentation for a real `@anthropic-ai/sdk` client: every `messages.create` call,
 * streamed or not (and `messages.stream()` / `.parse()`, which go through it), becomes a step
 * with model, usage, time to first token, stream stats and an error class. This file imports
 * nothing from the SDK; it is reached only through the `session-metrics/llm/anthropic` subpath.
 *
 * Streamed usage comes in two parts: `message_start` carries the input side (and an output count
 * of 1 or so), `message_delta` carries CUMULATIVE counts — so later values replace earlier ones
 * field by field, never add. The merged object then goes through `fromAnthropicUsage`, which adds
 * the cache tokens that Anthropic's `input_tokens` leaves out.
 */

import { fromAnthropicUsage } from "../core/usage.ts";
import {
  CallStep,
  type Create,
  type InstrumentOptions,
  type InstrumentTarget,
  observeCreate,
  replaceMethod,
  timeSdkStream,
} from "./instrument-shared.ts";

export type { InstrumentOptions, InstrumentTarget } from "./instrument-shared.ts";

/** The part of an `Anthropic` client that gets wrapped (structural, so any SDK version with it fits). */
export interface AnthropicLike {
  messages: { create: (...args: never[]) => unknown };
}

type Event = {
  type?: unknown;
  message?: { model?: unknown; usage?: unknown };
  delta?: { type?: unknown };
  usage?: unknown;
};

/** Instruments `client` in place and returns it. Calling it again re-targets it (never double-records). */
export function instrumentAnthropic<C extends AnthropicLike>(
  client: C,
  target: InstrumentTarget,
  options: InstrumentOptions = {},
): C {
  replaceMethod<Create>(
    client.messages,
    "create",
    (original) =>
      function create(this: unknown, body, requestOptions) {
        const step = new CallStep(target, options);
        const signal = requestOptions?.signal;
        return observeCreate(
          step,
          body,
          signal,
          () => original.call(this, body, requestOptions),
          fromAnthropicUsage,
          (stream) => instrumentStream(stream, step, signal),
        );
      },
  );
  return client;
}

function instrumentStream(
  stream: AsyncIterable<unknown>,
  step: CallStep,
  signal: AbortSignal | null | undefined,
) {
  let usage: Record<string, unknown> | undefined;
  timeSdkStream<Event>(stream, step, signal, {
    observe(event) {
      if (event.type === "message_start") {
        step.setModel(event.message?.model);
        usage = merge(usage, event.message?.usage);
      } else if (event.type === "message_delta") usage = merge(usage, event.usage);
      return true;
    },
    isContent,
    usage: () => step.normalise(fromAnthropicUsage, usage),
  });
}

/** Text or thinking deltas are content; tool-input JSON, signatures and citations are not. */
function isContent(event: Event): boolean {
  if (event.type !== "content_block_delta") return false;
  const t = event.delta?.type;
  return t === "text_delta" || t === "thinking_delta";
}

/** Field-by-field replacement with the non-null values of `next` (Anthropic's counts are cumulative). */
function merge(
  prev: Record<string, unknown> | undefined,
  next: unknown,
): Record<string, unknown> | undefined {
  if (typeof next !== "object" || next === null) return prev;
  const out: Record<string, unknown> = { ...prev };
  for (const [key, value] of Object.entries(next))
    if (value !== null && value !== undefined) out[key] = value;
  return out;
}
