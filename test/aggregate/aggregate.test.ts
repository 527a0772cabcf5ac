/** computeAggregate against hand-computed expectations: every field, written out literally. */
import { describe, expect, test } from "bun:test";
import {
  type AnalyticsRecord,
  computeAggregate,
  createAggregator,
  type MetricsAggregate,
} from "../../src/aggregate/aggregate.ts";
import { ValidationError } from "../../src/errors.ts";
import { at, metric } from "./helpers.ts";

/*
 * Eight records from 10:00:00 (offsets in ms). Intervals are [start, start + duration):
 *   R1 planner  p1  [ 250, 1750)  inv-1 #1 ok         1000 tok, 200 cached, $0.5   m-large
 *   R2 coder    p2  [1000, 3000)  inv-2 #1 FAIL timeout 3000 tok,             $1.25  m-small standard
 *   R3 coder    p2  [3000, 4000)  inv-2 #2 ok         2000 tok, 500 cached, $1     m-large premium
 *   R4 coder    p2  [1500, 2000)  inv-3 #1 FAIL (no errorClass) 400 tok,       $0.25  m-small standard
 *   R5 coder    p2  [2200, 2500)  inv-3 #2 ok          600 tok,             $0.25  (no model) standard
 *   R6 coder tools [1200, 1300)  tool Read
 *   R7 coder tools [1300, 1360)  tool Read (starts exactly when R6 ends)
 *   R8 reviewer p3  [6100, 6100)  inv-4 #1 ok           50 tok,             $0.125 m-small (0 ms)
 * Per 1 s bucket, the most intervals open at one instant:
 *   :00 R1 → 1 | :01 R1+R2+R6, R1+R2+R7, R1+R2+R4 → 3 (R6/R7 back to back: never 4)
 *   :02 R2+R5 → 2 (R4 closed at 2000) | :03 R3 → 1 (R2 closed at 3000) | :04 0 | :05 0 | :06 R8 is empty → 0
 */
const FIXTURE: AnalyticsRecord[] = [
  metric({
    invocationId: "inv-1",
    agent: "planner",
    phase: 1,
    timestamp: at(250),
    durationMs: 1500,
    tokens: 1000,
    cachedTokens: 200,
    cost: 0.5,
    model: "m-large",
  }),
  metric({
    invocationId: "inv-2",
    agent: "coder",
    phase: 2,
    timestamp: at(1000),
    durationMs: 2000,
    tokens: 3000,
    cost: 1.25,
    success: false,
    exitCode: 1,
    errorClass: "timeout",
    model: "m-small",
    tier: "standard",
  }),
  metric({
    invocationId: "inv-2",
    agent: "coder",
    phase: 2,
    attempt: 2,
    timestamp: at(3000),
    durationMs: 1000,
    tokens: 2000,
    cachedTokens: 500,
    cost: 1,
    model: "m-large",
    tier: "premium",
  }),
  metric({
    invocationId: "inv-3",
    agent: "coder",
    phase: 2,
    timestamp: at(1500),
    durationMs: 500,
    tokens: 400,
    cost: 0.25,
    success: false,
    exitCode: 2,
    model: "m-small",
    tier: "standard",
  }),
  metric({
    invocationId: "inv-3",
    agent: "coder",
    phase: 2,
    attempt: 2,
    timestamp: at(2200),
    durationMs: 300,
    tokens: 600,
    cost: 0.25,
    tier: "standard",
  }),
  metric({
    invocationId: "tool:1",
    agent: "coder",
    phase: "tools",
    timestamp: at(1200),
    durationMs: 100,
    tool: "Read",
  }),
  metric({
    invocationId: "tool:2",
    agent: "coder",
    phase: "tools",
    timestamp: at(1300),
    durationMs: 60,
    tool: "Read",
  }),
  metric({
    invocationId: "inv-4",
    agent: "reviewer",
    phase: 3,
    timestamp: at(6100),
    durationMs: 0,
    tokens: 50,
    cost: 0.125,
    model: "m-small",
  }),
];

