/**
 * Read-only views of a session's journal after the process is gone: the state it folds to, and
 * the turns. Nothing is modified (recovery, which truncates, happens only when a collector opens
 * the session); a torn or corrupt tail is simply not read.
 */
import type { MetricEvent } from "../core/events.ts";
import { reduce } from "../core/events.ts";
import { assertSessionId } from "../core/session-id.ts";
import { journalPath } from "../core/session-layout.ts";
import { createState, type SessionState, snapshotState } from "../core/state.ts";
import { snapshotTurns } from "../core/turns.ts";
import type { SessionMetrics, TurnMetrics } from "../core/types.ts";
import { type JournalScan, scanJournal } from "./reader.ts";

/**
 * Folds the valid prefix of the session's journal; `null` when it has no journal (or no events).
 * `visit` also sees every event, for analytics that need more than the state.
 */
export function replaySession(
  sessionsDir: string,
  sessionId: string,
  visit?: (event: MetricEvent) => void,
): { state: SessionState; scan: JournalScan } | null {
  assertSessionId(sessionId);
  const state = createState(sessionId, 0);
  const scan = scanJournal(journalPath(sessionsDir, sessionId), (event) => {
    reduce(state, event);
    visit?.(event);
  });
  return scan.events === 0 ? null : { state, scan };
}

/** The session document the journal folds to (what METRICS.json holds after a clean flush). */
export async function replayMetrics(sessionsDir: string, sessionId: string): Promise<SessionMetrics | null> {
  const replayed = replaySession(sessionsDir, sessionId);
  return replayed === null ? null : snapshotState(replayed.state);
}

/**
 * The turns of the session's latest run, read back from its journal: `[]` when the session has
 * no journal (turns are only persisted by the journal).
 */
export async function loadTurns(sessionsDir: string, sessionId: string): Promise<TurnMetrics[]> {
  const replayed = replaySession(sessionsDir, sessionId);
  return replayed === null ? [] : snapshotTurns(replayed.state.turns);
}
