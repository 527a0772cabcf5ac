/**
 * Durability settings, `journal: false`, live subscribers and the synchronous record path.
 * fsync calls are observed with a pass-through spy on node:fs (nothing is faked): `group` fsyncs
 * every group by itself, `on-sync` only when sync()/flush() asks, `buffered` never.
 */
import { afterAll, describe, expect, setDefaultTimeout, spyOn, test } from "bun:test";
// The library loads node:fs lazily through require (start-up cost); spies go on that object.
import * as fs from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../../src/core/events.ts";
import type { Durability } from "../../src/journal/writer.ts";
import { Collector } from "../../src/session/collector.ts";
import {
  checkLines,
  eventually,
  JOURNAL,
  MemoryLogger,
  readBytes,
  seqsAreGapFree,
  TempDirs,
} from "./helpers.ts";

setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

/** Opens a collector writing its journal on the event loop, watching every fsync of its fd. */
async function openWatched(sessionsDir: string, durability: Durability) {
  const path = join(sessionsDir, "d", JOURNAL);
  const opens = spyOn(fs, "openSync");
  const fsyncs = spyOn(fs, "fsync");
  const fsyncSyncs = spyOn(fs, "fsyncSync");
  let c: Collector;
  let fd: number;
  try {
    c = await Collector.open({
      sessionId: "d",
      sessionsDir,
      durability,
      logger: new MemoryLogger(),
    });
    expect(c.journalStats()?.writtenOn).toBe("event-loop");
    const i = opens.mock.calls.findLastIndex((args) => args[0] === path);
    fd = opens.mock.results[i]!.value as number;
  } finally {
    opens.mockRestore();
  }
  // The lock file had an fsync before the journal's fd (perhaps the same number) was opened.
  fsyncs.mockClear();
  fsyncSyncs.mockClear();
  const journalFsyncs = () =>
    [...fsyncs.mock.calls, ...fsyncSyncs.mock.calls].filter((args) => args[0] === fd).length;
  const restore = () => {
    fsyncs.mockRestore();
    fsyncSyncs.mockRestore();
  };
  return { c, path, journalFsyncs, restore };
}

const lineCount = (path: string) => checkLines(readBytes(path)).events.length;

describe("durability settings", () => {
  const expectations: Record<Durability, { byItself: boolean; onSync: boolean }> = {
    buffered: { byItself: false, onSync: false },
    group: { byItself: true, onSync: true },
    "on-sync": { byItself: false, onSync: true },
  };
  const writers = { "event loop": openWatched };
  for (const [durability, fsyncs] of Object.entries(expectations) as [
    Durability,
    typeof expectations.group,
  ][])
    for (const [writer, open] of Object.entries(writers))
      test(`${durability}, written on the ${writer}: groups are written without sync(); sync() resolves with every event in the file`, async () => {
        const sessionsDir = temps.make(`durability-${durability}`, { fast: true });
        const w = await open(sessionsDir, durability);
        try {
          for (let i = 0; i < 3; i++) w.c.recordToolCall("Read", true, i);
          // Group commit: the lines reach the file within a few ms, nobody asking.
          await eventually(() => lineCount(w.path) === 4, "the group write");
          if (fsyncs.byItself) await eventually(() => w.journalFsyncs() > 0, "the group's fsync");
          else expect(w.journalFsyncs()).toBe(0);

          const before = w.journalFsyncs();
          for (let i = 0; i < 1000; i++)
            w.c.recordLLMInteraction("plan", { promptTokens: i, completionTokens: 1 }, 0.5);
          await w.c.sync();
          // Right when sync() resolves, the file holds everything recorded before the call.
          const lines = checkLines(readBytes(w.path));
          expect(lines.bad).toEqual([]);
          expect(lines.tail.length).toBe(0);
          expect(lines.events).toHaveLength(1004);
          expect(seqsAreGapFree(lines.events)).toBe(true);
          if (fsyncs.onSync) expect(w.journalFsyncs()).toBeGreaterThan(before);
          else expect(w.journalFsyncs()).toBe(0);

          w.c.recordPhaseTransition("plan");
          await w.c.flush(); // flush() syncs the journal too
          expect(lineCount(w.path)).toBe(1005);
          await w.c.stop();
          if (!fsyncs.onSync) expect(w.journalFsyncs()).toBe(0);
        } finally {
          w.restore();
          await w.c.stop();
        }
      });

  test("journal: false writes no journal.jsonl (the Go behaviour), and sync() resolves", async () => {
    const sessionsDir = temps.make("no-journal", { fast: true });
    const c = await Collector.open({ sessionId: "go", sessionsDir, journal: false });
    c.recordToolCall("Read", true, 3);
    await c.sync();
    await c.flush();
    c.recordToolCall("Read", true, 4);
    await c.stop();
    expect(fs.readdirSync(join(sessionsDir, "go")).sort()).toEqual(["METRICS.json"]);
  });
});

