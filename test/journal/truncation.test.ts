/**
 * A journal cut at every byte offset of its last 3 events (what a crash mid-append leaves):
 * scanning keeps exactly the longest valid prefix; opening the session with resume sets the cut
 * tail aside byte for byte in `journal.corrupt-*`, reports it, replays exactly the prefix, and
 * appends after it so that the journal is whole again.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, setSystemTime, test } from "bun:test";
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MetricEvent, reduce } from "../../src/core/events.ts";
import { createState, snapshotState } from "../../src/core/state.ts";
import type { SessionMetrics } from "../../src/core/types.ts";
import { scanJournalBytes } from "../../src/journal/reader.ts";
import { Collector } from "../../src/session/collector.ts";
import {
  checkLines,
  corruptFiles,
  JOURNAL,
  MemoryLogger,
  readBytes,
  seqsAreGapFree,
  TempDirs,
} from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const SESSION = "cut";
const T0 = Date.parse("2026-11-22T01:42:24.140Z");

let journal: Uint8Array;
/** Byte offset just after each line's newline. */
let ends: number[];
let events: MetricEvent[];
/** What the first k events fold to, for every k. */
let prefixDocs: SessionMetrics[];

/** The journal the tests cut: 10 events (session_start first), the last three with non-ASCII text and a -0 cost. */
async function buildJournal(sessionsDir: string): Promise<Uint8Array> {
  let ms = T0;
  const c = new Collector({
    sessionId: SESSION,
    sessionsDir,
    now: () => new Date(ms++),
    durability: "buffered",
  });
  c.recordToolCall("Read", true, 12);
  c.recordLLMInteraction("plan", { promptTokens: 120, completionTokens: 30 }, 0.25);
  c.recordPhaseTransition("plan");
  c.recordHealDuration("plan", 40);
  c.recordEditStrategy("exact_match");
  c.recordPhaseDuration("plan", 900, true);
  // The last three events: each cut through its multi-byte characters too.
  c.recordToolCall("Édit", false, 7, { agent: "coder", attributes: { note: "héllo — 日本語 😀", n: 42 } });
  c.recordLLMInteractionWithPrompt(
    "exécution",
    { promptTokens: 5, completionTokens: 1 },
    -0,
    "9c7898597b84f182",
    true,
  );
  c.recordEditStrategy("ünïcode ✓");
  await c.stop();
  return readFileSync(join(sessionsDir, SESSION, JOURNAL));
}

beforeAll(async () => {
  journal = await buildJournal(temps.make("truncation-source", { fast: true }));
  const lines = checkLines(journal);
  expect(lines.bad).toEqual([]);
  expect(lines.tail.length).toBe(0);
  ends = lines.ends;
  events = lines.events;
  expect(events).toHaveLength(10);
  expect(events.map((e) => e.type).slice(-3)).toEqual(["tool_call", "llm", "edit_strategy"]);
  prefixDocs = [];
  const state = createState(SESSION, 0);
  for (let k = 0; k <= events.length; k++) {
    prefixDocs.push(snapshotState(state));
    if (k < events.length) reduce(state, structuredClone(events[k]!));
  }
});

/** Offsets from the start of the third-last line through the whole file. */
function cutOffsets(): number[] {
  const from = ends[ends.length - 4]!;
  return Array.from({ length: journal.length - from + 1 }, (_, i) => from + i);
}

/** Complete lines before `offset`, and where they end. */
function prefixAt(offset: number): { count: number; validBytes: number } {
  const count = ends.filter((end) => end <= offset).length;
  return { count, validBytes: count === 0 ? 0 : ends[count - 1]! };
}

