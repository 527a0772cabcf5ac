/**
 * The session folder's layout: every file name the library reads or writes under
 * `<sessionsDir>/<sessionId>/`, spelled once. (Paths only; nothing here touches the disk.)
 */
import { join } from "node:path";

/** The Go-compatible aggregate document, written atomically on flush/stop. */
export const METRICS_FILE = "METRICS.json";
/** Append-only events, one checksummed JSON object per line. */
export const JOURNAL_FILE = "journal.jsonl";
/** Present while a process owns the session. */
export const LOCK_FILE = ".lock";
/** Held for a moment by whoever reclaims a dead holder's lock. */
export const LOCK_RECLAIM_FILE = ".lock.reclaim";
/** Prefix of the files that journal recovery sets bad bytes aside in. */
export const CORRUPT_PREFIX = "journal.corrupt-";
/** `InvocationMetricsCollector`'s JSONL file (in its own metrics folder). */
export const INVOCATIONS_FILE = "invocations.jsonl";

export function sessionPath(sessionsDir: string, sessionId: string): string {
  return join(sessionsDir, sessionId);
}

/** `<sessionsDir>/<sessionId>/METRICS.json`. */
export function metricsPath(sessionsDir: string, sessionId: string): string {
  return join(sessionsDir, sessionId, METRICS_FILE);
}

/** `<sessionsDir>/<sessionId>/journal.jsonl`. */
export function journalPath(sessionsDir: string, sessionId: string): string {
  return join(sessionsDir, sessionId, JOURNAL_FILE);
}
