/**
 * One crash point of a power-loss trial: lose power there, reboot, open the session for real and
 * hold the result to the invariants (each broken one is a line of the returned list):
 *
 * 1. every journal line that survived is a recorded event, in seq order (nothing half-applied or
 *    invented);
 * 2. METRICS.json is absent only when no flush ever made one durable, and is otherwise a complete
 *    document some flush wrote (or the earlier run's), no older than the last acknowledged flush;
 * 3. `Collector.open({ resume: true })` succeeds (a failure must at least be a `MetricsError`);
 * 4. the resumed state is the fold of the surviving journal, or METRICS.json when that is the
 *    newer (see session/resume.ts), and holds every acknowledged event: tool counts and token
 *    sums exactly those of the events it is built from;
 * 5. recovery reports what it set aside: every seq gap and the torn tail are in the log, and
 *    `journal.corrupt-*` holds exactly the bytes of the bad lines and the tail;
 * 6. the recovered journal verifies clean, and the session goes on: one more record and a stop
 *    give a METRICS.json with it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { reduce } from "../../../src/core/events.ts";
import { encodeMetrics } from "../../../src/core/go-document.ts";
import { JOURNAL_FILE, LOCK_FILE, METRICS_FILE } from "../../../src/core/session-layout.ts";
import { createState, snapshotState } from "../../../src/core/state.ts";
import { MetricsError } from "../../../src/errors.ts";
import { load } from "../../../src/fs/metrics-file.ts";
import { encodeEventLine } from "../../../src/journal/line-codec.ts";
import { verifyJournal } from "../../../src/journal/verify.ts";
import { Collector } from "../../../src/session/collector.ts";
import { checkLines, MemoryLogger, readBytes } from "../../journal/helpers.ts";
import type { CrashState } from "../crash-io.ts";
import { rng } from "../harness.ts";
import {
  checkAcknowledged,
  checkCounts,
  checkDocument,
  checkJournalEvents,
  checkReports,
  resumedFrom,
} from "./invariants.ts";
import type { PowerLossStats } from "./materialise.ts";
import type { Workload } from "./workload.ts";

/** What every crash point of one workload shares, computed once. */
export interface Prepared {
  workload: Workload;
  /** `encodeEventLine` of each recorded event (index seq − 1). */
  lines: string[];
  /** Documents METRICS.json may hold: the earlier run's (at 0) and each flush's, with log positions. */
  documents: { at: number; text: string }[];
  /** For a document's text: how many recorded events it is the fold of. */
  prefixOf: Map<string, number>;
  /** Each write of journal lines: the log position after it and the highest seq it held. */
  written: { at: number; seq: number }[];
}

