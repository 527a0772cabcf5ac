/**
 * The per-session `Collector`, a port of the Go M31A `internal/metrics` collector. It has a
 * `Recorder` (validation, state, events), a `SessionFolder` (claim, lock, journal, METRICS.json
 * writer) and its sinks, and ties their lifecycles together. Opening takes the session's lock and
 * recovers its journal (synchronously, once); events go to the journal and any sinks, which write
 * off the record*() path; `flush()` writes METRICS.json.
 */
import type { AggregateOptions, MetricsAggregate } from "../aggregate/aggregate.ts";
import { aggregateJournal, aggregateJournalSync } from "../aggregate/session.ts";
import { encodeMetrics } from "../core/go-document.ts";
import type { InvocationMetric } from "../core/invocation.ts";
import { assertSessionId } from "../core/session-id.ts";
import { createState } from "../core/state.ts";
import type { RecordDetails, SessionMetrics, TurnMetrics, Usage } from "../core/types.ts";
import { typeName } from "../core/validate.ts";
import { MetricsError, ParseError, SchemaError, ValidationError } from "../errors.ts";
import { load } from "../fs/metrics-file.ts";
import type { Durability, JournalWriter } from "../journal/writer.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import { checkedClock } from "./clock.ts";
import {
  type EventListener,
  guardListener,
  Recorder,
  type RecorderOptions,
  type RecorderStart,
} from "./recorder.ts";
import { watchForDocument } from "./resume.ts";
import { SessionFolder } from "./session-folder.ts";
import type { EventSink } from "./sink.ts";
import type { TurnHandle } from "./turns.ts";
import { createWorkerPort } from "./worker-bridge.ts";

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
   * @deprecated Ignored: the journal is always encoded and written on the event loop, in groups
   * (the background journal thread is gone). Accepted for one release.
   */
  journalThread?: boolean;
  /**
   * Where events are streamed besides the journal (e.g. a store sink). Each sink's `write` is
   * called for every event; `flush()` and `stop()` await their `flush`/`close`.
   */
  sinks?: readonly EventSink[];
}

export interface JournalStats {
  /** Bytes recorded but not yet written (small events estimated). */
  pendingBytes: number;
  /** Successful fsyncs of the journal so far. */
  fsyncs: number;
  /** @deprecated Always `"event-loop"` (there is no journal thread any more). */
  writtenOn: "event-loop";
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
  /** Why METRICS.json could not be read (the journal may still be). */
  unreadable?: MetricsError;
}

export class Collector implements AsyncDisposable {
  readonly sessionsDir: string;
  readonly #recorder: Recorder;
  readonly #folder: SessionFolder | undefined;
  #sinks: readonly EventSink[];
  #stopping: Promise<void> | undefined;
  #closePorts: (() => void)[] = [];
  #clockFallbacks = 0;
  readonly #logger: Logger;

