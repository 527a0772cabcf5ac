/**
 * A fresh run over an existing session (resume: false) hides nothing: the collector says that it
 * starts a fresh run and where the earlier ones can be read, `sessionRuns` lists every run with its
 * events, seqs and document, and METRICS.json / replayMetrics show the latest run only (as Go).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Collector, load, replayMetrics, sessionRuns } from "../../src/index.ts";
import { MemoryLogger, T0, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const tool = (name: string, calls: number, totalDurationMs: number) => ({
  name,
  callCount: calls,
  successCount: calls,
  failCount: 0,
  totalDurationMs,
  avgDurationMs: totalDurationMs / calls,
});

describe("a fresh run over an existing session", () => {
  test("warns, and sessionRuns lists both runs in order; METRICS.json shows the latest", async () => {
    const sessionsDir = temps.make("fresh");
    const id = "fresh";
    const first = await Collector.open({
      sessionId: id,
      sessionsDir,
      now: () => new Date(T0),
      logger: new MemoryLogger(),
    });
    first.recordToolCall("Read", true, 1);
    first.recordToolCall("Read", true, 2);
    first.recordToolCall("Read", true, 3);
    await first.stop();

    const logger = new MemoryLogger();
    const second = await Collector.open({
      sessionId: id,
      sessionsDir,
      resume: false,
      now: () => new Date(T0 + 60_000),
      logger,
    });
    expect(logger.warnings).toEqual([
      `[session-metrics] [open] session ${id} starts a fresh run (resume: false) after 4 journaled events of earlier runs, which stay readable: sessionRuns("${sessionsDir}", "${id}")`,
    ]);
    expect(second.snapshot().tools).toEqual([]);
    second.recordToolCall("Edit", true, 10);
    second.recordToolCall("Edit", true, 20);
    await second.stop();

    const runs = await sessionRuns(sessionsDir, id, { logger: new MemoryLogger() });
    expect(runs.map(({ metrics: _m, turns: _t, ...rest }) => rest)).toEqual([
      { run: 1, began: "session_start", firstSeq: 1, lastSeq: 4, events: 4 },
      { run: 2, began: "session_start", firstSeq: 5, lastSeq: 7, events: 3 },
    ]);
    expect(runs[0]!.metrics.tools).toEqual([tool("Read", 3, 6)]);
    expect(runs[0]!.metrics.startedAt).toBe(new Date(T0).toISOString());
    expect(runs[1]!.metrics.tools).toEqual([tool("Edit", 2, 30)]);
    expect(runs[1]!.metrics.startedAt).toBe(new Date(T0 + 60_000).toISOString());

    const doc = await load(sessionsDir, id);
    expect(doc!.tools).toEqual([tool("Edit", 2, 30)]);
    expect(doc!.startedAt).toBe(new Date(T0 + 60_000).toISOString());
    expect(await replayMetrics(sessionsDir, id)).toEqual(doc);
    expect(runs[1]!.metrics).toEqual(doc!);

    // A resume after that continues the latest run, and sessionRuns still shows both.
    const third = await Collector.open({
      sessionId: id,
      sessionsDir,
      resume: true,
      logger: new MemoryLogger(),
    });
    expect(third.snapshot().tools).toEqual([tool("Edit", 2, 30)]);
    third.recordToolCall("Edit", true, 30);
    await third.stop();
    const after = await sessionRuns(sessionsDir, id);
    expect(after.map((r) => [r.run, r.firstSeq, r.lastSeq, r.events])).toEqual([
      [1, 1, 4, 4],
      [2, 5, 8, 4],
    ]);
    expect(after[1]!.metrics.tools).toEqual([tool("Edit", 3, 60)]);
  });

  test("a fresh run over a session with no journal events says nothing", async () => {
    const sessionsDir = temps.make("fresh-empty");
    const logger = new MemoryLogger();
    const c = await Collector.open({ sessionId: "empty", sessionsDir, logger });
    await c.stop();
    expect(logger.warnings).toEqual([]);
    expect((await sessionRuns(sessionsDir, "empty")).map((r) => [r.run, r.events])).toEqual([[1, 1]]);
  });
});