export function prepare(workload: Workload): Prepared {
  const documents = workload.crash
    .renamedOnto(join(workload.sessionId, METRICS_FILE))
    .map((v) => ({ at: v.at, text: v.bytes.toString("utf8") }));
  if (workload.initialMetrics !== null)
    documents.unshift({ at: 0, text: workload.initialMetrics.toString() });
  const wanted = new Set(documents.map((d) => d.text));
  const prefixOf = new Map<string, number>();
  const state = createState(workload.sessionId, 0);
  workload.events.forEach((event, i) => {
    reduce(state, event);
    const text = encodeMetrics(snapshotState(state));
    if (wanted.has(text) && !prefixOf.has(text)) prefixOf.set(text, i + 1);
  });
  const written: { at: number; seq: number }[] = [];
  workload.crash.log.forEach((entry, i) => {
    if (entry.t !== "file" || entry.op.kind !== "write") return;
    const seqs = [...entry.op.data.toString("latin1").matchAll(/^\{"v":1,"seq":(\d+),/gm)].map((m) =>
      Number(m[1]),
    );
    if (seqs.length > 0) written.push({ at: i + 1, seq: Math.max(...seqs) });
  });
  return { workload, lines: workload.events.map(encodeEventLine), documents, prefixOf, written };
}

/** What a crash point exercised (so a run can show that it reached the recovery paths). */
export interface Coverage {
  /** The journal ended in a torn line. */
  tornTail: boolean;
  /** The journal had a bad line before valid ones (salvage). */
  salvaged: boolean;
  /** Recorded events that did not survive (none of them acknowledged). */
  lostEvents: number;
  /** The session resumed from METRICS.json rather than the journal. */
  fromDocument: boolean;
  /** The session folder or the journal was gone (a fresh run). */
  fresh: boolean;
  /** Temp files of atomic writes left in the session folder after the open (not a violation). */
  leftovers: number;
}

export interface CrashOutcome {
  violations: string[];
  stats: PowerLossStats;
  coverage: Coverage;
}

/**
 * Loses power at `state`, reboots into a fresh folder under `base`, and checks. `logger` is what
 * the reopened collector reports to (tests of the checks pass one that loses messages).
 */
export async function checkCrashPoint(
  prepared: Prepared,
  state: CrashState,
  lossSeed: number,
  base: string,
  logger: MemoryLogger = new MemoryLogger(),
): Promise<CrashOutcome> {
  const out = mkdtempSync(join(base, "boot-"));
  try {
    // Tearing and garbling often: few writes are unsynced at any one point of the log.
    const stats = state.powerLoss(rng(lossSeed), out, { tear: 0.35, garble: 0.15 });
    const violations: string[] = [];
    const coverage = await checkRebooted(prepared, state.at, out, logger, violations);
    return { violations, stats, coverage };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function checkRebooted(
  p: Prepared,
  at: number,
  out: string,
  logger: MemoryLogger,
  violations: string[],
): Promise<Coverage> {
  const w = p.workload;
  const dir = join(out, w.sessionId);
  reboot(dir);
  const bytes = readBytes(join(dir, JOURNAL_FILE));
  const journal = checkLines(bytes);
  checkJournalEvents(p, journal.events, violations);
  const doc = readText(join(dir, METRICS_FILE));
  checkDocument(p, at, doc, violations);
  const lastBad = journal.bad.at(-1)?.line ?? 0;
  const coverage: Coverage = {
    tornTail: journal.tail.length > 0,
    salvaged: journal.bad.length > 0 && lastBad < journal.ends.length,
    lostEvents: 0,
    fromDocument: false,
    fresh: false,
    leftovers: 0,
  };
  let c: Collector;
  try {
    c = await Collector.open({ sessionsDir: out, sessionId: w.sessionId, resume: true, logger });
  } catch (error) {
    const kind = error instanceof MetricsError ? error.constructor.name : "an untyped error";
    violations.push(`open threw ${kind}: ${(error as Error).message}`);
    return coverage;
  }
  try {
    const snapshot = c.snapshot();
    const basis = resumedFrom(p, journal.events, doc, snapshot, violations);
    if (basis !== undefined) {
      coverage.fromDocument = basis.from === "document";
      coverage.fresh = basis.from === "fresh";
      coverage.lostEvents = Math.max(0, writtenBy(p, at) - basis.events.length);
      checkAcknowledged(w, at, basis.events, violations);
      checkCounts(basis.events, snapshot, violations);
    }
    checkReports(journal, bytes.length, dir, logger, violations);
    if (logger.errors.length > 0) violations.push(`open logged errors: ${logger.errors[0]}`);
    const verified = await verifyJournal(out, w.sessionId);
    if (verified.problems.length > 0)
      violations.push(`the recovered journal does not verify: ${verified.problems[0]!.reason}`);
    c.recordToolCall("AfterReboot", true, 1);
  } finally {
    await c.stop();
  }
  const after = await load(out, w.sessionId);
  if (after?.tools.find((t) => t.name === "AfterReboot")?.callCount !== 1)
    violations.push("the record made after the reboot is not in METRICS.json after stop()");
  coverage.leftovers = readdirSync(dir).filter(isLeftover).length;
  return coverage;
}

/** A temp file of an atomic write (`.METRICS.json.<hex>.tmp`) or of a lock (`.lock.<pid>.<hex>`). */
function isLeftover(name: string): boolean {
  return name.endsWith(".tmp") || /^\.lock\.\d+\./.test(name);
}

/** The highest seq of a journal line written before log position `at`. */
function writtenBy(p: Prepared, at: number): number {
  let seq = 0;
  for (const { at: when, seq: written } of p.written) if (when <= at) seq = Math.max(seq, written);
  return seq;
}

/** After a reboot no process of before is alive: its lock names a process that no longer exists. */
function reboot(dir: string): void {
  const path = join(dir, LOCK_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return;
  }
  const info = JSON.parse(text) as { pid: number; procStart?: string };
  // Our pid is alive, so the lock would be held: a different start time says "another process".
  if (info.pid === process.pid) writeFileSync(path, JSON.stringify({ ...info, procStart: "before-reboot" }));
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}