describe("live events", () => {
  test("subscribe receives every event in seq order, drops included, as the journal has them", async () => {
    const sessionsDir = temps.make("subscribe", { fast: true });
    const c = await Collector.open({ sessionId: "s", sessionsDir });
    const seen: MetricEvent[] = [];
    c.subscribe((e) => seen.push(structuredClone(e)));
    c.recordToolCall("Read", true, 3, { agent: "coder", attributes: { note: "héllo" } });
    c.recordLLMInteraction("plan", { promptTokens: 10, completionTokens: 2 }, 0.5);
    c.recordToolCall("Read", true, -1); // dropped: an event too
    c.recordPhaseTransition("plan");
    const turn = c.startTurn({ turnId: "t1" });
    turn.startStep().end({ promptTokens: 1, completionTokens: 1 });
    turn.end();
    await c.stop();

    expect(seen.map((e) => e.type)).toEqual([
      "tool_call",
      "llm",
      "dropped",
      "phase_transition",
      "turn_start",
      "step_end",
      "llm",
      "turn_end",
    ]);
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 2)); // seq 1 is session_start
    const journal = checkLines(readBytes(join(sessionsDir, "s", JOURNAL))).events;
    expect(journal.slice(1).map(({ crc: _crc, ...e }: MetricEvent & { crc?: string }) => e)).toEqual(seen);
  });

  test("a throwing listener is isolated: recording goes on, the error goes to its reporter", async () => {
    const sessionsDir = temps.make("throwing", { fast: true });
    const c = await Collector.open({ sessionId: "s", sessionsDir });
    const reported: unknown[] = [];
    const boom = new Error("listener bug");
    c.subscribe(
      () => {
        throw boom;
      },
      (error) => reported.push(error),
    );
    const after: number[] = [];
    c.subscribe((e) => after.push(e.seq));
    for (let i = 0; i < 5; i++) expect(() => c.recordToolCall("Read", true, i)).not.toThrow();
    expect(reported).toEqual([boom, boom, boom, boom, boom]);
    expect(after).toEqual([2, 3, 4, 5, 6]); // later listeners still get every event
    expect(c.snapshot().tools[0]!.callCount).toBe(5);
    await c.stop();
    expect(checkLines(readBytes(join(sessionsDir, "s", JOURNAL))).events).toHaveLength(6);
  });

  test("a listener that changes the event it was given cannot corrupt the journal", async () => {
    const sessionsDir = temps.make("mutating", { fast: true });
    const c = await Collector.open({ sessionId: "s", sessionsDir });
    const thrown: unknown[] = [];
    c.subscribe(
      (e) => {
        // A careless consumer: it "normalises" what it was handed.
        const loose = e as unknown as Record<string, unknown>;
        loose.seq = 0;
        if (e.type === "tool_call") loose.name = "";
      },
      (error) => thrown.push(error),
    );
    c.recordToolCall("Read", true, 1);
    c.recordToolCall("Edit", false, 2);
    c.recordPhaseTransition("plan");
    await c.stop();
    // Events handed out are frozen: each write threw in the listener, which recording survived.
    expect(thrown).toHaveLength(3);
    expect(thrown.every((e) => e instanceof TypeError)).toBe(true);
    const lines = checkLines(readBytes(join(sessionsDir, "s", JOURNAL)));
    expect(lines.bad).toEqual([]);
    expect(seqsAreGapFree(lines.events)).toBe(true);
    expect(lines.events.flatMap((e) => (e.type === "tool_call" ? [e.name] : []))).toEqual(["Read", "Edit"]);
  });

  test("unsubscribe stops delivery to that listener only", async () => {
    const sessionsDir = temps.make("unsubscribe", { fast: true });
    const c = await Collector.open({ sessionId: "s", sessionsDir });
    const a: number[] = [];
    const b: number[] = [];
    const offA = c.subscribe((e) => a.push(e.seq));
    c.subscribe((e) => b.push(e.seq));
    c.recordPhaseTransition("plan");
    offA();
    offA(); // a second call does nothing
    c.recordPhaseTransition("plan");
    expect(a).toEqual([2]);
    expect(b).toEqual([2, 3]);
    await c.stop();
  });

  test("record*() is synchronous: returns undefined, applies and notifies before it returns", async () => {
    const sessionsDir = temps.make("synchronous", { fast: true });
    const c = await Collector.open({ sessionId: "s", sessionsDir });
    const path = join(sessionsDir, "s", JOURNAL);
    await c.sync();
    const size = fs.statSync(path).size;
    let delivered = 0;
    c.subscribe(() => delivered++);
    const results = [
      c.recordToolCall("Read", true, 1),
      c.recordLLMInteraction("plan", { promptTokens: 1, completionTokens: 1 }, 0.1),
      c.recordLLMInteractionWithPrompt("plan", { promptTokens: 1, completionTokens: 1 }, 0.1, "abc", false),
      c.recordPhaseTransition("plan"),
      c.recordPhaseDuration("plan", 5, true),
      c.recordHealTrigger("plan"),
      c.recordHealOutcome("plan", true),
      c.recordHealDuration("plan", 5),
      c.recordHealLoop("plan"),
      c.recordBisectTrigger("plan"),
      c.recordBisectOutcome("plan", false),
      c.recordEditStrategy("exact_match"),
    ];
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(delivered).toBe(results.length);
    const m = c.snapshot();
    expect(m.tools[0]!.callCount).toBe(1);
    expect(m.phases[0]!.bisectFailCount).toBe(1);
    // Nothing was written on the record path: the group write comes later.
    expect(fs.statSync(path).size).toBe(size);
    await c.sync();
    expect(lineCount(path)).toBe(1 + results.length);
    await c.stop();
  });
});
