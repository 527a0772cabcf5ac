/**
 * The sessions directory as readers see it (the HTTP API and the CLI): which folders hold a
 * session, whether one exists, and a cheap identity of its files so that views computed from
 * them can be cached until they change. Nothing here follows a symbolic link or writes.
 */
import type { Dirent } from "node:fs";
import { sep } from "node:path";
import { assertSessionId } from "../core/session-id.ts";
import { JOURNAL_FILE, METRICS_FILE } from "../core/session-layout.ts";
import { errnoCode, StorageError } from "../errors.ts";
import { io } from "../fs/io.ts";

/** `inode:size:mtime` of a regular file, `-` when it is missing (or not a regular file). */
export function fileIdentity(path: string): string {
  try {
    const s = io.lstatSync(path);
    return s.isFile() ? `${s.ino}:${s.size}:${s.mtimeMs}` : "-";
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return "-";
    throw new StorageError(`[read] could not stat ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  }
}

/**
 * The identity of a session's two files (journal, METRICS.json): equal identities mean equal
 * contents as far as any reader can tell. `"-|-"` means there is no session.
 */
export function sessionIdentity(sessionsDir: string, sessionId: string): string {
  // Joined by hand: path.join costs more than the two lstat calls on the document's hot path,
  // and a validated id has no separator or dot segment to normalise.
  const folder = `${sessionsDir}${sep}${sessionId}${sep}`;
  return `${fileIdentity(folder + JOURNAL_FILE)}|${fileIdentity(folder + METRICS_FILE)}`;
}

export const NO_SESSION = "-|-";

/** Whether an error means "no such session" (exit code 3, HTTP 404). */
export function isNotFound(error: unknown): boolean {
  return error instanceof StorageError && error.code === "ENOENT";
}

/**
 * Validates the id, then checks the session exists; returns its identity.
 * @throws InvalidSessionIdError before any file is touched; StorageError (ENOENT) when missing.
 */
export function requireSession(sessionsDir: string, sessionId: string): string {
  assertSessionId(sessionId);
  const identity = sessionIdentity(sessionsDir, sessionId);
  // Code ENOENT, as verifyJournal gives for a missing session: every reader tells it the same way.
  if (identity === NO_SESSION)
    throw new StorageError(
      `[read] there is no session ${JSON.stringify(sessionId)} in ${sessionsDir} (no METRICS.json or journal.jsonl)`,
      { code: "ENOENT", path: sessionsDir },
    );
  return identity;
}

/**
 * Ids of the folders that hold a session (a valid session id holding METRICS.json or
 * journal.jsonl), in byte order. A missing directory has none; `node_modules`, dot folders,
 * symbolic links and stray files are not sessions.
 */
export function listSessionIds(sessionsDir: string): string[] {
  let entries: Dirent[];
  try {
    entries = io.readdirEntriesSync(sessionsDir);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return [];
    throw new StorageError(`[read] could not list ${sessionsDir}: ${(error as Error).message}`, {
      cause: error,
      path: sessionsDir,
    });
  }
  const ids: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    try {
      assertSessionId(entry.name);
    } catch {
      continue;
    }
    if (sessionIdentity(sessionsDir, entry.name) !== NO_SESSION) ids.push(entry.name);
  }
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
