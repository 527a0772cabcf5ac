/**
 * Crash-safe replacement of a file: temp file in the same directory (random name, exclusive
 * create, so a planted symlink is never followed) → write → fsync → rename over the target →
 * fsync the directory. A failure leaves the previous file byte-identical and no temp file behind.
 */

import { basename, dirname, join } from "node:path";
import { errnoCode, StorageError } from "../errors.ts";
import { fs, fsp } from "../runtime/lazy-node.ts";
import { randomHex } from "../runtime/random-hex.ts";

export const FILE_MODE = 0o644;
export const DIR_MODE = 0o755;

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomHex(6)}.tmp`);
}

function storageError(action: string, path: string, cause: unknown): StorageError {
  const code = errnoCode(cause);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(`[write] could not ${action} ${path}: ${reason}; the previous file is unchanged`, {
    cause,
    code,
    path,
  });
}

/** Directories that cannot be fsync'd (some filesystems say EINVAL) are not an error. */
function ignorableDirSyncError(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "EINVAL" || code === "ENOTSUP" || code === "EISDIR";
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = tempPath(path);
  let created = false;
  try {
    await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
    const handle = await fsp.open(tmp, "wx", FILE_MODE);
    created = true;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, path);
    created = false;
  } catch (error) {
    if (created) await fsp.rm(tmp, { force: true }).catch(() => {});
    throw storageError("write", path, error);
  }
  try {
    const dirHandle = await fsp.open(dir, "r");
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (error) {
    if (!ignorableDirSyncError(error)) throw storageError("fsync the directory of", path, error);
  }
}

/** The same steps, synchronously: for exit handlers, where no promise will ever settle. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  const tmp = tempPath(path);
  let created = false;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    const fd = fs.openSync(tmp, "wx", FILE_MODE);
    created = true;
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    created = false;
  } catch (error) {
    if (created) fs.rmSync(tmp, { force: true });
    throw storageError("write", path, error);
  }
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    if (!ignorableDirSyncError(error)) throw storageError("fsync the directory of", path, error);
  }
}
