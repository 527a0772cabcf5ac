/**
 * Reading a journal. Every line carries its own checksum and `seq`, so one bad line costs only
 * itself: the scan keeps every valid line after it, and reports each bad line (and each gap in
 * `seq`) as a problem. A valid line is also held to the recorder's bounds against the state it
 * folds into (`checkEventBounds`): one the recorder could never have written is a problem too.
 * A torn last line (no newline: a write cut short) is simply cut off.
 *
 * Recovery, when a collector opens the session, sets the bad bytes aside in
 * `journal.corrupt-<timestamp>` and leaves the journal holding exactly its valid lines, with a
 * `lost` marker where `seq` skips, so appends continue after the last good line.
 */
import { join } from "node:path";
import { checkEventBounds } from "../core/event-check.ts";
import { type MetricEvent, reduce } from "../core/events.ts";
import { CORRUPT_PREFIX, JOURNAL_FILE } from "../core/session-layout.ts";
import { createState, type SessionState } from "../core/state.ts";
import { StorageError } from "../errors.ts";
import { writeFileAtomicSync } from "../fs/atomic-file.ts";
import { io, removeFile, writeAllSync } from "../fs/io.ts";
import { randomHex } from "../fs/random-hex.ts";
import { openRegularFile, readRegularFile } from "../fs/regular-file.ts";
import type { Logger } from "../logger.ts";
import { decodeEventAt, linesBuffer } from "./line-codec.ts";

/** A bad line, or a gap in `seq` before a good one. */
export interface JournalProblem {
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the line in the file. */
  offset: number;
  /** Bytes set aside for it, newline included (0 for a gap: nothing is there). */
  length: number;
  /** seq of the last valid event before it (0 when none). */
  seqBefore: number;
  /** seq of the first valid event after it (0 when none follows). */
  seqAfter: number;
  reason: string;
}

export interface JournalScan {
  /** Valid events (each was visited, in order). */
  events: number;
  /** Bytes up to the end of the last complete line (a torn tail starts here). */
  validBytes: number;
  totalBytes: number;
  /** seq of the last valid event (0 when none); a `lost` marker counts for the events it stands for. */
  lastSeq: number;
  /** Bad lines and gaps, in file order (the torn tail is not one). */
  problems: JournalProblem[];
  /** Why the last line is torn; undefined when the file ends with a newline. */
  tailReason?: string;
  /** 1-based line number of the torn last line. */
  tailLine?: number;
}

/**
 * Checks and folds a journal line by line, in file order: what the whole-file scan and the
 * streaming reader share. Each complete line is decoded, held to `seq` order and the recorder's
 * bounds, folded into `state` and passed to `visit`; a bad one becomes a problem.
 */
export class JournalScanner {
  readonly scan: JournalScan = { events: 0, validBytes: 0, totalBytes: 0, lastSeq: 0, problems: [] };
  /** Problems since the last valid event: their seqAfter is the next valid event's seq. */
  #open: JournalProblem[] = [];
  #line = 0;

  constructor(
    readonly state: SessionState,
    readonly visit: (event: MetricEvent, state: SessionState) => void,
  ) {}

