/** Go semantics of each record method (DESIGN.md "Go semantics to keep"). */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Collector } from "../../src/session/collector.ts";
import { cleanup, type ManualClock, makeCollector, T0, tempDir, ZERO_PHASE } from "./helpers.ts";

let dir: string;
let c: Collector;
let clock: ManualClock;

beforeEach(async () => {
  dir = await tempDir();
  ({ collector: c, clock } = makeCollector({ sessionsDir: dir }));
});
afterEach(async () => {
  await c.stop();
  await cleanup(dir);
});

describe("recordToolCall", () => {
  test("keeps first-seen order, adds counts and durations, avg = total / count", () => {
    c.recordToolCall("Read", true, 10);
    c.recordToolCall("Bash", false, 7);
    c.recordToolCall("Read", true, 12);
    c.recordToolCall("Read", false, 13);
    expect(c.snapshot().tools).toEqual([
      {
        name: "Read",
        callCount: 3,
        successCount: 2,
        failCount: 1,
        totalDurationMs: 35,
        avgDurationMs: 35 / 3,
      },
      { name: "Bash", callCount: 1, successCount: 0, failCount: 1, totalDurationMs: 7, avgDurationMs: 7 },
    ]);
    expect(c.snapshot().tools[0]!.avgDurationMs).toBe(11.666666666666666);
  });

  test("rounds fractional milliseconds per record before adding (0.5→1, 1.4→1, 2.5→3)", () => {
    c.recordToolCall("T", true, 0.5);
    c.recordToolCall("T", true, 1.4);
    c.recordToolCall("T", true, 2.5);
    const t = c.snapshot().tools[0]!;
    expect(t.totalDurationMs).toBe(5); // not Math.round(4.4) = 4
    expect(t.avgDurationMs).toBe(5 / 3);
  });

  test("a duration of -0 becomes 0", () => {
    c.recordToolCall("T", true, -0);
    c.recordPhaseDuration("p", -0, true);
    c.recordHealDuration("q", -0);
    const s = c.snapshot();
    expect(Object.is(s.tools[0]!.totalDurationMs, 0)).toBe(true);
    expect(Object.is(s.tools[0]!.avgDurationMs, 0)).toBe(true);
    expect(Object.is(s.phases[0]!.durationMs, 0)).toBe(true);
    expect(Object.is(s.phases[1]!.healDurationMs, 0)).toBe(true);
    expect(s.droppedRecords).toBeUndefined();
  });
});

