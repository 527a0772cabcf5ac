/**
 * One bad line hides nothing else. A bit flipped on line 20 of a 64-line journal costs exactly
 * that line: every reader reports the 63 other events (a prefix-only reader would stop at 18 tool
 * calls), verifyJournal says where the line is and which seqs it sits between, and a collector
 * that opens the session sets only that line's bytes aside and leaves a journal that verifies
 * clean, with a `lost` marker in its place. A torn last line is still simply cut off.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  aggregateJournal,
  Collector,
  load,
  loadTurns,
  replayMetrics,
  type ToolMetrics,
  verifyJournal,
} from "../../src/index.ts";
import {
  CORRUPT_FILE,
  line,
  lineOffsets,
  MemoryLogger,
  type RawEvent,
  sessionStart,
  T0,
  TempDirs,
  toolCall,
} from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const BAD = 20;

/** seq 1 session_start; seq k = 2..64 a call of tool t<(k−2) % 7> (9 calls each), k ms, failed when k % 5 = 0. */
function journalEvents(id: string, name = (i: number) => `t${i}`): RawEvent[] {
  const events: RawEvent[] = [sessionStart(id, T0)];
  for (let k = 2; k <= 64; k++) events.push(toolCall(k, name((k - 2) % 7), k, T0 + k, k % 5 !== 0));
  return events;
}

/** What the journal's tool calls fold to, without seq `skip`. */
function expectedTools(skip: number, name = (i: number) => `t${i}`): ToolMetrics[] {
  const tools = new Map<string, ToolMetrics>();
  for (let k = 2; k <= 64; k++) {
    if (k === skip) continue;
    const n = name((k - 2) % 7);
    const t = tools.get(n) ?? {
      name: n,
      callCount: 0,
      successCount: 0,
      failCount: 0,
      totalDurationMs: 0,
      avgDurationMs: 0,
    };
    t.callCount++;
    if (k % 5 !== 0) t.successCount++;
    else t.failCount++;
    t.totalDurationMs += k;
    t.avgDurationMs = t.totalDurationMs / t.callCount;
    tools.set(n, t);
  }
  return [...tools.values()];
}

interface Planted {
  sessionsDir: string;
  id: string;
  path: string;
  original: Buffer;
  damaged: Buffer;
  offsets: number[];
}

/** Writes the 64-line journal and flips `mask` in byte `at` of line 20. */
function plant(id: string, mask: number, at = 30, name?: (i: number) => string): Planted {
  const sessionsDir = temps.make(id);
  const events = journalEvents(id, name);
  const original = Buffer.from(events.map(line).join(""));
  const offsets = lineOffsets(original);
  expect(offsets).toHaveLength(64);
  const damaged = Buffer.from(original);
  damaged[offsets[BAD - 1]! + at]! ^= mask;
  const dir = join(sessionsDir, id);
  const path = join(dir, "journal.jsonl");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, damaged);
  return { sessionsDir, id, path, original, damaged, offsets };
}

/** The bytes of 1-based line `n` of `bytes` (newline included). */
function lineBytes(bytes: Buffer, offsets: number[], n: number): Buffer {
  return bytes.subarray(offsets[n - 1]!, offsets[n] ?? bytes.length);
}

