/** Contract, getting events in: ingest of session folders, and the store sink (batching, outages). */
import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StorageError } from "../../src/errors.ts";
import { scanJournal } from "../../src/journal/reader.ts";
import { Collector } from "../../src/session/collector.ts";
import { type IngestProgress, ingest } from "../../src/store/ingest.ts";
import { getSession, report } from "../../src/store/report.ts";
import { createStoreSink } from "../../src/store/sink.ts";
import type { StoreHarness } from "./contract.ts";
import { GO_SESSION, goSessionsDir } from "./dataset.ts";
import { captureLogger, spyStore, type TempDirs, waitFor } from "./helpers.ts";

/** Records `n` tool calls (durations 1…n) into a collector. */
function recordCalls(c: Collector, n: number, from = 1): void {
  for (let i = from; i < from + n; i++) c.recordToolCall(i % 2 === 0 ? "Read" : "Bash", i % 7 !== 0, i);
}

export function testIngestAndSink(harness: StoreHarness, dirs: TempDirs): void {
  describe("ingest", () => {
    test("imports journals and METRICS.json folders idempotently, reporting progress", async () => {
      const { store, cleanup } = await harness.open();
      try {
        const root = goSessionsDir(dirs.make("ingest"));
        const c = new Collector({ sessionId: "j1", sessionsDir: root });
        recordCalls(c, 20);
        await c.stop();
        const torn = new Collector({ sessionId: "j2", sessionsDir: root });
        recordCalls(torn, 5);
        await torn.stop();
        appendFileSync(join(root, "j2", "journal.jsonl"), '{"v":1,"seq":7,"ts":1,"ty'); // torn tail
        mkdirSync(join(root, "empty"));
        mkdirSync(join(root, "not a session"));
        mkdirSync(join(root, "broken"));
        writeFileSync(join(root, "broken", "METRICS.json"), "{ nope");
        const progress: IngestProgress[] = [];
        const logger = captureLogger();
        const first = await ingest(store, root, {
          onProgress: (p) => progress.push(p),
          logger,
          batchSize: 7,
        });
        expect(first).toEqual({ sessions: 3, events: 21 + 6 + 1, skipped: 3, inserted: 28 });
        expect(progress).toHaveLength(6);
        expect(progress.at(-1)).toEqual({ sessions: 3, events: 28, skipped: 3 });
        expect(logger.messages.join("\n")).toMatch(/line 7 of .*j2.*journal\.jsonl is bad/);
        expect(logger.messages.join("\n")).toMatch(/skipped .*broken: .*malformed JSON/);
        // Each line names the library once: quoted errors lose their own prefix.
        for (const m of logger.messages) expect(m.lastIndexOf("[session-metrics]")).toBe(0);
        const before = await report(store, { groupBy: ["tool"] });
        const again = await ingest(store, root, { logger: captureLogger() });
        expect(again).toEqual({ sessions: 3, events: 28, skipped: 3, inserted: 0 });
        expect(await report(store, { groupBy: ["tool"] })).toEqual(before);
        expect(before.map((r) => [r.tool, r.calls])).toEqual([
          ["Bash", 13],
          ["Read", 15],
          [null, 4],
        ]);
        expect(await getSession(store, "j1")).toEqual(c.snapshot());
        expect((await getSession(store, GO_SESSION))?.tools[0]?.callCount).toBe(3);
      } finally {
        await cleanup();
      }
    });
  });

  describe("store sink", () => {
    test("writes in batches by size and by time, without ever blocking record*()", async () => {
      const { store, cleanup } = await harness.open();
      try {
        const spy = spyStore(store);
        spy.hold(); // the database "hangs": recording must not notice
        const sink = createStoreSink(spy.store, { batchSize: 10, flushIntervalMs: 60_000 });
        const c = new Collector({
          sessionId: "b1",
          sessionsDir: dirs.make("batch"),
          journal: false,
          sinks: [sink],
        });
        const started = performance.now();
        recordCalls(c, 24);
        expect(performance.now() - started).toBeLessThan(200);
        await waitFor(() => spy.writes.length === 1, 5_000, "the first batch");
        spy.release();
        await waitFor(() => sink.stats().written >= 20, 5_000, "two full batches");
        expect(sink.stats()).toMatchObject({ written: 20, buffered: 5, failures: 0 });
        await c.flush(); // the rest goes now, not after the interval
        expect(sink.stats()).toMatchObject({ written: 25, buffered: 0 });
        expect(spy.writes.map((w) => w.events?.events)).toEqual([10, 10, 5]);
        const timed = createStoreSink(store, { batchSize: 1000, flushIntervalMs: 20 });
        timed.write("b2", { v: 1, seq: 1, ts: 5, type: "session_start", sessionId: "b2", startedAt: 5 });
        await waitFor(() => timed.stats().written === 1, 5_000, "the timed batch");
        await c.stop();
        await timed.close();
        expect((await report(store))[0]?.calls).toBe(24);
      } finally {
        await cleanup();
      }
    });

    test("rides out an outage: keeps recording, drops past the bound, catches up without duplicates", async () => {
      const opened = await harness.open({ outage: true });
      const { store } = opened;
      try {
        const logger = captureLogger();
        const sink = createStoreSink(store, {
          maxBufferedEvents: 30,
          retryInitialMs: 20,
          retryMaxMs: 100,
          logger,
        });
        const sessionsDir = dirs.make("outage");
        const c = new Collector({ sessionId: "o1", sessionsDir, sinks: [sink] });
        recordCalls(c, 10);
        await c.flush();
        expect(sink.stats()).toMatchObject({ written: 11, connected: true });
        await opened.down();
        recordCalls(c, 20, 11);
        const failed = await c.flush().catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(StorageError);
        expect((failed as Error).message).toMatch(/flush: 20 events are not written yet \(kept/);
        recordCalls(c, 15, 31); // 35 queued > 30: the last 5 are dropped
        expect(sink.stats()).toMatchObject({ buffered: 30, dropped: 5, connected: false });
        expect(logger.messages.join("\n")).toMatch(/cannot write to the \w+ store .*recording goes on/);
        expect(logger.messages.join("\n")).toMatch(/buffer is full .*from seq 42 of session o1 on/);
        await opened.up();
        await waitFor(() => sink.stats().buffered === 0, 15_000, "the catch-up");
        expect(logger.messages.join("\n")).toMatch(/reachable again/);
        expect(logger.messages.join("\n")).toMatch(
          /dropped 5 events past the buffer bound: o1 seq 42–46 \(5\)/,
        );
        expect(sink.stats()).toMatchObject({ written: 41, dropped: 5, connected: true });
        await c.stop();
        expect((await report(store))[0]?.calls).toBe(40); // 45 calls recorded, 5 dropped, none twice
        expect(await getSession(store, "o1")).toEqual(c.snapshot()); // the document saw every event
        await ingest(store, sessionsDir, { logger: captureLogger() }); // the journal fills the gap
        expect((await report(store))[0]?.calls).toBe(45);
        const resent = createStoreSink(store); // a restart re-sending everything duplicates nothing
        scanJournal(join(sessionsDir, "o1", "journal.jsonl"), (event) => resent.write("o1", event));
        await resent.close();
        expect((await report(store))[0]?.calls).toBe(45);
      } finally {
        await opened.up().catch(() => {});
        await opened.cleanup();
      }
    });

    test("a collector resumed from its journal streams on; the stored document stays exact", async () => {
      const { store, cleanup } = await harness.open();
      try {
        const sessionsDir = dirs.make("resume");
        const first = new Collector({ sessionId: "r1", sessionsDir, sinks: [createStoreSink(store)] });
        recordCalls(first, 5);
        await first.stop();
        const resumed = await Collector.open({
          sessionId: "r1",
          sessionsDir,
          resume: true,
          sinks: [createStoreSink(store)],
        });
        recordCalls(resumed, 4, 6);
        resumed.recordLLMInteraction("p", { promptTokens: 7, completionTokens: 3 }, 0.5);
        await resumed.stop();
        expect(await getSession(store, "r1")).toEqual(resumed.snapshot());
        expect((await report(store))[0]).toMatchObject({ calls: 10, promptTokens: 7, cost: 0.5 });
      } finally {
        await cleanup();
      }
    });

    test("close() writes what is queued, then later events are counted as dropped", async () => {
      const { store, cleanup } = await harness.open();
      try {
        const logger = captureLogger();
        const sink = createStoreSink(store, { flushIntervalMs: 60_000, logger });
        sink.write("c1", { v: 1, seq: 1, ts: 1, type: "session_start", sessionId: "c1", startedAt: 1 });
        await Promise.all([sink.close(), sink.close()]);
        expect(sink.stats()).toMatchObject({ written: 1, buffered: 0 });
        sink.write("c1", { v: 1, seq: 2, ts: 2, type: "phase_transition", phase: "x" });
        expect(sink.stats().dropped).toBe(1);
        expect(logger.messages).toEqual([
          expect.stringMatching(/the sink is closed: dropping events from seq 2 of session c1/),
        ]);
        expect(sink.stats().invalid).toBe(0);
        sink.write("c1", { v: 1, seq: 3, ts: 3, type: "phase_transition", phase: "" } as never);
        expect(await store.listSessionRows({ limit: 5 })).toMatchObject([{ sessionId: "c1", lastSeq: 1 }]);
      } finally {
        await cleanup();
      }
    });
  });
}
