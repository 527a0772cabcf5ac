/** Golden bytes of the Go-compatible METRICS.json encoder (`encodeMetrics`). */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import type { SessionMetrics } from "../../src/core/types.ts";
import { DESIGN_EXAMPLE, emptyMetrics, FIXTURES, ZERO_PHASE } from "./helpers.ts";

/** The encoded JSON token of a strategy name. */
function encodedString(s: string): string {
  const text = encodeMetrics({ ...emptyMetrics(), editStrategies: [{ strategy: s, count: 1 }] });
  return /\n {6}"strategy": (.*),\n/.exec(text)![1]!;
}

/** The encoded JSON token of a cost. */
function encodedCost(cost: number): string {
  const llm = { phase: "p", promptTokens: 0, completionTokens: 0, totalTokens: 0, cost, interactionCount: 1 };
  const text = encodeMetrics({ ...emptyMetrics(), llms: [llm] });
  return /\n {6}"cost": (.*),\n/.exec(text)![1]!;
}

describe("document layout", () => {
  test("reproduces the Go document of DESIGN.md byte for byte", () => {
    const golden = readFileSync(join(FIXTURES, "go-metrics.json"), "utf8");
    expect(golden.endsWith("}")).toBe(true);
    expect(encodeMetrics(DESIGN_EXAMPLE)).toBe(golden);
  });

  test("an empty session writes [] lists, omits edit_strategies and has no trailing newline", () => {
    expect(encodeMetrics(emptyMetrics("s1", "2026-01-02T03:04:05.006Z"))).toBe(
      [
        "{",
        '  "session_id": "s1",',
        '  "started_at": "2026-01-02T03:04:05.006Z",',
        '  "updated_at": "2026-01-02T03:04:05.006Z",',
        '  "tools": [],',
        '  "llms": [],',
        '  "phases": []',
        "}",
      ].join("\n"),
    );
  });

  test("writes every optional key in Go struct order, extensions last, dropped_records after phases", () => {
    const m: SessionMetrics = {
      ...emptyMetrics("x"),
      tools: [
        { name: "a", callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 2, avgDurationMs: 2 },
        { name: "b", callCount: 2, successCount: 0, failCount: 2, totalDurationMs: 3, avgDurationMs: 1.5 },
      ],
      editStrategies: [{ strategy: "s", count: 3 }],
      llms: [
        {
          phase: "p",
          promptTokens: 1,
          completionTokens: 2,
          totalTokens: 3,
          cost: 0.5,
          interactionCount: 1,
          promptHash: "h",
          truncatedInput: true,
          cacheReadTokens: 0,
          cacheWriteTokens: 5,
          reasoningTokens: 6,
        },
      ],
      phases: [{ phase: "p", ...ZERO_PHASE, healDurationMs: 4, healLoopCount: 1, success: true }],
      droppedRecords: 7,
    };
    const expected = `{
  "session_id": "x",
  "started_at": "2026-11-22T01:42:24.140Z",
  "updated_at": "2026-11-22T01:42:24.140Z",
  "tools": [
    {
      "name": "a",
      "call_count": 1,
      "success_count": 1,
      "fail_count": 0,
      "total_duration_ms": 2,
      "avg_duration_ms": 2
    },
    {
      "name": "b",
      "call_count": 2,
      "success_count": 0,
      "fail_count": 2,
      "total_duration_ms": 3,
      "avg_duration_ms": 1.5
    }
  ],
  "edit_strategies": [
    {
      "strategy": "s",
      "count": 3
    }
  ],
  "llms": [
    {
      "phase": "p",
      "prompt_tokens": 1,
      "completion_tokens": 2,
      "total_tokens": 3,
      "cost": 0.5,
      "interaction_count": 1,
      "prompt_hash": "h",
      "truncated_input": true,
      "cache_read_tokens": 0,
      "cache_write_tokens": 5,
      "reasoning_tokens": 6
    }
  ],
  "phases": [
    {
      "phase": "p",
      "duration_ms": 0,
      "transition_count": 0,
      "heal_trigger_count": 0,
      "heal_success_count": 0,
      "heal_fail_count": 0,
      "heal_duration_ms": 4,
      "heal_loop_count": 1,
      "bisect_trigger_count": 0,
      "bisect_success_count": 0,
      "bisect_fail_count": 0,
      "success": true
    }
  ],
  "dropped_records": 7
}`;
    expect(encodeMetrics(m)).toBe(expected);
  });

  test("omits empty prompt_hash, false truncated_input, zero heal_duration_ms/heal_loop_count and zero dropped_records", () => {
    const m: SessionMetrics = {
      ...emptyMetrics("x"),
      llms: [
        {
          phase: "p",
          promptTokens: 0,
          completionTokens: 0,
          totalTokens: 0,
          cost: 0,
          interactionCount: 0,
          promptHash: "",
          truncatedInput: false,
        },
      ],
      phases: [{ phase: "p", ...ZERO_PHASE }],
      droppedRecords: 0,
    };
    const text = encodeMetrics(m);
    for (const key of [
      "prompt_hash",
      "truncated_input",
      "heal_duration_ms",
      "heal_loop_count",
      "dropped_records",
    ])
      expect(text).not.toContain(`"${key}"`);
    expect(text).toContain('      "interaction_count": 0\n    }\n  ],\n  "phases"');
    expect(text).toContain('"heal_fail_count": 0,\n      "bisect_trigger_count": 0,');
    expect(text.endsWith('      "success": false\n    }\n  ]\n}')).toBe(true);
  });

  test("integer fields holding -0 are written as 0", () => {
    const m: SessionMetrics = {
      ...emptyMetrics(),
      tools: [
        { name: "t", callCount: 1, successCount: 1, failCount: -0, totalDurationMs: -0, avgDurationMs: 0 },
      ],
    };
    const text = encodeMetrics(m);
    expect(text).toContain('"fail_count": 0,\n      "total_duration_ms": 0,\n      "avg_duration_ms": 0\n');
    expect(text).not.toContain("-0");
  });
});