const EXPECTED: MetricsAggregate = {
  totalInvocations: 8,
  invocationsByAgent: { planner: 1, coder: 6, reviewer: 1 },
  invocationsByPhase: { "1": 1, "2": 4, tools: 2, "3": 1 },
  totalRetries: 2,
  retriesByAgent: { coder: 2 },
  retriesByPhase: { "2": 2 },
  infraRetries: 1, // R3 (R2 failed with "timeout"); R5's previous attempt failed without an errorClass
  totalTokens: 7050,
  totalCost: 3.375,
  totalCachedTokens: 700,
  tokensByAgent: { planner: 1000, coder: 6000, reviewer: 50 },
  costByAgent: { planner: 0.5, coder: 2.75, reviewer: 0.125 },
  totalDurationMs: 5460,
  avgDurationByAgent: { planner: 1500, coder: 660, reviewer: 0 },
  peakParallelInvocations: 3,
  parallelismOverTime: [
    { bucketStart: "2026-03-01T10:00:00.000Z", concurrent: 1 },
    { bucketStart: "2026-03-01T10:00:01.000Z", concurrent: 3 },
    { bucketStart: "2026-03-01T10:00:02.000Z", concurrent: 2 },
    { bucketStart: "2026-03-01T10:00:03.000Z", concurrent: 1 },
    { bucketStart: "2026-03-01T10:00:04.000Z", concurrent: 0 },
    { bucketStart: "2026-03-01T10:00:05.000Z", concurrent: 0 },
    { bucketStart: "2026-03-01T10:00:06.000Z", concurrent: 0 },
  ],
  escalationCount: 1, // R3: standard → premium; R5 stays standard
  successRate: 0.75, // 6 of 8
  durationPercentilesByAgent: {
    planner: { p50: 1500, p90: 1500, p99: 1500 },
    // coder sorted: 60 100 300 500 1000 2000 → ranks ⌈3⌉ = 3, ⌈5.4⌉ = 6, ⌈5.94⌉ = 6
    coder: { p50: 300, p90: 2000, p99: 2000 },
    reviewer: { p50: 0, p90: 0, p99: 0 },
  },
  durationPercentilesByTool: { Read: { p50: 60, p90: 100, p99: 100 } },
  costByPhase: { "1": 0.5, "2": 2.75, tools: 0, "3": 0.125 },
  costByModel: { "m-large": 1.5, "m-small": 1.625 },
};

