/**
 * One read of a session folder: the document, its turns and the dashboard's breakdown, from a
 * single pass over the journal. The document is the one `Collector.open({ resume: true })` would
 * continue from: the journal's fold, unless METRICS.json is newer (a `journal: false` run came
 * after it) or there is no journal.
 */

import type { MetricEvent } from "../core/events.ts";
import { createState, snapshotState } from "../core/state.ts";
import { snapshotTurns } from "../core/turns.ts";
import type { SessionMetrics, TurnMetrics } from "../core/types.ts";
import { load } from "../fs/metrics-file.ts";
import type { JournalProblem } from "../journal/reader.ts";
import { replaySession } from "../journal/replay.ts";
import type { Logger } from "../logger.ts";
import { watchForDocument } from "../session/resume.ts";
import { createBreakdown, type SessionBreakdown } from "./breakdown.ts";
import { requireSession } from "./session-source.ts";

export interface SessionRead {
  metrics: SessionMetrics;
  /** Where the document came from. */
  source: "journal" | "metrics";
  /** seq of the journal's last valid event (0 without a journal). */
  lastSeq: number;
  /** Bad lines and gaps of the journal (every valid line was still read). */
  problems: JournalProblem[];
  turns: TurnMetrics[];
  breakdown: SessionBreakdown;
  /** The file identity this read reflects (see `sessionIdentity`). */
  identity: string;
}

/** Problems are returned, not logged: the caller decides how to tell them. */
const quiet: Logger = { warn() {}, error() {} };

/**
 * Reads a session.
 * @throws InvalidSessionIdError (before any file is touched), StorageError with code ENOENT
 *   when there is no such session, ParseError/SchemaError for a bad METRICS.json without journal.
 */
export async function readSession(sessionsDir: string, sessionId: string): Promise<SessionRead> {
  const identity = requireSession(sessionsDir, sessionId);
  const breakdown = createBreakdown();
  // Which document wins is decided as Collector.open({ resume: true }) decides it: by journal
  // position (the journal, unless METRICS.json is the fold of none of its prefixes), never by clock.
  const readable = await loadIfReadable(sessionsDir, sessionId);
  const watch = readable === null ? undefined : watchForDocument(readable);
  const replayed = replaySession(
    sessionsDir,
    sessionId,
    (e: MetricEvent, state) => {
      breakdown.add(e);
      watch?.visit(state);
    },
    { logger: quiet },
  );
  // Without a journal, a bad METRICS.json is the error to report.
  const fromFile = replayed === null ? await load(sessionsDir, sessionId) : readable;
  const base = { identity, breakdown: breakdown.result() };
  if (replayed !== null && (watch === undefined || watch.found))
    return {
      ...base,
      metrics: snapshotState(replayed.state),
      source: "journal",
      lastSeq: replayed.scan.lastSeq,
      problems: replayed.scan.problems,
      turns: snapshotTurns(replayed.state.turns),
    };
  const lastSeq = replayed?.scan.lastSeq ?? 0;
  const problems = replayed?.scan.problems ?? [];
  // An empty journal and no METRICS.json: a session that has recorded nothing yet.
  const metrics = fromFile ?? snapshotState(createState(sessionId, 0));
  const fileBreakdown = createBreakdown();
  fileBreakdown.add({ v: 1, seq: 1, ts: Date.parse(metrics.updatedAt) || 0, type: "restore", metrics });
  return {
    ...base,
    metrics,
    source: "metrics",
    lastSeq,
    problems,
    turns: [],
    breakdown: fileBreakdown.result(),
  };
}

/** METRICS.json beside a journal: a bad one does not hide the journal's document. */
async function loadIfReadable(sessionsDir: string, sessionId: string): Promise<SessionMetrics | null> {
  try {
    return await load(sessionsDir, sessionId);
  } catch {
    return null;
  }
}

/** One row of a session listing. */
export interface SessionSummary {
  sessionId: string;
  /** ISO 8601 as in the document. */
  startedAt: string;
  updatedAt: string;
  durationMs: number;
  toolCalls: number;
  failures: number;
  llmCalls: number;
  tokens: number;
  cost: number;
  models: string[];
  agents: string[];
}

/** The listing row of a document (with the models and agents its events named). */
export function summarize(metrics: SessionMetrics, models: string[], agents: string[]): SessionSummary {
  let toolCalls = 0;
  let failures = 0;
  let llmCalls = 0;
  let tokens = 0;
  let cost = 0;
  for (const t of metrics.tools) {
    toolCalls += t.callCount;
    failures += t.failCount;
  }
  for (const l of metrics.llms) {
    llmCalls += l.interactionCount;
    tokens += l.totalTokens;
    cost += l.cost;
  }
  const started = Date.parse(metrics.startedAt);
  const updated = Date.parse(metrics.updatedAt);
  return {
    sessionId: metrics.sessionId,
    startedAt: metrics.startedAt,
    updatedAt: metrics.updatedAt,
    durationMs: Number.isFinite(started) && Number.isFinite(updated) ? Math.max(0, updated - started) : 0,
    ...{ toolCalls, failures, llmCalls, tokens, cost },
    models: models.filter((m) => m !== "(unknown)"),
    agents,
  };
}
