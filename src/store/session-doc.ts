/**
 * Session documents in the store: the row a writer upserts from a folded state, and the document
 * `getSession` folds back from the stored document plus the events stored after it.
 */
import { reduce } from "../core/events.ts";
import { decodeMetrics, encodeMetrics, parseJson } from "../core/go-document.ts";
import {
  createState,
  type SessionState,
  snapshotState,
  stateFromMetrics,
  type Timestamp,
} from "../core/state.ts";
import type { SessionMetrics } from "../core/types.ts";
import { MetricsError, StorageError } from "../errors.ts";
import type { SessionUpsert, StoredSession } from "./types.ts";

/** Epoch ms of a state timestamp (a file's RFC 3339 string is parsed; before 1970 reads as 0). */
export function timestampMs(ts: Timestamp): number {
  const ms = typeof ts === "number" ? ts : Date.parse(ts);
  return Number.isFinite(ms) && ms > 0 ? Math.trunc(ms) : 0;
}

/** The session row for a state folded up to `documentSeq`. */
export function upsertFromState(
  state: SessionState,
  documentSeq: number,
  lastSeq: number,
  host: string | null,
): SessionUpsert {
  return {
    sessionId: state.sessionId,
    startedAt: timestampMs(state.startedAt),
    updatedAt: timestampMs(state.updatedAt),
    host,
    lastSeq,
    document: encodeMetrics(snapshotState(state)),
    documentSeq,
  };
}

/**
 * The session document: the stored one (METRICS.json text, exact) with the events stored after
 * it folded in, as a resumed collector would; without a stored document, the fold of all events.
 */
export function foldSession(stored: StoredSession): SessionMetrics {
  const { row, events } = stored;
  let state: SessionState;
  if (row.document !== null) {
    if (events.length === 0) return decodeDocument(row.document, row.sessionId);
    state = stateFromMetrics(decodeDocument(row.document, row.sessionId));
  } else state = createState(row.sessionId, row.startedAt);
  for (const event of events) reduce(state, event);
  return snapshotState(state);
}

function decodeDocument(text: string, sessionId: string): SessionMetrics {
  try {
    return decodeMetrics(parseJson(text, `store session ${sessionId}`), `store session ${sessionId}`);
  } catch (error) {
    const reason = error instanceof MetricsError ? error.message : String(error);
    throw new StorageError(`[store] the stored document of session ${sessionId} is corrupt: ${reason}`, {
      cause: error,
    });
  }
}
