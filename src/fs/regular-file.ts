/**
 * Opening the files of a session folder without ever following a symbolic link (the collector
 * often runs as root: a planted `journal.jsonl → /etc/passwd` must not be appended to, truncated
 * or copied) and only when they are regular files. Anything else is a `StorageError` naming it.
 */
import { constants } from "node:fs";
import { errnoCode, StorageError } from "../errors.ts";
import { closeQuietly, io, readAllSync } from "./io.ts";

const { O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } = constants;

// O_NONBLOCK: opening a planted FIFO must not wait for its other end (it is then refused by the
// fstat check below); on a regular file it changes nothing.
const FLAGS = {
  read: O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
  append: O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK,
  update: O_RDWR | O_NOFOLLOW | O_NONBLOCK,
} as const;

export type OpenMode = keyof typeof FLAGS;

/**
 * Opens `path` (created 0644 in `append` mode). @throws StorageError when it is a symbolic link,
 * not a regular file, or cannot be opened (`code` keeps the errno, ENOENT included).
 */
export function openRegularFile(path: string, mode: OpenMode, area: string): number {
  let fd: number;
  try {
    fd = io.openSync(path, FLAGS[mode], 0o644);
  } catch (error) {
    const code = errnoCode(error);
    // ELOOP: the last component is a symbolic link (O_NOFOLLOW).
    const why =
      code === "ELOOP" ? "it is a symbolic link, which is never followed" : (error as Error).message;
    throw new StorageError(`[${area}] could not open ${path}: ${why}`, { cause: error, code, path });
  }
  let kind: string | undefined;
  try {
    const stat = io.fstatSync(fd);
    if (!stat.isFile()) kind = stat.isDirectory() ? "a directory" : "not a regular file";
  } catch (error) {
    closeQuietly(fd);
    throw new StorageError(`[${area}] could not stat ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  }
  if (kind !== undefined) {
    closeQuietly(fd);
    throw new StorageError(`[${area}] refusing to use ${path}: it is ${kind}`, { code: "EFTYPE", path });
  }
  return fd;
}

/** Reads a whole regular file; `null` when it does not exist. Never follows a symbolic link. */
export function readRegularFile(path: string, area: string): Uint8Array | null {
  let fd: number;
  try {
    fd = openRegularFile(path, "read", area);
  } catch (error) {
    if (error instanceof StorageError && (error.code === "ENOENT" || error.code === "ENOTDIR")) return null;
    throw error;
  }
  try {
    return readAllSync(fd);
  } catch (error) {
    throw new StorageError(`[${area}] could not read ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  } finally {
    closeQuietly(fd);
  }
}
