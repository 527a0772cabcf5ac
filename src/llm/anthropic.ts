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
  type InstrumentOptions,
  type InstrumentTarget,
  isAsyncIterable,
  observeCall,
  observeChunks,
  replaceMethod,
  wrapAsyncIterator,
} from "./instrument-shared.ts";
import { timeStream } from "./stream-timer.ts";

export type { InstrumentOptions, InstrumentTarget } from "./instrument-shared.ts";

/** The part of an `Anthropic` client that gets wrapped (structural, so any SDK version with it fits). */
export interface AnthropicLike {
  messages: { create: (...args: never[]) => unknown };
}

type Body = Record<string, unknown> & { model?: unknown; stream?: unknown };
type RequestOptions = { signal?: AbortSignal | null } | undefined;
type Create = (this: unknown, body: Body, options?: RequestOptions) => PromiseLike<unknown>;
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
        return instrumentCall(original, this, body, requestOptions, target, options);
      },
  );
  return client;
}

function instrumentCall(
  original: Create,
  self: unknown,
  body: Body,
  requestOptions: RequestOptions,
  target: InstrumentTarget,
  options: InstrumentOptions,
): PromiseLike<unknown> {
  const step = new CallStep(target, options);
  if (typeof body?.model === "string") step.setModel(body.model);
  const signal = requestOptions?.signal;
  let call: PromiseLike<unknown>;
  try {
    call = original.call(self, body, requestOptions);
  } catch (err) {
    step.failAndEnd(err, signal);
    throw err;
  }
  return observeCall(
    call,
    step,
    (data) => {
      if (body?.stream === true && isAsyncIterable(data)) instrumentStream(data, step, signal);
      else {
        const message = data as { model?: unknown; usage?: unknown };
        if (typeof message?.model === "string") step.setModel(message.model);
        step.end(step.normalise(fromAnthropicUsage, message?.usage));
      }
    },
    signal,
  );
}

function instrumentStream(
  stream: AsyncIterable<unknown>,
  step: CallStep,
  userSignal: AbortSignal | null | undefined,
) {
  let usage: Record<string, unknown> | undefined;
  const controller = (stream as { controller?: AbortController }).controller;
  const signals = [controller?.signal, userSignal].filter((s): s is AbortSignal => s instanceof AbortSignal);
  wrapAsyncIterator(stream, (source) =>
    timeStream(
      observeChunks(source as AsyncIterable<Event>, (event) => {
        if (event.type === "message_start") {
          if (typeof event.message?.model === "string") step.setModel(event.message.model);
          usage = merge(usage, event.message?.usage);
        } else if (event.type === "message_delta") usage = merge(usage, event.usage);
        return true;
      }),
      step,
      {
        isContent,
        signal:
          signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals),
        endStep: true,
        usage: () => step.normalise(fromAnthropicUsage, usage),
      },
    ),
  );
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
