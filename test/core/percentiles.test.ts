/** Nearest-rank percentiles: always one of the values, at rank ⌈p·n/100⌉. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { nearestRank, percentiles } from "../../src/core/percentiles.ts";

describe("percentiles", () => {
  test("of 1..10 are 5, 9 and 10", () => {
    expect(percentiles([7, 3, 10, 1, 5, 9, 2, 8, 4, 6])).toEqual({ p50: 5, p90: 9, p99: 10 });
  });

  test("of 1..100 are 50, 90 and 99 (no floating-point off-by-one)", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(values)).toEqual({ p50: 50, p90: 90, p99: 99 });
  });

  test("of 1..1000 are 500, 900 and 990", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentiles(values)).toEqual({ p50: 500, p90: 900, p99: 990 });
  });

  test("pick an actual value, never an interpolation", () => {
    // n = 4: ranks ⌈2⌉ = 2, ⌈3.6⌉ = 4, ⌈3.96⌉ = 4
    expect(percentiles([10, 40, 20, 30])).toEqual({ p50: 20, p90: 40, p99: 40 });
    // n = 3: ranks ⌈1.5⌉ = 2, ⌈2.7⌉ = 3
    expect(percentiles([30, 10, 20])).toEqual({ p50: 20, p90: 30, p99: 30 });
    expect(percentiles([1.5, 2.25])).toEqual({ p50: 1.5, p90: 2.25, p99: 2.25 });
  });

  test("of a single value are that value; of none, undefined", () => {
    expect(percentiles([42])).toEqual({ p50: 42, p90: 42, p99: 42 });
    expect(percentiles([])).toBeUndefined();
  });

  test("handle repeated values", () => {
    expect(percentiles([5, 5, 5, 5, 100])).toEqual({ p50: 5, p90: 100, p99: 100 });
  });

  test("leave the input unsorted", () => {
    const values = [3, 1, 2];
    percentiles(values);
    expect(values).toEqual([3, 1, 2]);
  });

  test("nearestRank refuses an empty list and a percentage outside (0, 100]", () => {
    expect(() => nearestRank([], 50)).toThrow(RangeError);
    expect(() => nearestRank([1], 0)).toThrow(RangeError);
    expect(() => nearestRank([1], 101)).toThrow(RangeError);
    expect(nearestRank([1, 2, 3], 100)).toBe(3);
    expect(nearestRank([1, 2, 3], 1)).toBe(1);
  });

  test("give the smallest value with at least p% of the values at or below it", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 300 }), (values) => {
        const result = percentiles(values)!;
        for (const [p, got] of [
          [50, result.p50],
          [90, result.p90],
          [99, result.p99],
        ] as const) {
          const atOrBelow = (v: number) => values.filter((x) => x <= v).length;
          const candidates = values.filter((v) => atOrBelow(v) * 100 >= p * values.length);
          expect(got).toBe(Math.min(...candidates));
        }
      }),
    );
  });
});
