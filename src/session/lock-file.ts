/**
 * The lock file itself: what it says (`LockInfo`), reading it without following a link, and
 * releasing our own lock — also when the disk refused the removal once, in which case a later
 * release or the next open of the session in this process removes it.
 */
import { constants } from "node:fs";
import { resolve } from "node:path";
import { errnoCode, StorageError } from "../errors.ts";
import { closeQuietly, io, readAllSync, removeFile } from "../fs/io.ts";
import { retryRemovals } from "../fs/leftovers.ts";

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  /** Linux process start time (clock ticks since boot), guards against pid reuse. */
  procStart?: string;
}

/** The holder a lock names; undefined when its content is not a lock this library wrote. */
export function readLock(path: string): LockInfo | undefined {
  try {
    const text = lockText(path);
    return text === null ? undefined : parseLock(text);
  } catch {
    return undefined; // unreadable or foreign: treated as unknown, i.e. held until it is old
  }
}

/** The lock file's text (never through a link); null when there is none. @throws on I/O errors */
function lockText(path: string): string | null {
  let fd: number;
  try {
    fd = io.openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    throw error;
  }
  try {
    return readAllSync(fd).toString("utf8");
  } finally {
    closeQuietly(fd);
  }
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const value = JSON.parse(text) as LockInfo;
    // pid 0, −1 or 1.5 would make kill(pid, 0) test a process group (or throw): not a holder.
    return Number.isSafeInteger(value?.pid) && value.pid > 0 && typeof value.host === "string"
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Locks of this process whose removal failed (the disk refused): removed by the next open of the
 * same session in this process (the in-process claim, taken first, proves no live collector of
 * ours holds it) or by calling the release again. Keyed by absolute path.
 */
const unreleased = new Map<string, LockInfo>();

function isOurs(current: LockInfo | undefined, info: LockInfo): boolean {
  return current?.pid === info.pid && current.startedAt === info.startedAt;
}

/** Removes our lock at `path` if it is still ours. @throws StorageError when the disk refuses. */
function removeOwnLock(path: string, info: LockInfo): void {
  try {
    const text = lockText(path);
    // Never remove a lock that is not ours (e.g. reclaimed after we were presumed dead).
    if (text !== null && isOurs(parseLock(text), info)) removeFile(path);
  } catch (error) {
    unreleased.set(resolve(path), info);
    throw new StorageError(
      `[lock] could not release ${path}: ${(error as Error).message}; stop() again, or the next open of the session in this process, removes it`,
      { cause: error, code: errnoCode(error), path },
    );
  }
  unreleased.delete(resolve(path));
}

/** Our own lock left by a release that failed: removed now, if the disk lets us. */
export function retryUnreleased(path: string): void {
  const info = unreleased.get(resolve(path));
  if (info === undefined) return;
  try {
    removeOwnLock(path, info);
  } catch {
    // still refused; the attempt to take the lock below reports the state
  }
}

export function releaser(path: string, info: LockInfo): () => void {
  let released = false;
  return () => {
    if (released) return;
    retryRemovals();
    removeOwnLock(path, info);
    released = true;
  };
}
