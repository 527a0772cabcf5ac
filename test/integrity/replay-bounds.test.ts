/**
 * Replay applies exactly the recorder's bounds. Each journal here is checksum-valid line by line
 * (the codec frames whatever it is given), so only the bounds can refuse the bad line: it is a
 * problem for verifyJournal (with a reason that names what is wrong), it is left out of
 * replayMetrics, and a collector that resumes the session writes a METRICS.json that loads and
 * can be resumed again.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Collector, load, replayMetrics, type SessionMetrics, verifyJournal } from "../../src/index.ts";
import {
  line,
  llm,
  MAX_SAFE,
  MemoryLogger,
  type RawEvent,
  sessionStart,
  T0,
  TempDirs,
  toolCall,
  writeJournal,
} from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const BAD_TS = "bad ts: ts must be whole epoch milliseconds from year 0 to 9999";
const YEAR_0 = Date.parse("0000-01-01T00:00:00.000Z");

interface Case {
  title: string;
  /** Events at seq 2, 3 (the bad one) and 4; seq 1 is session_start. */
  events: [RawEvent, RawEvent, RawEvent];
  reason: string;
  /** What the three other events fold to. */
  check: (m: SessionMetrics) => void;
}

const readTwice = (m: SessionMetrics) =>
  expect(m.tools.map((t) => [t.name, t.callCount, t.totalDurationMs])).toEqual([["Read", 2, 3]]);

const CASES: Case[] = [
  {
    title: "a ts past year 9999 (253402300800000)",
    events: [toolCall(2, "Read", 1), toolCall(3, "Read", 5, 253_402_300_800_000), toolCall(4, "Read", 2)],
    reason: BAD_TS,
    check: readTwice,
  },
  {
    title: "a ts outside the Date range (8.64e15 + 1)",
    events: [toolCall(2, "Read", 1), toolCall(3, "Read", 5, 8.64e15 + 1), toolCall(4, "Read", 2)],
    reason: BAD_TS,
    check: readTwice,
  },
  {
    title: "a ts before year 0",
    events: [toolCall(2, "Read", 1), toolCall(3, "Read", 5, YEAR_0 - 1), toolCall(4, "Read", 2)],
    reason: BAD_TS,
    check: readTwice,
  },
  {
    title: "a fractional ts",
    events: [toolCall(2, "Read", 1), toolCall(3, "Read", 5, T0 + 0.5), toolCall(4, "Read", 2)],
    reason: BAD_TS,
    check: readTwice,
  },
  {
    title: "a tool call whose duration takes the tool's total past 2^53−1",
    events: [toolCall(2, "Big", 2 ** 52), toolCall(3, "Big", 2 ** 52), toolCall(4, "Big", 1)],
    reason: 'tool "Big" totals would pass 2^53−1',
    check: (m) =>
      expect(m.tools).toEqual([
        {
          name: "Big",
          callCount: 2,
          successCount: 2,
          failCount: 0,
          totalDurationMs: 2 ** 52 + 1,
          avgDurationMs: (2 ** 52 + 1) / 2,
        },
      ]),
  },
  {
    title: "an LLM call whose cost takes the phase's cost to Infinity",
    events: [llm(2, "plan", 1.7e308), llm(3, "plan", 1.7e308), llm(4, "plan", 1)],
    reason: 'cost of phase "plan" would pass its limit',
    check: (m) => {
      expect(m.llms).toHaveLength(1);
      expect(m.llms[0]).toMatchObject({ phase: "plan", interactionCount: 2, promptTokens: 20 });
      expect(m.llms[0]!.cost).toBe(1.7e308 + 1);
    },
  },
  {
    title: "a negative cost",
    events: [llm(2, "plan", 0.25), llm(3, "plan", -1), llm(4, "plan", 0.5)],
    reason: "bad llm: cost must be a finite number ≥ 0, got -1",
    check: (m) =>
      expect(m.llms.map((l) => [l.phase, l.interactionCount, l.cost])).toEqual([["plan", 2, 0.75]]),
  },
  {
    title: "a 5,000-byte tool name",
    events: [toolCall(2, "Read", 1), toolCall(3, "x".repeat(5_000), 5), toolCall(4, "Read", 2)],
    reason: "bad tool_call: name is 5000 bytes of UTF-8; the limit is 256",
    check: readTwice,
  },
  {
    title: "a tool name that is a lone surrogate",
    events: [toolCall(2, "Read", 1), toolCall(3, "\ud800", 5), toolCall(4, "Read", 2)],
    reason: "bad tool_call: name contains a lone UTF-16 surrogate",
    check: readTwice,
  },
  {
    title: "a NUL in a tool name",
    events: [toolCall(2, "Read", 1), toolCall(3, "a\0b", 5), toolCall(4, "Read", 2)],
    reason: "bad tool_call: name contains a NUL character",
    check: readTwice,
  },
  {
    title: "a lost marker whose seq + count − 1 is far past 2^53−1",
    events: [
      toolCall(2, "Read", 1),
      { seq: 3, ts: T0, type: "lost", count: MAX_SAFE },
      toolCall(4, "Read", 2),
    ],
    reason: "bad lost: count must be a whole number ≥ 1 that keeps seq within 2^53−1",
    check: readTwice,
  },
  {
    // seq 3 + count (2^53 − 2) − 1 = 2^53: one past the limit (3 + count rounds to 2^53 in
    // floating point, so a check written as seq + count − 1 ≤ 2^53−1 lets it through).
    title: "a lost marker whose seq + count − 1 is 2^53, one past the limit",
    events: [
      toolCall(2, "Read", 1),
      { seq: 3, ts: T0, type: "lost", count: MAX_SAFE - 1 },
      toolCall(4, "Read", 2),
    ],
    reason: "bad lost: count must be a whole number ≥ 1 that keeps seq within 2^53−1",
    check: readTwice,
  },
];

