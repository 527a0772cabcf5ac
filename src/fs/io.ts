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
  /** `readdirSync(path, { withFileTypes: true })`. */
  readdirEntriesSync(path: string): fs.Dirent[];
  statSync(path: string): fs.Stats;
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
  readdirEntriesSync: (path) => fs.readdirSync(path, { withFileTypes: true }),
  statSync: (path) => fs.statSync(path),
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

/** Whether `path` exists (following links), as `fs.existsSync`: any error reads as "no". */
export function pathExists(path: string): boolean {
  try {
    io.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first read is sized by fstat, one byte more than the file: a small file costs one
 * allocation of its own size and one read (an ingest reads thousands of them), and a read that
 * fills the buffer means the file grew, so reading goes on to its end.
 */
function firstChunkSize(fd: number): number {
  return Math.max(io.fstatSync(fd).size + 1, 4096);
}

const MIN_CHUNK = 64 * 1024;

/** Reads `fd` from byte 0 to its end (a file may grow or shrink while it is read). */
export function readAllSync(fd: number): Buffer {
  const chunks: Buffer[] = [];
  let position = 0;
  for (let size = firstChunkSize(fd); ; size = MIN_CHUNK) {
    const chunk = Buffer.allocUnsafe(size);
    const n = io.readSync(fd, chunk, 0, chunk.length, position);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    position += n;
    if (n < chunk.length) break; // a regular file's short read is its end
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, position);
}

/** `readAllSync` with each read in the thread pool. */
export async function readAll(fd: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let position = 0;
  for (let size = firstChunkSize(fd); ; size = MIN_CHUNK) {
    const chunk = Buffer.allocUnsafe(size);
    const n = await new Promise<number>((resolve, reject) =>
      io.read(fd, chunk, 0, chunk.length, position, (error, bytesRead) =>
        error ? reject(error) : resolve(bytesRead),
      ),
    );
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    position += n;
    if (n < chunk.length) break; // a regular file's short read is its end
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, position);
}

/**
 * Writes all of `bytes`: a short write (a full disk, a signal) is continued where it stopped,
 * so the file never keeps half a record that the caller believes whole. `position` null appends
 * at the file's offset (O_APPEND files); a number writes from there on.
 */
export function writeAllSync(fd: number, bytes: Uint8Array, position: number | null = null): void {
  let written = 0;
  while (written < bytes.length) {
    const at = position === null ? null : position + written;
    written += progress(io.writeSync(fd, bytes, written, bytes.length - written, at));
  }
}

/** A write that moves nothing would loop for ever: it is an error (as the C library treats it). */
function progress(n: number): number {
  if (n > 0) return n;
  throw Object.assign(new Error("EIO: a write made no progress"), { code: "EIO", syscall: "write" });
}

/** `writeAllSync` with each write in the thread pool. */
export function writeAll(fd: number, bytes: Uint8Array, position: number | null = null): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (written: number) => {
      if (written >= bytes.length) return resolve();
      const at = position === null ? null : position + written;
      io.write(fd, bytes, written, bytes.length - written, at, (error, n) => {
        if (error) return reject(error);
        try {
          next(written + progress(n));
        } catch (stalled) {
          reject(stalled);
        }
      });
    };
    next(0);
  });
}

/** `io.fsync` as a promise. */
export function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => io.fsync(fd, (error) => (error ? reject(error) : resolve())));
}

/** `io.rename` as a promise. */
export function renameAsync(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) =>
    io.rename(from, to, (error) => (error ? reject(error) : resolve())),
  );
}

/**
 * Closes `fd`, ignoring a failure: for a file only read from (nothing of ours can be lost), or when
 * another error is already being reported.
 */
export function closeQuietly(fd: number): void {
  try {
    io.closeSync(fd);
  } catch {
    // see above
  }
}

/** A whole file as UTF-8 text, following links (for files the user or a package names, and /proc). */
export function readTextFileSync(path: string): string {
  const fd = io.openSync(path, "r");
  try {
    return readAllSync(fd).toString("utf8");
  } finally {
    closeQuietly(fd);
  }
}

/** `readTextFileSync` with the reads in the thread pool. */
export async function readTextFile(path: string): Promise<string> {
  const fd = io.openSync(path, "r");
  try {
    return (await readAll(fd)).toString("utf8");
  } finally {
    closeQuietly(fd);
  }
}
