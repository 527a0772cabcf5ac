/**
 * Four real Bun Workers × 100,000 records each into one owning collector through message ports:
 * exact totals, each worker's records applied in that worker's order, and a file equal to the
 * snapshot afterwards.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { Collector } from "../../src/index.ts";
import { fixture, TempDirs } from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const WORKERS = 4;
const RECORDS = 100_000;

/** Starts a worker on the fixture and resolves when it reports "done" (rejects on anything else). */
function runWorker(collector: Collector, w: number): { done: Promise<void>; worker: Worker } {
  const worker = new Worker(fixture("worker-recorder.ts"));
  const done = new Promise<void>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent) => {
      if (event.data === "done") resolve();
      else reject(new Error(`worker ${w} failed: ${JSON.stringify(event.data)}`));
    };
    worker.onerror = (event) => reject(new Error(`worker ${w} crashed: ${event.message}`));
  });
  const port = collector.workerPort();
  worker.postMessage({ port, worker: w, records: RECORDS }, [port]);
  return { done, worker };
}

describe("Bun Workers recording through collector.workerPort()", () => {
  test("4 workers × 100,000 records: exact totals, per-worker order kept", async () => {
    const sessionId = "workers";
    const sessionsDir = temps.make("workers");
    const collector = new Collector({ sessionId, sessionsDir });

    // Every phase_duration a worker sends carries its loop index: applied in order, they only grow.
    const lastIndex = new Map<string, number>();
    let outOfOrder = 0;
    let applied = 0;
    collector.subscribe((event) => {
      applied++;
      if (event.type !== "phase_duration") return;
      if (event.durationMs <= (lastIndex.get(event.phase) ?? -1)) outOfOrder++;
      lastIndex.set(event.phase, event.durationMs);
    });

    const running = Array.from({ length: WORKERS }, (_, w) => runWorker(collector, w));
    try {
      await Promise.all(running.map((r) => r.done));
    } finally {
      for (const r of running) r.worker.terminate();
    }

    expect(applied).toBe(WORKERS * RECORDS);
    expect(outOfOrder).toBe(0);
    const snap = collector.snapshot();
    expect(snap.droppedRecords).toBeUndefined();

    // "shared": i % 4 === 0 in every worker; success when i % 8 === 0; 1 ms each.
    const quarter = RECORDS / 4;
    expect(snap.tools.find((t) => t.name === "shared")).toEqual({
      name: "shared",
      callCount: WORKERS * quarter,
      successCount: (WORKERS * quarter) / 2,
      failCount: (WORKERS * quarter) / 2,
      totalDurationMs: WORKERS * quarter,
      avgDurationMs: 1,
    });
    expect(snap.tools).toHaveLength(1 + WORKERS * 5);

    for (let w = 0; w < WORKERS; w++) {
      // Own tools: i % 4 === 1 → `w<w>-t<i % 10>`; first seen in the order i = 1, 5, 9, 13, 17.
      const own = snap.tools.filter((t) => t.name.startsWith(`w${w}-`));
      expect(own.map((t) => t.name)).toEqual([1, 5, 9, 3, 7].map((k) => `w${w}-t${k}`));
      const expectedCalls = new Map<string, number>();
      for (let i = 1; i < RECORDS; i += 4) {
        const name = `w${w}-t${i % 10}`;
        expectedCalls.set(name, (expectedCalls.get(name) ?? 0) + 1);
      }
      for (const tool of own) {
        const calls = expectedCalls.get(tool.name)!;
        expect(tool).toEqual({
          name: tool.name,
          callCount: calls,
          successCount: calls,
          failCount: 0,
          totalDurationMs: calls * (w + 1),
          avgDurationMs: w + 1,
        });
      }

      expect(snap.llms.find((l) => l.phase === `llm-w${w}`)).toEqual({
        phase: `llm-w${w}`,
        promptTokens: 3 * quarter,
        completionTokens: (w + 1) * quarter,
        totalTokens: (3 + w + 1) * quarter,
        cost: 0.5 * quarter,
        interactionCount: quarter,
      });

      // Last write wins: the worker's last phase_duration (i = 99,999, and 99,999 % 3 === 0).
      // The one before it (i = 99,995) had success false, so a reordered tail shows here.
      const phase = snap.phases.find((p) => p.phase === `phase-w${w}`)!;
      expect(phase.durationMs).toBe(RECORDS - 1);
      expect(phase.success).toBe(true);
      expect(lastIndex.get(`phase-w${w}`)).toBe(RECORDS - 1);
    }

    await collector.stop();
    const written = readFileSync(join(sessionsDir, sessionId, "METRICS.json"), "utf8");
    expect(written).toBe(encodeMetrics(collector.snapshot()));
  });
});