describe("replay holds every journal line to the recorder's bounds", () => {
  for (const [i, c] of CASES.entries()) {
    test(`${c.title}: a verifyJournal problem, left out of replay, and the session resumes`, async () => {
      const sessionsDir = temps.make(`bounds-${i}`);
      const id = `bounds-${i}`;
      const events = [sessionStart(id), ...c.events];
      const path = writeJournal(sessionsDir, id, events);
      const offset = Buffer.byteLength(line(events[0]!)) + Buffer.byteLength(line(events[1]!));

      const replayLogger = new MemoryLogger();
      const replayed = await replayMetrics(sessionsDir, id, { logger: replayLogger });
      c.check(replayed!);
      expect(replayed!.updatedAt).toBe(new Date(T0).toISOString());
      expect(replayLogger.warnings).toHaveLength(1);
      expect(replayLogger.warnings[0]).toContain(
        `line 3 (byte ${offset}): ${c.reason}, between seq 2 and seq 4`,
      );

      expect(await verifyJournal(sessionsDir, id)).toEqual({
        events: 3,
        lastSeq: 4,
        problems: [{ line: 3, offset, seqBefore: 2, seqAfter: 4, reason: c.reason }],
      });

      // A collector resumes it: the bad line is set aside, and the document it writes loads.
      const logger = new MemoryLogger();
      const first = await Collector.open({ sessionId: id, sessionsDir, resume: true, logger });
      c.check(first.snapshot());
      await first.stop();
      expect(logger.warnings.join("\n")).toContain(c.reason);
      const loaded = await load(sessionsDir, id);
      expect(loaded).not.toBeNull();
      c.check(loaded!);
      expect(await verifyJournal(sessionsDir, id)).toMatchObject({ problems: [] });

      // ...and can be resumed again, to the same document, with nothing more to report.
      const again = new MemoryLogger();
      const second = await Collector.open({ sessionId: id, sessionsDir, resume: true, logger: again });
      expect(second.snapshot()).toEqual(loaded!);
      await second.stop();
      expect(again.warnings).toEqual([]);
      // The repaired journal holds a lost marker where the bad line was.
      const repaired = readFileSync(path, "utf8").split("\n");
      expect(repaired[2]).toStartWith('{"v":1,"seq":3,"ts":' + T0 + ',"type":"lost","count":1,"crc":"');
    });
  }
});
