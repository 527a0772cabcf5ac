/**
 * Nearest-rank percentiles on exact values: the p-th percentile of n sorted values is the value at
 * 1-based rank ⌈p·n/100⌉ (at least 1). Always one of the inputs, never an interpolation.
 */

/** Duration (or any value) percentiles of one group. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
}

/**
 * The nearest-rank `p`-th percentile of values already sorted ascending.
 * @param p a percentage in (0, 100]; integer percentages give exact ranks.
 * @throws RangeError when `sorted` is empty or `p` is outside (0, 100].
 */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("[session-metrics] nearestRank needs at least one value");
  if (!(p > 0 && p <= 100))
    throw new RangeError(`[session-metrics] percentile must be in (0, 100], got ${p}`);
  // p·n first, then ÷100: for integer p the quotient is exact whenever it is a whole number,
  // so 90% of 10 values is rank 9, not ⌈9.000000000000002⌉ = 10.
  const rank = Math.max(1, Math.ceil((p * n) / 100));
  return sorted[rank - 1]!;
}

/**
 * p50, p90 and p99 of `values` (nearest rank), or `undefined` when there are none.
 * Sorts a copy; the input is left as it is.
 */
export function percentiles(values: ArrayLike<number>): Percentiles | undefined {
  if (values.length === 0) return undefined;
  // A typed array sorts numerically without a comparator call per comparison.
  const sorted = Float64Array.from(values).sort();
  return { p50: nearestRank(sorted, 50), p90: nearestRank(sorted, 90), p99: nearestRank(sorted, 99) };
}
