/** Bad input: dropped and counted by default, ValidationError in strict mode, state unchanged either way. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Usage } from "../../src/core/types.ts";
import { utf8Length } from "../../src/core/validate.ts";
import { MetricsError, ValidationError } from "../../src/errors.ts";
import { save } from "../../src/fs/metrics-file.ts";
import { Collector } from "../../src/session/collector.ts";
import { cleanup, makeCollector, readText, tempDir } from "./helpers.ts";

const MAX = Number.MAX_SAFE_INTEGER;
const U: Usage = { promptTokens: 1, completionTokens: 1 };
const any = (v: unknown) => v as never;

type Case = [label: string, method: string, record: (c: Collector) => void];

const BAD: Case[] = [
  ["NaN duration", "recordToolCall", (c) => c.recordToolCall("t", true, Number.NaN)],
  ["Infinity duration", "recordToolCall", (c) => c.recordToolCall("t", true, Number.POSITIVE_INFINITY)],
  ["negative duration", "recordToolCall", (c) => c.recordToolCall("t", true, -1)],
  ["tiny negative duration", "recordToolCall", (c) => c.recordToolCall("t", true, -0.0001)],
  ["duration past 2^53−1", "recordToolCall", (c) => c.recordToolCall("t", true, 2 ** 53)],
  ["string duration", "recordToolCall", (c) => c.recordToolCall("t", true, any("5"))],
  ["empty tool name", "recordToolCall", (c) => c.recordToolCall("", true, 1)],
  ["non-string tool name", "recordToolCall", (c) => c.recordToolCall(any(5), true, 1)],
  ["258-byte tool name", "recordToolCall", (c) => c.recordToolCall("€".repeat(86), true, 1)],
  ["257-byte ASCII name", "recordToolCall", (c) => c.recordToolCall("a".repeat(257), true, 1)],
  ["260-byte emoji name", "recordToolCall", (c) => c.recordToolCall("😀".repeat(65), true, 1)],
  ["lone surrogate name", "recordToolCall", (c) => c.recordToolCall("a\ud800", true, 1)],
  ["string success", "recordToolCall", (c) => c.recordToolCall("t", any("yes"), 1)],
  ["undefined success", "recordToolCall", (c) => c.recordToolCall("t", any(undefined), 1)],
  ["bad details.attempt", "recordToolCall", (c) => c.recordToolCall("t", true, 1, { attempt: 0 })],
  [
    "details.attempt with no string form",
    "recordToolCall",
    (c) => c.recordToolCall("t", true, 1, { attempt: any(Object.create(null)) }),
  ],
  ["tool total past 2^53−1", "recordToolCall", (c) => c.recordToolCall("big", true, 5)],
  ["NaN cost", "recordLLMInteraction", (c) => c.recordLLMInteraction("p", U, Number.NaN)],
  ["Infinity cost", "recordLLMInteraction", (c) => c.recordLLMInteraction("p", U, Number.POSITIVE_INFINITY)],
  ["negative cost", "recordLLMInteraction", (c) => c.recordLLMInteraction("p", U, -0.01)],
  ["cost sum overflowing", "recordLLMInteraction", (c) => c.recordLLMInteraction("p", U, Number.MAX_VALUE)],
  [
    "negative tokens",
    "recordLLMInteraction",
    (c) => c.recordLLMInteraction("p", { ...U, promptTokens: -1 }, 0),
  ],
  [
    "fractional tokens",
    "recordLLMInteraction",
    (c) => c.recordLLMInteraction("p", { ...U, completionTokens: 1.5 }, 0),
  ],
  [
    "unsafe tokens",
    "recordLLMInteraction",
    (c) => c.recordLLMInteraction("p", { ...U, promptTokens: 2 ** 53 }, 0),
  ],
  [
    "NaN totalTokens",
    "recordLLMInteraction",
    (c) => c.recordLLMInteraction("p", { ...U, totalTokens: Number.NaN }, 0),
  ],
  [
    "fractional cache",
    "recordLLMInteraction",
    (c) => c.recordLLMInteraction("p", { ...U, cacheReadTokens: 0.5 }, 0),
  ],
  [
    "string reasoning",
    "recordLLMInteraction",
    (c) => c.recordLLMInteraction("p", { ...U, reasoningTokens: any("1") }, 0),
  ],
  ["usage not an object", "recordLLMInteraction", (c) => c.recordLLMInteraction("p", any("usage"), 0)],
  [
    "default total past 2^53−1",
    "recordLLMInteraction",
    (c) => c.recordLLMInteraction("q", { promptTokens: MAX, completionTokens: 1 }, 0),
  ],
  [
    "prompt sum past 2^53−1",
    "recordLLMInteraction",
    (c) => c.recordLLMInteraction("big", { promptTokens: 5, completionTokens: 0 }, 0),
  ],
  ["empty LLM phase", "recordLLMInteraction", (c) => c.recordLLMInteraction("", U, 0)],
  [
    "non-string promptHash",
    "recordLLMInteractionWithPrompt",
    (c) => c.recordLLMInteractionWithPrompt("p", U, 0, any(5), false),
  ],
  [
    "string truncated",
    "recordLLMInteractionWithPrompt",
    (c) => c.recordLLMInteractionWithPrompt("p", U, 0, "h", any("yes")),
  ],
  ["empty transition phase", "recordPhaseTransition", (c) => c.recordPhaseTransition("")],
  ["non-string phase", "recordHealTrigger", (c) => c.recordHealTrigger(any(null))],
  ["long phase", "recordHealLoop", (c) => c.recordHealLoop("€".repeat(86))],
  ["object phase", "recordBisectTrigger", (c) => c.recordBisectTrigger(any({}))],
  ["negative phase duration", "recordPhaseDuration", (c) => c.recordPhaseDuration("p", -1, true)],
  ["NaN phase duration", "recordPhaseDuration", (c) => c.recordPhaseDuration("p", Number.NaN, true)],
  ["numeric phase success", "recordPhaseDuration", (c) => c.recordPhaseDuration("p", 1, any(1))],
  ["empty duration phase", "recordPhaseDuration", (c) => c.recordPhaseDuration("", 1, true)],
  ["string heal outcome", "recordHealOutcome", (c) => c.recordHealOutcome("p", any("true"))],
  ["empty heal outcome phase", "recordHealOutcome", (c) => c.recordHealOutcome("", true)],
  ["numeric bisect outcome", "recordBisectOutcome", (c) => c.recordBisectOutcome("p", any(1))],
  ["negative heal duration", "recordHealDuration", (c) => c.recordHealDuration("p", -5)],
  ["heal duration past 2^53−1", "recordHealDuration", (c) => c.recordHealDuration("big", 5)],
  ["non-string strategy", "recordEditStrategy", (c) => c.recordEditStrategy(any(5))],
  ["null strategy", "recordEditStrategy", (c) => c.recordEditStrategy(any(null))],
  ["257-byte strategy", "recordEditStrategy", (c) => c.recordEditStrategy("a".repeat(257))],
];

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => cleanup(dir));

/** A collector holding some state, including sums one step short of 2^53−1. */
function seeded(strict: boolean, dropped: ValidationError[] = []): Collector {
  const { collector: c } = makeCollector({ sessionsDir: dir, strict, onDropped: (e) => dropped.push(e) });
  c.recordToolCall("t", true, 3);
  c.recordToolCall("big", true, MAX - 2);
  c.recordLLMInteraction("p", U, 1e308);
  c.recordLLMInteraction("big", { promptTokens: MAX - 2, completionTokens: 0, totalTokens: 0 }, 0);
  c.recordPhaseDuration("p", 10, true);
  c.recordHealDuration("big", MAX - 2);
  c.recordEditStrategy("s");
  return c;
}