describe("computeAggregate", () => {
  test("matches every hand-computed field of the fixture", () => {
    expect(computeAggregate(FIXTURE)).toStrictEqual(EXPECTED);
  });

  test("has exactly the proposal's fields plus percentiles and cost breakdowns", () => {
    expect(Object.keys(computeAggregate(FIXTURE)).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test("lists agents in first-seen order and integer-like phases first", () => {
    const result = computeAggregate(FIXTURE);
    expect(Object.keys(result.invocationsByAgent)).toEqual(["planner", "coder", "reviewer"]);
    expect(Object.keys(result.invocationsByPhase)).toEqual(["1", "2", "3", "tools"]);
  });

  test("gives the same answer whatever the record order", () => {
    const reversed = computeAggregate([...FIXTURE].reverse());
    expect(reversed).toEqual(EXPECTED); // same values; key order follows first sight
  });

  test("re-buckets with a custom width aligned to the epoch", () => {
    const result = computeAggregate(FIXTURE, { bucketWidthMs: 2500 });
    // [0, 2500): R1+R2+R6 → 3 | [2500, 5000): R2 then R3, back to back → 1 | [5000, 7500): R8 → 0
    expect(result.parallelismOverTime).toEqual([
      { bucketStart: "2026-03-01T10:00:00.000Z", concurrent: 3 },
      { bucketStart: "2026-03-01T10:00:02.500Z", concurrent: 1 },
      { bucketStart: "2026-03-01T10:00:05.000Z", concurrent: 0 },
    ]);
    expect(result.peakParallelInvocations).toBe(3);
  });

  test("returns zeros, empty maps, an empty timeline and successRate 0 for no records", () => {
    expect(computeAggregate([])).toStrictEqual({
      totalInvocations: 0,
      invocationsByAgent: {},
      invocationsByPhase: {},
      totalRetries: 0,
      retriesByAgent: {},
      retriesByPhase: {},
      infraRetries: 0,
      totalTokens: 0,
      totalCost: 0,
      totalCachedTokens: 0,
      tokensByAgent: {},
      costByAgent: {},
      totalDurationMs: 0,
      avgDurationByAgent: {},
      peakParallelInvocations: 0,
      parallelismOverTime: [],
      escalationCount: 0,
      successRate: 0,
      durationPercentilesByAgent: {},
      durationPercentilesByTool: {},
      costByPhase: {},
      costByModel: {},
    });
  });

  test("successRate is 0 when every record failed and 1 when every record succeeded", () => {
    expect(computeAggregate([metric({ success: false }), metric({ success: false })]).successRate).toBe(0);
    expect(computeAggregate([metric(), metric()]).successRate).toBe(1);
  });

  test('keys phase 1 and phase "1" together', () => {
    const result = computeAggregate([metric({ phase: 1 }), metric({ phase: "1" })]);
    expect(result.invocationsByPhase).toEqual({ "1": 2 });
  });

  test("refuses a bucket width that is not a positive whole number, before any record", () => {
    for (const bucketWidthMs of [0, -1000, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => createAggregator({ bucketWidthMs })).toThrow(ValidationError);
    expect(() => computeAggregate([], { bucketWidthMs: 0 })).toThrow(
      "bucketWidthMs must be a whole number ≥ 1, got 0",
    );
  });

  test("names the invocation whose timestamp cannot be parsed", () => {
    const aggregator = createAggregator();
    expect(() => aggregator.add(metric({ invocationId: "x-9", timestamp: "yesterday" }))).toThrow(
      'invocation "x-9" has an unreadable timestamp "yesterday"',
    );
    expect(aggregator.count).toBe(0);
  });
});

describe("createAggregator", () => {
  test("folds records one at a time to the same result as computeAggregate", () => {
    const aggregator = createAggregator();
    for (const record of FIXTURE) aggregator.add(record);
    expect(aggregator.count).toBe(8);
    expect(aggregator.result()).toStrictEqual(EXPECTED);
  });

  test("can be read mid-stream and keeps folding afterwards", () => {
    const aggregator = createAggregator();
    for (const record of FIXTURE.slice(0, 2)) aggregator.add(record);
    const early = aggregator.result();
    expect(early.totalInvocations).toBe(2);
    expect(early.totalRetries).toBe(0);
    expect(aggregator.result()).toStrictEqual(early); // reading changes nothing
    for (const record of FIXTURE.slice(2)) aggregator.add(record);
    expect(aggregator.result()).toStrictEqual(EXPECTED);
  });

  test("accepts any iterable, such as a generator", () => {
    function* records() {
      yield* FIXTURE;
    }
    expect(computeAggregate(records())).toStrictEqual(EXPECTED);
  });
});

const PROTO = "__proto__";

describe("keys that look like Object.prototype members", () => {
  const names = ["__proto__", "constructor", "toString", "hasOwnProperty"];
  const records = names.flatMap((name, i) => [
    metric({
      agent: name,
      phase: name,
      model: name,
      tool: name,
      durationMs: 10 * (i + 1),
      cost: 1,
      tokens: 5,
    }),
    metric({ agent: name, phase: name, attempt: 2, durationMs: 10 * (i + 1), tokens: 5 }),
  ]);

  test("are ordinary own keys with the right values", () => {
    const result = computeAggregate(records);
    for (const map of [result.invocationsByAgent, result.invocationsByPhase, result.retriesByAgent]) {
      expect(Object.keys(map)).toEqual(names);
      for (const name of names) expect(Object.hasOwn(map, name)).toBe(true);
    }
    expect(result.invocationsByAgent[PROTO]).toBe(2);
    expect(result.retriesByPhase["constructor"]).toBe(1);
    expect(result.tokensByAgent["toString"]).toBe(10);
    expect(result.costByModel[PROTO]).toBe(1);
    expect(result.durationPercentilesByTool["hasOwnProperty"]).toEqual({ p50: 40, p90: 40, p99: 40 });
    expect(result.avgDurationByAgent["constructor"]).toBe(20);
  });

  test("leave the maps' prototype and Object.prototype alone, and survive JSON", () => {
    const result = computeAggregate(records);
    expect(Object.getPrototypeOf(result.invocationsByAgent)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.prototype.toString.call({})).toBe("[object Object]");
    const text = JSON.stringify(result.invocationsByAgent);
    expect(text).toBe('{"__proto__":2,"constructor":2,"toString":2,"hasOwnProperty":2}');
    expect(Object.hasOwn(JSON.parse(text), "__proto__")).toBe(true);
  });

  test("work as invocation ids too", () => {
    const result = computeAggregate([
      metric({ invocationId: "__proto__", success: false, errorClass: "oom", tier: "a" }),
      metric({ invocationId: "__proto__", attempt: 2, tier: "b" }),
    ]);
    expect(result.infraRetries).toBe(1);
    expect(result.escalationCount).toBe(1);
  });
});
