/**
 * The journal's pending buffer is bounded: in a tight synchronous loop that never yields to the
 * event loop (so no group timer can run), the file still grows, because past `maxPendingBytes`
 * record*() writes synchronously; afterwards sync() gives every event exactly once.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../../src/core/events.ts";
import { JournalWriter } from "../../src/journal/writer.ts";
import { Collector } from "../../src/session/collector.ts";
import { checkLines, JOURNAL, MemoryLogger, readBytes, seqsAreGapFree, TempDirs } from "./helpers.ts";

setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const MAX_PENDING = 64 * 1024;
const RECORDS = 100_000;
const CHECK_EVERY = 5_000;

describe("the bounded pending buffer", () => {
  for (const mix of ["mixed", "small events only"] as const)
    test(`${RECORDS} records (${mix}) in a loop that never yields: the file grows during the loop, nothing is lost`, async () => {
      const sessionsDir = temps.make(`pending-bound-${mix.replace(/ /g, "-")}`, { fast: true });
      const path = join(sessionsDir, "b", JOURNAL);
      const logger = new MemoryLogger();
      const c = await Collector.open({ sessionId: "b", sessionsDir, maxPendingBytes: MAX_PENDING, logger });
      await c.sync();
      const start = statSync(path).size;

      /** File size after record i (0-based) for every CHECK_EVERY-th record. */
      const sizes: { seq: number; size: number }[] = [];
      for (let i = 0; i < RECORDS; i++) {
        // Mostly small events (queued unencoded), every 10th with details (encoded at once).
        if (mix === "mixed" && i % 10 === 0)
          c.recordToolCall(`tool-${i % 7}`, true, i, { attributes: { i, note: "é" } });
        else c.recordToolCall(`tool-${i % 7}`, i % 3 !== 0, i);
        if (i % CHECK_EVERY === CHECK_EVERY - 1) sizes.push({ seq: i + 2, size: statSync(path).size });
      }
      const sizeAtEndOfLoop = statSync(path).size;
      expect(sizeAtEndOfLoop).toBeGreaterThan(start);

      await c.sync();
      const bytes = readBytes(path);
      const lines = checkLines(bytes);
      expect(lines.bad).toEqual([]);
      expect(lines.tail.length).toBe(0);
      expect(lines.events).toHaveLength(1 + RECORDS);
      expect(seqsAreGapFree(lines.events)).toBe(true);
      // During the loop the file held everything up to about the bound: at most MAX_PENDING bytes
      // (plus one event) behind what had been recorded, never ahead of it.
      let previous = start;
      for (const { seq, size } of sizes) {
        const recordedBytes = lines.ends[seq - 1]!;
        expect(size).toBeGreaterThanOrEqual(previous);
        expect(size).toBeLessThanOrEqual(recordedBytes);
        expect(recordedBytes - size).toBeLessThanOrEqual(MAX_PENDING + 200);
        previous = size;
      }
      expect(logger.errors).toEqual([]);
      expect(c.snapshot().tools.reduce((n, t) => n + t.callCount, 0)).toBe(RECORDS);
      await c.stop();
    });

  test("the writer's queue never passes the bound after an append", async () => {
    const dir = temps.make("pending-writer", { fast: true });
    const logger = new MemoryLogger();
    const writer = new JournalWriter(join(dir, JOURNAL), 0, { maxPendingBytes: 4096, logger });
    let most = 0;
    for (let seq = 1; seq <= 5_000; seq++) {
      const event: MetricEvent =
        seq % 3 === 0
          ? {
              v: 1,
              seq,
              ts: seq,
              type: "tool_call",
              name: "t",
              success: true,
              durationMs: 1,
              details: { agent: "a" },
            }
          : { v: 1, seq, ts: seq, type: "tool_call", name: "t", success: true, durationMs: seq };
      writer.append(event);
      most = Math.max(most, writer.pendingBytes);
    }
    expect(most).toBeLessThan(4096);
    await writer.close();
    const lines = checkLines(readBytes(join(dir, JOURNAL)));
    expect(lines.events).toHaveLength(5_000);
    expect(seqsAreGapFree(lines.events)).toBe(true);
    expect(logger.errors).toEqual([]);
  });
});
