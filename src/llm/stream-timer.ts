/**
 * `timeStream`: times a streamed generation without changing it. Wraps any `AsyncIterable`,
 * yields the very same iterator results, and reports to a step: the first content token, the end
 * of generation, and `StreamStats` (chunks, inter-chunk p50/p90, output tokens/s, outcome).
 *
 * Per chunk it costs one `performance.now()`, one gap stored in a Float64Array and the promise
 * reaction that wrapping an async iterator needs; everything else is computed once, at the end,
 * in linear time (the percentiles by selection, not by sorting every gap). It is a hand-written
 * iterator rather than an `async function*` so there is no second generator and no extra result
 * object per chunk.
 */
import type { StepRecorder, StreamStats, Usage } from "../core/types.ts";
import { classifyError } from "./errors.ts";

export interface TimeStreamOptions<T> {
  /** Is this chunk content (text or reasoning)? The first one marks the first token. Default: every chunk. */
  isContent?: (chunk: T) => boolean;
  /** Output tokens carried by a chunk; they add up. Used for tokens/s when `usage` gives none. */
  outputTokens?: (chunk: T) => number | undefined;
  /** Read once at the end (e.g. usage from the final chunk); its `completionTokens` give tokens/s. */
  usage?: () => Usage | null | undefined;
  /** A stream that ends quietly after this signal aborted (as SDK streams do) counts as aborted. */
  signal?: AbortSignal;
  /** Error class for `step.fail` when the stream throws. Default: `classifyError`, or `stream_error` when it cannot tell. */
  classifyError?: (err: unknown) => string | undefined;
  /** Also close the step (`step.end(usage?.())`) when the stream finishes. Default `false`: the caller ends it. */
  endStep?: boolean;
}

/**
 * Wraps `stream` so that iterating it times the generation into `step`. The outcome is
 * `completed` (ran to its end), `break` (the consumer stopped early; the source's `return()` is
 * called so its request is closed), `error` (the stream threw: `step.fail(class)` and rethrow) or
 * `abort` (an abort error; or the stream ended or was closed after `options.signal` aborted:
 * `step.fail("aborted")`, and the error rethrown if there was one).
 */
export function timeStream<T>(
  stream: AsyncIterable<T>,
  step: StepRecorder,
  options: TimeStreamOptions<T> = {},
): AsyncIterableIterator<T> {
  return new TimedStream(stream, step, options);
}

class TimedStream<T> implements AsyncIterableIterator<T> {
  // Plain fields rather than #private: this is the per-chunk path.
  private readonly source: AsyncIterable<T>;
  private readonly step: StepRecorder;
  private readonly options: TimeStreamOptions<T>;
  private readonly isContent: ((chunk: T) => boolean) | undefined;
  private readonly outputTokens: ((chunk: T) => number | undefined) | undefined;
  private it: AsyncIterator<T> | undefined;
  /** Gaps between consecutive chunks, ms (the first `chunks - 1` slots are used). */
  private gaps = new Float64Array(64);
  private chunks = 0;
  private lastAt = 0;
  private firstAt = -1;
  private tokens = 0;
  private sawTokens = false;
  private finished = false;

  constructor(source: AsyncIterable<T>, step: StepRecorder, options: TimeStreamOptions<T>) {
    this.source = source;
    this.step = step;
    this.options = options;
    this.isContent = options.isContent;
    this.outputTokens = options.outputTokens;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    let promise: Promise<IteratorResult<T>>;
    try {
      this.it ??= this.source[Symbol.asyncIterator]();
      promise = this.it.next();
    } catch (err) {
      return Promise.reject(this.onError(err));
    }
    return promise.then(this.onResult, this.onReject);
  }

  async return(value?: unknown): Promise<IteratorResult<T>> {
    if (!this.finished) {
      // A consumer that stops because the signal aborted (the AI SDK cancels its reader) aborted.
      this.finish(this.options.signal?.aborted === true ? "abort" : "break", undefined);
      // Close the source so its request (socket, SDK controller) is released.
      await this.it?.return?.(value);
    }
    return { done: true, value: value as T };
  }

