/**
 * The journal's append side, with group commit.
 *
 * `append()` (called from record*()) only queues the event; encoding happens per group, off the
 * record*() path (events with large payloads are encoded at once so the bound is exact). A group is
 * written when ~5 ms have passed or a few thousand lines are queued: one `write` of all of them
 * (synchronous, so groups can never be reordered; a page-cache write of a group takes well under
 * a millisecond) and then, depending on `durability`, one asynchronous `fsync` in the thread pool.
 * Past `maxPendingBytes`, `append()` writes synchronously until the queue drains, so memory is
 * bounded and nothing is dropped silently.
 *
 * A failed write (ENOSPC, EIO) truncates the file back to the last good offset, so a later
 * success never leaves a bad line mid-file; the lines stay queued and are retried with backoff.
 */

import { dirname } from "node:path";
import type { MetricEvent } from "../core/events.ts";
import { errnoCode, StorageError } from "../errors.ts";
import { syncDirectorySync } from "../fs/atomic-file.ts";
import { closeQuietly, io, writeAllSync } from "../fs/io.ts";
import { openRegularFile } from "../fs/regular-file.ts";
import type { Logger } from "../logger.ts";
import { encodeEventFields, linesBuffer } from "./line-codec.ts";

/**
 * - `buffered`: lines reach the OS page cache; `sync()` waits for the write only.
 * - `group` (default): every group is fsync'd; `sync()` waits for the fsync of its group.
 * - `on-sync`: groups are written without fsync; `sync()`/`flush()` fsync before resolving.
 */
export type Durability = "buffered" | "group" | "on-sync";

export interface JournalWriterOptions {
  durability?: Durability;
  /** Bound on queued, unwritten bytes; past it appends write synchronously. Default 64 MiB. */
  maxPendingBytes?: number;
  /** How long a group may wait before it is written. Default 5 ms. */
  groupDelayMs?: number;
  /**
   * A group this large is written at the next turn of the event loop. Default 1,024 lines: a
   * group task then stays well under a millisecond, so a burst never holds the event loop long.
   */
  groupMaxLines?: number;
  logger: Logger;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_RETRY_DELAY_MS = 5_000;
/** A tool-call line without details is ~130 bytes; the bound only needs the right magnitude. */
const ESTIMATED_SMALL_EVENT_BYTES = 160;
const CHECKSUM_BYTES = 20;

export class JournalWriter {
  readonly path: string;
  readonly durability: Durability;
  #fsyncs = 0;
  readonly #fd: number;
  #offset: number;
  /** Events not yet written, or their encoded bodies when encoded early. */
  #pending: (MetricEvent | string)[] = [];
  #pendingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate = false;
  #retryDelay = 0;
  #failure: StorageError | undefined;
  /** Waiters for the next fsync that starts after they asked. */
  #syncWaiters: Waiter[] = [];
  #fsyncRunning = false;
  /**
   * Linux may drop the pages of a failed fsync and let the next one succeed ("fsyncgate"), so what
   * was written since the last good fsync is kept (`#unsynced`, bounded by maxPendingBytes) and
   * written again from `#syncedOffset` after a failure, before any later sync() resolves.
   */
  #syncedOffset: number;
  /** Groups written since, each with the file offset it ends at (an fsync covers those ending before its start). */
  #unsynced: { data: Uint8Array; end: number }[] = [];
  #unsyncedBytes = 0;
  #rewriteNeeded = false;
  /**
   * Failed fsyncs so far. An fsync that succeeds after another one failed meanwhile (flushSync's,
   * in the thread pool at the same time) proves nothing about the pages the failure dropped.
   */
  #fsyncFailures = 0;
  #closed = false;
  /** seq of the first queued event. */
  #pendingFirstSeq = 0;
  /** Events shed while the disk refused writes; a `lost` marker line is written before anything else. */
  #lost: { seq: number; count: number; ts: number; error: StorageError } | undefined;
  /** A loss that no sync() has reported yet. */
  #lossToReport: StorageError | undefined;
  readonly #maxPendingBytes: number;
  readonly #groupDelayMs: number;
  readonly #groupMaxLines: number;
  readonly #logger: Logger;

