/**
 * A journal read as a stream, for analytics over sessions of any size: the file is read in 1 MiB
 * chunks through the thread pool (each read an await, so the event loop runs between chunks),
 * and memory holds one chunk plus what the fold keeps (distinct keys), never the whole file.
 * Same checks and problems as the whole-file scan (`JournalScanner`).
 */
import type { MetricEvent } from "../core/events.ts";
import { createState, type SessionState } from "../core/state.ts";
import { StorageError } from "../errors.ts";
import { closeQuietly, io } from "../fs/io.ts";
import { openRegularFile } from "../fs/regular-file.ts";
import { type JournalScan, JournalScanner, scanLines } from "./reader.ts";

const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Scans the journal at `path` chunk by chunk, folding each valid event into `state` and then
 * calling `visit` with it. A missing file scans as empty; a symbolic link is refused.
 * @throws StorageError when the file cannot be read
 */
export async function streamJournal(
  path: string,
  visit: (event: MetricEvent, state: SessionState) => void,
  state: SessionState = createState("", 0),
): Promise<JournalScan> {
  const scanner = new JournalScanner(state, visit);
  let fd: number;
  try {
    fd = openRegularFile(path, "read", "journal");
  } catch (error) {
    if (error instanceof StorageError && (error.code === "ENOENT" || error.code === "ENOTDIR"))
      return scanner.end(0);
    throw error;
  }
  let carry = new Uint8Array(0);
  let total = 0;
  try {
    for (;;) {
      const buffer = new Uint8Array(carry.length + CHUNK_BYTES);
      buffer.set(carry);
      const bytesRead = await read(fd, buffer, carry.length, total);
      total += bytesRead;
      const filled = buffer.subarray(0, carry.length + bytesRead);
      const last = filled.lastIndexOf(NEWLINE);
      if (last >= 0) scanLines(scanner, filled.subarray(0, last + 1));
      carry = filled.slice(last + 1);
      if (bytesRead === 0) break;
    }
  } catch (error) {
    throw new StorageError(`[journal] could not read ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  } finally {
    closeQuietly(fd); // read only: a failed close loses nothing
  }
  return scanner.end(total);
}

/** One read at `position` into `buffer` from `offset`, in the thread pool. */
function read(fd: number, buffer: Uint8Array, offset: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    io.read(fd, buffer, offset, buffer.length - offset, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    ),
  );
}
