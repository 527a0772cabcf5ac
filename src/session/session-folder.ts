/**
 * Everything a live collector owns on disk, opened together and released together: the
 * in-process claim, the cross-process `.lock`, the journal (recovered on open) and the coalescing
 * METRICS.json writer, plus the exit hooks that write what is still queued.
 */
import type { MetricEvent } from "../core/events.ts";
import { journalPath, metricsPath, sessionPath } from "../core/session-layout.ts";
import type { SessionState } from "../core/state.ts";
import { writeFileAtomic, writeFileAtomicSync } from "../fs/atomic-file.ts";
import { CoalescingWriter } from "../fs/coalescing-writer.ts";
import { removeOrRemember, removeStaleTemps } from "../fs/leftovers.ts";
import { type JournalScan, recoverJournal } from "../journal/reader.ts";
import { type Durability, JournalWriter } from "../journal/writer.ts";
import type { Logger } from "../logger.ts";
import { addExitHook } from "./exit-hooks.ts";
import { acquireSessionLock } from "./lock.ts";
import { claimSession } from "./session-claims.ts";

export interface SessionFolderOptions {
  sessionsDir: string;
  sessionId: string;
  journal: boolean;
  durability?: Durability;
  maxPendingBytes?: number;
  logger: Logger;
  flushOnExit: boolean;
  /** Produces the METRICS.json text at the moment a write starts. */
  encode: () => string;
  /** The state that the journal's valid events are folded into while it is recovered. */
  state: SessionState;
  /** Called after each valid event is folded, in order. */
  visit?: (event: MetricEvent, state: SessionState) => void;
}

export class SessionFolder {
  readonly metricsPath: string;
  readonly journal: JournalWriter | undefined;
  /** What recovery found in the journal (events 0 when there was none). */
  readonly scan: JournalScan;
  readonly #metrics: CoalescingWriter;
  readonly #encode: () => string;
  readonly #release: (() => void)[] = [];
  #closed = false;

  constructor(options: SessionFolderOptions) {
    const { sessionsDir, sessionId } = options;
    const sessionDir = sessionPath(sessionsDir, sessionId);
    this.metricsPath = metricsPath(sessionsDir, sessionId);
    this.#encode = options.encode;
    this.#metrics = new CoalescingWriter(options.encode, (data) => writeFileAtomic(this.metricsPath, data));
    this.scan = { events: 0, validBytes: 0, totalBytes: 0, lastSeq: 0, problems: [] };
    try {
      this.#release.push(claimSession(sessionsDir, sessionId));
      this.#release.push(acquireSessionLock(sessionDir, sessionId));
      removeStaleTemps(sessionDir); // the lock is ours: what a crash left half-written can go
      if (options.journal) {
        this.scan = recoverJournal(sessionDir, options.visit ?? (() => {}), options.logger, options.state);
        const journal = new JournalWriter(journalPath(sessionsDir, sessionId), this.scan.validBytes, {
          durability: options.durability,
          maxPendingBytes: options.maxPendingBytes,
          logger: options.logger,
        });
        this.journal = journal;
        this.#release.push(addExitHook(() => journal.flushSync()));
      }
      if (options.flushOnExit) this.#release.push(addExitHook(() => this.flushSync(), { signals: true }));
    } catch (error) {
      this.#releaseAll(); // a release that fails is retried by the next open; the cause is `error`
      throw error;
    }
  }

  /** Journal lines on disk (fsync'd unless durability is `buffered`). */
  sync(): Promise<void> {
    // After close() the journal is complete on disk; a late flush() only rewrites METRICS.json.
    if (this.#closed) return Promise.resolve();
    return this.journal?.sync() ?? Promise.resolve();
  }

  /** Journal sync, then an atomic METRICS.json write of the state current when it starts. */
  async flush(): Promise<void> {
    await this.sync();
    await this.#metrics.request();
  }

  /** For exit handlers: the same, synchronously. */
  flushSync(): void {
    this.journal?.flushSync();
    writeFileAtomicSync(this.metricsPath, this.#encode());
  }

  /**
   * Closes the journal and releases the lock and the claim. Safe to call twice, and to call again
   * after a failure: a journal that could not be synced stays open, a lock that could not be
   * removed is removed by the next call.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      await this.journal?.close();
      this.#closed = true;
    }
    const failure = this.#releaseAll();
    if (failure !== undefined) throw failure;
  }

  /** Gives the folder up at once, before anything was written (an open that fails after recovery). */
  abandon(): void {
    this.journal?.closeSync();
    // An open that made the journal (there was none) leaves nothing behind.
    if (this.journal !== undefined && this.scan.totalBytes === 0) removeOrRemember(this.journal.path);
    this.#closed = true;
    this.#releaseAll();
  }

  /** Runs every release (last taken first); keeps those that failed for the next call, returns the first failure. */
  #releaseAll(): unknown {
    let failure: unknown;
    const failed: (() => void)[] = [];
    for (const release of [...this.#release].reverse()) {
      try {
        release();
      } catch (error) {
        failure ??= error;
        failed.unshift(release);
      }
    }
    this.#release.splice(0, this.#release.length, ...failed);
    return failure;
  }
}
