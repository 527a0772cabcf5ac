/**
 * Many async tasks recording into one collector while flushes run: exact counts, a file equal to
 * the newest snapshot, coalesced writes, and nothing left behind. Writes are counted from outside
 * the library by watching the session folder for the temp files each atomic write creates.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type FSWatcher, mkdirSync, readFileSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { Collector, load, type SessionMetrics } from "../../src/index.ts";
import { TEMP_FILE, TempDirs, tempFilesIn } from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

/** Counts atomic writes into one session folder: each write creates one uniquely named temp file. */
class WriteWatcher {
  readonly #dir: string;
  readonly #watcher: FSWatcher;
  readonly #temps = new Set<string>();
  readonly #seen = new Set<string>();
  #markers = 0;

  constructor(dir: string) {
    this.#dir = dir;
    this.#watcher = watch(dir, (_event, name) => {
      if (typeof name !== "string") return;
      this.#seen.add(name);
      if (TEMP_FILE.test(name)) this.#temps.add(name);
    });
  }

  /** The number of writes so far, once every filesystem event before this call has arrived. */
  async writes(): Promise<number> {
    const marker = `marker-${++this.#markers}`;
    writeFileSync(join(this.#dir, marker), "");
    for (let polls = 0; !this.#seen.has(marker); polls++) {
      if (polls > 10_000) throw new Error(`fs.watch never reported ${marker} in ${this.#dir}`);
      await Bun.sleep(1);
    }
    return this.#temps.size;
  }

  close(): void {
    this.#watcher.close();
  }
}

function sessionDir(prefix: string, sessionId: string): string {
  const sessionsDir = temps.make(prefix);
  mkdirSync(join(sessionsDir, sessionId));
  return sessionsDir;
}

const TASKS = 1000;
const PER_TASK = 1000;
const TOOLS = 20;
const PHASES = 8;
const COST = 0.25; // exact in binary, so any summation order gives the same total

type Kind =
  | { kind: "tool"; name: string; success: boolean; ms: number }
  | { kind: "llm"; phase: string; prompt: number; completion: number }
  | { kind: "transition"; phase: string };

function recordFor(task: number, i: number): Kind {
  switch (i % 3) {
    case 0:
      return { kind: "tool", name: `tool-${(task + i) % TOOLS}`, success: i % 7 !== 0, ms: i % 13 };
    case 1:
      return {
        kind: "llm",
        phase: `phase-${task % PHASES}`,
        prompt: 100 + (i % 5),
        completion: 20 + (i % 3),
      };
    default:
      return { kind: "transition", phase: `phase-${i % PHASES}` };
  }
}

function totalRecords(m: SessionMetrics): number {
  return (
    m.tools.reduce((n, x) => n + x.callCount, 0) +
    m.llms.reduce((n, x) => n + x.interactionCount, 0) +
    m.phases.reduce((n, x) => n + x.transitionCount, 0)
  );
}

describe("1,000 async tasks × 1,000 records with 100 interleaved flushes", () => {
  test("exact counts, coalesced writes, and a file equal to the final snapshot", async () => {
    const sessionId = "concurrency-stress";
    const sessionsDir = sessionDir("stress", sessionId);
    const watcher = new WriteWatcher(join(sessionsDir, sessionId));
    const collector = new Collector({ sessionId, sessionsDir });
    const flushes: Promise<void>[] = [];
    let recorded = 0;
    let checkedOnDisk = 0;

    const task = async (t: number): Promise<void> => {
      // Tasks t % 10 === 0 flush once, at a point that differs per task; half of them wait for it.
      const flushAt = t % 10 === 0 ? (t * 7) % PER_TASK : -1;
      for (let i = 0; i < PER_TASK; i++) {
        const r = recordFor(t, i);
        if (r.kind === "tool") collector.recordToolCall(r.name, r.success, r.ms);
        else if (r.kind === "llm")
          collector.recordLLMInteraction(
            r.phase,
            { promptTokens: r.prompt, completionTokens: r.completion },
            COST,
          );
        else collector.recordPhaseTransition(r.phase);
        recorded++;
        if (i === flushAt) {
          const before = recorded;
          const flushed = collector.flush();
          flushes.push(flushed);
          if (t % 20 === 0) {
            // The file a resolved flush leaves holds every record made before the call, and no more
            // than exist: a whole snapshot, never a torn or stale one.
            await flushed;
            const onDisk = await load(sessionsDir, sessionId);
            const after = recorded;
            const n = totalRecords(onDisk!);
            expect(n).toBeGreaterThanOrEqual(before);
            expect(n).toBeLessThanOrEqual(after);
            checkedOnDisk++;
          }
        }
        if ((i + t) % 250 === 0) await Bun.sleep(0);
        else if (i % 50 === 49) await Promise.resolve();
      }
    };
    await Promise.all(Array.from({ length: TASKS }, (_, t) => task(t)));
    expect(flushes).toHaveLength(100);
    expect(checkedOnDisk).toBe(50);

    // Expected totals, computed independently of the collector.
    const tools = new Map<string, { calls: number; ok: number; fail: number; ms: number }>();
    const llms = new Map<string, { prompt: number; completion: number; count: number }>();
    const transitions = new Map<string, number>();
    for (let t = 0; t < TASKS; t++)
      for (let i = 0; i < PER_TASK; i++) {
        const r = recordFor(t, i);
        if (r.kind === "tool") {
          const e = tools.get(r.name) ?? { calls: 0, ok: 0, fail: 0, ms: 0 };
          e.calls++;
          if (r.success) e.ok++;
          else e.fail++;
          e.ms += r.ms;
          tools.set(r.name, e);
        } else if (r.kind === "llm") {
          const e = llms.get(r.phase) ?? { prompt: 0, completion: 0, count: 0 };
          e.prompt += r.prompt;
          e.completion += r.completion;
          e.count++;
          llms.set(r.phase, e);
        } else transitions.set(r.phase, (transitions.get(r.phase) ?? 0) + 1);
      }

    const snap = collector.snapshot();
    expect(snap.droppedRecords).toBeUndefined();
    expect(snap.tools.map((x) => x.name).sort()).toEqual([...tools.keys()].sort());
    for (const tool of snap.tools) {
      const e = tools.get(tool.name)!;
      expect(tool).toEqual({
        name: tool.name,
        callCount: e.calls,
        successCount: e.ok,
        failCount: e.fail,
        totalDurationMs: e.ms,
        avgDurationMs: e.ms / e.calls,
      });
    }
    expect(snap.llms.map((x) => x.phase).sort()).toEqual([...llms.keys()].sort());
    for (const llm of snap.llms) {
      const e = llms.get(llm.phase)!;
      expect(llm).toEqual({
        phase: llm.phase,
        promptTokens: e.prompt,
        completionTokens: e.completion,
        totalTokens: e.prompt + e.completion,
        cost: e.count * COST,
        interactionCount: e.count,
      });
    }
    expect(snap.phases.map((x) => x.phase).sort()).toEqual([...transitions.keys()].sort());
    for (const phase of snap.phases) expect(phase.transitionCount).toBe(transitions.get(phase.phase)!);
    expect(totalRecords(snap)).toBe(TASKS * PER_TASK);

    // One more flush after the last record; once all settle, the file is the newest snapshot.
    flushes.push(collector.flush());
    await Promise.all(flushes);
    const path = join(sessionsDir, sessionId, "METRICS.json");
    expect(readFileSync(path, "utf8")).toBe(encodeMetrics(collector.snapshot()));
    expect(await load(sessionsDir, sessionId)).toEqual(collector.snapshot());
    expect(tempFilesIn(join(sessionsDir, sessionId))).toEqual([]);

    // Every write is one temp file; coalescing means never more writes than flush() calls.
    const writes = await watcher.writes();
    watcher.close();
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(flushes.length);
    console.log(`[concurrency] ${flushes.length} flush() calls → ${writes} writes`);
    await collector.stop();
  });
});

describe("coalescing", () => {
  test("flushes requested during a write share one later write that holds the newest records", async () => {
    const sessionId = "coalesce";
    const sessionsDir = sessionDir("coalesce", sessionId);
    const watcher = new WriteWatcher(join(sessionsDir, sessionId));
    const collector = new Collector({ sessionId, sessionsDir });
    const path = join(sessionsDir, sessionId, "METRICS.json");

    collector.recordToolCall("first", true, 1);
    const inProgress = collector.flush(); // starts writing now, with "first" only
    collector.recordToolCall("after-start", true, 2);
    const queued: Promise<void>[] = [];
    for (let k = 0; k < 9; k++) {
      collector.recordToolCall("queued", k % 2 === 0, k);
      queued.push(collector.flush());
    }
    // Awaiting only one of the later flushes is enough to see every record made before it.
    await queued[0];
    const newest = encodeMetrics(collector.snapshot());
    expect(readFileSync(path, "utf8")).toBe(newest);
    await Promise.all([inProgress, ...queued]);
    expect(await watcher.writes()).toBe(2); // the one in progress + one shared by the nine others
    expect(readFileSync(path, "utf8")).toBe(newest);
    expect(collector.snapshot().tools.map((t) => [t.name, t.callCount])).toEqual([
      ["first", 1],
      ["after-start", 1],
      ["queued", 9],
    ]);

    // An idle collector writes again on the next flush (nothing stale is reused).
    collector.recordToolCall("later", false, 3);
    await collector.flush();
    expect(await watcher.writes()).toBe(3);
    expect(readFileSync(path, "utf8")).toBe(encodeMetrics(collector.snapshot()));
    expect(tempFilesIn(join(sessionsDir, sessionId))).toEqual([]);
    watcher.close();
    await collector.stop();
  });

  test("records made while a flush runs are never lost to it", async () => {
    const sessionId = "coalesce-during";
    const sessionsDir = sessionDir("during", sessionId);
    const collector = new Collector({ sessionId, sessionsDir });
    const path = join(sessionsDir, sessionId, "METRICS.json");
    for (let round = 0; round < 50; round++) {
      collector.recordToolCall(`t${round % 5}`, true, round);
      const a = collector.flush();
      collector.recordPhaseTransition(`p${round % 3}`);
      const b = collector.flush();
      collector.recordEditStrategy("exact_match");
      const c = collector.flush();
      await c;
      expect(readFileSync(path, "utf8")).toBe(encodeMetrics(collector.snapshot()));
      await Promise.all([a, b]);
    }
    const snap = collector.snapshot();
    expect(snap.editStrategies).toEqual([{ strategy: "exact_match", count: 50 }]);
    expect(snap.tools.reduce((n, t) => n + t.callCount, 0)).toBe(50);
    await collector.stop();
  });
});
