/** The parallelism timeline: half-open intervals, epoch-aligned buckets, the last-instant rule. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { computeParallelism, type ParallelismOptions } from "../../src/aggregate/parallelism.ts";
import { ValidationError } from "../../src/errors.ts";

/** Intervals as [startMs since the epoch, durationMs]; returns [peak, concurrent per bucket, first bucket]. */
function timeline(intervals: [number, number][], options?: ParallelismOptions) {
  const result = computeParallelism(
    intervals.map(([s]) => s),
    intervals.map(([, d]) => d),
    options,
  );
  return {
    peak: result.peak,
    concurrent: result.buckets.map((b) => b.concurrent),
    first: result.buckets[0]?.bucketStart,
    last: result.buckets.at(-1)?.bucketStart,
  };
}

describe("computeParallelism", () => {
  test("is empty with peak 0 when there are no intervals", () => {
    expect(computeParallelism([], [])).toEqual({ peak: 0, buckets: [] });
  });

  test("writes bucketStart as ISO 8601 UTC with milliseconds", () => {
    expect(computeParallelism([1_000], [10]).buckets).toEqual([
      { bucketStart: "1970-01-01T00:00:01.000Z", concurrent: 1 },
    ]);
  });

  test("aligns buckets to the epoch, not to the first start", () => {
    expect(timeline([[1_234, 10]])).toMatchObject({ first: "1970-01-01T00:00:01.000Z", concurrent: [1] });
    // 1,234 + 900 ends in the next second: two buckets, both starting on whole seconds.
    expect(timeline([[1_234, 900]])).toMatchObject({
      first: "1970-01-01T00:00:01.000Z",
      last: "1970-01-01T00:00:02.000Z",
      concurrent: [1, 1],
    });
  });

  test("aligns before the epoch too (floor, not truncation)", () => {
    expect(timeline([[-1_500, 100]])).toMatchObject({ first: "1969-12-31T23:59:58.000Z", concurrent: [1] });
  });

  test("never overlaps back-to-back intervals, inside a bucket or across a boundary", () => {
    expect(
      timeline([
        [100, 100],
        [200, 100],
        [300, 100],
      ]).concurrent,
    ).toEqual([1]);
    expect(
      timeline([
        [0, 1_000],
        [1_000, 1_000],
      ]).concurrent,
    ).toEqual([1, 1]);
    // Listed in the other order, same answer.
    expect(
      timeline([
        [1_000, 1_000],
        [0, 1_000],
      ]).concurrent,
    ).toEqual([1, 1]);
  });

  test("counts intervals that share one instant", () => {
    expect(
      timeline([
        [0, 10],
        [9, 10],
        [18, 10],
      ]).concurrent,
    ).toEqual([2]);
    expect(
      timeline([
        [0, 10],
        [0, 10],
        [0, 10],
        [0, 10],
        [0, 10],
      ]).peak,
    ).toBe(5);
  });

  test("ends at the bucket holding the last instant: an end on a boundary opens no bucket", () => {
    expect(timeline([[0, 2_000]]).concurrent).toEqual([1, 1]);
    expect(timeline([[0, 2_001]]).concurrent).toEqual([1, 1, 1]);
    expect(timeline([[0, 1]]).concurrent).toEqual([1]);
  });

  test("includes the empty buckets in between", () => {
    expect(
      timeline([
        [0, 500],
        [3_200, 100],
      ]).concurrent,
    ).toEqual([1, 0, 0, 1]);
  });

  test("fills every bucket a long interval spans", () => {
    // [500, 10500) over 11 buckets, with a second interval inside bucket 5.
    expect(
      timeline([
        [500, 10_000],
        [5_200, 100],
      ]),
    ).toEqual({
      peak: 2,
      concurrent: [1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1],
      first: "1970-01-01T00:00:00.000Z",
      last: "1970-01-01T00:00:10.000Z",
    });
  });

  test("uses a custom width", () => {
    // width 250: [0,250) holds A only, [250,500) A, [500,750) A and B overlap on [550,600).
    expect(
      timeline(
        [
          [100, 500],
          [550, 150],
        ],
        { bucketWidthMs: 250 },
      ),
    ).toEqual({
      peak: 2,
      concurrent: [1, 1, 2],
      first: "1970-01-01T00:00:00.000Z",
      last: "1970-01-01T00:00:00.500Z",
    });
    expect(timeline([[59_000, 2_000]], { bucketWidthMs: 60_000 })).toMatchObject({
      concurrent: [1, 1],
      first: "1970-01-01T00:00:00.000Z",
      last: "1970-01-01T00:01:00.000Z",
    });
  });

  test("gives a zero-duration interval its bucket but no concurrency", () => {
    expect(timeline([[1_500, 0]])).toEqual({
      peak: 0,
      concurrent: [0],
      first: "1970-01-01T00:00:01.000Z",
      last: "1970-01-01T00:00:01.000Z",
    });
    expect(
      timeline([
        [0, 1_000],
        [500, 0],
      ]).concurrent,
    ).toEqual([1]);
    // A zero-duration record after everything else stretches the timeline to its bucket.
    expect(
      timeline([
        [0, 100],
        [2_500, 0],
      ]).concurrent,
    ).toEqual([1, 0, 0]);
    // ...and one before everything else starts it.
    expect(
      timeline([
        [0, 0],
        [2_000, 10],
      ]).concurrent,
    ).toEqual([0, 0, 1]);
  });

  test("refuses widths and limits that are not positive whole numbers", () => {
    for (const bucketWidthMs of [0, -1, 0.5, Number.NaN]) {
      expect(() => computeParallelism([0], [1], { bucketWidthMs })).toThrow(ValidationError);
    }
    expect(() => computeParallelism([0], [1], { maxBuckets: 0 })).toThrow(ValidationError);
  });

  test("refuses a timeline longer than maxBuckets instead of allocating it", () => {
    expect(() => computeParallelism([0, 1_800_000_000_000], [1, 1])).toThrow(
      "the parallelism timeline would need 1800000001 buckets of 1000 ms (limit 1000000)",
    );
    expect(() => computeParallelism([0], [10_000], { maxBuckets: 9 })).toThrow(ValidationError);
    expect(computeParallelism([0], [10_000], { maxBuckets: 10 }).buckets).toHaveLength(10);
  });

  test("agrees with a brute-force count at every millisecond", () => {
    const interval = fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 1_500 }));
    fc.assert(
      fc.property(
        fc.array(interval, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 700 }),
        (list, width) => {
          const got = computeParallelism(
            list.map(([s]) => s),
            list.map(([, d]) => d),
            { bucketWidthMs: width },
          );
          const firstBucket = Math.floor(Math.min(...list.map(([s]) => s)) / width);
          const lastInstant = Math.max(...list.map(([s, d]) => (d > 0 ? s + d - 1 : s)));
          const expected: number[] = [];
          for (let b = firstBucket; b <= Math.floor(lastInstant / width); b++) {
            let max = 0;
            for (let t = b * width; t < (b + 1) * width; t++) {
              const open = list.filter(([s, d]) => s <= t && t < s + d).length;
              if (open > max) max = open;
            }
            expected.push(max);
          }
          expect(got.buckets.map((b) => b.concurrent)).toEqual(expected);
          expect(got.buckets[0]!.bucketStart).toBe(new Date(firstBucket * width).toISOString());
          expect(got.peak).toBe(Math.max(...expected));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("handles 200,000 intervals quickly", () => {
    const n = 200_000;
    const starts = new Float64Array(n);
    const durations = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      starts[i] = 1_700_000_000_000 + ((i * 7_919) % 3_600_000);
      durations[i] = 1 + ((i * 104_729) % 60_000);
    }
    const began = performance.now();
    const result = computeParallelism(starts, durations);
    expect(performance.now() - began).toBeLessThan(2_000);
    expect(result.buckets.length).toBeGreaterThan(3_600);
    expect(result.peak).toBeGreaterThan(0);
  });
});