  private readonly onResult = (result: IteratorResult<T>): IteratorResult<T> => {
    // A next() that was already pending when return() closed the stream: pass it, record nothing.
    if (this.finished) return result;
    if (result.done === true) {
      this.finish(this.options.signal?.aborted === true ? "abort" : "completed", undefined);
      return result;
    }
    const now = performance.now();
    const n = this.chunks++;
    if (n > 0) {
      if (n > this.gaps.length) this.grow();
      this.gaps[n - 1] = now - this.lastAt;
    }
    this.lastAt = now;
    if (this.firstAt < 0 && (this.isContent === undefined || this.isContent(result.value))) {
      this.firstAt = now;
      this.step.firstToken();
    }
    if (this.outputTokens !== undefined) {
      const n = this.outputTokens(result.value);
      if (n !== undefined) {
        this.tokens += n;
        this.sawTokens = true;
      }
    }
    return result;
  };

  private grow(): void {
    const bigger = new Float64Array(this.gaps.length * 2);
    bigger.set(this.gaps);
    this.gaps = bigger;
  }

  private readonly onReject = (err: unknown): never => {
    throw this.onError(err);
  };

  private onError(err: unknown): unknown {
    if (!this.finished) {
      // An error we can place (a provider error, a timeout) stays an error even if the signal is
      // aborted by now: SDKs abort their own controller while unwinding from any stream error.
      const cls = classifyError(err);
      const aborted = cls === "aborted" || (cls === "unknown" && this.options.signal?.aborted === true);
      this.finish(aborted ? "abort" : "error", err);
    }
    return err;
  }

  private finish(outcome: StreamStats["outcome"], err: unknown): void {
    this.finished = true;
    const end = performance.now();
    const { step, options } = this;
    step.generationEnd();
    const usage = options.usage?.() ?? undefined;
    step.recordStream(this.stats(outcome, end, usage), usage);
    if (outcome === "abort") step.fail("aborted");
    else if (outcome === "error") {
      const custom = options.classifyError?.(err);
      const cls = custom ?? classifyError(err);
      step.fail(custom !== undefined || cls !== "unknown" ? cls : "stream_error");
    }
    if (options.endStep === true) step.end(usage);
  }

  private stats(outcome: StreamStats["outcome"], end: number, usage: Usage | undefined): StreamStats {
    const stats: StreamStats = { chunks: this.chunks, outcome };
    if (this.chunks >= 2) {
      const gaps = this.gaps.subarray(0, this.chunks - 1);
      const r50 = rankOf(gaps.length, 50);
      const r90 = rankOf(gaps.length, 90);
      stats.interChunkP50Ms = selectRank(gaps, r50, 0);
      // Selection left everything at or above the p50 rank after it: p90 is found there.
      stats.interChunkP90Ms = selectRank(gaps, r90, r50 - 1);
    }
    const tokens = usage !== undefined ? usage.completionTokens : this.sawTokens ? this.tokens : undefined;
    const decodeMs = end - this.firstAt;
    if (tokens !== undefined && this.firstAt >= 0 && decodeMs > 0) {
      stats.outputTokensPerSecond = tokens / (decodeMs / 1000);
    }
    return stats;
  }
}

/** The nearest rank ⌈p/100 · n⌉ (at least 1). */
export function rankOf(n: number, p: number): number {
  return Math.max(1, Math.ceil((p / 100) * n));
}

/**
 * The value of 1-based rank `rank` among `values[from..]`, found by quickselect (Hoare partition,
 * median-of-three pivot), in place: afterwards it sits at index rank − 1 with nothing greater
 * before it and nothing smaller after it. Linear on average, where sorting a million gaps would
 * cost the stream ~70 ns per chunk.
 */
export function selectRank(values: Float64Array, rank: number, from: number): number {
  const k = rank - 1;
  let lo = from;
  let hi = values.length - 1;
  while (hi > lo) {
    const mid = lo + ((hi - lo) >> 1);
    const a = values[lo]!;
    const b = values[mid]!;
    const c = values[hi]!;
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c)); // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}
