/**
 * Time. A timestamp is never earlier than a clock read taken before the call; within a run it
 * never goes backwards, even when an injected clock steps back; and an injected `now()` that
 * throws or leaves year 0–9999 on some later read never makes a non-strict record*() throw or
 * poison the state: the read falls back to Date.now(), is counted and reported once. A clock that
 * is bad from the start is refused when the collector is made.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Collector, load, type MetricEvent, ValidationError } from "../../src/index.ts";
import { JOURNAL, MemoryLogger, T0, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const YEAR_10000 = 253_402_300_800_000;
const BEFORE_YEAR_0 = Date.parse("0000-01-01T00:00:00.000Z") - 1;

/** The events of a session's journal, in order. */
function journalEvents(sessionsDir: string, id: string): MetricEvent[] {
  return readFileSync(join(sessionsDir, id, JOURNAL), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as MetricEvent);
}

const BAD_CLOCKS: { kind: string; read: () => Date; why: string }[] = [
  {
    kind: "throws",
    read: () => {
      throw new Error("clock broke");
    },
    why: "threw: clock broke",
  },
  {
    kind: "returns year 10000",
    read: () => new Date(YEAR_10000),
    why: "returned a Date outside year 0–9999",
  },
  {
    kind: "returns a Date before year 0",
    read: () => new Date(BEFORE_YEAR_0),
    why: "returned a Date outside year 0–9999",
  },
  { kind: "returns an invalid Date", read: () => new Date(Number.NaN), why: "returned an invalid Date" },
];

describe("an injected now() that goes bad on a later read", () => {
  for (const { kind, read, why } of BAD_CLOCKS) {
    test(`${kind}: records go on, the reads are counted and reported once, and the file loads`, async () => {
      const sessionsDir = temps.make("bad-clock");
      const id = "clock";
      let bad = false;
      const now = () => (bad ? read() : new Date(T0));
      const logger = new MemoryLogger();
      const c = new Collector({ sessionId: id, sessionsDir, now, logger });
      c.recordToolCall("Read", true, 4);
      expect(c.clockFallbacks).toBe(0);

      bad = true;
      const before = Date.now();
      expect(() => {
        c.recordToolCall("Read", true, 6);
        c.recordToolCall("Read", false, 8);
        c.recordLLMInteraction("plan", { promptTokens: 10, completionTokens: 5 }, 0.5);
        c.recordPhaseTransition("plan");
      }).not.toThrow();
      expect(c.clockFallbacks).toBe(4);

      const tool = c.snapshot().tools[0]!;
      expect(tool).toEqual({
        name: "Read",
        callCount: 3,
        successCount: 2,
        failCount: 1,
        totalDurationMs: 18,
        avgDurationMs: 6,
      });
      expect(c.snapshot().droppedRecords).toBeUndefined();
      // The fallback reads are Date.now(): updatedAt is a real instant, not year 10000 or NaN.
      expect(Date.parse(c.snapshot().updatedAt)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(c.snapshot().updatedAt)).toBeLessThanOrEqual(Date.now());

      const clockWarnings = logger.warnings.filter((w) => w.includes("[clock]"));
      expect(clockWarnings).toEqual([
        `[session-metrics] [clock] the injected now() ${why}; session ${id} uses Date.now() for this read and any other bad one (counted in clockFallbacks)`,
      ]);
      expect(logger.warnings).toEqual(clockWarnings);

      await c.flush();
      c.recordToolCall("Read", true, 2);
      expect(c.clockFallbacks).toBe(5);
      await c.stop();
      expect(logger.warnings).toHaveLength(1);
      const loaded = await load(sessionsDir, id);
      expect(loaded).toEqual(c.snapshot());
      for (const e of journalEvents(sessionsDir, id)) expect(Number.isSafeInteger(e.ts)).toBe(true);
      const resumed = await Collector.open({
        sessionId: id,
        sessionsDir,
        resume: true,
        logger: new MemoryLogger(),
      });
      expect(resumed.snapshot()).toEqual(loaded!);
      await resumed.stop();
    });

    test(`${kind} from the very first read: new Collector throws ValidationError`, async () => {
      const sessionsDir = temps.make("bad-clock-start");
      let thrown: unknown;
      try {
        new Collector({ sessionId: "clock", sessionsDir, now: read, logger: new MemoryLogger() });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as Error).message).toBe(`[session-metrics] the injected now() ${why}`);
      // Nothing is held: a collector with a good clock opens the session.
      const c = await Collector.open({
        sessionId: "clock",
        sessionsDir,
        resume: true,
        now: () => new Date(T0),
      });
      await c.stop();
      let openThrown: unknown;
      await Collector.open({ sessionId: "clock", sessionsDir, resume: true, now: read }).catch((e) => {
        openThrown = e;
      });
      expect(openThrown).toBeInstanceOf(ValidationError);
    });
  }
});

describe("timestamps", () => {
  test("Date.now() stamps are never earlier than a clock read taken before the call (1,000 calls)", async () => {
    const sessionsDir = temps.make("stamps");
    const id = "stamps";
    const c = new Collector({ sessionId: id, sessionsDir, logger: new MemoryLogger() });
    const befores: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      // Each call at a fresh millisecond, so a cached or coarse clock would show.
      const tick = Date.now();
      while (Date.now() === tick) {}
      befores.push(Date.now());
      c.recordToolCall("Read", true, 1);
    }
    await c.stop();
    const calls = journalEvents(sessionsDir, id).filter((e) => e.type === "tool_call");
    expect(calls).toHaveLength(1_000);
    const early = calls.filter((e, i) => e.ts < befores[i]!).map((e, i) => [i, e.ts, befores[i]]);
    expect(early).toEqual([]);
  });

  test("updatedAt and event ts never go backwards within a run when the injected clock steps back", async () => {
    const sessionsDir = temps.make("monotonic");
    const id = "monotonic";
    let ms = T0 + 10_000;
    const c = new Collector({
      sessionId: id,
      sessionsDir,
      now: () => new Date(ms),
      logger: new MemoryLogger(),
    });
    c.recordToolCall("Read", true, 1);
    const high = new Date(T0 + 10_000).toISOString();
    expect(c.snapshot().updatedAt).toBe(high);
    ms = T0; // the wall clock steps back 10 s
    c.recordToolCall("Read", true, 2);
    c.recordPhaseTransition("plan");
    expect(c.snapshot().updatedAt).toBe(high);
    ms = T0 + 10_001;
    c.recordToolCall("Read", true, 3);
    expect(c.snapshot().updatedAt).toBe(new Date(T0 + 10_001).toISOString());
    await c.stop();
    const ts = journalEvents(sessionsDir, id).map((e) => e.ts);
    expect(ts).toEqual([T0 + 10_000, T0 + 10_000, T0 + 10_000, T0 + 10_000, T0 + 10_001]);
    expect((await load(sessionsDir, id))!.updatedAt).toBe(new Date(T0 + 10_001).toISOString());
  });
});