  /** Creates a collector for a fresh run of the session (see {@link Collector.open} to resume). */
  constructor(options: CollectorOptions, resumeFrom?: ResumeFrom) {
    if (typeof options !== "object" || options === null)
      throw new ValidationError(`new Collector(options) needs an options object, got ${typeName(options)}`);
    assertSessionId(options.sessionId);
    const logger = options.logger ?? consoleLogger;
    this.#logger = logger;
    const clock =
      options.now === undefined
        ? Date.now
        : checkedClock(options.now, (why) => {
            if (this.#clockFallbacks++ === 0)
              logger.warn(
                `[session-metrics] [clock] the injected now() ${why}; session ${options.sessionId} uses Date.now() for this read and any other bad one (counted in clockFallbacks)`,
              );
          });
    this.sessionsDir = options.sessionsDir ?? "sessions";
    this.#sinks = options.enabled === false ? [] : [...(options.sinks ?? [])];
    if (options.enabled === false) {
      this.#recorder = new Recorder(options, { clock });
      return;
    }
    const state = createState(options.sessionId, 0);
    const doc = resumeFrom?.metrics ?? null;
    const watch = doc === null ? undefined : watchForDocument(doc);
    const folder = new SessionFolder({
      sessionsDir: this.sessionsDir,
      sessionId: options.sessionId,
      journal: options.journal ?? true,
      durability: options.durability,
      maxPendingBytes: options.maxPendingBytes,
      logger,
      flushOnExit: options.flushOnExit ?? false,
      encode: () => encodeMetrics(this.#recorder.snapshot()),
      state,
      visit: watch === undefined ? undefined : (_event, replayed) => watch.visit(replayed),
    });
    this.#folder = folder;
    const lastSeq = folder.scan.lastSeq;
    const replayed = folder.scan.events > 0;
    let from: RecorderStart | undefined;
    if (resumeFrom?.unreadable !== undefined) {
      if (!replayed) {
        folder.abandon();
        throw resumeFrom.unreadable;
      }
      logger.warn(
        `${resumeFrom.unreadable.message}; resumed session ${options.sessionId} from its journal (${folder.scan.events} events) instead`,
      );
      from = { state };
    } else if (resumeFrom !== undefined && replayed && (watch === undefined || watch.found)) from = { state };
    else if (doc !== null) from = { metrics: doc };
    else if (replayed)
      logger.warn(
        `[session-metrics] [open] session ${options.sessionId} starts a fresh run (resume: false) after ${folder.scan.events} journaled events of earlier runs, which stay readable: sessionRuns("${this.sessionsDir}", "${options.sessionId}")`,
      );
    const sessionId = options.sessionId;
    const listeners: EventListener[] = this.#sinks.map((sink) =>
      guardListener((event) => sink.write(sessionId, event)),
    );
    const freeze = this.#sinks.some((sink) => sink.readsOnly !== true);
    this.#recorder = new Recorder(options, {
      clock,
      journal: folder.journal,
      listeners,
      freeze,
      from,
      lastSeq,
    });
  }
  /**
   * Opens a collector; with `resume: true` it continues the session on disk (journal replay, or
   * METRICS.json when there is no journal). A resumed session and an uninterrupted one with the
   * same records give identical documents.
   */
  static async open(options: OpenOptions): Promise<Collector> {
    const { resume = false, ...rest } = options;
    if (!resume || options.enabled === false) return new Collector(rest);
    let from: ResumeFrom;
    try {
      from = { metrics: await load(rest.sessionsDir ?? "sessions", rest.sessionId) };
    } catch (error) {
      // A corrupt METRICS.json must not block a session whose journal is intact.
      if (!(error instanceof ParseError || error instanceof SchemaError)) throw error;
      from = { metrics: null, unreadable: error };
    }
    return new Collector(rest, from);
  }

  get sessionId(): string {
    return this.#recorder.sessionId;
  }

  /** Go: `Enabled()`. */
  get enabled(): boolean {
    return this.#recorder.enabled;
  }

  /** True once `stop()` was called. */
  get stopped(): boolean {
    return this.#recorder.stopped;
  }

  /** Reads of the injected `now()` that threw or were out of range, and used `Date.now()` instead. */
  get clockFallbacks(): number {
    return this.#clockFallbacks;
  }

  // ------------------------------------------------------------------------------------------
  // Recording: the recorder's, one path for every record (see recorder.ts)

  recordToolCall(name: string, success: boolean, durationMs: number, details?: RecordDetails): void {
    this.#recorder.recordToolCall(name, success, durationMs, details);
  }

  /** See {@link Recorder.recordLLMInteraction}: without a cost, the call is priced by model. */
  recordLLMInteraction(
    phase: string,
    usage: Usage | null | undefined,
    cost?: number,
    details?: RecordDetails,
  ): void {
    this.#recorder.recordLLMInteraction(phase, usage, cost, details);
  }

  recordLLMInteractionWithPrompt(
    phase: string,
    usage: Usage | null | undefined,
    cost: number | undefined,
    promptHash: string,
    truncated: boolean,
    details?: RecordDetails,
  ): void {
    this.#recorder.recordLLMInteractionWithPrompt(phase, usage, cost, promptHash, truncated, details);
  }

  recordPhaseTransition(phase: string): void {
    this.#recorder.recordPhaseTransition(phase);
  }

  recordPhaseDuration(phase: string, durationMs: number, success: boolean): void {
    this.#recorder.recordPhaseDuration(phase, durationMs, success);
  }

  recordHealTrigger(phase: string): void {
    this.#recorder.recordHealTrigger(phase);
  }

  recordHealOutcome(phase: string, success: boolean): void {
    this.#recorder.recordHealOutcome(phase, success);
  }

  recordHealDuration(phase: string, durationMs: number): void {
    this.#recorder.recordHealDuration(phase, durationMs);
  }

  recordHealLoop(phase: string): void {
    this.#recorder.recordHealLoop(phase);
  }

  recordBisectTrigger(phase: string): void {
    this.#recorder.recordBisectTrigger(phase);
  }

  recordBisectOutcome(phase: string, success: boolean): void {
    this.#recorder.recordBisectOutcome(phase, success);
  }

  recordEditStrategy(strategy: string): void {
    this.#recorder.recordEditStrategy(strategy);
  }

  /** See {@link Recorder.recordInvocation}. */
  recordInvocation(metric: InvocationMetric): void {
    this.#recorder.recordInvocation(metric);
  }

  /** See {@link Recorder.startTurn}. */
  startTurn(options?: { turnId?: string; phase?: string }): TurnHandle {
    return this.#recorder.startTurn(options);
  }

  /** The session's turns in start order (deep copies). */
  turns(): TurnMetrics[] {
    return this.#recorder.turns();
  }

  /** A deep copy of the current state, in the camelCase shape. */
  snapshot(): SessionMetrics {
    return this.#recorder.snapshot();
  }

  /** See {@link Recorder.subscribe}. */
  subscribe(listener: EventListener, onListenerError?: (error: unknown) => void): () => void {
    return this.#recorder.subscribe(listener, onListenerError);
  }

  // ------------------------------------------------------------------------------------------
  // Reading, persistence, lifecycle

  /**
   * Invocation analytics of this session (invocations, tool calls and LLM interactions with their
   * details), folded from the journal as a stream: the event loop runs between chunks and memory
   * holds only distinct keys and duration lists, whatever the session's size.
   * @throws MetricsError when the collector keeps no journal (`journal: false`)
   */
  async aggregate(options?: AggregateOptions): Promise<MetricsAggregate> {
    this.#journalForAnalytics().writeQueued();
    return aggregateJournal(this.sessionsDir, this.sessionId, { logger: this.#logger, ...options });
  }

  /**
   * {@link aggregate} synchronously, in one pass that blocks the event loop (about 5 s for a
   * 1M-event journal): for small sessions; prefer `await aggregate()`.
   * @throws MetricsError when the collector keeps no journal (`journal: false`)
   */
  computeAggregate(options?: AggregateOptions): MetricsAggregate {
    this.#journalForAnalytics().writeQueued();
    return aggregateJournalSync(this.sessionsDir, this.sessionId, { logger: this.#logger, ...options });
  }

  #journalForAnalytics(): JournalWriter {
    const journal = this.#folder?.journal;
    if (journal === undefined)
      throw new MetricsError(
        `[aggregate] session ${this.sessionId} keeps no journal (journal: false or disabled); analytics read the journal. Use InvocationMetricsCollector, or keep the journal on`,
      );
    return journal;
  }

  /**
   * Writes METRICS.json atomically with a snapshot taken when the write starts. Concurrent calls
   * share one queue and coalesce; once they resolve the file equals the newest snapshot.
   * A disabled collector writes nothing. @throws StorageError (the previous file is unchanged)
   */
  flush(): Promise<void> {
    if (this.#folder === undefined) return Promise.resolve();
    if (this.#sinks.length === 0) return this.#folder.flush();
    return Promise.all([this.#folder.flush(), ...this.#sinks.map((sink) => sink.flush())]).then(() => {});
  }

  /** How the journal is doing: bytes recorded but not yet written, successful fsyncs. Undefined without a journal. */
  journalStats(): JournalStats | undefined {
    const journal = this.#folder?.journal;
    if (journal === undefined) return undefined;
    return { pendingBytes: journal.pendingBytes, fsyncs: journal.fsyncs, writtenOn: "event-loop" };
  }

  /**
   * Resolves once every event recorded before the call is in the journal on disk (fsync'd unless
   * durability is `buffered`). Without a journal there is nothing to sync.
   * @throws StorageError while the disk refuses the write (the events stay queued and are retried)
   */
  sync(): Promise<void> {
    return this.#folder?.sync() ?? Promise.resolve();
  }

  /** Synchronous flush for exit handlers; prefer `flush()` everywhere else. */
  flushSync(): void {
    this.#folder?.flushSync();
  }

  /**
   * Stops recording (later records are dropped and counted) and flushes. Safe to call again:
   * after a successful stop it does nothing; after a failed flush it tries the flush again.
   */
  stop(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    this.#recorder.stop();
    // A failed flush or teardown (the disk refused) is tried again by the next stop().
    this.#stopping ??= this.flush()
      .then(() => this.#teardown())
      .catch((error: unknown) => {
        this.#stopping = undefined;
        throw error;
      });
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
    if (this.stopped) throw new MetricsError(`[worker] session ${this.sessionId} is stopped`);
    const { port, close } = createWorkerPort((method, args) => this.#applyRemote(method, args));
    this.#closePorts.push(close);
    return port;
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  #applyRemote(method: string, args: unknown[]): void {
    const fn = REMOTE_METHODS.has(method)
      ? (this.#recorder as unknown as Record<string, unknown>)[method]
      : undefined;
    if (typeof fn !== "function")
      throw new ValidationError(`[worker] unknown record method ${JSON.stringify(method)}`);
    (fn as (...a: unknown[]) => void).apply(this.#recorder, args);
  }

  async #teardown(): Promise<void> {
    for (const close of this.#closePorts) close();
    this.#closePorts = [];
    this.#recorder.detachListeners();
    const sinks = this.#sinks;
    this.#sinks = [];
    await Promise.all([this.#folder?.close(), ...sinks.map((sink) => sink.close())]);
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
