/**
 * Reading a journal: the longest valid prefix (checksums good, `seq` gap-free) is the truth.
 * Recovery sets a torn or corrupt tail aside in `journal.corrupt-<timestamp>` and truncates it
 * off, so appends continue after the last good line.
 */

import * as fs from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../core/events.ts";
import { CORRUPT_PREFIX, JOURNAL_FILE } from "../core/session-layout.ts";
import { errnoCode, StorageError } from "../errors.ts";
import { randomHex } from "../fs/random-hex.ts";
import type { Logger } from "../logger.ts";
import { decodeEventAt } from "./line-codec.ts";

export interface JournalScan {
  /** Events in the valid prefix. */
  events: number;
  /** Byte length of the valid prefix (where appends continue). */
  validBytes: number;
  totalBytes: number;
  /** seq of the last valid event (0 when none). */
  lastSeq: number;
  /** Why the first bad line was refused; undefined when the whole file is valid. */
  tailReason?: string;
  /** 1-based line number of the first bad line. */
  tailLine?: number;
}

/** Scans journal bytes, calling `visit` for each event of the valid prefix in order. */
export function scanJournalBytes(bytes: Uint8Array, visit: (event: MetricEvent) => void): JournalScan {
  const scan: JournalScan = { events: 0, validBytes: 0, totalBytes: bytes.length, lastSeq: 0 };
  // One decode of the whole file; lines are then substrings (cheap), checked against their crc.
  const text = utf8.decode(bytes);
  // Pure ASCII (the usual case): character offsets are byte offsets.
  const ascii = text.length === bytes.length;
  let start = 0;
  let byteOffset = 0;
  while (start < text.length) {
    const end = text.indexOf("\n", start);
    if (end < 0) return fail(scan, "torn last line (no newline)");
    const event = decodeEventAt(text, start, end);
    if (typeof event === "string") return fail(scan, event);
    const seq = event.seq;
    if (scan.events > 0 && seq !== scan.lastSeq + 1)
      return fail(scan, `seq ${seq} does not follow ${scan.lastSeq}`);
    visit(event);
    scan.events++;
    // A `lost` marker stands for `count` events the writer had to shed: the next seq skips them.
    scan.lastSeq = event.type === "lost" ? seq + event.count - 1 : seq;
    byteOffset = ascii ? end + 1 : byteOffset + Buffer.byteLength(text.slice(start, end)) + 1;
    start = end + 1;
    scan.validBytes = byteOffset;
  }
  return scan;
}

const utf8 = new TextDecoder();

function fail(scan: JournalScan, reason: string): JournalScan {
  scan.tailReason = reason;
  scan.tailLine = scan.events + 1;
  return scan;
}

/** Reads a whole journal file; a missing file reads as empty. */
export function readJournalFile(path: string): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return new Uint8Array(0);
    throw new StorageError(`[journal] could not read ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  }
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } catch {
    // some filesystems cannot fsync a directory; the file itself is synced
  } finally {
    fs.closeSync(fd);
  }
}

/** Scans a journal file without changing it. */
export function scanJournal(path: string, visit: (event: MetricEvent) => void): JournalScan {
  return scanJournalBytes(readJournalFile(path), visit);
}

/**
 * Scans the session's journal and, if its tail is torn or corrupt, moves the tail bytes to
 * `journal.corrupt-<timestamp>` and truncates the journal to its valid prefix (reported through
 * `logger`, never thrown). Returns the scan of what remains.
 */
export function recoverJournal(
  sessionDir: string,
  visit: (event: MetricEvent) => void,
  logger: Logger,
): JournalScan {
  const path = join(sessionDir, JOURNAL_FILE);
  const bytes = readJournalFile(path);
  const scan = scanJournalBytes(bytes, visit);
  if (scan.validBytes === scan.totalBytes) return scan;
  // A random suffix: two recoveries in one millisecond (or with a clock set back) must not collide.
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const aside = join(sessionDir, `${CORRUPT_PREFIX}${stamp}-${randomHex(3)}`);
  try {
    // The tail is on disk (file and folder fsync'd) before the journal gives it up.
    const asideFd = fs.openSync(aside, "wx", 0o644);
    try {
      fs.writeSync(asideFd, bytes.subarray(scan.validBytes));
      fs.fsyncSync(asideFd);
    } finally {
      fs.closeSync(asideFd);
    }
    fsyncDir(sessionDir);
    const fd = fs.openSync(path, "r+");
    try {
      fs.ftruncateSync(fd, scan.validBytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw new StorageError(
      `[journal] could not set aside the bad tail of ${path}: ${(error as Error).message}`,
      { cause: error, path },
    );
  }
  logger.warn(
    `[session-metrics] [journal] line ${scan.tailLine} of ${path} is bad (${scan.tailReason}); kept ${scan.events} valid events (${scan.validBytes} bytes), set the remaining ${scan.totalBytes - scan.validBytes} bytes from offset ${scan.validBytes} aside in ${aside}`,
  );
  return scan;
}
