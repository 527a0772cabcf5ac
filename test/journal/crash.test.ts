/**
 * Crash safety of the journal: a writer child (fixtures/crash-writer.ts) resumes a session,
 * records events of 100 B to 1 MB and prints what `sync()` acknowledged; it is SIGKILLed at a
 * random point, restarted (resume), killed again — 3 kill/restart cycles per session, 201 kill
 * points in all. After every kill: every acknowledged record is in the journal exactly once,
 * seqs are 1..n, every newline-terminated line is valid (at most the last line is torn), and
 * METRICS.json, when present, loads. On the next open the torn tail is set aside byte for byte
 * and reported; the final open replays everything and writes the METRICS.json the journal
 * folds to.
 *
 * The sessions live on /dev/shm when it exists: SIGKILL leaves the page cache alone, so what a
 * killed writer wrote is there whatever the filesystem, and cheap fsyncs leave more of the
 * writer's time to writes, where a kill can tear a line.
 *
 * Sizes, budgets and kill points come from a seed that is printed; JOURNAL_CRASH_SEED=<seed>
 * makes the same choices again (the timing of a kill cannot be replayed exactly).
 * JOURNAL_CRASH_SESSIONS=<n> runs fewer sessions while debugging.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../../src/core/events.ts";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { load } from "../../src/fs/metrics-file.ts";
import { scanJournalBytes } from "../../src/journal/reader.ts";
import { loadTurns, replayMetrics, replaySession } from "../../src/journal/replay.ts";
import { Collector } from "../../src/session/collector.ts";
import {
  bundleFixture,
  checkLines,
  corruptFiles,
  inBatches,
  JOURNAL,
  killStragglers,
  LineReader,
  MemoryLogger,
  readBytes,
  seededRandom,
  seqsAreGapFree,
  TempDirs,
  track,
} from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(120_000);

const temps = new TempDirs();
afterAll(async () => {
  await killStragglers();
  temps.removeAll();
});

const SESSIONS = Number(process.env.JOURNAL_CRASH_SESSIONS ?? 67);
/** Large records per writer run: 4–30, then it writes small ones until killed. */
const MAX_BUDGET = 30;
const KILLS_PER_SESSION = 3;
const PARALLEL = 4;
const DURABILITIES = ["group", "on-sync", "buffered"] as const;
const SEED = Number(process.env.JOURNAL_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

type ChildMessage = {
  warn?: string;
  error?: string;
  ready?: number;
  ack?: string[];
  flushed?: number;
  syncing?: number;
  bytes?: number;
  ms?: number;
  small?: boolean;
};

interface SessionOutcome {
  acked: number;
  events: number;
  tornTails: number;
  largestLine: number;
  metricsFiles: number;
  /** Kills after the writer's large records were all written (it then writes small ones). */
  lateKills: number;
}

function idOf(event: MetricEvent): string | undefined {
  return event.type === "tool_call" ? (event.details?.attributes?.id as string | undefined) : undefined;
}

/** Tool-call ids in journal order; throws on a duplicate. */
function idsOf(events: readonly MetricEvent[]): Set<string> {
  const ids = new Set<string>();
  for (const event of events) {
    const id = idOf(event);
    if (id === undefined) continue;
    if (ids.has(id)) throw new Error(`record ${id} is in the journal twice`);
    ids.add(id);
  }
  return ids;
}

/** What the previous kill left after the last newline, and where the valid prefix ended. */
interface Tail {
  bytes: Uint8Array;
  offset: number;
}

/** The torn tail, if any, was set aside in exactly one new journal.corrupt-* file and reported. */
function expectTailSetAside(dir: string, seen: Set<string>, tail: Tail, warnings: string[]): void {
  const fresh = corruptFiles(dir).filter((name) => !seen.has(name));
  if (tail.bytes.length === 0) {
    expect(fresh).toEqual([]);
    expect(warnings).toEqual([]);
    return;
  }
  expect(fresh).toHaveLength(1);
  seen.add(fresh[0]!);
  expect(Buffer.from(readBytes(join(dir, fresh[0]!))).equals(Buffer.from(tail.bytes))).toBe(true);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(`remaining ${tail.bytes.length} bytes from offset ${tail.offset}`);
}

/** Checks the session's journal and METRICS.json right after a kill; returns the new tail. */
async function checkAfterKill(
  sessionsDir: string,
  sessionId: string,
  acked: ReadonlySet<string>,
): Promise<{ tail: Tail; largestLine: number; hasMetrics: boolean }> {
  const dir = join(sessionsDir, sessionId);
  const bytes = readBytes(join(dir, JOURNAL));
  const lines = checkLines(bytes);
  // No bad line mid-file: every newline-terminated line decodes; only the last may be torn.
  expect(lines.bad).toEqual([]);
  expect(seqsAreGapFree(lines.events)).toBe(true);
  const ids = idsOf(lines.events);
  for (const id of acked)
    if (!ids.has(id)) throw new Error(`acknowledged record ${id} is not in the journal`);
  // The library's scanner agrees: the valid prefix is everything but the torn tail.
  const scan = scanJournalBytes(bytes, () => {});
  expect(scan.events).toBe(lines.events.length);
  expect(scan.validBytes).toBe(bytes.length - lines.tail.length);
  if (lines.tail.length > 0) expect(scan.tailReason).toBe("torn last line (no newline)");

  const hasMetrics = existsSync(join(dir, "METRICS.json"));
  if (hasMetrics) {
    const m = await load(sessionsDir, sessionId);
    expect(m).not.toBeNull();
    // A flush syncs the journal first, so the document never counts more than the journal holds.
    const calls = m!.tools.find((t) => t.name === "write")?.callCount ?? 0;
    expect(calls).toBeLessThanOrEqual(ids.size);
  }
  let largestLine = 0;
  for (let i = 0, start = 0; i < lines.ends.length; start = lines.ends[i]!, i++)
    largestLine = Math.max(largestLine, lines.ends[i]! - start);
  return {
    tail: { bytes: Uint8Array.from(lines.tail), offset: scan.validBytes },
    largestLine,
    hasMetrics,
  };
}

interface Writer {
  child: ReturnType<typeof spawnWriter>;
  lines: LineReader;
  budget: number;
}

/** Milliseconds per byte that recent sync() calls of large groups took in the writers. */
const syncCost: number[] = [2e-6];
/** Roughly how long a line from a writer takes to reach this process. */
const PIPE_LATENCY_MS = 0.25;

function median(values: number[]): number {
  const recent = values.slice(-51).sort((a, b) => a - b);
  return recent[recent.length >> 1]!;
}

/** Busy-waits `ms` milliseconds (Bun.sleep cannot wait a fraction of a millisecond). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

function spawnWriter(writer: string, args: string[]) {
  return track(Bun.spawn(["bun", writer, ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe" }));
}

/**
 * One writer run: let it open (recovering the previous kill's tail), pick a kill point, kill,
 * collect the acknowledgements. Says whether the kill came after the large records.
 */
async function runCycle(
  w: Writer,
  label: string,
  random: () => number,
  acked: Set<string>,
  afterOpen: (warnings: string[]) => void,
): Promise<{ late: boolean }> {
  const { child, lines, budget } = w;
  const warnings: string[] = [];
  let late = false;
  let ackedThisRun = 0;
  const failWith = async (what: string): Promise<never> => {
    child.kill("SIGKILL");
    await child.exited;
    throw new Error(`${label} (seed ${SEED}): ${what}; stderr: ${await new Response(child.stderr).text()}`);
  };
  const next = async (): Promise<ChildMessage> => {
    const line = await lines.next();
    if (line === null) return failWith("the writer ended before it was killed");
    const message = JSON.parse(line) as ChildMessage;
    if (message.error !== undefined) await failWith(`the writer reported: ${message.error}`);
    if (message.warn !== undefined) warnings.push(message.warn);
    for (const id of message.ack ?? []) acked.add(id);
    ackedThisRun += message.ack?.length ?? 0;
    if (message.small) late = true;
    return message;
  };

  child.stdin.write("go\n");
  await child.stdin.flush();
  while ((await next()).ready === undefined) {}
  afterOpen(warnings);

  // The kill point. Half the time, inside the writer's first sync() of a group over 200 kB from
  // its n-th sync on: the call frames the group, then writes it, so a kill near the end of the
  // time such a call takes (as measured on earlier syncs) sometimes lands in the write and tears
  // a line. Otherwise 0–5 ms after 0..budget/2 records are acknowledged, or after the large
  // records are done.
  const atWrite = random() < 0.5;
  const target = Math.floor(random() * (atWrite ? 4 : budget / 2));
  for (;;) {
    if (late || (!atWrite && ackedThisRun >= target)) {
      await Bun.sleep(random() * 5);
      break;
    }
    const message = await next();
    if (message.ms !== undefined && message.bytes! > 100_000) syncCost.push(message.ms / message.bytes!);
    if (atWrite && message.syncing! >= target && message.bytes! > 200_000) {
      spin((0.5 + 0.6 * random()) * message.bytes! * median(syncCost) - PIPE_LATENCY_MS);
      break;
    }
  }
  child.kill("SIGKILL");
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  // Every ack printed before the kill counts: the writer prints one only after sync() resolved.
  // (A line the kill cut short, without its newline, is not counted.)
  for (let line = await lines.next(); line !== null; line = await lines.next()) {
    const message = JSON.parse(line) as ChildMessage;
    for (const id of message.ack ?? []) acked.add(id);
    if (message.small) late = true;
  }
  return { late };
}

async function runSession(writer: string, sessionsDir: string, index: number): Promise<SessionOutcome> {
  const sessionId = `crash-${index}`;
  const dir = join(sessionsDir, sessionId);
  const random = seededRandom(SEED + index);
  const durability = DURABILITIES[index % DURABILITIES.length]!;
  const acked = new Set<string>();
  const seenCorrupt = new Set<string>();
  let tail: Tail = { bytes: new Uint8Array(0), offset: 0 };
  const outcome: SessionOutcome = {
    acked: 0,
    events: 0,
    tornTails: 0,
    largestLine: 0,
    metricsFiles: 0,
    lateKills: 0,
  };
  const start = (cycle: number): Writer => {
    const budget = 4 + Math.floor(random() * (MAX_BUDGET - 3));
    const seed = `${Math.floor(random() * 2 ** 31)}`;
    const child = spawnWriter(writer, [sessionsDir, sessionId, `${cycle}`, seed, durability, `${budget}`]);
    return { child, lines: new LineReader(child.stdout), budget };
  };

  // The next writer starts (and loads its modules) while the current one runs; it opens the
  // session only when told to, after the current one is dead.
  let current = start(0);
  for (let cycle = 0; cycle < KILLS_PER_SESSION; cycle++) {
    const upcoming = cycle + 1 < KILLS_PER_SESSION ? start(cycle + 1) : undefined;
    const { late } = await runCycle(current, `${sessionId} cycle ${cycle}`, random, acked, (warnings) => {
      expectTailSetAside(dir, seenCorrupt, tail, warnings);
      if (tail.bytes.length > 0) outcome.tornTails++;
    });
    if (late) outcome.lateKills++;
    const after = await checkAfterKill(sessionsDir, sessionId, acked);
    tail = after.tail;
    outcome.largestLine = Math.max(outcome.largestLine, after.largestLine);
    if (after.hasMetrics) outcome.metricsFiles++;
    if (upcoming !== undefined) current = upcoming;
  }

  // The last restart happens here: recovery, replay, stop.
  const logger = new MemoryLogger();
  const collector = await Collector.open({ sessionId, sessionsDir, resume: true, logger });
  expectTailSetAside(dir, seenCorrupt, tail, logger.warnings);
  if (tail.bytes.length > 0) outcome.tornTails++;
  // The reopened collector's own first event (a restore, when no run got to write anything) is
  // on disk only once sync() says so: the journal thread writes it.
  await collector.sync();
  const replayedIds = new Set<string>();
  const replayed = replaySession(sessionsDir, sessionId, (event) => {
    const id = idOf(event);
    if (id !== undefined) replayedIds.add(id);
  });
  expect(replayed).not.toBeNull();
  expect(replayed!.scan.validBytes).toBe(replayed!.scan.totalBytes);
  for (const id of acked) if (!replayedIds.has(id)) throw new Error(`acknowledged ${id} is not replayed`);
  expect(collector.snapshot().tools.find((t) => t.name === "write")?.callCount ?? 0).toBe(replayedIds.size);
  await collector.stop();

  const text = readFileSync(join(dir, "METRICS.json"), "utf8");
  const folded = await replayMetrics(sessionsDir, sessionId);
  expect(encodeMetrics(folded!)).toBe(text);
  expect(await load(sessionsDir, sessionId)).toEqual(folded);
  expect(await loadTurns(sessionsDir, sessionId)).toEqual([]);
  const final = checkLines(readBytes(join(dir, JOURNAL)));
  expect(final.bad).toEqual([]);
  expect(final.tail.length).toBe(0);
  expect(seqsAreGapFree(final.events)).toBe(true);
  expect(existsSync(join(dir, ".lock"))).toBe(false);

  outcome.acked = acked.size;
  outcome.events = final.events.length;
  rmSync(dir, { recursive: true, force: true }); // keep the disk footprint small
  return outcome;
}

describe("SIGKILL of a journal writer", () => {
  test(`${SESSIONS * KILLS_PER_SESSION} kills (3 per session): every acknowledged record survives, no bad line mid-file`, async () => {
    const sessionsDir = temps.make("crash", { fast: true });
    const writer = await bundleFixture("crash-writer.ts", temps.make("crash-bundle"));
    const outcomes = await inBatches(
      Array.from({ length: SESSIONS }, (_, i) => i),
      PARALLEL,
      (index) => runSession(writer, sessionsDir, index),
    );
    const sum = (f: (o: SessionOutcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
    console.log(
      `[crash] seed ${SEED}: ${SESSIONS * KILLS_PER_SESSION} kills over ${SESSIONS} sessions; ` +
        `${sum((o) => o.acked)} acknowledged records, ${sum((o) => o.events)} events replayed, ` +
        `${sum((o) => o.tornTails)} torn tails set aside, METRICS.json present after ${sum((o) => o.metricsFiles)} kills, ` +
        `largest line ${Math.max(...outcomes.map((o) => o.largestLine))} bytes; ` +
        `${sum((o) => o.lateKills)} kills came after the large records`,
    );
    expect(outcomes).toHaveLength(SESSIONS);
    // The run must actually have exercised the interesting cases.
    expect(sum((o) => o.acked)).toBeGreaterThan(SESSIONS);
  });
});
