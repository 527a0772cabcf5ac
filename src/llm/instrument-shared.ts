/**
 * What the provider instrumentations share: the target they record into, per-call turn/step
 * bookkeeping, a step wrapper that keeps recording failures away from the LLM call, and the
 * plumbing around an SDK call and its stream, so each provider only says how to read its
 * chunks. An instrumented call behaves exactly like the original one whatever happens to the
 * metrics.
 */
import type { StepRecorder, StreamStats, TurnRecorder, Usage } from "../core/types.ts";
import { classifyError } from "./errors.ts";
import { timeStream } from "./stream-timer.ts";

/** Where instrumentation records: each call becomes a turn with one step. The `Collector` satisfies it. */
export interface InstrumentTarget {
  startTurn(options?: { turnId?: string; phase?: string }): TurnRecorder;
}

export interface InstrumentOptions {
  /** Phase of the turns started for calls; a function is read at each call. */
  phase?: string | (() => string | undefined);
  /**
   * Record each call as a new step of this turn (or of the turn the function returns at the call)
   * instead of starting a turn per call. That turn is not ended by the instrumentation.
   */
  turn?: TurnRecorder | (() => TurnRecorder | undefined);
  /**
   * Called when recording fails (a malformed usage object, a collector error); the LLM call goes
   * on unaffected. Default: `console.warn`.
   */
  onRecordError?: (err: unknown) => void;
}

const warn = (err: unknown) => console.warn("[session-metrics] [llm] could not record an LLM call:", err);

const NOOP_STEP: StepRecorder = {
  stepId: "",
  firstToken() {},
  generationEnd() {},
  reportUsage() {},
  setModel() {},
  fail() {},
  recordStream() {},
  end() {},
};

/**
 * The step of one instrumented call. Every method swallows (and reports) recording errors; `end`
 * also ends the turn when the call started it. `setModel` ignores anything but a new, non-empty
 * name, so callers pass what a response says without checking it.
 */
export class CallStep implements StepRecorder {
  readonly stepId: string;
  readonly #step: StepRecorder;
  readonly #turn: TurnRecorder | undefined;
  readonly #onError: (err: unknown) => void;
  #model: string | undefined;
  #ended = false;

  constructor(target: InstrumentTarget, options: InstrumentOptions) {
    this.#onError = options.onRecordError ?? warn;
    let step = NOOP_STEP;
    let owned: TurnRecorder | undefined;
    try {
      const given = typeof options.turn === "function" ? options.turn() : options.turn;
      if (given !== undefined) step = given.startStep();
      else {
        const phase = typeof options.phase === "function" ? options.phase() : options.phase;
        owned = target.startTurn(phase === undefined ? undefined : { phase });
        step = owned.startStep();
      }
    } catch (err) {
      this.#onError(err);
    }
    this.#step = step;
    this.#turn = owned;
    this.stepId = step.stepId;
  }