describe("string escaping (Go 1.22+)", () => {
  test.each([
    ["plain", '"plain"'],
    ["<>&", '"\\u003c\\u003e\\u0026"'],
    ["a\u2028b\u2029c", '"a\\u2028b\\u2029c"'],
    ["\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'],
    ["\u0000\u0001\u000b\u001b\u001e\u001f", '"\\u0000\\u0001\\u000b\\u001b\\u001e\\u001f"'],
    ["del\u007f", '"del\u007f"'],
    ['q"b\\s/', '"q\\"b\\\\s/"'],
    ["\ud800", '"\\ufffd"'],
    ["a\udc00b", '"a\\ufffdb"'],
    ["end\ud83d", '"end\\ufffd"'],
    ["\ude00\ud83d", '"\\ufffd\\ufffd"'],
    ["😀é\ufffd\u0085中", '"😀é\ufffd\u0085中"'],
    ["<😀\n", '"\\u003c😀\\n"'],
  ])("%j encodes as %s", (input, expected) => {
    expect(encodedString(input)).toBe(expected);
  });

  test("escapes the same way in every string field", () => {
    const s = "<\u2028>";
    const m: SessionMetrics = {
      sessionId: s,
      startedAt: s,
      updatedAt: s,
      tools: [{ name: s, callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 0, avgDurationMs: 0 }],
      editStrategies: [],
      llms: [
        {
          phase: s,
          promptTokens: 0,
          completionTokens: 0,
          totalTokens: 0,
          cost: 0,
          interactionCount: 1,
          promptHash: s,
        },
      ],
      phases: [{ phase: s, ...ZERO_PHASE }],
    };
    const text = encodeMetrics(m);
    expect(text.split('"\\u003c\\u2028\\u003e"').length - 1).toBe(7);
    expect(text).not.toContain("<");
  });
});

describe("float forms", () => {
  test.each([
    [0.1 + 0.2, "0.30000000000000004"],
    [35 / 3, "11.666666666666666"],
    [35, "35"],
    [0, "0"],
    [-0, "-0"],
    [1e-7, "1e-7"],
    [1.5e-7, "1.5e-7"],
    [0.000001, "0.000001"],
    [1e20, "100000000000000000000"],
    [1e21, "1e+21"],
    [123456789012345680000, "123456789012345680000"],
    [-4611686018427388000, "-4611686018427388000"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [-2.5, "-2.5"],
  ])("%p encodes as %s", (value, expected) => {
    expect(encodedCost(value)).toBe(expected);
  });

  test("NaN and Infinity cannot be encoded", () => {
    expect(() => encodedCost(Number.NaN)).toThrow(RangeError);
    expect(() => encodedCost(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