  /** Opens `path` for appending; `offset` is its current (valid) length. */
  constructor(path: string, offset: number, options: JournalWriterOptions) {
    this.path = path;
    this.durability = options.durability ?? "group";
    this.#maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
    this.#groupDelayMs = options.groupDelayMs ?? 5;
    this.#groupMaxLines = options.groupMaxLines ?? 1024;
    this.#logger = options.logger;
    this.#offset = offset;
    this.#syncedOffset = offset;
    this.#fd = openJournal(path);
    // A new journal's name is on disk only once its folder is fsync'd; until then a power loss
    // could take the file with every line a sync() acknowledged.
    if (offset === 0 && this.durability !== "buffered") {
      try {
        syncDirectorySync(dirname(path));
      } catch (error) {
        closeQuietly(this.#fd); // the fsync's error is the one to report
        throw error;
      }
    }
  }

  /** fsyncs of the journal that succeeded so far. */
  get fsyncs(): number {
    return this.#fsyncs;
  }

  /** Bytes queued but not yet written (small events are estimated). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Queues one event. Never throws; a write failure is retried and reported. */
  append(event: MetricEvent): void {
    if (this.#closed) return;
    if (this.#pending.length === 0) this.#pendingFirstSeq = event.seq;
    if (event.type === "tool_call" && event.details === undefined) {
      this.#pending.push(event);
      this.#pendingBytes += ESTIMATED_SMALL_EVENT_BYTES;
    } else {
      const fields = encodeEventFields(event);
      this.#pending.push(fields);
      this.#pendingBytes += fields.length + CHECKSUM_BYTES;
    }
    if (this.#pendingBytes >= this.#maxPendingBytes) {
      this.#writePending();
      if (this.#pendingBytes >= this.#maxPendingBytes) this.#shed();
    } else if (this.#pending.length >= this.#groupMaxLines) this.#scheduleSoon();
    else if (this.#timer === undefined && !this.#immediate) this.#schedule(this.#groupDelayMs);
  }

  /**
   * Resolves once every line appended before the call is written (and, unless durability is
   * `buffered`, fsync'd). Rejects with StorageError while the disk refuses the write.
   */
  sync(): Promise<void> {
    if (this.#closed) return Promise.resolve(); // close() synced everything; closeSync() gave up
    this.#writePending();
    if (this.#lost !== undefined) return Promise.reject(this.#lost.error);
    // The loss is on disk now (a `lost` marker); the first sync() after it still reports it.
    const unreported = this.#lossToReport;
    this.#lossToReport = undefined;
    if (unreported !== undefined) return Promise.reject(unreported);
    if (this.#pending.length > 0 || this.#rewriteNeeded) return Promise.reject(this.#failure);
    if (this.durability === "buffered") return Promise.resolve();
    return this.#fsync();
  }

  /**
   * Writes and fsyncs what is queued, then closes the file. Safe to call twice. When the sync
   * fails the file stays open with its lines queued, so a later call (the disk back) completes.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.sync();
    this.#closed = true;
    this.#clearTimer();
    try {
      io.closeSync(this.#fd);
    } catch (error) {
      // Linux frees the descriptor whatever close says; an error (NFS) may mean lost writeback.
      throw new StorageError(`[journal] could not close ${this.path}: ${(error as Error).message}`, {
        cause: error,
        code: errnoCode(error),
        path: this.path,
      });
    }
  }

  /** Closes the file at once, writing nothing more (for an open that is given up). */
  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    closeQuietly(this.#fd); // nothing is written any more: what is on disk stays as it is
  }

  /** Writes what is queued now (no fsync), so that a reader of the file sees it. */
  writeQueued(): void {
    this.#writePending();
  }

  /** For exit handlers: write what is queued, synchronously, and fsync. */
  flushSync(): void {
    if (this.#closed) return;
    this.#writePending();
    // The disk refused the write (the lines stay queued, a retry is scheduled): say so, as sync() does.
    if (this.#pending.length > 0 || this.#rewriteNeeded) throw this.#failure;
    if (this.durability === "buffered") return;
    try {
      io.fsyncSync(this.#fd);
    } catch (error) {
      this.#fsyncFailures++;
      this.#rewriteNeeded = true;
      throw new StorageError(`[journal] fsync of ${this.path} failed: ${(error as Error).message}`, {
        cause: error,
        code: errnoCode(error),
        path: this.path,
      });
    }
    this.#fsyncs++;
    this.#synced(this.#offset);
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#group();
    }, delay);
    // Pending lines are written by the exit hook; the timer must not keep the process alive.
    this.#timer.unref?.();
  }

  #scheduleSoon(): void {
    if (this.#immediate) return;
    this.#immediate = true;
    this.#clearTimer();
    setImmediate(() => {
      this.#immediate = false;
      this.#group();
    });
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #group(): void {
    if (this.#closed) return;
    this.#writePending();
    if (this.#pending.length > 0) return; // failed: a retry is scheduled
    if (this.durability === "group") this.#fsync().catch(() => {}); // reported in #fsync
  }

  /** Writes every queued line in one write; on failure truncates back and schedules a retry. */
  #writePending(): void {
    if (this.#closed) return;
    if (this.#rewriteNeeded && !this.#rewrite()) return;
    if (this.#pending.length === 0 && this.#lost === undefined) return;
    const lost = this.#lost;
    // The marker takes the first lost seq and says how many follow, so seq stays checkable.
    const fields: string[] =
      lost === undefined
        ? []
        : [`{"v":1,"seq":${lost.seq},"ts":${lost.ts},"type":"lost","count":${lost.count}`];
    for (const item of this.#pending) fields.push(typeof item === "string" ? item : encodeEventFields(item));
    const data = linesBuffer(fields);
    try {
      writeAllSync(this.#fd, data);
    } catch (error) {
      this.#onWriteFailure(error);
      return;
    }
    this.#offset += data.length;
    if (this.durability !== "buffered") this.#keepUnsynced(data);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#clearTimer();
    if (this.#failure !== undefined) {
      this.#logger.warn(
        lost === undefined
          ? `[session-metrics] [journal] ${this.path}: writes succeed again; nothing was lost`
          : `[session-metrics] [journal] ${this.path}: writes succeed again; the loss of ${lost.count} events (seq ${lost.seq}–${lost.seq + lost.count - 1}) is recorded in the journal`,
      );
      this.#failure = undefined;
    }
    this.#lost = undefined;
    this.#retryDelay = 0;
  }

  /** Keeps a written group until an fsync covers it; past the bound, an fsync is started for it. */
  #keepUnsynced(data: Uint8Array): void {
    this.#unsynced.push({ data, end: this.#offset });
    this.#unsyncedBytes += data.length;
    // Only `on-sync` can go long without an fsync; one more fsync than asked for costs nothing.
    if (this.#unsyncedBytes >= this.#maxPendingBytes && !this.#fsyncRunning) this.#fsync().catch(() => {});
  }

  /**
   * An fsync that started when the file ended at `offset` succeeded. The groups it covered are
   * told by offset, not by how many were kept when it started: a flushSync() may have covered
   * (and dropped) those meanwhile, and the groups kept now may have been written after it began.
   */
  #synced(offset: number): void {
    this.#syncedOffset = Math.max(this.#syncedOffset, offset);
    while (this.#unsynced.length > 0 && this.#unsynced[0]!.end <= offset)
      this.#unsyncedBytes -= this.#unsynced.shift()!.data.length;
  }

  /** After a failed fsync: the kept groups again, from the last good fsync on. */
  #rewrite(): boolean {
    try {
      io.ftruncateSync(this.#fd, this.#syncedOffset);
      this.#offset = this.#syncedOffset;
      for (const { data } of this.#unsynced) {
        writeAllSync(this.#fd, data);
        this.#offset += data.length;
      }
    } catch (error) {
      this.#offset = this.#syncedOffset; // the write-failure path truncates back to here
      this.#onWriteFailure(error);
      return false;
    }
    this.#rewriteNeeded = false;
    return true;
  }

  #onWriteFailure(error: unknown): void {
    // A partial group must not stay in the file: the next success would follow a torn line.
    try {
      io.ftruncateSync(this.#fd, this.#offset);
    } catch (truncateError) {
      this.#logger.error(
        `[session-metrics] [journal] ${this.path}: could not truncate back to ${this.#offset} after a failed write: ${(truncateError as Error).message}`,
      );
    }
    const first = this.#failure === undefined;
    this.#failure = new StorageError(
      `[journal] could not append ${this.#pending.length} events to ${this.path}: ${(error as Error).message}; kept them queued and will retry`,
      { cause: error, code: errnoCode(error), path: this.path },
    );
    if (first) this.#logger.error(this.#failure.message);
    this.#retryDelay = Math.min(Math.max(this.#retryDelay * 2, 50), MAX_RETRY_DELAY_MS);
    this.#clearTimer();
    this.#schedule(this.#retryDelay);
  }

  /** Past the bound and the disk still refuses: drop the oldest lines, loudly. */
  #shed(): void {
    const dropped = this.#pending.length;
    const seq = this.#lost?.seq ?? this.#pendingFirstSeq;
    const count = (this.#lost?.count ?? 0) + dropped;
    this.#pending = [];
    this.#pendingBytes = 0;
    const error = new StorageError(
      `[journal] ${this.path}: ${count} events (seq ${seq}–${seq + count - 1}) could not be written before the queue passed its bound of ${this.#maxPendingBytes} bytes; they are lost from the journal (METRICS.json still counts them). sync() fails until a marker of the loss is on disk`,
      { cause: this.#failure, code: this.#failure?.code, path: this.path },
    );
    this.#lost = { seq, count, ts: Date.now(), error };
    this.#lossToReport = error;
    this.#logger.error(error.message);
  }

  /** Starts (or joins the next) fsync; resolves when an fsync that began after this call ends. */
  #fsync(): Promise<void> {
    const promise = new Promise<void>((resolve, reject) => this.#syncWaiters.push({ resolve, reject }));
    if (!this.#fsyncRunning) this.#startFsync();
    return promise;
  }

  #startFsync(): void {
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    this.#fsyncRunning = true;
    const offset = this.#offset;
    const failuresBefore = this.#fsyncFailures;
    io.fsync(this.#fd, (error) => {
      this.#fsyncRunning = false;
      if (error) {
        this.#fsyncFailures++;
        // What this fsync was to cover may be gone from the page cache: written again now.
        this.#rewriteNeeded = true;
        this.#writePending();
        const failure = new StorageError(`[journal] fsync of ${this.path} failed: ${error.message}`, {
          cause: error,
          path: this.path,
        });
        this.#logger.error(failure.message);
        for (const w of waiters) w.reject(failure);
      } else {
        this.#fsyncs++;
        if (this.#fsyncFailures === failuresBefore) {
          this.#synced(offset);
          for (const w of waiters) w.resolve();
        } else {
          // Another fsync failed meanwhile: what these waiters asked for is written again (below,
          // by #writePending) and needs an fsync of its own before they are told it is on disk.
          this.#syncWaiters.unshift(...waiters);
          this.#writePending();
        }
      }
      if (this.#syncWaiters.length === 0) return;
      if (!this.#rewriteNeeded) return this.#startFsync();
      // The rewrite after a failure did not go through (the disk refuses writes): no fsync can
      // cover what the waiters asked for until a retry of the write succeeds.
      const stranded = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of stranded) w.reject(this.#failure);
    });
  }
}

/** Opens a journal for appending (created 0644; never through a symbolic link, only a regular file). */
export function openJournal(path: string): number {
  return openRegularFile(path, "append", "journal");
}