describe("non-strict (default)", () => {
  test.each(BAD)("%s is dropped and counted; nothing else changes", async (_label, method, record) => {
    const dropped: ValidationError[] = [];
    const c = seeded(false, dropped);
    const before = c.snapshot();
    expect(before.droppedRecords).toBeUndefined();
    expect(() => record(c)).not.toThrow();
    expect(c.snapshot()).toEqual({ ...before, droppedRecords: 1 });
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toBeInstanceOf(ValidationError);
    expect(dropped[0]!.message).toStartWith(`[session-metrics] [${method}] `);
    await c.stop();
    expect(await readText(join(dir, "s1", "METRICS.json"))).toEndWith('\n  ],\n  "dropped_records": 1\n}');
  });

  test("names of exactly 256 UTF-8 bytes are accepted", () => {
    const c = seeded(false);
    const names = ["a".repeat(256), `${"€".repeat(85)}a`, "😀".repeat(64), "é".repeat(128)];
    for (const name of names) c.recordToolCall(name, true, 1);
    for (const name of names) c.recordPhaseTransition(name);
    for (const name of names) c.recordEditStrategy(name);
    const s = c.snapshot();
    expect(s.droppedRecords).toBeUndefined();
    expect(s.tools.slice(2).map((t) => t.name)).toEqual(names);
    expect(s.phases.slice(2).map((p) => p.phase)).toEqual(names);
  });

  for (const strict of [false, true])
    test(`a call count at 2^53−1 (from a file) refuses the next call${strict ? " (strict)" : ""}; nothing changes`, async () => {
      const { collector: first } = makeCollector({ sessionsDir: dir });
      first.recordToolCall("t", true, 3);
      first.recordToolCall("t", false, 4);
      const saved = first.snapshot();
      await first.stop();
      const tool = saved.tools[0]!;
      await save(dir, "s1", {
        ...saved,
        tools: [{ ...tool, callCount: MAX, successCount: MAX - 1, failCount: 1, totalDurationMs: 7 }],
      });
      const dropped: ValidationError[] = [];
      const c = await Collector.open({
        sessionId: "s1",
        sessionsDir: dir,
        resume: true,
        journal: false,
        strict,
        onDropped: (e) => dropped.push(e),
      });
      const before = c.snapshot();
      const call = () => c.recordToolCall("t", true, 1);
      if (strict) expect(call).toThrow(ValidationError);
      else call();
      expect(c.snapshot()).toEqual(strict ? before : { ...before, droppedRecords: 1 });
      expect(strict ? [] : dropped.map((e) => e.message)).toEqual(
        strict ? [] : ['[session-metrics] [recordToolCall] tool "t" totals would pass 2^53−1'],
      );
      await c.stop();
    });

  test("sums reaching exactly 2^53−1 are accepted", () => {
    const c = seeded(false);
    c.recordToolCall("big", true, 2);
    c.recordLLMInteraction("big", { promptTokens: 2, completionTokens: 0, totalTokens: 0 }, 0);
    c.recordHealDuration("big", 2);
    const s = c.snapshot();
    expect(s.droppedRecords).toBeUndefined();
    expect(s.tools[1]!.totalDurationMs).toBe(MAX);
    expect(s.llms[1]!.promptTokens).toBe(MAX);
    expect(s.phases[1]!.healDurationMs).toBe(MAX);
  });

  test("token sums that would pass 2^53−1: 2^53−2 then 5 drops the second", () => {
    const { collector: c } = makeCollector({ sessionsDir: dir });
    c.recordLLMInteraction("x", { promptTokens: MAX - 1, completionTokens: 0 }, 0);
    c.recordLLMInteraction("x", { promptTokens: 5, completionTokens: 0 }, 0);
    const s = c.snapshot();
    expect(s.llms).toEqual([
      {
        phase: "x",
        promptTokens: MAX - 1,
        completionTokens: 0,
        totalTokens: MAX - 1,
        cost: 0,
        interactionCount: 1,
      },
    ]);
    expect(s.droppedRecords).toBe(1);
  });

  test("drops accumulate and the reason is precise", () => {
    const dropped: ValidationError[] = [];
    const { collector: c } = makeCollector({ sessionsDir: dir, onDropped: (e) => dropped.push(e) });
    c.recordToolCall("t", true, -1);
    c.recordLLMInteraction("p", U, Number.NaN);
    c.recordPhaseTransition("");
    c.recordToolCall("€".repeat(86), true, 1);
    expect(c.snapshot().droppedRecords).toBe(4);
    expect(dropped.map((e) => e.message)).toEqual([
      "[session-metrics] [recordToolCall] durationMs must be a finite number ≥ 0, got -1",
      "[session-metrics] [recordLLMInteraction] cost must be a finite number ≥ 0, got NaN",
      "[session-metrics] [recordPhaseTransition] phase must not be empty",
      "[session-metrics] [recordToolCall] tool name is 258 bytes of UTF-8; the limit is 256",
    ]);
  });
});

