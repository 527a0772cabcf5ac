/**
 * Files this process made and could not remove because the disk refused the unlink too (a
 * persistent EIO): a temp file of an atomic write, a lock's private temp file, a reclaim marker.
 * They are removed by the next atomic write or lock operation of this process once the disk is
 * back, so a fault that clears leaves nothing behind without a restart.
 *
 * A module-level set, on purpose: the temp names are random and private to this process, nothing
 * else could find them again without listing every folder, and the set is empty (one size check)
 * unless a removal failed.
 */
import { join } from "node:path";
import { io, removeFile } from "./io.ts";

const pending = new Set<string>();

/** Removes `path`, or remembers it for {@link retryRemovals} when the removal fails. Never throws. */
export function removeOrRemember(path: string): void {
  try {
    removeFile(path);
    pending.delete(path);
  } catch {
    pending.add(path);
  }
}

/** Tries the removals that failed before again; those that still fail stay remembered. */
export function retryRemovals(): void {
  if (pending.size === 0) return;
  for (const path of [...pending]) removeOrRemember(path);
}

/** Paths still waiting to be removed (for tests). */
export function pendingRemovals(): string[] {
  return [...pending];
}

/** Temp names this library makes in a session folder: atomic writes' and the lock's own. */
const TEMP_NAME = /^\.(?:[^/]+\.[0-9a-f]{12}\.tmp|lock\.\d+\.[0-9a-f]{8})$/;

/** A temp file this old cannot belong to a write in progress (one takes milliseconds). */
export const STALE_TEMP_MS = 60_000;

/**
 * Removes temp files a crash (or a power loss) left in `dir`: regular files (or links, which are
 * removed, never followed) named as this library names its temp files and untouched for
 * {@link STALE_TEMP_MS}. Called by the owner of a session's lock when it opens the folder; a
 * lockless `save()` in progress elsewhere is spared by the age. Never throws: housekeeping must
 * not stop an open. Returns the names it removed.
 */
export function removeStaleTemps(dir: string, now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = io.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!TEMP_NAME.test(name)) continue;
    const path = join(dir, name);
    try {
      const stat = io.lstatSync(path);
      if (stat.isDirectory() || now - stat.mtimeMs < STALE_TEMP_MS) continue;
      removeFile(path);
      removed.push(name);
    } catch {
      // gone already, or the disk refuses: the next open tries again
    }
  }
  return removed;
}
