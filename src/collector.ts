/**
 * The per-session `Collector`, a port of the Go M31A `internal/metrics` collector: the recording
 * core (`Recorder`: validation, state, events) plus what a session owns on disk and its lifecycle.
 * Opening takes the session's lock and recovers its journal (synchronously, once); events go to
 * the journal and any sinks, which write off the record*() path; `flush()` writes METRICS.json.
 */

import type { AggregateOptions, MetricsAggregate } from "./aggregate/aggregate.ts";
import { aggregateJournal } from "./aggregate/session.ts";
import { reduce } from "./core/events.ts";
import { encodeMetrics } from "./core/go-document.ts";
import { assertSessionId } from "./core/session-id.ts";
import { restoreState } from "./core/state.ts";
import type { SessionMetrics } from "./core/types.ts";
import { typeName } from "./core/validate.ts";
import { MetricsError, ValidationError } from "./errors.ts";
import { consoleLogger, type Logger } from "./journal/reader.ts";
import type { Durability } from "./journal/writer.ts";
import { Recorder, type RecorderOptions } from "./recorder.ts";
import { startCoarseClock } from "./runtime/coarse-clock.ts";
import { SessionFiles } from "./runtime/session-files.ts";
import { createWorkerPort } from "./runtime/worker-bridge.ts";
import type { EventSink } from "./sink.ts";
import { load } from "./store/metrics-file.ts";

export interface CollectorOptions extends RecorderOptions {
  /** Folder that holds one sub-folder per session. Default `"sessions"`. */
  sessionsDir?: string;
  /** Clock for `startedAt`/`updatedAt` (tests inject one). Default: the system clock. */
  now?: () => Date;
  /**
   * Flush synchronously on normal exit, SIGINT and SIGTERM (then re-raise the signal when no
   * other handler listens). Default `false`.
   */
  flushOnExit?: boolean;
  /**
   * Append every event to `<session>/journal.jsonl` (crash-safe, replayable). `false` gives the
   * Go behaviour: state is only written by flush(). Default `true`.
   */
  journal?: boolean;
  /** When journal lines are fsync'd: `buffered`, `group` (default) or `on-sync`. See {@link Durability}. */
  durability?: Durability;
  /**
   * Bound on recorded but unwritten journal bytes; past it record*() waits for the journal to
   * catch up. Default 64 MiB.
   */
  maxPendingBytes?: number;
  /**
   * Encode, write and fsync the journal on a background thread (one per process), so neither
   * costs the event loop anything. `false` does it on the event loop, in groups. Default `true`.
   */
  journalThread?: boolean;
  /** Where journal recovery and write failures are reported. Default: console. */
  logger?: Logger;
  /**
   * Where events are streamed besides the journal (e.g. a store sink). Each sink's `write` is
   * called for every event; `flush()` and `stop()` await their `flush`/`close`.
   */
  sinks?: readonly EventSink[];
}

export interface JournalStats {
  pendingBytes: number;
  fsyncs: number;
  writtenOn: "thread" | "event-loop";
}

export interface OpenOptions extends CollectorOptions {
  /**
   * Continue the session on disk: replay its journal (or load its METRICS.json when there is no
   * journal) and go on with the same `startedAt` and the next `seq`. Default `false`: a fresh run
   * (the journal records where it started; METRICS.json is replaced on flush, as in Go).
   */
  resume?: boolean;
}

/** Set by Collector.open(); not part of the public options. */
interface ResumeFrom {
  metrics: SessionMetrics | null;
}

export class Collector extends Recorder implements AsyncDisposable {
  readonly sessionsDir: string;
  readonly #files: SessionFiles | undefined;
  #stopping: Promise<void> | undefined;
  #closePorts: (() => void)[] = [];
  #sinks: EventSink[] = [];

