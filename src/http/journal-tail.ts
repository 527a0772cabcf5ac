/**
 * Follows a live journal: the events appended after a point, as they land. Only new bytes are
 * read (from the last offset); a line still being written waits for its newline; every line is
 * checked with the journal's own decoder. Changes are noticed through `fs.watch` on the session
 * folder, with a slow poll as a safety net for filesystems without notifications — and both
 * exist only while the tail is open: an idle server has no timer.
 *
 * A journal rewritten under the tail (a collector's recovery replaces it) is read again from
 * the start, skipping the seqs already delivered.
 */
import * as fs from "node:fs"; // fs.watch only: every read goes through `io`
import { dirname } from "node:path";
import type { MetricEvent } from "../core/events.ts";
import { StorageError } from "../errors.ts";
import { closeQuietly, io } from "../fs/io.ts";
import { openRegularFile } from "../fs/regular-file.ts";
import { decodeEventLine } from "../journal/line-codec.ts";

export interface JournalTailOptions {
  /** Deliver events with a seq above this one (a resume); default: only events appended from now on. */
  afterSeq?: number;
  onEvent: (event: MetricEvent) => void;
  /** A line that fails its checks (it is skipped). */
  onProblem: (reason: string, offset: number) => void;
}

export interface JournalTail {
  close(): void;
}

const NEWLINE = 0x0a;
/** The safety-net poll while the tail is open. */
const POLL_MS = 1_000;

/** A descriptor of the journal, or undefined while it does not exist yet. */
function openIfPresent(path: string): number | undefined {
  try {
    return openRegularFile(path, "read", "events");
  } catch (error) {
    if (error instanceof StorageError && error.code === "ENOENT") return undefined;
    throw error;
  }
}

export function tailJournal(path: string, options: JournalTailOptions): JournalTail {
  let offset = 0;
  let inode = 0;
  let lastSeq = options.afterSeq ?? 0;
  let closed = false;
  let scheduled = false;

  /** Reads [offset, end) and delivers its complete lines. */
  function poll(): void {
    scheduled = false;
    if (closed) return;
    const fd = openIfPresent(path);
    if (fd === undefined) return; // not written yet
    try {
      const stat = io.fstatSync(fd);
      if (stat.ino !== inode || stat.size < offset) {
        // A new file (or one cut shorter): read it from the start; seqs already sent are skipped.
        if (inode !== 0 || options.afterSeq !== undefined || offset > 0) offset = 0;
        inode = stat.ino;
      }
      if (stat.size === offset) return;
      const bytes = Buffer.allocUnsafe(stat.size - offset);
      const read = io.readSync(fd, bytes, 0, bytes.length, offset);
      deliver(bytes.subarray(0, read));
    } finally {
      closeQuietly(fd);
    }
  }

  function deliver(bytes: Uint8Array): void {
    let start = 0;
    for (;;) {
      const end = bytes.indexOf(NEWLINE, start);
      if (end < 0) break; // a line still being written: read again once it is complete
      const line = bytes.subarray(start, end);
      const at = offset + start;
      start = end + 1;
      if (line.length === 0) continue;
      const decoded = decodeEventLine(line);
      if (!decoded.ok) {
        options.onProblem(decoded.reason, at);
        continue;
      }
      const event = decoded.event;
      if (event.seq <= lastSeq) continue;
      lastSeq = event.type === "lost" ? event.seq + event.count - 1 : event.seq;
      options.onEvent(event);
      if (closed) break;
    }
    offset += start;
  }

  function schedule(): void {
    if (scheduled || closed) return;
    scheduled = true;
    // Notifications come in bursts (one per group write): read once per turn of the loop.
    setImmediate(() => {
      try {
        poll();
      } catch (error) {
        options.onProblem((error as Error).message, offset);
      }
    });
  }

  // Where to start: after the last complete line now on disk, unless resuming from a seq.
  if (options.afterSeq === undefined) offset = endOfLastLine(path);
  else poll();
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(dirname(path), { persistent: false }, schedule);
    watcher.on("error", () => watcher?.close());
  } catch {
    watcher = undefined; // no notifications here: the poll does it
  }
  const timer = setInterval(schedule, POLL_MS);
  return {
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      watcher?.close();
    },
  };

  function endOfLastLine(file: string): number {
    const fd = openIfPresent(file);
    if (fd === undefined) return 0;
    try {
      const stat = io.fstatSync(fd);
      inode = stat.ino;
      // Look back in growing windows for the last newline (lines are small; a restore may not be).
      for (let window = 64 * 1024; ; window *= 4) {
        const from = Math.max(0, stat.size - window);
        const bytes = Buffer.allocUnsafe(stat.size - from);
        io.readSync(fd, bytes, 0, bytes.length, from);
        const last = bytes.lastIndexOf(NEWLINE);
        const previous = last > 0 ? bytes.lastIndexOf(NEWLINE, last - 1) : -1;
        if (last >= 0 && (previous >= 0 || from === 0)) {
          // Remember the seq there, so a rewritten journal is not sent again from its start.
          const decoded = decodeEventLine(bytes.subarray(previous + 1, last));
          if (decoded.ok) lastSeq = decoded.event.seq;
          return from + last + 1;
        }
        if (from === 0) return 0;
      }
    } finally {
      closeQuietly(fd);
    }
  }
}
