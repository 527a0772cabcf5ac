/**
 * The one seam under every file operation of the library. Production code calls `io.openSync(…)`
 * instead of `fs.openSync(…)`: the methods are Node's own functions, so the cost is one property
 * load, and nothing on the record path touches a file anyway. The torture suite
 * (`test/torture/`) swaps in a wrapper with `useFileIO()` to fail the n-th call with ENOSPC or EIO,
 * to cut a write short, or to remember unsynced writes and "lose power".
 *
 * Why a swappable object rather than an option passed down: every layer from `fs/` to `store/`
 * would have to thread it through public constructors and free functions (`load`, `save`,
 * `verifyJournal`, …) for the sake of tests alone; the object keeps the public API unchanged.
 *
 * Only the operations the library uses are here. Asynchronous ones (callback style, run in the
 * thread pool) are the steps that can wait on a disk: write, read, fsync, rename.
 */
import * as fs from "node:fs";

export interface FileIO {
  openSync(path: string, flags: number | string, mode?: number): number;
  closeSync(fd: number): void;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  writeSync(
    fd: number,
    buffer: Uint8Array,
    offset?: number,
    length?: number,
    position?: number | null,
  ): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
  fstatSync(fd: number): fs.Stats;
  lstatSync(path: string): fs.Stats;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  rmdirSync(path: string): void;
  mkdirSync(path: string, options: { recursive: boolean; mode: number }): string | undefined;
  linkSync(existing: string, created: string): void;
  readdirSync(path: string): string[];
  read(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
    callback: (error: NodeJS.ErrnoException | null, bytesRead: number) => void,
  ): void;
  write(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
    callback: (error: NodeJS.ErrnoException | null, written: number) => void,
  ): void;
  fsync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  rename(from: string, to: string, callback: (error: NodeJS.ErrnoException | null) => void): void;
}

/** Node's `fs`, as the library uses it. */
export const nodeFileIO: Readonly<FileIO> = Object.freeze<FileIO>({
  openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
  closeSync: (fd) => fs.closeSync(fd),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSync: (fd) => fs.fstatSync(fd),
  lstatSync: (path) => fs.lstatSync(path),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (path) => fs.unlinkSync(path),
  rmdirSync: (path) => fs.rmdirSync(path),
  mkdirSync: (path, options) => fs.mkdirSync(path, options),
  linkSync: (existing, created) => fs.linkSync(existing, created),
  readdirSync: (path) => fs.readdirSync(path),
  read: (fd, buffer, offset, length, position, callback) =>
    fs.read(fd, buffer, offset, length, position, callback),
  write: (fd, buffer, offset, length, position, callback) =>
    fs.write(fd, buffer, offset, length, position, callback),
  fsync: (fd, callback) => fs.fsync(fd, callback),
  rename: (from, to, callback) => fs.rename(from, to, callback),
});

/** The operations in use: Node's unless a test swapped them. */
export const io: FileIO = { ...nodeFileIO };

/**
 * Replaces the file operations (tests only) and returns the function that restores the previous
 * ones. Wrappers usually delegate to `nodeFileIO`.
 */
export function useFileIO(replacement: FileIO): () => void {
  const previous = { ...io };
  Object.assign(io, replacement);
  return () => {
    Object.assign(io, previous);
  };
}

/** Removes a file; a missing one is not an error (`rm -f`). */
export function removeFile(path: string): void {
  try {
    io.unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
