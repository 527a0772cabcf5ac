/** Unit tests of the pieces under the backends: row flattening and PostgreSQL array literals. */
import { describe, expect, test } from "bun:test";
import type { MetricEvent } from "../../src/core/events.ts";
import { ValidationError } from "../../src/errors.ts";
import { encodeEvents } from "../../src/store/encode.ts";
import { arrayLiteral } from "../../src/store/postgres/arrays.ts";

describe("encodeEvents", () => {
  test("flattens calls; a restore event becomes one summary row per tool and LLM phase", () => {
    const metrics = {
      ...{
        sessionId: "g",
        startedAt: "2026-01-01T00:00:00Z",
        updatedAt: "2026-01-01T00:00:01Z",
        editStrategies: [],
      },
      tools: [
        { name: "Read", callCount: 3, successCount: 2, failCount: 1, totalDurationMs: 9, avgDurationMs: 3 },
      ],
      llms: [
        { phase: "x", promptTokens: 5, completionTokens: 6, totalTokens: 11, cost: -0, interactionCount: 2 },
      ],
      phases: [],
    };
    const encoded = encodeEvents("g", [{ v: 1, seq: 1, ts: 7, type: "restore", metrics } as MetricEvent]);
    expect(encoded.events).toBe(1);
    expect(
      encoded.rows.map((r) => [
        r.part,
        r.type,
        r.tool,
        r.phase,
        r.calls,
        r.failures,
        r.promptTokens,
        r.costNanos,
      ]),
    ).toEqual([
      [0, "restore", null, null, 0, 0, null, null],
      [1, "restore", "Read", null, 3, 1, null, null],
      [2, "restore", null, "x", 2, 0, 5, 0],
    ]);
    expect(Object.is(encoded.rows[2]?.costNanos, 0)).toBe(true); // -0 sums as +0 in both databases
    const llm = { v: 1, seq: 2, ts: 8, type: "llm", phase: "x", cost: -0 };
    const usage = { promptTokens: 1, completionTokens: 1, totalTokens: 2 };
    expect(encodeEvents("g", [{ ...llm, usage } as MetricEvent]).rows[0]?.data).toContain('"cost":"-0"');
  });

  test("an LLM call without a start has no duration (unknown, not 0); with one, ts − start", () => {
    const llm = (details?: object) =>
      ({
        ...{ v: 1, seq: 1, ts: 1_000, type: "llm", phase: "p", cost: 0.5 },
        usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
        details,
      }) as MetricEvent;
    expect(encodeEvents("s", [llm()]).rows[0]).toMatchObject({
      durationMs: null,
      success: true,
      costNanos: 500_000_000,
    });
    expect(encodeEvents("s", [llm({ startedAt: 750, errorClass: "timeout" })]).rows[0]).toMatchObject({
      ...{ durationMs: 250, success: false, failures: 1, errorClass: "timeout" },
    });
  });

  test("names over 1 KiB are refused (PostgreSQL could not index them)", () => {
    const event = {
      v: 1,
      seq: 1,
      ts: 1,
      type: "tool_call",
      name: "x".repeat(1025),
      success: true,
      durationMs: 1,
    };
    expect(() => encodeEvents("s", [event as MetricEvent])).toThrow(ValidationError);
  });

  test("events decoded from JSON are checked through their JSON: NUL, lone surrogates and 1e999 are still refused", () => {
    const line = (name: string, extra = "") =>
      JSON.parse(
        `{"v":1,"seq":1,"ts":1,"type":"tool_call","name":${name},"success":true,"durationMs":1,"details":{"agent":"a"${extra}}}`,
      ) as MetricEvent;
    const fromJson = { fromJson: true };
    expect(encodeEvents("s", [line('"Re\\\\u0000ad"')], fromJson).rows[0]?.tool).toBe("Re\\u0000ad");
    expect(encodeEvents("s", [line('"null"', ',"note":"\\\\"')], fromJson).rows[0]?.tool).toBe("null");
    for (const [name, extra, message] of [
      ['"Re\\u0000ad"', "", /name contains a NUL character/],
      ['"\\ud800"', "", /name contains a lone UTF-16 surrogate/],
      ['"Read"', ',"k\\u0000":1', /key details.k\0 contains a NUL character/],
      ['"Read"', ',"big":1e999', /details.big must be a finite number, got Infinity/],
    ] as const)
      expect(() => encodeEvents("s", [line(name, extra)], fromJson)).toThrow(message);
  });
});

test("PostgreSQL array literals quote every text and spell NULL, booleans and numbers plainly", () => {
  expect(arrayLiteral(['a"b\\c', null, "NULL"])).toBe('{"a\\"b\\\\c",NULL,"NULL"}');
  expect(arrayLiteral([true, false, null])).toBe("{t,f,NULL}");
  expect(arrayLiteral([1e-7, null, 12])).toBe("{1e-7,NULL,12}");
});