describe("a bit flipped on line 20 of 64", () => {
  test("verifyJournal reports exactly that line, with its offset and the seqs around it", async () => {
    const p = plant("verify", 0x01);
    expect(await verifyJournal(p.sessionsDir, p.id)).toEqual({
      events: 63,
      lastSeq: 64,
      problems: [
        { line: 20, offset: p.offsets[19]!, seqBefore: 19, seqAfter: 21, reason: "checksum mismatch" },
      ],
    });
    expect(readFileSync(p.path).equals(p.damaged)).toBe(true); // read-only
  });

  test("replayMetrics, loadTurns and aggregateJournal read every other event and warn", async () => {
    const p = plant("readers", 0x04);
    const where = `line 20 (byte ${p.offsets[19]}): checksum mismatch, between seq 19 and seq 21`;

    const logger = new MemoryLogger();
    const metrics = await replayMetrics(p.sessionsDir, p.id, { logger });
    expect(metrics!.tools).toEqual(expectedTools(BAD));
    expect(metrics!.tools.map((t) => t.callCount)).toEqual([9, 9, 9, 9, 8, 9, 9]);
    expect(metrics!.updatedAt).toBe(new Date(T0 + 64).toISOString());
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain(where);
    expect(logger.warnings[0]).toContain(p.path);

    const turnsLogger = new MemoryLogger();
    expect(await loadTurns(p.sessionsDir, p.id, { logger: turnsLogger })).toEqual([]);
    expect(turnsLogger.warnings).toHaveLength(1);
    expect(turnsLogger.warnings[0]).toContain(where);

    const aggregateLogger = new MemoryLogger();
    const aggregate = await aggregateJournal(p.sessionsDir, p.id, { logger: aggregateLogger });
    expect(aggregate.totalInvocations).toBe(62);
    expect(aggregate.totalDurationMs).toBe(((2 + 64) * 63) / 2 - BAD);
    expect(aggregate.successRate).toBe(51 / 62); // 12 of 2..64 are multiples of 5; 20 is one
    expect(aggregateLogger.warnings).toHaveLength(1);
    expect(aggregateLogger.warnings[0]).toContain(where);
  });

  test("loadTurns keeps the turns after a bad step_end line", async () => {
    const sessionsDir = temps.make("turns");
    const id = "turns";
    const writer = new Collector({
      sessionId: id,
      sessionsDir,
      now: () => new Date(T0),
      logger: new MemoryLogger(),
    });
    for (let i = 0; i < 4; i++) {
      const turn = writer.startTurn({ turnId: `turn-${i}` });
      turn.startStep().end({ promptTokens: 10 + i, completionTokens: i });
      turn.end();
    }
    await writer.sync();
    const all = writer.turns();
    await writer.stop();
    // Lines: 1 session_start, then per turn: turn_start, step_end, llm, turn_end. Line 7 is turn-1's step_end.
    const path = join(sessionsDir, id, "journal.jsonl");
    const bytes = readFileSync(path);
    const offsets = lineOffsets(bytes);
    expect(lineBytes(bytes, offsets, 7).toString()).toContain('"type":"step_end"');
    bytes[offsets[6]! + 12]! ^= 0x02;
    writeFileSync(path, bytes);

    const logger = new MemoryLogger();
    const turns = await loadTurns(sessionsDir, id, { logger });
    expect(turns.map((t) => t.turnId)).toEqual(["turn-0", "turn-1", "turn-2", "turn-3"]);
    expect(turns[0]).toEqual(all[0]!);
    expect(turns[1]!.steps).toEqual([]);
    expect(turns[1]!.usage).toBeUndefined();
    expect(turns[1]!.durationMs).toBe(all[1]!.durationMs!);
    expect(turns[2]).toEqual(all[2]!);
    expect(turns[3]).toEqual(all[3]!);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain(
      `line 7 (byte ${offsets[6]}): checksum mismatch, between seq 6 and seq 8`,
    );
  });

  for (const [title, mask, name] of [
    ["an ASCII journal, a low bit", 0x01, undefined],
    ["an ASCII journal, the high bit (an invalid UTF-8 byte)", 0x80, undefined],
    ["a journal with non-ASCII names, a low bit", 0x01, (i: number) => `té${i}`],
    ["a journal with non-ASCII names, the high bit (an invalid UTF-8 byte)", 0x80, (i: number) => `té${i}`],
  ] as const) {
    test(`opening the session keeps every valid line and sets only line 20 aside (${title})`, async () => {
      const p = plant(`open-${mask}-${name === undefined ? "ascii" : "utf8"}`, mask, 30, name);
      const logger = new MemoryLogger();
      const c = await Collector.open({ sessionId: p.id, sessionsDir: p.sessionsDir, resume: true, logger });
      expect(c.snapshot().tools).toEqual(expectedTools(BAD, name));

      // The warning says where, which seqs, and why.
      expect(logger.warnings).toHaveLength(1);
      expect(logger.warnings[0]).toContain(
        `line 20 (byte ${p.offsets[19]}): checksum mismatch, between seq 19 and seq 21`,
      );
      expect(logger.warnings[0]).toContain("set the bad bytes aside in");

      // Exactly line 20's bytes are set aside.
      const dir = join(p.sessionsDir, p.id);
      const aside = readdirSync(dir).filter((n) => CORRUPT_FILE.test(n));
      expect(aside).toHaveLength(1);
      expect(logger.warnings[0]).toContain(join(dir, aside[0]!));
      expect(readFileSync(join(dir, aside[0]!)).equals(lineBytes(p.damaged, p.offsets, BAD))).toBe(true);

      // The journal: every other line byte for byte, a lost marker for seq 20 in its place.
      const marker = line({ seq: 20, ts: T0 + 19, type: "lost", count: 1 });
      const expected = Buffer.concat([
        p.original.subarray(0, p.offsets[19]!),
        Buffer.from(marker),
        p.original.subarray(p.offsets[20]!),
      ]);
      expect(readFileSync(p.path).toString()).toBe(expected.toString());
      expect(await verifyJournal(p.sessionsDir, p.id)).toEqual({ events: 64, lastSeq: 64, problems: [] });

      c.recordToolCall("after", true, 1);
      await c.stop();
      const again = new MemoryLogger();
      const d = await Collector.open({
        sessionId: p.id,
        sessionsDir: p.sessionsDir,
        resume: true,
        logger: again,
      });
      expect(d.snapshot().tools).toEqual([
        ...expectedTools(BAD, name),
        { name: "after", callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 1, avgDurationMs: 1 },
      ]);
      expect(d.snapshot()).toEqual((await load(p.sessionsDir, p.id))!);
      await d.stop();
      expect(again.warnings).toEqual([]);
      expect(await verifyJournal(p.sessionsDir, p.id)).toMatchObject({
        events: 65,
        lastSeq: 65,
        problems: [],
      });
    });
  }

  test("a second bad line after an invalid UTF-8 byte is reported at its true byte offset", async () => {
    const p = plant("two-bad", 0x80, 30, (i) => `té${i}`);
    const bytes = Buffer.from(p.damaged);
    bytes[p.offsets[39]! + 30]! ^= 0x01; // line 40
    writeFileSync(p.path, bytes);
    expect(await verifyJournal(p.sessionsDir, p.id)).toEqual({
      events: 62,
      lastSeq: 64,
      problems: [
        { line: 20, offset: p.offsets[19]!, seqBefore: 19, seqAfter: 21, reason: "checksum mismatch" },
        { line: 40, offset: p.offsets[39]!, seqBefore: 39, seqAfter: 41, reason: "checksum mismatch" },
      ],
    });
  });

  test("with METRICS.json from the intact journal, the resume loses nothing (the document is not a prefix fold)", async () => {
    const p = plant("with-doc", 0x01);
    // The run that wrote the journal flushed the whole of it before the bit flipped.
    writeFileSync(p.path, p.original);
    const writer = await Collector.open({ sessionId: p.id, sessionsDir: p.sessionsDir, resume: true });
    await writer.stop();
    writeFileSync(p.path, p.damaged);
    const logger = new MemoryLogger();
    const c = await Collector.open({ sessionId: p.id, sessionsDir: p.sessionsDir, resume: true, logger });
    expect(c.snapshot().tools).toEqual(expectedTools(0));
    await c.stop();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain("line 20");
  });
});

