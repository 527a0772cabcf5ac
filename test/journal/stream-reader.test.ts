/**
 * The streaming reader agrees with the whole-file scan exactly — events, seqs, problems, byte
 * offsets — across chunk boundaries, multi-byte characters, bad lines and a torn tail; and the
 * streamed aggregate equals the synchronous one.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../../src/core/events.ts";
import { aggregateJournal, Collector } from "../../src/index.ts";
import { encodeEventLine } from "../../src/journal/line-codec.ts";
import { scanJournalBytes } from "../../src/journal/reader.ts";
import { streamJournal } from "../../src/journal/stream-reader.ts";
import { MemoryLogger, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

/** ~3 MiB of tool calls with multi-byte names, a bad line inside the second MiB, a torn tail. */
function journalBytes(): Uint8Array {
  const lines: string[] = [];
  let seq = 0;
  lines.push(
    encodeEventLine({ v: 1, seq: ++seq, ts: 1, type: "session_start", sessionId: "s", startedAt: 1 }),
  );
  for (let i = 0; i < 20_000; i++) {
    const event = {
      v: 1,
      seq: ++seq,
      ts: 1 + i,
      type: "tool_call",
      name: `werkzeug-ü-${i % 37}-日本`,
      success: i % 3 !== 0,
      durationMs: i % 101,
      details: { attributes: { pad: "é".repeat(i % 50) } },
    } as MetricEvent;
    let line = encodeEventLine(event);
    if (i === 9_000) line = line.replace('"success":', '"succesz":'); // checksum mismatch
    lines.push(line);
  }
  return new TextEncoder().encode(`${lines.join("")}{"v":1,"seq":${seq + 1},"ts`);
}

test("streamJournal gives exactly the scan of the whole file, visiting the same events", async () => {
  const bytes = journalBytes();
  expect(bytes.length).toBeGreaterThan(3 * 1024 * 1024);
  const path = join(temps.make("stream"), "journal.jsonl");
  writeFileSync(path, bytes);
  const wholeSeqs: number[] = [];
  const whole = scanJournalBytes(bytes, (e) => wholeSeqs.push(e.seq));
  const streamedSeqs: number[] = [];
  const streamed = await streamJournal(path, (e) => streamedSeqs.push(e.seq));
  expect(streamed).toEqual(whole);
  expect(streamedSeqs).toEqual(wholeSeqs);
  expect(whole.events).toBe(20_000);
  expect(whole.problems).toHaveLength(1);
  expect(whole.problems[0]).toMatchObject({
    line: 9_002,
    seqBefore: 9_001,
    seqAfter: 9_003,
    reason: "checksum mismatch",
  });
  expect(whole.tailReason).toBe("torn last line (no newline)");
});

test("a missing journal streams as empty", async () => {
  const scan = await streamJournal(join(temps.make("missing"), "journal.jsonl"), () => {});
  expect(scan).toEqual({ events: 0, validBytes: 0, totalBytes: 0, lastSeq: 0, problems: [] });
});

test("await aggregateJournal equals collector.computeAggregate() for the same journal", async () => {
  const sessionsDir = temps.make("aggregate");
  const c = new Collector({ sessionId: "a", sessionsDir, logger: new MemoryLogger() });
  for (let i = 0; i < 5_000; i++) {
    c.recordToolCall(`t${i % 9}`, i % 4 !== 0, i % 250, {
      agent: `agent-${i % 3}`,
      startedAt: new Date(Date.now() - 5),
    });
    if (i % 10 === 0)
      c.recordLLMInteraction("plan", { promptTokens: 100 + i, completionTokens: 7 }, 0.001, {
        model: "m",
        agent: "agent-0",
      });
  }
  const sync = c.computeAggregate();
  expect(await c.aggregate()).toEqual(sync);
  await c.stop();
  expect(await aggregateJournal(sessionsDir, "a")).toEqual(sync);
  expect(sync.totalInvocations).toBe(5_000 + 500);
});
