/** Retries, infrastructure retries and escalations: DESIGN.md's definitions at their edges. */
import { describe, expect, test } from "bun:test";
import { type AnalyticsRecord, computeAggregate } from "../../src/aggregate/aggregate.ts";
import { metric } from "./helpers.ts";

const attempt = (n: number, overrides: Partial<AnalyticsRecord> = {}): AnalyticsRecord =>
  metric({ invocationId: "job", attempt: n, ...overrides });

const fail = (errorClass?: string): Partial<AnalyticsRecord> =>
  errorClass === undefined ? { success: false, exitCode: 1 } : { success: false, exitCode: 1, errorClass };

function counts(records: AnalyticsRecord[]) {
  const { totalRetries, infraRetries, escalationCount } = computeAggregate(records);
  return { totalRetries, infraRetries, escalationCount };
}

describe("retries", () => {
  test("are the records with attempt > 1, by agent and by phase", () => {
    const result = computeAggregate([
      attempt(1, { agent: "a", phase: 1 }),
      attempt(2, { agent: "a", phase: 1 }),
      attempt(3, { agent: "a", phase: 2 }),
      metric({ invocationId: "other", agent: "b", phase: 2 }),
    ]);
    expect(result.totalRetries).toBe(2);
    expect(result.retriesByAgent).toEqual({ a: 2 }); // only keys that had retries
    expect(result.retriesByPhase).toEqual({ "1": 1, "2": 1 });
  });

  test("count a retry whose earlier attempts were never recorded", () => {
    expect(counts([attempt(3)])).toEqual({ totalRetries: 1, infraRetries: 0, escalationCount: 0 });
  });
});

describe("infra retries", () => {
  test("count a retry whose previous attempt failed with an errorClass", () => {
    expect(counts([attempt(1, fail("rate_limit")), attempt(2)]).infraRetries).toBe(1);
  });

  test("do not count a retry of an attempt that failed without an errorClass (a code error)", () => {
    expect(counts([attempt(1, fail()), attempt(2)]).infraRetries).toBe(0);
  });

  test("do not count a retry of an attempt that succeeded, even one carrying an errorClass", () => {
    expect(counts([attempt(1, { errorClass: "flaky" }), attempt(2)]).infraRetries).toBe(0);
  });

  test("look at attempt − 1 only, not at earlier attempts", () => {
    // #2 is an infra retry of #1; #3 retries #2, which failed on its own code.
    expect(counts([attempt(1, fail("timeout")), attempt(2, fail()), attempt(3)]).infraRetries).toBe(1);
    // #3 retries #2, which hit the infrastructure; #2 retried a code error.
    expect(counts([attempt(1, fail()), attempt(2, fail("oom")), attempt(3)]).infraRetries).toBe(1);
  });

  test("match attempts of the same invocationId only", () => {
    const records = [
      metric({ invocationId: "a", ...fail("timeout") }),
      metric({ invocationId: "b", attempt: 2 }),
    ];
    expect(counts(records).infraRetries).toBe(0);
  });

  test("find the previous attempt even when it is recorded after the retry", () => {
    expect(counts([attempt(2), attempt(1, fail("timeout"))]).infraRetries).toBe(1);
  });

  test("judge by the last record of an attempt recorded more than once", () => {
    expect(counts([attempt(1), attempt(1, fail("timeout")), attempt(2)]).infraRetries).toBe(1);
    expect(counts([attempt(1, fail("timeout")), attempt(1), attempt(2)]).infraRetries).toBe(0);
  });

  test("count every retry of the failed attempt", () => {
    // Two records of attempt 2 (say, an LLM call and a tool call of the same retry).
    expect(counts([attempt(1, fail("timeout")), attempt(2), attempt(2)])).toEqual({
      totalRetries: 2,
      infraRetries: 2,
      escalationCount: 0,
    });
  });
});

describe("escalations", () => {
  test("count a retry whose tier differs from the previous attempt's", () => {
    expect(counts([attempt(1, { tier: "small" }), attempt(2, { tier: "large" })]).escalationCount).toBe(1);
  });

  test("do not count a retry on the same tier", () => {
    expect(counts([attempt(1, { tier: "small" }), attempt(2, { tier: "small" })]).escalationCount).toBe(0);
  });

  test("do not count when the previous attempt had no tier", () => {
    expect(counts([attempt(1), attempt(2, { tier: "large" })]).escalationCount).toBe(0);
  });

  test("do not count a retry without a tier", () => {
    expect(counts([attempt(1, { tier: "small" }), attempt(2)]).escalationCount).toBe(0);
  });

  test("do not count a first attempt, whatever its tier", () => {
    expect(counts([metric({ tier: "large" })]).escalationCount).toBe(0);
  });

  test("do not count when the previous attempt is missing", () => {
    expect(counts([attempt(1, { tier: "small" }), attempt(3, { tier: "large" })]).escalationCount).toBe(0);
  });

  test("count each step of a chain, down as well as up", () => {
    const chain = [
      attempt(1, { tier: "s" }),
      attempt(2, { tier: "m" }),
      attempt(3, { tier: "l" }),
      attempt(4, { tier: "s" }),
    ];
    expect(counts(chain)).toEqual({ totalRetries: 3, infraRetries: 0, escalationCount: 3 });
  });

  test("and infra retries are independent: one retry can be both", () => {
    expect(counts([attempt(1, { tier: "s", ...fail("timeout") }), attempt(2, { tier: "l" })])).toEqual({
      totalRetries: 1,
      infraRetries: 1,
      escalationCount: 1,
    });
  });
});
