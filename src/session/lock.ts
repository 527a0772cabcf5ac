/**
 * One writer per session across processes: `sessions/<id>/.lock` holds `{pid, host, startedAt,
 * procStart}`, created with O_EXCL. A lock whose process is gone (same host, and the pid is dead or
 * belongs to a process started at another time) is reclaimed; reclaimers serialise through a
 * short-lived `.lock.reclaim` so two of them never both win.
 */

import type { Stats } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { LOCK_FILE, LOCK_RECLAIM_FILE } from "../core/session-layout.ts";
import { errnoCode, SessionLockedError, StorageError } from "../errors.ts";
import { syncNewDirectories } from "../fs/atomic-file.ts";
import { closeQuietly, io, readTextFileSync, removeFile, writeAllSync } from "../fs/io.ts";
import { removeOrRemember, retryRemovals } from "../fs/leftovers.ts";
import { randomHex } from "../fs/random-hex.ts";
import { type LockInfo, readLock, releaser, retryUnreleased } from "./lock-file.ts";

export type { LockInfo };

/** A reclaim marker older than this was left by a crash mid-reclaim. */
const STALE_RECLAIM_MS = 10_000;

/** Start time of a process from /proc (Linux); undefined elsewhere or when it is gone. */
function procStartOf(pid: number): string | undefined {
  try {
    const stat = readTextFileSync(`/proc/${pid}/stat`);
    // Field 22; the command name (field 2) may contain spaces, so count from the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Age of the file itself (never of what a link points at); 0 when it is gone. */
function lockAgeMs(path: string): number {
  try {
    return Date.now() - io.lstatSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Refuses a lock path that is not a regular file: this library only ever creates regular files
 * there, so a directory, a symbolic link (dangling or not) or anything else was put there by
 * someone else, and neither reading through it nor removing it is safe.
 */
function assertRegularOrAbsent(path: string, what: string): void {
  let stat: Stats;
  try {
    stat = io.lstatSync(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return;
    throw new StorageError(`[lock] could not stat ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  }
  if (stat.isFile()) return;
  const kind = stat.isDirectory()
    ? "a directory"
    : stat.isSymbolicLink()
      ? "a symbolic link"
      : "not a regular file";
  throw new StorageError(
    `[lock] ${path} is ${kind}, not the ${what} this library writes; remove it if no writer uses the session`,
    { code: "EFTYPE", path },
  );
}

/** A zombie (dead, not yet reaped by its parent) holds nothing. */
function isZombie(pid: number): boolean {
  try {
    const stat = readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

function isAlive(info: LockInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    if (errnoCode(error) === "ESRCH") return false;
  }
  if (isZombie(info.pid)) return false;
  if (info.procStart === undefined) return true;
  const now = procStartOf(info.pid);
  return now === undefined || now === info.procStart;
}

function describeHolder(info: LockInfo | undefined): string {
  if (info === undefined) return "another writer (lock file unreadable)";
  return `pid ${info.pid} on ${info.host} since ${info.startedAt}`;
}

/**
 * Creates the lock with its content already in place: written to a private temp file, fsync'd,
 * then hard-linked to `.lock` (atomic, and EEXIST when held), so no one ever reads an empty lock.
 */
function tryCreate(path: string, info: LockInfo): boolean {
  const tmp = `${path}.${process.pid}.${randomHex(4)}`;
  try {
    const fd = io.openSync(tmp, "wx", 0o644);
    try {
      writeAllSync(fd, Buffer.from(JSON.stringify(info)), 0);
      io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
    io.linkSync(tmp, path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return false;
    throw new StorageError(`[lock] could not create ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  } finally {
    removeOrRemember(tmp); // never throws: the lock may be taken already
  }
}

/** Takes the session's lock (creating the folder); returns its release function. */
export function acquireSessionLock(sessionDir: string, sessionId: string): () => void {
  try {
    // Durably: a folder only its fsync'd parent knows of would vanish in a power loss, and with it
    // every journal line and METRICS.json that sync() and flush() said were on disk.
    syncNewDirectories(io.mkdirSync(sessionDir, { recursive: true, mode: 0o755 }), sessionDir);
  } catch (error) {
    throw new StorageError(
      `[lock] could not create the session folder ${sessionDir}: ${(error as Error).message}`,
      {
        cause: error,
        path: sessionDir,
      },
    );
  }
  const path = join(sessionDir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    procStart: procStartOf(process.pid),
  };
  retryRemovals(); // temp files and a reclaim marker an earlier failure could not remove
  retryUnreleased(path);
  for (let attempt = 0; attempt < 5; attempt++) {
    assertRegularOrAbsent(path, "lock file");
    if (tryCreate(path, info)) return releaser(path, info);
    const holder = readLock(path);
    // An unreadable lock can only come from another tool or a damaged disk (ours are written
    // whole); once it is old, treat it as left behind.
    const reclaimable =
      holder === undefined
        ? lockAgeMs(path) > STALE_RECLAIM_MS
        : holder.host === info.host && !isAlive(holder);
    if (!reclaimable)
      throw new SessionLockedError(
        `[lock] session ${JSON.stringify(sessionId)} is being written by ${describeHolder(holder)} (${path}); stop that writer or use another session id`,
      );
    reclaim(sessionDir, path, holder);
    Bun.sleepSync(1);
  }
  throw new SessionLockedError(
    `[lock] session ${JSON.stringify(sessionId)}: could not take ${path} after 5 attempts`,
  );
}

/** Removes a dead holder's lock, but only while holding the reclaim marker and only if unchanged. */
function reclaim(sessionDir: string, path: string, dead: LockInfo | undefined): void {
  const marker = join(sessionDir, LOCK_RECLAIM_FILE);
  assertRegularOrAbsent(marker, "reclaim marker");
  // A marker left by a crash mid-reclaim is removed once it is old.
  let fd: number;
  try {
    if (lockAgeMs(marker) > STALE_RECLAIM_MS) removeFile(marker);
    fd = io.openSync(marker, "wx");
  } catch (error) {
    if (errnoCode(error) === "EEXIST") {
      Bun.sleepSync(5); // someone else is reclaiming; give them a moment, then retry creating
      return;
    }
    throw new StorageError(`[lock] could not create ${marker}: ${(error as Error).message}`, {
      cause: error,
      path: marker,
    });
  }
  try {
    const current = readLock(path);
    const unchanged =
      dead === undefined
        ? current === undefined
        : current !== undefined && current.pid === dead.pid && current.startedAt === dead.startedAt;
    if (unchanged) removeFile(path);
  } catch (error) {
    throw new StorageError(`[lock] could not remove the stale ${path}: ${(error as Error).message}`, {
      cause: error,
      code: errnoCode(error),
      path,
    });
  } finally {
    closeQuietly(fd); // nothing was written to the marker: a failed close loses nothing
    removeOrRemember(marker); // left, it would hold every reclaim off for STALE_RECLAIM_MS
  }
}