describe("a journal truncated at every byte of its last 3 events", () => {
  test("scanJournalBytes keeps exactly the longest valid prefix", () => {
    const failures: string[] = [];
    for (const offset of cutOffsets()) {
      const seen: MetricEvent[] = [];
      const scan = scanJournalBytes(journal.subarray(0, offset), (event) => seen.push(event));
      const want = prefixAt(offset);
      const ok =
        scan.events === want.count &&
        scan.validBytes === want.validBytes &&
        scan.totalBytes === offset &&
        scan.lastSeq === want.count &&
        (offset === want.validBytes) === (scan.tailReason === undefined) &&
        Bun.deepEquals(seen, events.slice(0, want.count));
      if (!ok) failures.push(`offset ${offset}: ${JSON.stringify(scan)}`);
    }
    expect(failures).toEqual([]);
  });

  test("resume sets the cut tail aside, reports it, replays the prefix and appends a whole journal", async () => {
    const root = temps.make("truncation", { fast: true });
    const offsets = cutOffsets();
    let setAside = 0;
    for (const offset of offsets) {
      const sessionsDir = join(root, `at-${offset}`);
      const dir = join(sessionsDir, SESSION);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, JOURNAL), journal.subarray(0, offset));
      const { count, validBytes } = prefixAt(offset);

      const logger = new MemoryLogger();
      const c = await Collector.open({
        sessionId: SESSION,
        sessionsDir,
        resume: true,
        logger,
        now: () => new Date(T0 + 1000),
      });
      const aside = corruptFiles(dir);
      if (offset === validBytes) {
        expect(aside).toEqual([]);
        expect(logger.warnings).toEqual([]);
      } else {
        setAside++;
        expect(aside).toHaveLength(1);
        const removed = journal.subarray(validBytes, offset);
        expect(Buffer.from(readBytes(join(dir, aside[0]!))).equals(Buffer.from(removed))).toBe(true);
        expect(readBytes(join(dir, JOURNAL)).length).toBe(validBytes);
        expect(logger.warnings).toHaveLength(1);
        expect(logger.warnings[0]).toContain(`kept ${count} valid events (${validBytes} bytes)`);
        expect(logger.warnings[0]).toContain(
          `remaining ${offset - validBytes} bytes from offset ${validBytes}`,
        );
        expect(logger.warnings[0]).toContain(join(dir, aside[0]!));
      }
      expect(logger.errors).toEqual([]);
      expect(c.snapshot()).toEqual(prefixDocs[count]!);

      c.recordToolCall("after", true, 1);
      c.recordPhaseTransition("after");
      await c.stop();
      const bytes = readBytes(join(dir, JOURNAL));
      const lines = checkLines(bytes);
      expect(lines.bad).toEqual([]);
      expect(lines.tail.length).toBe(0);
      expect(lines.events).toHaveLength(count + 2);
      expect(seqsAreGapFree(lines.events)).toBe(true);
      expect(
        Buffer.from(bytes.subarray(0, validBytes)).equals(Buffer.from(journal.subarray(0, validBytes))),
      ).toBe(true);
      rmSync(sessionsDir, { recursive: true, force: true });
    }
    // Four of the offsets are line boundaries (nothing to set aside); all others cut a line.
    expect(setAside).toBe(offsets.length - 4);
  });
});

describe("setting a torn tail aside", () => {
  test("two recoveries of one session in the same millisecond both set their tail aside", async () => {
    // Shows a bug: the corrupt file is named by the time to the millisecond and created with
    // O_EXCL, so a second recovery at the same instant (a clock stepped back, a frozen clock)
    // throws EEXIST out of Collector.open instead of reporting what it set aside.
    const sessionsDir = temps.make("same-ms", { fast: true });
    const dir = join(sessionsDir, SESSION);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, JOURNAL);
    writeFileSync(path, journal.subarray(0, ends[2]! + 7)); // three lines and a torn one
    setSystemTime(new Date(T0 + 5000));
    try {
      for (let round = 1; round <= 2; round++) {
        const logger = new MemoryLogger();
        const c = await Collector.open({ sessionId: SESSION, sessionsDir, resume: true, logger });
        await c.stop();
        expect(logger.warnings).toHaveLength(1);
        expect(corruptFiles(dir)).toHaveLength(round);
        appendFileSync(path, "{torn"); // the next crash
      }
    } finally {
      setSystemTime();
    }
  });
});
