/**
 * `verifyJournal`: a read-only check of a session's journal, for people and the CLI — how many
 * valid events it holds, the last seq, and every problem (bad line, gap, torn tail) with where it
 * is and which seqs it sits between. Nothing is modified.
 */
import { assertSessionId } from "../core/session-id.ts";
import { journalPath, metricsPath, sessionPath } from "../core/session-layout.ts";
import { StorageError } from "../errors.ts";
import { pathExists } from "../fs/io.ts";
import { type JournalProblem, scanJournal } from "./reader.ts";

export interface JournalVerification {
  /** Valid events. */
  events: number;
  /** seq of the last valid event (0 when none). */
  lastSeq: number;
  /** Every problem in file order; a torn last line is the last one (reason `torn last line …`). */
  problems: Omit<JournalProblem, "length">[];
}

/**
 * Checks `<sessionsDir>/<sessionId>/journal.jsonl`. A session that only has METRICS.json (a Go
 * session, or `journal: false`) verifies as `{ events: 0, lastSeq: 0, problems: [] }`.
 * @throws InvalidSessionIdError; StorageError (code `ENOENT`) when the session does not exist
 */
export async function verifyJournal(sessionsDir: string, sessionId: string): Promise<JournalVerification> {
  assertSessionId(sessionId);
  const path = journalPath(sessionsDir, sessionId);
  if (!pathExists(path) && !pathExists(metricsPath(sessionsDir, sessionId)))
    throw new StorageError(
      `[verify] there is no session ${JSON.stringify(sessionId)} in ${sessionsDir} (no ${path})`,
      { code: "ENOENT", path: sessionPath(sessionsDir, sessionId) },
    );
  const scan = scanJournal(path, () => {});
  const problems: JournalVerification["problems"] = scan.problems.map(({ length: _length, ...p }) => p);
  if (scan.tailReason !== undefined)
    problems.push({
      line: scan.tailLine ?? 0,
      offset: scan.validBytes,
      seqBefore: scan.lastSeq,
      seqAfter: 0,
      reason: scan.tailReason,
    });
  return { events: scan.events, lastSeq: scan.lastSeq, problems };
}