describe("a torn last line", () => {
  test("is cut off: the journal keeps its complete lines byte for byte", async () => {
    const sessionsDir = temps.make("torn");
    const id = "torn";
    const events = journalEvents(id);
    const original = Buffer.from(events.map(line).join(""));
    const path = join(sessionsDir, id, "journal.jsonl");
    mkdirSync(join(sessionsDir, id), { recursive: true });
    writeFileSync(path, original);
    const tail = '{"v":1,"seq":65,"ts":1,"ty';
    appendFileSync(path, tail);

    expect(await verifyJournal(sessionsDir, id)).toEqual({
      events: 64,
      lastSeq: 64,
      problems: [
        {
          line: 65,
          offset: original.length,
          seqBefore: 64,
          seqAfter: 0,
          reason: "torn last line (no newline)",
        },
      ],
    });
    const logger = new MemoryLogger();
    const c = await Collector.open({ sessionId: id, sessionsDir, resume: true, logger });
    expect(c.snapshot().tools).toEqual(expectedTools(0));
    expect(readFileSync(path).equals(original)).toBe(true);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain(`line 65 of ${path} is bad (torn last line (no newline))`);
    const aside = readdirSync(join(sessionsDir, id)).filter((n) => CORRUPT_FILE.test(n));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(sessionsDir, id, aside[0]!), "utf8")).toBe(tail);
    await c.stop();
    expect(await verifyJournal(sessionsDir, id)).toEqual({ events: 64, lastSeq: 64, problems: [] });
  });
});
