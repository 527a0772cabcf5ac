/**
 * Parallelism over time, by a sort-based sweep in O(n log n + buckets).
 *
 * Rules (DESIGN.md, "Analytics definitions"):
 * - An invocation occupies the half-open interval `[start, start + durationMs)`: one that ends at t
 *   and one that starts at t never overlap.
 * - Buckets are `[k·width, (k+1)·width)` for whole k, aligned to the Unix epoch, from the bucket
 *   holding the first start through the bucket holding the last instant of the last interval, empty
 *   buckets included.
 * - `concurrent` is the largest number of intervals open at any one instant inside the bucket.
 *
 * Zero-duration invocations: `[t, t)` is empty, so it is open at no instant and adds nothing to any
 * `concurrent`. It still counts as happening at `t` for the time range: the bucket holding `t`
 * exists, so a session of instantaneous records still gets its (all-zero) timeline.
 */
import { describeValue, ValidationError } from "../errors.ts";

/** One bucket of the timeline. */
export interface ParallelismBucket {
  /** Start of the bucket: ISO 8601 UTC with milliseconds (`2026-01-02T03:04:05.000Z`). */
  bucketStart: string;
  /** Largest number of invocations open at the same instant inside the bucket. */
  concurrent: number;
}

export interface ParallelismOptions {
  /** Bucket width in whole milliseconds. Default 1,000. */
  bucketWidthMs?: number;
  /**
   * Refuse (with a `ValidationError`) a timeline longer than this many buckets rather than
   * allocate it: one stray 1970 timestamp would otherwise ask for billions. Default 1,000,000
   * (11.5 days at 1 s).
   */
  maxBuckets?: number;
}

export interface Parallelism {
  /** Largest `concurrent` over all buckets; 0 when there are no intervals. */
  peak: number;
  buckets: ParallelismBucket[];
}

export const DEFAULT_BUCKET_WIDTH_MS = 1000;
export const DEFAULT_MAX_BUCKETS = 1_000_000;
/** The largest epoch millisecond a `Date` can hold. */
const MAX_DATE_MS = 8.64e15;

/** Checks and fills in the options. @throws ValidationError on a width or limit that is not a positive whole number. */
export function resolveParallelismOptions(options: ParallelismOptions = {}): Required<ParallelismOptions> {
  const width = options.bucketWidthMs ?? DEFAULT_BUCKET_WIDTH_MS;
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  if (!Number.isSafeInteger(width) || width < 1)
    throw new ValidationError(
      `[aggregate] bucketWidthMs must be a whole number ≥ 1, got ${describeValue(width)}`,
    );
  if (!Number.isSafeInteger(maxBuckets) || maxBuckets < 1)
    throw new ValidationError(
      `[aggregate] maxBuckets must be a whole number ≥ 1, got ${describeValue(maxBuckets)}`,
    );
  return { bucketWidthMs: width, maxBuckets };
}

/**
 * The parallelism timeline of intervals given as two columns: `starts[i]` (epoch ms) and
 * `durations[i]` (ms, ≥ 0).
 * @throws ValidationError when the timeline would pass `maxBuckets` or the range of `Date`.
 */
export function computeParallelism(
  starts: ArrayLike<number>,
  durations: ArrayLike<number>,
  options?: ParallelismOptions,
): Parallelism {
  const { bucketWidthMs: width, maxBuckets } = resolveParallelismOptions(options);
  const n = starts.length;
  if (n === 0) return { peak: 0, buckets: [] };

  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let open = 0;
  for (let i = 0; i < n; i++) {
    const start = starts[i]!;
    const duration = durations[i]!;
    first = Math.min(first, Math.floor(start / width));
    // The last instant of [s, e) lies just before e: its bucket is ⌈e/w⌉ − 1.
    last = Math.max(
      last,
      duration > 0 ? Math.ceil((start + duration) / width) - 1 : Math.floor(start / width),
    );
    if (duration > 0) open++;
  }
  const count = last - first + 1;
  if (count > maxBuckets)
    throw new ValidationError(
      `[aggregate] the parallelism timeline would need ${count} buckets of ${width} ms (limit ${maxBuckets}); ` +
        "pass a larger bucketWidthMs or maxBuckets, or check for stray timestamps",
    );
  if (first * width < -MAX_DATE_MS || last * width > MAX_DATE_MS)
    throw new ValidationError("[aggregate] an invocation interval reaches outside the range of Date");

  const concurrent = sweep(starts, durations, open, width, first, count);
  const buckets: ParallelismBucket[] = new Array(count);
  let peak = 0;
  for (let b = 0; b < count; b++) {
    const value = concurrent[b]!;
    if (value > peak) peak = value;
    buckets[b] = { bucketStart: new Date((first + b) * width).toISOString(), concurrent: value };
  }
  return { peak, buckets };
}

/**
 * Walks the sorted start and end instants. Between two consecutive event instants the number of
 * open intervals is constant, so each such segment raises every bucket it touches to its level.
 * Segments are disjoint, so the bucket updates total at most segments + buckets.
 */
function sweep(
  starts: ArrayLike<number>,
  durations: ArrayLike<number>,
  open: number,
  width: number,
  first: number,
  count: number,
): Uint32Array {
  const s = new Float64Array(open);
  const e = new Float64Array(open);
  for (let i = 0, k = 0; i < starts.length; i++) {
    const duration = durations[i]!;
    if (!(duration > 0)) continue; // [t, t) is open at no instant
    s[k] = starts[i]!;
    e[k++] = starts[i]! + duration;
  }
  s.sort();
  e.sort();

  const concurrent = new Uint32Array(count);
  let i = 0;
  let j = 0;
  let level = 0;
  while (j < open) {
    const t = i < open && s[i]! < e[j]! ? s[i]! : e[j]!;
    // Apply every event at t before reading the level: an interval ending at t and one starting
    // at t are never open together (half-open intervals).
    while (j < open && e[j] === t) {
      level--;
      j++;
    }
    while (i < open && s[i] === t) {
      level++;
      i++;
    }
    if (level === 0) continue;
    // level > 0 means some interval is still open, so e[j] exists and lies after t.
    const next = i < open && s[i]! < e[j]! ? s[i]! : e[j]!;
    const from = Math.floor(t / width) - first;
    const to = Math.ceil(next / width) - 1 - first;
    for (let b = from; b <= to; b++) if (concurrent[b]! < level) concurrent[b] = level;
  }
  return concurrent;
}
