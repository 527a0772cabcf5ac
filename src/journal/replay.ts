/**
 * Read-only views of a session's journal after the process is gone: the state it folds to, the
 * turns, and each run. Nothing is modified (recovery, which rewrites, happens only when a
 * collector opens the session). Bad lines are skipped, every valid line is read, and the
 * problems are reported through the logger; a torn last line is simply not read.
 */
import type { MetricEvent } from "../core/events.ts";
import { reduce } from "../core/events.ts";
import { assertSessionId } from "../core/session-id.ts";
import { journalPath } from "../core/session-layout.ts";
import { createState, type SessionState, snapshotState } from "../core/state.ts";
import { snapshotTurns } from "../core/turns.ts";
import type { SessionMetrics, TurnMetrics } from "../core/types.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import { describeProblems, type JournalScan, scanJournal } from "./reader.ts";
import { streamJournal } from "./stream-reader.ts";

export interface ReplayOptions {
  /** Where bad lines and gaps are reported. Default: console. */
  logger?: Logger;
}

/**
 * Folds every valid event of the session's journal; `null` when it has no journal (or no
 * events). `visit` also sees every event, for analytics that need more than the state.
 */
export function replaySession(
  sessionsDir: string,
  sessionId: string,
  visit?: (event: MetricEvent, state: SessionState) => void,
  options: ReplayOptions = {},
): { state: SessionState; scan: JournalScan } | null {
  assertSessionId(sessionId);
  const state = createState(sessionId, 0);
  const path = journalPath(sessionsDir, sessionId);
  const scan = scanJournal(path, (event, folded) => visit?.(event, folded), state);
  if (scan.problems.length > 0) (options.logger ?? consoleLogger).warn(describeProblems(path, scan.problems));
  return scan.events === 0 ? null : { state, scan };
}

/**
 * {@link replaySession} as a stream: the journal is read in chunks, yielding to the event loop
 * between them, in memory bounded by what the fold keeps (never the whole file).
 */
export async function streamSession(
  sessionsDir: string,
  sessionId: string,
  visit?: (event: MetricEvent, state: SessionState) => void,
  options: ReplayOptions = {},
): Promise<{ state: SessionState; scan: JournalScan } | null> {
  assertSessionId(sessionId);
  const state = createState(sessionId, 0);
  const path = journalPath(sessionsDir, sessionId);
  const scan = await streamJournal(path, (event, folded) => visit?.(event, folded), state);
  if (scan.problems.length > 0) (options.logger ?? consoleLogger).warn(describeProblems(path, scan.problems));
  return scan.events === 0 ? null : { state, scan };
}

/** The session document the journal folds to (what METRICS.json holds after a clean flush). */
export async function replayMetrics(
  sessionsDir: string,
  sessionId: string,
  options?: ReplayOptions,
): Promise<SessionMetrics | null> {
  const replayed = await streamSession(sessionsDir, sessionId, undefined, options);
  return replayed === null ? null : snapshotState(replayed.state);
}

/**
 * The turns of the session's latest run, read back from its journal: `[]` when the session has
 * no journal (turns are only persisted by the journal).
 */
export async function loadTurns(
  sessionsDir: string,
  sessionId: string,
  options?: ReplayOptions,
): Promise<TurnMetrics[]> {
  const replayed = await streamSession(sessionsDir, sessionId, undefined, options);
  return replayed === null ? [] : snapshotTurns(replayed.state.turns);
}

/** One run of a session: from a fresh start (or a restore from METRICS.json) to the next one. */
export interface SessionRun {
  /** 1-based, in journal order. */
  run: number;
  /** How it began: `session_start` (a fresh run) or `restore` (continued from METRICS.json). */
  began: "session_start" | "restore";
  firstSeq: number;
  lastSeq: number;
  events: number;
  /** The run's document as it stood at its last event. */
  metrics: SessionMetrics;
  turns: TurnMetrics[];
}

/**
 * Every run the journal holds, oldest first. A fresh run over an existing session (`resume:
 * false`) starts a new run; METRICS.json and the other readers show the latest, and this shows
 * the earlier ones too. `[]` when the session has no journal.
 */
export async function sessionRuns(
  sessionsDir: string,
  sessionId: string,
  options?: ReplayOptions,
): Promise<SessionRun[]> {
  const runs: SessionRun[] = [];
  let current:
    | { began: SessionRun["began"]; firstSeq: number; lastSeq: number; events: number; state: SessionState }
    | undefined;
  const close = () => {
    if (current === undefined) return;
    const { state, ...rest } = current;
    runs.push({
      run: runs.length + 1,
      ...rest,
      metrics: snapshotState(state),
      turns: snapshotTurns(state.turns),
    });
  };
  await streamSession(
    sessionsDir,
    sessionId,
    (event) => {
      if (event.type === "session_start" || event.type === "restore" || current === undefined) {
        close();
        const began = event.type === "restore" ? "restore" : "session_start";
        current = {
          began,
          firstSeq: event.seq,
          lastSeq: event.seq,
          events: 0,
          state: createState(sessionId, event.ts),
        };
      }
      reduce(current.state, event);
      current.lastSeq = event.seq;
      current.events++;
    },
    options,
  );
  close();
  return runs;
}
