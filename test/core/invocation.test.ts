/** The InvocationMetric schema: what it accepts, what it refuses, and how the error names the field. */
import { describe, expect, test } from "bun:test";
import type { InvocationRecord } from "../../src/core/events.ts";
import {
  type InvocationMetric,
  invocationMetricSchema,
  parseInvocationMetric,
} from "../../src/core/invocation.ts";
import { MetricsError, ValidationError } from "../../src/errors.ts";

const FULL: InvocationMetric = {
  invocationId: "inv-1",
  agent: "coder",
  phase: 2,
  taskId: "task-7",
  durationMs: 1500,
  tokens: 1200,
  inputTokens: 1000,
  outputTokens: 200,
  cachedTokens: 300,
  cost: 0.0125,
  exitCode: 0,
  success: true,
  attempt: 1,
  outputParsed: true,
  model: "claude-sonnet-4",
  tier: "standard",
  timestamp: "2026-03-01T10:00:00.250Z",
  errorClass: "timeout",
};
const MINIMAL = (({ taskId, inputTokens, outputTokens, cachedTokens, model, tier, errorClass, ...rest }) =>
  rest)(FULL);

function reason(value: unknown): string {
  try {
    parseInvocationMetric(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(MetricsError);
    return (error as Error).message.replace("[session-metrics] [invocation] invalid invocation metric: ", "");
  }
  throw new Error("expected a ValidationError");
}

describe("parseInvocationMetric", () => {
  test("accepts a full metric and a minimal one, returning a copy", () => {
    const parsed = parseInvocationMetric(FULL);
    expect(parsed).toStrictEqual(FULL);
    expect(parsed).not.toBe(FULL);
    expect(parseInvocationMetric(MINIMAL)).toStrictEqual(MINIMAL);
  });

  test("accepts string phases, -0 cost, negative exit codes and timestamps with offsets or nanoseconds", () => {
    for (const patch of [
      { phase: "execute" },
      { phase: 0 },
      { phase: 1.5 },
      { cost: -0 },
      { exitCode: -9 },
      { timestamp: "2026-03-01T12:00:00+02:00" },
      { timestamp: "2026-03-01T10:00:00.140125935Z" },
      { timestamp: "2026-03-01T10:00:00Z" },
      { agent: "€".repeat(85) }, // 255 bytes
    ])
      expect(parseInvocationMetric({ ...FULL, ...patch })).toMatchObject(patch);
  });

  test("drops unknown keys and treats null optional fields as absent", () => {
    const parsed = parseInvocationMetric({ ...MINIMAL, extra: 1, taskId: null, model: null });
    expect(parsed).toStrictEqual(MINIMAL);
  });

  test("names the bad field and shows the value", () => {
    expect(reason({ ...FULL, durationMs: -1 })).toBe(
      "durationMs must be a whole number from 0 to 2^53−1 (got -1)",
    );
    expect(reason({ ...FULL, durationMs: 1.5 })).toBe(
      "durationMs must be a whole number from 0 to 2^53−1 (got 1.5)",
    );
    expect(reason({ ...FULL, tokens: 2 ** 53 })).toBe(
      "tokens must be a whole number from 0 to 2^53−1 (got 9007199254740992)",
    );
    expect(reason({ ...FULL, cachedTokens: "3" })).toBe(
      'cachedTokens must be a whole number from 0 to 2^53−1 (got "3")',
    );
    expect(reason({ ...FULL, cost: Number.NaN })).toBe("cost must be a finite number ≥ 0 (got NaN)");
    expect(reason({ ...FULL, cost: Number.POSITIVE_INFINITY })).toBe(
      "cost must be a finite number ≥ 0 (got Infinity)",
    );
    expect(reason({ ...FULL, cost: -0.01 })).toBe("cost must be a finite number ≥ 0 (got -0.01)");
    expect(reason({ ...FULL, attempt: 0 })).toBe(
      "attempt must be a whole number ≥ 1 (1 = first try) (got 0)",
    );
    expect(reason({ ...FULL, exitCode: 0.5 })).toBe("exitCode must be a whole number (got 0.5)");
    expect(reason({ ...FULL, success: "yes" })).toBe('success must be a boolean (got "yes")');
    expect(reason({ ...FULL, outputParsed: 1 })).toBe("outputParsed must be a boolean (got 1)");
  });

  test("refuses empty, oversized and malformed names", () => {
    expect(reason({ ...FULL, agent: "" })).toBe('agent must not be empty (got "")');
    expect(reason({ ...FULL, invocationId: 7 })).toBe("invocationId must be a string (got 7)");
    expect(reason({ ...FULL, model: "a".repeat(257) })).toStartWith(
      "model is 257 bytes of UTF-8; the limit is 256",
    );
    expect(reason({ ...FULL, tier: "€".repeat(86) })).toStartWith(
      "tier is 258 bytes of UTF-8; the limit is 256",
    );
    expect(reason({ ...FULL, errorClass: "a\ud800" })).toStartWith(
      "errorClass must not contain a lone UTF-16 surrogate",
    );
    expect(reason({ ...FULL, phase: "" })).toStartWith("phase must be a finite number or a non-empty string");
    expect(reason({ ...FULL, phase: Number.NaN })).toStartWith("phase must be a finite number");
    expect(reason({ ...FULL, phase: null })).toStartWith("phase must be a finite number");
  });

  test("refuses timestamps that are not ISO 8601 date-times with an offset, or are not real dates", () => {
    for (const timestamp of [
      "2026-03-01",
      "2026-03-01T10:00:00",
      "yesterday",
      "2026-02-30T00:00:00Z",
      "2026-13-01T00:00:00Z",
      1772359200000,
    ])
      expect(reason({ ...FULL, timestamp })).toStartWith(
        "timestamp must be an ISO 8601 date-time with an offset",
      );
  });

  test("reports a missing field, and how many more problems there are", () => {
    const { agent, ...noAgent } = FULL;
    expect(reason(noAgent)).toBe("agent is missing");
    expect(reason({})).toBe("invocationId is missing (and 10 more problems)");
    expect(reason({ ...FULL, agent: "", cost: -1 })).toBe(
      'agent must not be empty (got "") (and 1 more problem)',
    );
  });

  test("refuses what is not an object", () => {
    expect(reason(null)).toBe("the metric must be an object (got null)");
    expect(reason([FULL])).toBe("the metric must be an object (got an array)");
    expect(reason("{}")).toBe('the metric must be an object (got "{}")');
  });

  test("the schema is usable directly (safeParse)", () => {
    expect(invocationMetricSchema().safeParse(FULL).success).toBe(true);
    expect(invocationMetricSchema().safeParse({ ...FULL, attempt: 0 }).success).toBe(false);
  });

  test("InvocationMetric and the journal's InvocationRecord are the same shape", () => {
    const record: InvocationRecord = parseInvocationMetric(FULL);
    const back: InvocationMetric = record;
    expect(back).toStrictEqual(FULL);
  });
});

test("invocationId and taskId accept up to 4 KiB; names used as group keys keep their 256-byte limit", () => {
  const base = FULL;
  const id = "i".repeat(4096);
  expect(parseInvocationMetric({ ...base, invocationId: id, taskId: id }).invocationId).toBe(id);
  expect(() => parseInvocationMetric({ ...base, invocationId: `${id}x` })).toThrow(
    "invocationId is 4097 bytes of UTF-8; the limit is 4096",
  );
  expect(() => parseInvocationMetric({ ...base, agent: "a".repeat(257) })).toThrow(
    "agent is 257 bytes of UTF-8; the limit is 256",
  );
  expect(() => parseInvocationMetric({ ...base, taskId: "t\0" })).toThrow(
    "taskId must not contain a NUL character",
  );
});
