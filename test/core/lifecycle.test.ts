/** Lifecycle: stop, dispose, one live collector per session, subscribe, snapshot copies. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../../src/core/events.ts";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { MetricsError, SessionLockedError, ValidationError } from "../../src/errors.ts";
import { Collector } from "../../src/session/collector.ts";
import { cleanup, ManualClock, makeCollector, readText, tempDir } from "./helpers.ts";

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => cleanup(dir));

const file = () => join(dir, "s1", "METRICS.json");

describe("stop", () => {
  test("flushes the current state", async () => {
    const { collector: c } = makeCollector({ sessionsDir: dir });
    c.recordToolCall("t", true, 4);
    expect(existsSync(file())).toBe(false);
    const expected = encodeMetrics(c.snapshot());
    await c.stop();
    expect(c.stopped).toBe(true);
    expect(await readText(file())).toBe(expected);
  });

  test("is idempotent: a second call resolves and leaves the file unchanged", async () => {
    const { collector: c } = makeCollector({ sessionsDir: dir });
    c.recordToolCall("t", true, 4);
    await c.stop();
    const first = await readText(file());
    c.recordToolCall("t", true, 4);
    await c.stop();
    await Promise.all([c.stop(), c.stop()]);
    expect(await readText(file())).toBe(first);
  });

  test("records after stop are dropped and counted in the snapshot", async () => {
    const dropped: ValidationError[] = [];
    const { collector: c, clock } = makeCollector({ sessionsDir: dir, onDropped: (e) => dropped.push(e) });
    c.recordToolCall("t", true, 4);
    const before = c.snapshot();
    await c.stop();
    clock.advance(1000);
    c.recordToolCall("t", true, 4);
    c.recordLLMInteraction("p", { promptTokens: 1, completionTokens: 1 }, 0);
    c.recordPhaseDuration("p", 1, true);
    c.recordHealOutcome("p", true);
    c.recordEditStrategy("s");
    expect(c.snapshot()).toEqual({ ...before, droppedRecords: 5 });
    expect(dropped.map((e) => e.message)).toEqual([
      "[session-metrics] [recordToolCall] the collector is stopped",
      "[session-metrics] [recordLLMInteraction] the collector is stopped",
      "[session-metrics] [recordPhaseDuration] the collector is stopped",
      "[session-metrics] [recordHealOutcome] the collector is stopped",
      "[session-metrics] [recordEditStrategy] the collector is stopped",
    ]);
  });

  test("a later flush writes the dropped count", async () => {
    const { collector: c } = makeCollector({ sessionsDir: dir });
    await c.stop();
    c.recordPhaseTransition("p");
    await c.flush();
    expect(await readText(file())).toEndWith('"phases": [],\n  "dropped_records": 1\n}');
  });

  test("in strict mode a record after stop throws ValidationError", async () => {
    const { collector: c } = makeCollector({ sessionsDir: dir, strict: true });
    await c.stop();
    expect(() => c.recordToolCall("t", true, 1)).toThrow(ValidationError);
    expect(c.snapshot().tools).toEqual([]);
  });

  test("await using stops (and flushes) at the end of the block", async () => {
    const clock = new ManualClock();
    {
      await using c = new Collector({ sessionId: "s1", sessionsDir: dir, now: clock.now });
      c.recordToolCall("t", true, 1);
      expect(existsSync(file())).toBe(false);
    }
    expect(await readText(file())).toContain('"name": "t"');
    const again = new Collector({ sessionId: "s1", sessionsDir: dir, now: clock.now });
    await again[Symbol.asyncDispose]();
    expect(again.stopped).toBe(true);
  });
});

describe("one live collector per session", () => {
  test("a second live Collector for the same session throws SessionLockedError", async () => {
    const { collector: first } = makeCollector({ sessionsDir: dir });
    let error: unknown;
    try {
      new Collector({ sessionId: "s1", sessionsDir: join(dir, ".", "x", ".."), now: new ManualClock().now });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SessionLockedError);
    expect(error).toBeInstanceOf(MetricsError);
    expect((error as Error).message).toStartWith('[session-metrics] session "s1" in ');
    const other = new Collector({ sessionId: "s2", sessionsDir: dir, now: new ManualClock().now });
    await other.stop();
    await first.stop();
    const next = new Collector({ sessionId: "s1", sessionsDir: dir, now: new ManualClock().now });
    await next.stop();
  });

  test("disabled collectors claim nothing", async () => {
    const a = new Collector({ sessionId: "s1", sessionsDir: dir, enabled: false });
    const b = new Collector({ sessionId: "s1", sessionsDir: dir, enabled: false });
    const live = new Collector({ sessionId: "s1", sessionsDir: dir, now: new ManualClock().now });
    await Promise.all([a.stop(), b.stop(), live.stop()]);
  });
});

describe("subscribe", () => {
  test("delivers every applied record and drop with gap-free seq from 1", async () => {
    const { collector: c, clock } = makeCollector({ sessionsDir: dir });
    const events: MetricEvent[] = [];
    c.subscribe((e) => events.push(e));
    clock.advance(10);
    c.recordToolCall("t", true, 2.5, { agent: "a" });
    c.recordEditStrategy(""); // no-op: no event
    c.recordToolCall("t", true, -1); // drop: an event
    c.recordLLMInteractionWithPrompt("p", { promptTokens: 1, completionTokens: 2 }, 0.5, "h", true);
    c.recordPhaseTransition("p");
    c.recordPhaseDuration("p", 3, false);
    c.recordHealDuration("p", 4);
    c.recordEditStrategy("s");
    const ts = clock.ms;
    // Gap-free from the collector's first event (a journaled session spends seq 1 on session_start).
    const s0 = events[0]!.seq;
    expect(s0 === 1 || s0 === 2).toBe(true);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => s0 + i));
    expect(events.map((e) => ({ ...e, seq: e.seq - s0 + 1 }))).toEqual([
      {
        v: 1,
        seq: 1,
        ts,
        type: "tool_call",
        name: "t",
        success: true,
        durationMs: 3,
        details: { agent: "a" },
      },
      {
        v: 1,
        seq: 2,
        ts,
        type: "dropped",
        method: "recordToolCall",
        reason: "durationMs must be a finite number ≥ 0, got -1",
      },
      {
        v: 1,
        seq: 3,
        ts,
        type: "llm",
        phase: "p",
        usage: {
          promptTokens: 1,
          completionTokens: 2,
          totalTokens: 3,
          cacheReadTokens: undefined,
          cacheWriteTokens: undefined,
          reasoningTokens: undefined,
        },
        cost: 0.5,
        promptHash: "h",
        truncated: true,
      },
      { v: 1, seq: 4, ts, type: "phase_transition", phase: "p" },
      { v: 1, seq: 5, ts, type: "phase_duration", phase: "p", durationMs: 3, success: false },
      { v: 1, seq: 6, ts, type: "heal_duration", phase: "p", durationMs: 4 },
      { v: 1, seq: 7, ts, type: "edit_strategy", strategy: "s" },
    ]);
    await c.stop();
  });

  test("a throwing listener is isolated and recording goes on", async () => {
    const { collector: c } = makeCollector({ sessionsDir: dir });
    const errors: unknown[] = [];
    const seen: number[] = [];
    c.subscribe(
      () => {
        throw new Error("boom");
      },
      (e) => errors.push(e),
    );
    c.subscribe((e) => seen.push(e.seq));
    c.recordToolCall("t", true, 1);
    c.recordToolCall("t", true, 1);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]! + 1);
    expect(errors).toHaveLength(2);
    expect((errors[0] as Error).message).toBe("boom");
    expect(c.snapshot().tools[0]!.callCount).toBe(2);
    await c.stop();
  });

  test("unsubscribe stops delivery to that listener only", async () => {
    const { collector: c } = makeCollector({ sessionsDir: dir });
    const a: number[] = [];
    const b: number[] = [];
    const offA = c.subscribe((e) => a.push(e.seq));
    c.subscribe((e) => b.push(e.seq));
    c.recordHealLoop("p");
    offA();
    offA();
    c.recordHealLoop("p");
    expect(a).toHaveLength(1);
    expect(b).toEqual([a[0]!, a[0]! + 1]);
    await c.stop();
  });
});

describe("snapshot", () => {
  test("is a deep copy: mutating it does not touch the collector", async () => {
    const { collector: c } = makeCollector({ sessionsDir: dir });
    c.recordToolCall("t", true, 1);
    c.recordEditStrategy("s");
    c.recordLLMInteraction("p", { promptTokens: 1, completionTokens: 1 }, 1);
    c.recordPhaseTransition("p");
    const pristine = c.snapshot();
    const s = c.snapshot();
    s.tools[0]!.callCount = 99;
    s.tools.push({ ...s.tools[0]!, name: "x" });
    s.editStrategies[0]!.count = 99;
    s.llms[0]!.cost = 99;
    s.phases[0]!.transitionCount = 99;
    s.phases.length = 0;
    s.sessionId = "other";
    expect(c.snapshot()).toEqual(pristine);
    expect(c.snapshot()).not.toBe(c.snapshot());
    await c.stop();
    expect(await readText(file())).toBe(encodeMetrics(pristine));
  });
});

describe("flush", () => {
  test("concurrent flushes resolve and leave the newest snapshot on disk", async () => {
    const { collector: c } = makeCollector({ sessionsDir: dir });
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      c.recordToolCall("t", true, i);
      flushes.push(c.flush());
    }
    await Promise.all(flushes);
    expect(await readText(file())).toBe(encodeMetrics(c.snapshot()));
    expect(c.snapshot().tools[0]!.callCount).toBe(20);
    await c.stop();
  });
});