  firstToken(): void {
    this.guard(() => this.#step.firstToken());
  }
  generationEnd(): void {
    this.guard(() => this.#step.generationEnd());
  }
  reportUsage(usage: Usage): void {
    this.guard(() => this.#step.reportUsage(usage));
  }
  setModel(model: unknown): void {
    if (typeof model !== "string" || model === "" || model === this.#model) return;
    this.#model = model;
    this.guard(() => this.#step.setModel(model));
  }
  fail(errorClass: string): void {
    this.guard(() => this.#step.fail(errorClass));
  }
  recordStream(stats: StreamStats): void {
    this.guard(() => this.#step.recordStream(stats));
  }
  end(usage?: Usage | null, options?: { cost?: number }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.guard(() => this.#step.end(usage, options));
    if (this.#turn !== undefined) this.guard(() => this.#turn!.end());
  }

  /** Runs a usage normaliser; a malformed usage is reported and recorded as "not reported". */
  normalise(fn: (raw: unknown) => Usage | undefined, raw: unknown): Usage | undefined {
    try {
      return fn(raw);
    } catch (err) {
      this.#onError(err);
      return undefined;
    }
  }

  /** Marks the call failed (classified) and closes it. */
  failAndEnd(err: unknown, signal?: AbortSignal | null): void {
    this.fail(classifyCallError(err, signal));
    this.end();
  }

  /** Runs `fn`, reporting (not throwing) whatever it throws. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#onError(err);
    }
  }
}

/** `classifyError`, knowing that an abort of a timeout signal (`AbortSignal.timeout`) is a timeout. */
export function classifyCallError(err: unknown, signal?: AbortSignal | null): string {
  const cls = classifyError(err);
  if (cls === "aborted" && (signal?.reason as { name?: unknown } | undefined)?.name === "TimeoutError")
    return "timeout";
  return cls;
}

/** An SDK's `create(body, options)`, as the `openai` and `@anthropic-ai/sdk` clients have it. */
export type CreateBody = Record<string, unknown> & { model?: unknown; stream?: unknown };
export type RequestOptions = { signal?: AbortSignal | null } | undefined;
export type Create = (this: unknown, body: CreateBody, options?: RequestOptions) => PromiseLike<unknown>;

/**
 * Runs `call` (the original `create` with `body`) as `step`: the body's model names it, a throw
 * or a rejection fails and ends it. A streamed result (`body.stream: true`) goes to `onStream`,
 * which ends the step with the stream; any other result is a message whose model and usage (read
 * by `normalise`) end it. Recording errors are reported, never thrown at the caller.
 *
 * `openai` and `@anthropic-ai/sdk` return an `APIPromise`, whose `_thenUnwrap` (the SDKs' own
 * helpers use it) keeps `.withResponse()` and `.asResponse()` working on the result; any other
 * thenable is observed as a plain promise. The failure observer runs on a side chain, so the
 * caller still receives the original rejection.
 *
 * Caveat: the side chain makes the SDK parse the response body as soon as it arrives, so call
 * `.withResponse()` (not `.asResponse()` and your own body read) on an instrumented call.
 */
export function observeCreate(
  step: CallStep,
  body: CreateBody,
  signal: AbortSignal | null | undefined,
  call: () => PromiseLike<unknown>,
  normalise: (raw: unknown) => Usage | undefined,
  onStream: (stream: AsyncIterable<unknown>) => void,
): PromiseLike<unknown> {
  step.setModel(body?.model);
  let pending: PromiseLike<unknown>;
  try {
    pending = call();
  } catch (err) {
    step.failAndEnd(err, signal);
    throw err;
  }
  const seen = (data: unknown): unknown => {
    step.guard(() => {
      if (body?.stream === true && isAsyncIterable(data)) onStream(data);
      else {
        const message = data as { model?: unknown; usage?: unknown } | null;
        step.setModel(message?.model);
        step.end(step.normalise(normalise, message?.usage));
      }
    });
    return data;
  };
  const failed = (err: unknown) => step.failAndEnd(err, signal);
  const thenUnwrap = (pending as { _thenUnwrap?: unknown })._thenUnwrap;
  if (typeof thenUnwrap === "function") {
    const wrapped = thenUnwrap.call(pending, seen) as PromiseLike<unknown>;
    wrapped.then(undefined, failed);
    return wrapped;
  }
  return Promise.resolve(pending).then(seen, (err) => {
    failed(err);
    throw err;
  });
}

/** How a provider reads its stream's chunks. */
export interface StreamReading<T> {
  /** Sees every chunk (model, usage, in-stream errors); says whether the caller gets it. */
  observe: (chunk: T) => boolean;
  /** Text or reasoning: the first one is the first token. */
  isContent: (chunk: T) => boolean;
  /** The call's usage, read once at the end. */
  usage: () => Usage | undefined;
}

/** `source` as the caller will iterate it, timed into `step`, which ends with the stream. */
export function timeCall<T>(
  source: AsyncIterable<T>,
  step: CallStep,
  signal: AbortSignal | undefined,
  reading: StreamReading<T>,
): AsyncIterableIterator<T> {
  return timeStream(observeChunks(source, reading.observe), step, {
    isContent: reading.isContent,
    signal,
    endStep: true,
    usage: reading.usage,
  });
}

/**
 * Times an SDK stream object (`openai`'s and `@anthropic-ai/sdk`'s `Stream`) whenever it is
 * iterated, leaving the object itself (its `controller`, `tee`) as it is. An abort of the
 * stream's own controller or of the caller's signal ends it as aborted.
 */
export function timeSdkStream<T>(
  stream: AsyncIterable<unknown>,
  step: CallStep,
  userSignal: AbortSignal | null | undefined,
  reading: StreamReading<T>,
): void {
  const controller = (stream as { controller?: AbortController }).controller;
  const signals = [controller?.signal, userSignal].filter((s): s is AbortSignal => s instanceof AbortSignal);
  const original = stream[Symbol.asyncIterator].bind(stream);
  Object.defineProperty(stream, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: () =>
      timeCall(
        { [Symbol.asyncIterator]: original } as AsyncIterable<T>,
        step,
        signals.length <= 1 ? signals[0] : AbortSignal.any(signals),
        reading,
      ),
  });
}

/**
 * Replaces `holder[key]` (an SDK method) with `wrap(original)`. Instrumenting again re-wraps the
 * original, so two calls never record each LLM call twice.
 */
export function replaceMethod<F extends (...args: never[]) => unknown>(
  holder: object,
  key: string,
  wrap: (original: F) => F,
): void {
  const current = (holder as Record<string, unknown>)[key];
  if (typeof current !== "function") throw new TypeError(`[session-metrics] [llm] ${key} is not a function`);
  const original = ((current as { [ORIGINAL]?: F })[ORIGINAL] ?? current) as F;
  const wrapped = wrap(original);
  Object.defineProperty(wrapped, ORIGINAL, { value: original });
  (holder as Record<string, unknown>)[key] = wrapped;
}

const ORIGINAL = Symbol("session-metrics.original");

/** Lets `keep` see every event; yields only those it accepts. */
async function* observeChunks<T>(source: AsyncIterable<T>, keep: (chunk: T) => boolean): AsyncGenerator<T> {
  for await (const chunk of source) if (keep(chunk)) yield chunk;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] === "function";
}