  /** Creates a collector for a fresh run of the session (see {@link Collector.open} to resume). */
  constructor(options: CollectorOptions, resumeFrom?: ResumeFrom) {
    if (typeof options !== "object" || options === null)
      throw new ValidationError(`new Collector(options) needs an options object, got ${typeName(options)}`);
    assertSessionId(options.sessionId);
    super(options, clockFor(options.now));
    this.sessionsDir = options.sessionsDir ?? "sessions";
    if (!this.enabledFlag) return;
    const state = this.state;
    const files = new SessionFiles({
      sessionsDir: this.sessionsDir,
      sessionId: this.sessionId,
      journal: options.journal ?? true,
      durability: options.durability,
      maxPendingBytes: options.maxPendingBytes,
      journalThread: options.journalThread,
      logger: options.logger ?? consoleLogger,
      flushOnExit: options.flushOnExit ?? false,
      encode: () => encodeMetrics(this.snapshot()),
      replay: resumeFrom === undefined ? undefined : (event) => reduce(state, event),
    });
    this.#files = files;
    this.seq = files.scan.lastSeq;
    const journal = files.journal;
    this.journal = journal;
    this.#sinks = [...(options.sinks ?? [])];
    if (this.#sinks.length > 0) this.freezeEvents = true;
    for (const sink of this.#sinks)
      this.listeners.push(this.guard((event) => sink.write(this.sessionId, event)));
    // Replayed: carry on, unless METRICS.json is newer (a run with `journal: false` came between).
    if (resumeFrom !== undefined && files.scan.events > 0 && !isNewer(resumeFrom.metrics, state.updatedAt))
      return;
    if (resumeFrom?.metrics) {
      restoreState(state, resumeFrom.metrics);
      this.applied({ type: "restore", metrics: resumeFrom.metrics }, this.clock());
    } else {
      const startedAt = state.startedAt as number;
      this.applied({ type: "session_start", sessionId: this.sessionId, startedAt }, startedAt);
    }
  }

  /**
   * Opens a collector; with `resume: true` it continues the session on disk (journal replay, or
   * METRICS.json when there is no journal). A resumed session and an uninterrupted one with the
   * same records give identical documents.
   */
  static async open(options: OpenOptions): Promise<Collector> {
    const { resume = false, ...rest } = options;
    if (!resume || options.enabled === false) return new Collector(rest);
    const metrics = await load(rest.sessionsDir ?? "sessions", rest.sessionId);
    return new Collector(rest, { metrics });
  }

  /** Go: `Enabled()`. */
  get enabled(): boolean {
    return this.enabledFlag;
  }

  /** True once `stop()` was called. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /**
   * Invocation analytics of this session (invocations, tool calls and LLM interactions with their
   * details), folded from the journal so memory stays bounded while recording.
   * @throws MetricsError when the collector keeps no journal (`journal: false`)
   */
  computeAggregate(options?: AggregateOptions): MetricsAggregate {
    const journal = this.#files?.journal;
    if (journal === undefined)
      throw new MetricsError(
        `[aggregate] session ${this.sessionId} keeps no journal (journal: false or disabled); analytics read the journal. Use InvocationMetricsCollector, or keep the journal on`,
      );
    journal.writeQueued();
    return aggregateJournal(this.sessionsDir, this.sessionId, options);
  }

  // ------------------------------------------------------------------------------------------
  // Reading, persistence, lifecycle

  /**
   * Writes METRICS.json atomically with a snapshot taken when the write starts. Concurrent calls
   * share one queue and coalesce; once they resolve the file equals the newest snapshot.
   * A disabled collector writes nothing. @throws StorageError (the previous file is unchanged)
   */
  flush(): Promise<void> {
    if (this.#files === undefined) return Promise.resolve();
    if (this.#sinks.length === 0) return this.#files.flush();
    return Promise.all([this.#files.flush(), ...this.#sinks.map((sink) => sink.flush())]).then(() => {});
  }

  /**
   * How the journal is doing: bytes recorded but not yet written, successful fsyncs, and where
   * lines are encoded and written (`"thread"`, the default, or `"event-loop"`). Undefined without
   * a journal.
   */
  journalStats(): JournalStats | undefined {
    const journal = this.#files?.journal;
    if (journal === undefined) return undefined;
    return { pendingBytes: journal.pendingBytes, fsyncs: journal.fsyncs, writtenOn: journal.writtenOn };
  }

  /**
   * Resolves once every event recorded before the call is in the journal on disk (fsync'd unless
   * durability is `buffered`). Without a journal there is nothing to sync.
   * @throws StorageError while the disk refuses the write (the events stay queued and are retried)
   */
  sync(): Promise<void> {
    return this.#files?.sync() ?? Promise.resolve();
  }

  /** Synchronous flush for exit handlers; prefer `flush()` everywhere else. */
  flushSync(): void {
    this.#files?.flushSync();
  }

  /**
   * Stops recording (later records are dropped and counted) and flushes. Safe to call again:
   * after a successful stop it does nothing; after a failed flush it tries the flush again.
   */
  stop(): Promise<void> {
    if (!this.enabledFlag) return Promise.resolve();
    this.stoppedFlag = true;
    this.live = false;
    this.#stopping ??= this.flush().then(
      () => this.#teardown(),
      (error: unknown) => {
        this.#stopping = undefined;
        throw error;
      },
    );
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /**
   * A port to hand to a Bun Worker (in `transferList`); inside the worker, `connectCollector(port)`
   * gives the same record API. The owner applies each worker's records in that worker's order.
   */
  workerPort(): MessagePort {
    if (this.stoppedFlag) throw new MetricsError(`[worker] session ${this.sessionId} is stopped`);
    const { port, close } = createWorkerPort((method, args) => this.#applyRemote(method, args));
    this.#closePorts.push(close);
    return port;
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  #applyRemote(method: string, args: unknown[]): void {
    const fn = REMOTE_METHODS.has(method) ? (this as unknown as Record<string, unknown>)[method] : undefined;
    if (typeof fn !== "function")
      throw new ValidationError(`[worker] unknown record method ${JSON.stringify(method)}`);
    (fn as (...a: unknown[]) => void).apply(this, args);
  }

  async #teardown(): Promise<void> {
    for (const close of this.#closePorts) close();
    this.#closePorts = [];
    this.listeners = [];
    this.journal = undefined;
    const sinks = this.#sinks;
    this.#sinks = [];
    await Promise.all([this.#files?.close(), ...sinks.map((sink) => sink.close())]);
  }
}

/** The record methods a worker may call through its port. */
export const REMOTE_METHODS: ReadonlySet<string> = new Set([
  "recordToolCall",
  "recordLLMInteraction",
  "recordLLMInteractionWithPrompt",
  "recordPhaseTransition",
  "recordPhaseDuration",
  "recordHealTrigger",
  "recordHealOutcome",
  "recordHealDuration",
  "recordHealLoop",
  "recordBisectTrigger",
  "recordBisectOutcome",
  "recordEditStrategy",
]);

/**
 * The injected clock (validated now; one that later returns an invalid Date falls back to the
 * system clock rather than make record*() throw), or the cheap coarse system clock.
 */
function clockFor(now: (() => Date) | undefined): () => number {
  if (now === undefined) return startCoarseClock();
  if (!isValidDate(now())) throw new ValidationError("the injected now() must return a valid Date");
  return () => timeOf(now());
}

/** Whether a loaded document was updated after the replayed state. */
function isNewer(metrics: SessionMetrics | null, replayedUpdatedAt: number | string): boolean {
  if (metrics === null) return false;
  const replayed = typeof replayedUpdatedAt === "number" ? replayedUpdatedAt : Date.parse(replayedUpdatedAt);
  return Date.parse(metrics.updatedAt) > replayed;
}

function isValidDate(date: unknown): date is Date {
  return date instanceof Date && !Number.isNaN(date.getTime());
}

function timeOf(date: Date): number {
  return isValidDate(date) ? date.getTime() : Date.now();
}