describe("utf8Length", () => {
  test.each(["", "abc", "é", "€", "😀", "a😀b", "😀".repeat(65), "€".repeat(86), "\u{10ffff}x"])(
    "counts %p as Buffer.byteLength does",
    (s) => {
      expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"));
    },
  );
});

describe("strict", () => {
  test.each(BAD)("%s throws ValidationError and changes nothing", (_label, method, record) => {
    const dropped: ValidationError[] = [];
    const c = seeded(true, dropped);
    const events: unknown[] = [];
    c.subscribe((e) => events.push(e));
    const before = c.snapshot();
    let thrown: unknown;
    try {
      record(c);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect(thrown).toBeInstanceOf(MetricsError);
    expect((thrown as Error).message).toStartWith(`[session-metrics] [${method}] `);
    expect(c.snapshot()).toEqual(before);
    expect(c.snapshot().droppedRecords).toBeUndefined();
    expect(events).toEqual([]);
    expect(dropped).toEqual([]);
  });

  test("no-ops stay no-ops in strict mode", () => {
    const { collector: c } = makeCollector({ sessionsDir: dir, strict: true });
    expect(() => c.recordEditStrategy("")).not.toThrow();
    expect(() => c.recordLLMInteraction("p", null, 1)).not.toThrow();
    expect(() => c.recordLLMInteractionWithPrompt("p", undefined, 1, "h", true)).not.toThrow();
    expect(c.snapshot().editStrategies).toEqual([]);
    expect(c.snapshot().llms).toEqual([]);
  });
});