describe("recordLLMInteraction", () => {
  test("adds tokens, cost and interactions per phase in first-seen order", () => {
    c.recordLLMInteraction("plan", { promptTokens: 100, completionTokens: 20, totalTokens: 130 }, 0.1);
    c.recordLLMInteraction("execute", { promptTokens: 5, completionTokens: 6 }, 0.5);
    c.recordLLMInteraction("plan", { promptTokens: 1, completionTokens: 2 }, 0.2);
    expect(c.snapshot().llms).toEqual([
      {
        phase: "plan",
        promptTokens: 101,
        completionTokens: 22,
        totalTokens: 133,
        cost: 0.30000000000000004,
        interactionCount: 2,
      },
      {
        phase: "execute",
        promptTokens: 5,
        completionTokens: 6,
        totalTokens: 11,
        cost: 0.5,
        interactionCount: 1,
      },
    ]);
  });

  test("totalTokens defaults to prompt + completion", () => {
    c.recordLLMInteraction("p", { promptTokens: 7, completionTokens: 8 }, 0);
    expect(c.snapshot().llms[0]!.totalTokens).toBe(15);
  });

  test("optional token kinds are absent until reported, then add", () => {
    c.recordLLMInteraction("p", { promptTokens: 1, completionTokens: 1 }, 0);
    expect(c.snapshot().llms[0]).not.toHaveProperty("cacheReadTokens");
    c.recordLLMInteraction("p", { promptTokens: 10, completionTokens: 1, cacheReadTokens: 4 }, 0);
    c.recordLLMInteraction(
      "p",
      { promptTokens: 10, completionTokens: 1, cacheReadTokens: 5, reasoningTokens: 0 },
      0,
    );
    const l = c.snapshot().llms[0]!;
    expect(l.cacheReadTokens).toBe(9);
    expect(l.reasoningTokens).toBe(0);
    expect(l).not.toHaveProperty("cacheWriteTokens");
  });

  test("cached tokens beyond the input, or reasoning beyond the output, are dropped (they are included in them)", () => {
    c.recordLLMInteraction(
      "p",
      { promptTokens: 10, completionTokens: 5, cacheReadTokens: 6, cacheWriteTokens: 5 },
      0,
    );
    c.recordLLMInteraction("p", { promptTokens: 10, completionTokens: 5, reasoningTokens: 6 }, 0);
    c.recordLLMInteraction(
      "p",
      { promptTokens: 10, completionTokens: 5, cacheReadTokens: 6, cacheWriteTokens: 4, reasoningTokens: 5 },
      0,
    );
    const snap = c.snapshot();
    expect(snap.droppedRecords).toBe(2);
    expect(snap.llms).toEqual([
      {
        phase: "p",
        promptTokens: 10,
        completionTokens: 5,
        totalTokens: 15,
        cost: 0,
        interactionCount: 1,
        cacheReadTokens: 6,
        cacheWriteTokens: 4,
        reasoningTokens: 5,
      },
    ]);
  });

  test("a cost of -0 stays -0 for a new entry, and -0 + -0 stays -0", () => {
    c.recordLLMInteraction("p", { promptTokens: 0, completionTokens: 0 }, -0);
    c.recordLLMInteraction("p", { promptTokens: 0, completionTokens: 0 }, -0);
    expect(Object.is(c.snapshot().llms[0]!.cost, -0)).toBe(true);
    c.recordLLMInteraction("p", { promptTokens: 0, completionTokens: 0 }, 0);
    expect(Object.is(c.snapshot().llms[0]!.cost, 0)).toBe(true);
  });

  test("null or undefined usage is a no-op, not a drop, and does not move updatedAt", () => {
    clock.advance(5);
    c.recordLLMInteraction("p", null, 1);
    c.recordLLMInteraction("p", undefined, 1);
    c.recordLLMInteractionWithPrompt("p", null, 1, "abc", true);
    const s = c.snapshot();
    expect(s.llms).toEqual([]);
    expect(s.droppedRecords).toBeUndefined();
    expect(s.updatedAt).toBe(T0);
  });

  test("keeps the first non-empty prompt hash and truncatedInput is sticky", () => {
    const u = { promptTokens: 1, completionTokens: 1 };
    c.recordLLMInteractionWithPrompt("p", u, 0, "", false);
    expect(c.snapshot().llms[0]).not.toHaveProperty("promptHash");
    expect(c.snapshot().llms[0]).not.toHaveProperty("truncatedInput");
    c.recordLLMInteractionWithPrompt("p", u, 0, "first", false);
    c.recordLLMInteractionWithPrompt("p", u, 0, "second", true);
    c.recordLLMInteractionWithPrompt("p", u, 0, "", false);
    c.recordLLMInteraction("p", u, 0);
    const l = c.snapshot().llms[0]!;
    expect(l.promptHash).toBe("first");
    expect(l.truncatedInput).toBe(true);
    expect(l.interactionCount).toBe(5);
  });

  test("does not create a phase entry", () => {
    c.recordLLMInteraction("p", { promptTokens: 1, completionTokens: 1 }, 0);
    expect(c.snapshot().phases).toEqual([]);
  });
});

describe("phase records", () => {
  test("phase duration and success are last-write-wins; heal duration adds", () => {
    c.recordPhaseDuration("execute", 100, true);
    c.recordPhaseDuration("execute", 40, false);
    c.recordHealDuration("execute", 8000);
    c.recordHealDuration("execute", 123.4);
    const p = c.snapshot().phases[0]!;
    expect(p.durationMs).toBe(40);
    expect(p.success).toBe(false);
    expect(p.healDurationMs).toBe(8123);
    c.recordPhaseDuration("execute", 2.5, true);
    expect(c.snapshot().phases[0]!.durationMs).toBe(3);
    expect(c.snapshot().phases[0]!.success).toBe(true);
  });

  test.each([
    ["recordPhaseTransition", { transitionCount: 1 }],
    ["recordHealTrigger", { healTriggerCount: 1 }],
    ["recordHealLoop", { healLoopCount: 1 }],
    ["recordBisectTrigger", { bisectTriggerCount: 1 }],
  ] as const)("%s creates the phase on first touch with every other counter 0", (method, counts) => {
    c[method]("x");
    expect(c.snapshot().phases).toEqual([{ phase: "x", ...ZERO_PHASE, ...counts }]);
  });

  test("outcomes, durations and heal durations create the phase on first touch", () => {
    c.recordHealOutcome("a", true);
    c.recordHealOutcome("b", false);
    c.recordBisectOutcome("c", true);
    c.recordBisectOutcome("d", false);
    c.recordHealDuration("e", 9);
    c.recordPhaseDuration("f", 7, true);
    expect(c.snapshot().phases).toEqual([
      { phase: "a", ...ZERO_PHASE, healSuccessCount: 1 },
      { phase: "b", ...ZERO_PHASE, healFailCount: 1 },
      { phase: "c", ...ZERO_PHASE, bisectSuccessCount: 1 },
      { phase: "d", ...ZERO_PHASE, bisectFailCount: 1 },
      { phase: "e", ...ZERO_PHASE, healDurationMs: 9 },
      { phase: "f", ...ZERO_PHASE, durationMs: 7, success: true },
    ]);
  });

  test("counters add on one phase entry in first-seen order", () => {
    c.recordPhaseTransition("plan");
    c.recordPhaseTransition("execute");
    c.recordPhaseTransition("plan");
    c.recordHealTrigger("execute");
    c.recordHealTrigger("execute");
    c.recordHealOutcome("execute", true);
    c.recordHealOutcome("execute", false);
    c.recordHealLoop("execute");
    c.recordHealLoop("execute");
    c.recordBisectTrigger("execute");
    c.recordBisectOutcome("execute", false);
    const [plan, execute] = c.snapshot().phases;
    expect(plan).toEqual({ phase: "plan", ...ZERO_PHASE, transitionCount: 2 });
    expect(execute).toEqual({
      phase: "execute",
      ...ZERO_PHASE,
      transitionCount: 1,
      healTriggerCount: 2,
      healSuccessCount: 1,
      healFailCount: 1,
      healLoopCount: 2,
      bisectTriggerCount: 1,
      bisectFailCount: 1,
    });
  });
});