  /** The line `text[start, end)` (its newline at `end`), `length` bytes with the newline. */
  line(text: string, start: number, end: number, length: number): void {
    const scan = this.scan;
    const line = ++this.#line;
    const offset = scan.validBytes;
    const decoded = decodeEventAt(text, start, end);
    let reason: string | undefined;
    if (typeof decoded === "string") reason = decoded;
    else if (scan.events > 0 && decoded.seq <= scan.lastSeq)
      reason = `seq ${decoded.seq} does not follow ${scan.lastSeq}`;
    else reason = checkEventBounds(this.state, decoded);
    if (reason !== undefined) {
      const problem = { line, offset, length, seqBefore: scan.lastSeq, seqAfter: 0, reason };
      scan.problems.push(problem);
      this.#open.push(problem);
    } else {
      const event = decoded as MetricEvent;
      for (const p of this.#open) p.seqAfter = event.seq;
      if (this.#open.length === 0 && scan.events > 0 && event.seq !== scan.lastSeq + 1)
        scan.problems.push({
          line,
          offset,
          length: 0,
          seqBefore: scan.lastSeq,
          seqAfter: event.seq,
          reason: `seq ${scan.lastSeq + 1}–${event.seq - 1} missing`,
        });
      this.#open = [];
      reduce(this.state, event);
      this.visit(event, this.state);
      scan.events++;
      // A `lost` marker stands for `count` events the writer had to shed: the next seq skips them.
      scan.lastSeq = event.type === "lost" ? event.seq + event.count - 1 : event.seq;
    }
    scan.validBytes = offset + length;
  }

  /** The file ended `totalBytes` in, after bytes without a newline (if any): a torn last line. */
  end(totalBytes: number): JournalScan {
    this.scan.totalBytes = totalBytes;
    if (totalBytes > this.scan.validBytes) {
      this.scan.tailReason = "torn last line (no newline)";
      this.scan.tailLine = this.#line + 1;
    }
    return this.scan;
  }
}

/**
 * Scans journal bytes, folding each valid event into `state` and then calling `visit` with it,
 * in order. Never throws for bad content: it is reported in the scan.
 */
export function scanJournalBytes(
  bytes: Uint8Array,
  visit: (event: MetricEvent, state: SessionState) => void,
  state: SessionState = createState("", 0),
): JournalScan {
  const scanner = new JournalScanner(state, visit);
  scanLines(scanner, bytes);
  return scanner.end(bytes.length);
}

/**
 * Feeds every complete line of `bytes` to `scanner` (bytes after the last newline are left for
 * the caller). Offsets are always byte offsets: a line is found by its newline byte, so an invalid
 * UTF-8 byte (decoded as U+FFFD, 3 bytes) never shifts where the next line starts.
 */
export function scanLines(scanner: JournalScanner, bytes: Uint8Array): void {
  const text = utf8.decode(bytes);
  if (text.length === bytes.length) {
    // Every byte decoded to one UTF-16 unit (ASCII, the usual case): one decode for all lines,
    // each a substring, and character offsets are byte offsets.
    for (let start = 0, newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", start)) {
      scanner.line(text, start, newline, newline - start + 1);
      start = newline + 1;
    }
    return;
  }
  for (
    let start = 0, newline = bytes.indexOf(NEWLINE);
    newline >= 0;
    newline = bytes.indexOf(NEWLINE, start)
  ) {
    const line = utf8.decode(bytes.subarray(start, newline));
    scanner.line(line, 0, line.length, newline - start + 1);
    start = newline + 1;
  }
}

const NEWLINE = 0x0a;

const utf8 = new TextDecoder();

/** Reads a whole journal file (never through a symbolic link); a missing file reads as empty. */
export function readJournalFile(path: string): Uint8Array {
  return readRegularFile(path, "journal") ?? new Uint8Array(0);
}

/** Scans a journal file without changing it. */
export function scanJournal(
  path: string,
  visit: (event: MetricEvent, state: SessionState) => void,
  state?: SessionState,
): JournalScan {
  return scanJournalBytes(readJournalFile(path), visit, state);
}

/** One line per problem, for a logger: what, where, and which events it cost. */
export function describeProblems(path: string, problems: readonly JournalProblem[]): string {
  const parts = problems.map((p) => {
    const after = p.seqAfter === 0 ? "the end" : `seq ${p.seqAfter}`;
    return `line ${p.line} (byte ${p.offset}): ${p.reason}, between seq ${p.seqBefore} and ${after}`;
  });
  return `[session-metrics] [journal] ${path} has ${problems.length} bad line(s) or gap(s); every valid line was kept: ${parts.join("; ")}`;
}

/**
 * Scans the session's journal into `state` and repairs the file: a torn tail and every bad line
 * are set aside in `journal.corrupt-<timestamp>` (fsync'd first), and the journal is left holding
 * exactly its valid lines, with a `lost` marker where `seq` skips (reported through `logger`,
 * never thrown). Returns the scan of the file as it was, with `validBytes` = the repaired length.
 */
export function recoverJournal(
  sessionDir: string,
  visit: (event: MetricEvent, state: SessionState) => void,
  logger: Logger,
  state?: SessionState,
): JournalScan {
  const path = join(sessionDir, JOURNAL_FILE);
  const bytes = readJournalFile(path);
  const scan = scanJournalBytes(bytes, visit, state);
  if (scan.problems.length === 0 && scan.validBytes === scan.totalBytes) return scan;
  const tornFrom = scan.validBytes;
  const bad = scan.problems.filter((p) => p.length > 0);
  const aside = [...bad.map((p) => bytes.subarray(p.offset, p.offset + p.length)), bytes.subarray(tornFrom)];
  const asidePath =
    bad.length > 0 || tornFrom < bytes.length ? setAside(sessionDir, path, Buffer.concat(aside)) : "";
  if (scan.problems.length > 0) {
    const repaired = rebuild(bytes.subarray(0, tornFrom), new Set(bad.map((p) => p.offset)));
    writeFileAtomicSync(path, repaired);
    scan.validBytes = repaired.length;
    const where = asidePath === "" ? "" : `; set the bad bytes aside in ${asidePath}`;
    logger.warn(`${describeProblems(path, scan.problems)}${where}`);
  } else truncate(path, tornFrom);
  if (scan.tailReason !== undefined)
    logger.warn(
      `[session-metrics] [journal] line ${scan.tailLine} of ${path} is bad (${scan.tailReason}); kept ${scan.events} valid events (${tornFrom} bytes), set the remaining ${bytes.length - tornFrom} bytes from offset ${tornFrom} aside in ${asidePath}`,
    );
  return scan;
}

/**
 * The journal's complete lines but the bad ones (by offset), in order, with a `lost` marker for
 * each run of missing seqs, so the repaired file scans without a problem and replay knows what
 * is missing.
 */
function rebuild(complete: Uint8Array, badOffsets: ReadonlySet<number>): Buffer {
  const parts: Uint8Array[] = [];
  let lastSeq = 0;
  let lastTs = 0;
  let offset = 0;
  while (offset < complete.length) {
    const newline = complete.indexOf(NEWLINE, offset);
    const length = newline - offset + 1;
    if (!badOffsets.has(offset)) {
      const text = utf8.decode(complete.subarray(offset, newline));
      const event = decodeEventAt(text, 0, text.length) as MetricEvent;
      if (lastSeq > 0 && event.seq > lastSeq + 1) {
        const count = event.seq - lastSeq - 1;
        parts.push(
          linesBuffer([`{"v":1,"seq":${lastSeq + 1},"ts":${lastTs},"type":"lost","count":${count}`]),
        );
      }
      parts.push(complete.subarray(offset, offset + length));
      lastSeq = event.type === "lost" ? event.seq + event.count - 1 : event.seq;
      lastTs = event.ts;
    }
    offset += length;
  }
  return Buffer.concat(parts);
}

/** Writes `bytes` to a new `journal.corrupt-*` file and fsyncs it and the folder. */
function setAside(sessionDir: string, path: string, bytes: Uint8Array): string {
  // A random suffix: two recoveries in one millisecond (or with a clock set back) must not collide.
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const aside = join(sessionDir, `${CORRUPT_PREFIX}${stamp}-${randomHex(3)}`);
  let created = false;
  try {
    const fd = io.openSync(aside, "wx", 0o644); // exclusive: never through a planted link
    created = true;
    try {
      writeAllSync(fd, bytes, 0);
      io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
    fsyncDir(sessionDir);
  } catch (error) {
    // A half-written copy would be mistaken for the whole of what was set aside.
    if (created) removeQuietly(aside);
    throw new StorageError(
      `[journal] could not set aside the bad bytes of ${path}: ${(error as Error).message}`,
      {
        cause: error,
        path,
      },
    );
  }
  return aside;
}

function removeQuietly(path: string): void {
  try {
    removeFile(path);
  } catch {
    // already failing; the original error is the one to report
  }
}

function truncate(path: string, length: number): void {
  try {
    const fd = openRegularFile(path, "update", "journal");
    try {
      io.ftruncateSync(fd, length);
      io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new StorageError(`[journal] could not cut the torn tail off ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  }
}

function fsyncDir(dir: string): void {
  const fd = io.openSync(dir, "r");
  try {
    io.fsyncSync(fd);
  } catch {
    // some filesystems cannot fsync a directory; the file itself is synced
  } finally {
    io.closeSync(fd);
  }
}