describe("recordEditStrategy", () => {
  test("counts strategies in first-seen order", () => {
    c.recordEditStrategy("exact_match");
    c.recordEditStrategy("fuzzy");
    c.recordEditStrategy("exact_match");
    expect(c.snapshot().editStrategies).toEqual([
      { strategy: "exact_match", count: 2 },
      { strategy: "fuzzy", count: 1 },
    ]);
  });

  test("an empty strategy is a no-op, not a drop, and does not move updatedAt", () => {
    clock.advance(3);
    c.recordEditStrategy("");
    const s = c.snapshot();
    expect(s.editStrategies).toEqual([]);
    expect(s.droppedRecords).toBeUndefined();
    expect(s.updatedAt).toBe(T0);
  });
});

describe("updatedAt", () => {
  test("starts at startedAt and moves with every applied record of every kind", () => {
    expect(c.snapshot().startedAt).toBe(T0);
    expect(c.snapshot().updatedAt).toBe(T0);
    const u = { promptTokens: 1, completionTokens: 1 };
    const records: (() => void)[] = [
      () => c.recordToolCall("t", true, 1),
      () => c.recordLLMInteraction("p", u, 0),
      () => c.recordLLMInteractionWithPrompt("p", u, 0, "h", false),
      () => c.recordPhaseTransition("p"),
      () => c.recordPhaseDuration("p", 1, true),
      () => c.recordHealTrigger("p"),
      () => c.recordHealOutcome("p", true),
      () => c.recordHealDuration("p", 1),
      () => c.recordHealLoop("p"),
      () => c.recordBisectTrigger("p"),
      () => c.recordBisectOutcome("p", false),
      () => c.recordEditStrategy("s"),
    ];
    for (const record of records) {
      clock.advance(1000);
      record();
      expect(c.snapshot().updatedAt).toBe(clock.iso);
    }
    expect(c.snapshot().startedAt).toBe(T0);
    expect(c.snapshot().updatedAt).toBe("2026-11-22T01:42:36.140Z");
  });

  test("a dropped record does not move updatedAt", () => {
    clock.advance(1);
    c.recordToolCall("t", true, 1);
    const applied = clock.iso;
    clock.advance(1);
    c.recordToolCall("t", true, -1);
    c.recordPhaseTransition("");
    expect(c.snapshot().updatedAt).toBe(applied);
    expect(c.snapshot().droppedRecords).toBe(2);
  });
});

describe("disabled collector", () => {
  test("records nothing, drops nothing, and flush/stop write no file", async () => {
    const sessionsDir = join(dir, "disabled");
    const { collector: off } = makeCollector({ sessionsDir, sessionId: "off", enabled: false });
    expect(off.enabled).toBe(false);
    off.recordToolCall("t", true, 1);
    off.recordToolCall("t", true, -1);
    off.recordLLMInteraction("p", { promptTokens: 1, completionTokens: 1 }, 1);
    off.recordPhaseTransition("p");
    off.recordHealOutcome("p", "yes" as unknown as boolean);
    off.recordEditStrategy("s");
    expect(off.snapshot()).toEqual({
      sessionId: "off",
      startedAt: T0,
      updatedAt: T0,
      tools: [],
      editStrategies: [],
      llms: [],
      phases: [],
    });
    await off.flush();
    await off.stop();
    expect(existsSync(sessionsDir)).toBe(false);
  });

  test("an enabled collector reports enabled", () => {
    expect(c.enabled).toBe(true);
  });
});
