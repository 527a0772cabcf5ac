/**
 * The per-session `Collector`, a port of the Go M31A `internal/metrics` collector.
 *
 * `record*()` is synchronous: JavaScript runs one task at a time, so each record is atomic with
 * respect to every other async task without a lock. It validates (cheaply: names are checked once,
 * when first seen), applies the record to the in-memory state through the same `apply*` functions
 * the journal replay uses, and hands an event to the journal and any sinks, which write off the
 * record*() path. Opening takes the session's lock and recovers its journal (synchronously, once).
 */

import type { AggregateOptions, MetricsAggregate } from "./aggregate/aggregate.ts";
import { type InvocationMetric, parseInvocationMetric } from "./aggregate/invocation.ts";
import { aggregateJournal } from "./aggregate/session.ts";
import type { EventBody, EventDetails, MetricEvent, PhaseCountType } from "./core/events.ts";
import { PHASE_COUNTERS, reduce } from "./core/events.ts";
import { encodeMetrics } from "./core/go-document.ts";
import { assertSessionId } from "./core/session-id.ts";
import {
  applyEditStrategy,
  applyHealDuration,
  applyLLM,
  applyPhaseCount,
  applyPhaseDuration,
  applyToolCall,
  createState,
  restoreState,
  type SessionState,
  snapshotState,
  ToolEntry,
} from "./core/state.ts";
import { applyStepEnd, applyTurnEnd, applyTurnStart, snapshotTurns } from "./core/turns.ts";
import type { RecordDetails, SessionMetrics, TurnMetrics, Usage } from "./core/types.ts";
import {
  checkBoolean,
  checkCost,
  checkDuration,
  checkName,
  llmTotalsOverflow,
  MAX_SAFE,
  normalizeDetails,
  normalizeUsage,
  overflows,
  publicUsage,
  typeName,
} from "./core/validate.ts";
import { MetricsError, ValidationError } from "./errors.ts";
import { consoleLogger, type Logger } from "./journal/reader.ts";
import type { Durability } from "./journal/writer.ts";
import { builtinTable, type PriceTable } from "./llm/pricing.ts";
import { startCoarseClock } from "./runtime/coarse-clock.ts";
import { SessionFiles } from "./runtime/session-files.ts";
import { createWorkerPort } from "./runtime/worker-bridge.ts";
import type { EventSink } from "./sink.ts";
import { load } from "./store/metrics-file.ts";
import { TurnHandle, type TurnSink } from "./turns.ts";

export interface CollectorOptions {
  sessionId: string;
  /** Folder that holds one sub-folder per session. Default `"sessions"`. */
  sessionsDir?: string;
  /** A disabled collector does nothing at all, as in Go. Default `true`. */
  enabled?: boolean;
  /** Throw `ValidationError` on a bad record instead of dropping and counting it. Default `false`. */
  strict?: boolean;
  /** Clock for `startedAt`/`updatedAt` (tests inject one). Default: the system clock. */
  now?: () => Date;
  /**
   * Flush synchronously on normal exit, SIGINT and SIGTERM (then re-raise the signal when no
   * other handler listens). Default `false`.
   */
  flushOnExit?: boolean;
  /** Called with each dropped record's error (non-strict mode). */
  onDropped?: (error: ValidationError) => void;
  /**
   * Append every event to `<session>/journal.jsonl` (crash-safe, replayable). `false` gives the
   * Go behaviour: state is only written by flush(). Default `true`.
   */
  journal?: boolean;
  /** When journal lines are fsync'd: `buffered`, `group` (default) or `on-sync`. See {@link Durability}. */
  durability?: Durability;
  /** Bound on unwritten journal bytes before record*() writes synchronously. Default 64 MiB. */
  maxPendingBytes?: number;
  /** Where journal recovery and write failures are reported. Default: console. */
  logger?: Logger;
  /**
   * Prices for LLM calls recorded without a cost (user entries first, then the built-in table,
   * unless the table was made with `builtin: false`). Default: the built-in table.
   */
  prices?: PriceTable;
  /**
   * Where events are streamed besides the journal (e.g. a store sink). Each sink's `write` is
   * called for every event; `flush()` and `stop()` await their `flush`/`close`.
   */
  sinks?: readonly EventSink[];
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

/** Receives every event the collector applies (and every drop), synchronously, in `seq` order. */
export type EventListener = (event: MetricEvent) => void;

export class Collector implements AsyncDisposable {
  readonly sessionId: string;
  readonly sessionsDir: string;
  readonly #enabled: boolean;
  readonly #strict: boolean;
  readonly #clock: () => number;
  readonly #state: SessionState;
  readonly #files: SessionFiles | undefined;
  readonly #onDropped: ((error: ValidationError) => void) | undefined;
  #listeners: EventListener[] = [];
  #seq = 0;
  #stopped = false;
  /** enabled && !stopped, kept in one field for the hot path. */
  #live: boolean;
  #stopping: Promise<void> | undefined;
  #closePorts: (() => void)[] = [];
  readonly #priceTable: PriceTable | undefined;
  #sinks: EventSink[] = [];
  #nextTurn = 1;

  /** Creates a collector for a fresh run of the session (see {@link Collector.open} to resume). */
  constructor(options: CollectorOptions, resumeFrom?: ResumeFrom) {
    if (typeof options !== "object" || options === null)
      throw new ValidationError(`new Collector(options) needs an options object, got ${typeName(options)}`);
    assertSessionId(options.sessionId);
    this.sessionId = options.sessionId;
    this.sessionsDir = options.sessionsDir ?? "sessions";
    this.#enabled = options.enabled ?? true;
    this.#live = this.#enabled;
    this.#strict = options.strict ?? false;
    this.#onDropped = options.onDropped;
    this.#priceTable = options.prices;
    const now = options.now;
    if (now !== undefined && !isValidDate(now()))
      throw new ValidationError("the injected now() must return a valid Date");
    // A clock that later returns an invalid Date must not make record*() throw: fall back.
    this.#clock = now === undefined ? startCoarseClock() : () => timeOf(now());
    const state = createState(this.sessionId, this.#clock());
    this.#state = state;
    if (!this.#enabled) return;
    const files = new SessionFiles({
      sessionsDir: this.sessionsDir,
      sessionId: this.sessionId,
      journal: options.journal ?? true,
      durability: options.durability,
      maxPendingBytes: options.maxPendingBytes,
      logger: options.logger ?? consoleLogger,
      flushOnExit: options.flushOnExit ?? false,
      encode: () => encodeMetrics(this.snapshot()),
      replay: resumeFrom === undefined ? undefined : (event) => reduce(state, event),
    });
    this.#files = files;
    this.#seq = files.scan.lastSeq;
    const journal = files.journal;
    if (journal !== undefined) this.#listeners = [(event) => journal.append(event)];
    this.#sinks = [...(options.sinks ?? [])];
    for (const sink of this.#sinks)
      this.#listeners.push(this.#guard((event) => sink.write(this.sessionId, event)));
    if (resumeFrom !== undefined && files.scan.events > 0) return; // replayed: carry on
    if (resumeFrom?.metrics) {
      restoreState(state, resumeFrom.metrics);
      this.#applied({ type: "restore", metrics: resumeFrom.metrics }, this.#clock());
    } else {
      const startedAt = state.startedAt as number;
      this.#applied({ type: "session_start", sessionId: this.sessionId, startedAt }, startedAt);
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
    return this.#enabled;
  }

  /** True once `stop()` was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  // ------------------------------------------------------------------------------------------
  // Recording (Go API)

  recordToolCall(name: string, success: boolean, durationMs: number, details?: RecordDetails): void {
    // The hot path: a name seen before was validated then, so a known tool costs one Map lookup.
    if (!this.#live) return this.#refuse("recordToolCall");
    let tool = this.#state.tools.get(name);
    if (
      typeof success !== "boolean" ||
      typeof durationMs !== "number" ||
      !(durationMs >= 0 && durationMs <= MAX_SAFE)
    )
      return this.#reject("recordToolCall", checkBoolean(success, "success") ?? checkDuration(durationMs)!);
    const ms = Math.round(durationMs) + 0; // + 0 turns -0 into 0
    if (tool === undefined) {
      const bad = checkName(name, "tool name");
      if (bad !== undefined) return this.#reject("recordToolCall", bad);
      tool = new ToolEntry(name);
    } else if (tool.totalDurationMs + ms > MAX_SAFE || tool.callCount >= MAX_SAFE)
      return this.#reject("recordToolCall", `tool ${JSON.stringify(name)} totals would pass 2^53−1`);
    let eventDetails: EventDetails | undefined;
    if (details !== undefined) {
      const normalized = normalizeDetails(details);
      if (typeof normalized === "string") return this.#reject("recordToolCall", normalized);
      eventDetails = normalized;
    }
    if (tool.callCount === 0) this.#state.tools.set(name, tool);
    const ts = this.#clock();
    applyToolCall(this.#state, tool, success, ms, ts);
    const seq = ++this.#seq;
    if (this.#listeners.length > 0) {
      const event: EventBody = { type: "tool_call", name, success, durationMs: ms };
      if (eventDetails !== undefined) event.details = eventDetails;
      this.#emit(event, seq, ts);
    }
  }

  /**
   * A `null`/`undefined` usage is a no-op, as Go's nil usage. Without a `cost`, the price table
   * prices the call from `details.model`; a call it cannot price adds 0 and is counted and listed
   * as unpriced (`unpricedCount`, `unpricedModels`), never a silent $0.
   */
  recordLLMInteraction(
    phase: string,
    usage: Usage | null | undefined,
    cost?: number,
    details?: RecordDetails,
  ): void {
    this.#recordLLM("recordLLMInteraction", phase, usage, cost, "", false, details);
  }

  recordLLMInteractionWithPrompt(
    phase: string,
    usage: Usage | null | undefined,
    cost: number | undefined,
    promptHash: string,
    truncated: boolean,
    details?: RecordDetails,
  ): void {
    this.#recordLLM("recordLLMInteractionWithPrompt", phase, usage, cost, promptHash, truncated, details);
  }

  recordPhaseTransition(phase: string): void {
    this.#countPhase("recordPhaseTransition", "phase_transition", phase);
  }

  recordPhaseDuration(phase: string, durationMs: number, success: boolean): void {
    const method = "recordPhaseDuration";
    if (!this.#accepting(method)) return;
    const bad = this.#checkPhase(phase) ?? checkDuration(durationMs) ?? checkBoolean(success, "success");
    if (bad !== undefined) return this.#reject(method, bad);
    const ms = Math.round(durationMs) + 0;
    const ts = this.#clock();
    applyPhaseDuration(this.#state, phase, ms, success, ts);
    this.#applied({ type: "phase_duration", phase, durationMs: ms, success }, ts);
  }

  recordHealTrigger(phase: string): void {
    this.#countPhase("recordHealTrigger", "heal_trigger", phase);
  }

  recordHealOutcome(phase: string, success: boolean): void {
    if (typeof success !== "boolean") {
      if (this.#accepting("recordHealOutcome"))
        this.#reject("recordHealOutcome", checkBoolean(success, "success")!);
      return;
    }
    this.#countPhase("recordHealOutcome", success ? "heal_success" : "heal_fail", phase);
  }

  recordHealDuration(phase: string, durationMs: number): void {
    const method = "recordHealDuration";
    if (!this.#accepting(method)) return;
    const bad = this.#checkPhase(phase) ?? checkDuration(durationMs);
    if (bad !== undefined) return this.#reject(method, bad);
    const ms = Math.round(durationMs) + 0;
    const entry = this.#state.phases.get(phase);
    if (entry !== undefined && overflows(entry.healDurationMs, ms))
      return this.#reject(method, `heal duration of phase ${JSON.stringify(phase)} would pass 2^53−1`);
    const ts = this.#clock();
    applyHealDuration(this.#state, phase, ms, ts);
    this.#applied({ type: "heal_duration", phase, durationMs: ms }, ts);
  }

  recordHealLoop(phase: string): void {
    this.#countPhase("recordHealLoop", "heal_loop", phase);
  }

  recordBisectTrigger(phase: string): void {
    this.#countPhase("recordBisectTrigger", "bisect_trigger", phase);
  }

  recordBisectOutcome(phase: string, success: boolean): void {
    if (typeof success !== "boolean") {
      if (this.#accepting("recordBisectOutcome"))
        this.#reject("recordBisectOutcome", checkBoolean(success, "success")!);
      return;
    }
    this.#countPhase("recordBisectOutcome", success ? "bisect_success" : "bisect_fail", phase);
  }

  /** An empty strategy is a no-op, as in Go (not a drop). */
  recordEditStrategy(strategy: string): void {
    const method = "recordEditStrategy";
    if (strategy === "" || !this.#accepting(method)) return;
    const known = this.#state.editStrategies.get(strategy);
    if (known === undefined) {
      const bad = checkName(strategy, "strategy");
      if (bad !== undefined) return this.#reject(method, bad);
    } else if (known >= MAX_SAFE)
      return this.#reject(method, `strategy ${JSON.stringify(strategy)} count is at 2^53−1`);
    const ts = this.#clock();
    applyEditStrategy(this.#state, strategy, ts);
    this.#applied({ type: "edit_strategy", strategy }, ts);
  }

  /**
   * Records one agent invocation (the multi-agent proposal's `InvocationMetric`, validated with
   * zod). It feeds `computeAggregate()`; it is journaled but not part of the Go document.
   */
  recordInvocation(metric: InvocationMetric): void {
    const method = "recordInvocation";
    if (!this.#accepting(method)) return;
    let valid: InvocationMetric;
    try {
      valid = parseInvocationMetric(metric);
    } catch (error) {
      return this.#reject(method, (error as Error).message.replace(/^\[session-metrics\] /, ""));
    }
    const ts = this.#clock();
    this.#state.updatedAt = ts;
    this.#applied({ type: "invocation", metric: valid }, ts);
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
  // Turns and steps

  /**
   * Starts a conversational turn (`turnId` defaults to `turn-<n>`; `phase`, under which each
   * step's usage counts as an LLM interaction, defaults to `"llm"`). A bad or duplicate id is
   * dropped (strict: ValidationError) and the returned turn records nothing.
   */
  startTurn(options: { turnId?: string; phase?: string } = {}): TurnHandle {
    const method = "startTurn";
    const turns = this.#state.turns;
    let turnId = options.turnId;
    if (turnId === undefined) {
      do turnId = `turn-${this.#nextTurn++}`;
      while (turns.has(turnId));
    }
    const phase = options.phase ?? "llm";
    if (!this.#accepting(method)) return new TurnHandle(undefined, String(turnId), String(phase));
    const bad =
      checkName(turnId, "turnId") ??
      this.#checkPhase(phase) ??
      (turns.has(turnId) ? `turn ${JSON.stringify(turnId)} already exists` : undefined);
    if (bad !== undefined) {
      this.#reject(method, bad);
      return new TurnHandle(undefined, String(turnId), String(phase));
    }
    const ts = this.#clock();
    applyTurnStart(turns, turnId, phase);
    this.#state.updatedAt = ts;
    this.#applied({ type: "turn_start", turnId, phase }, ts);
    return new TurnHandle(this.#turnSink, turnId, phase);
  }

  /** The session's turns in start order (deep copies). */
  turns(): TurnMetrics[] {
    return snapshotTurns(this.#state.turns);
  }

  readonly #turnSink: TurnSink = {
    usage: (method, usage) => {
      if (!this.#accepting(method)) return undefined;
      const normalized = normalizeUsage(usage);
      if (typeof normalized !== "string") return publicUsage(normalized);
      this.#reject(method, normalized);
      return undefined;
    },
    name: (method, value, what) => {
      if (!this.#accepting(method)) return false;
      const bad = checkName(value, what);
      if (bad === undefined) return true;
      this.#reject(method, bad);
      return false;
    },
    stepEnd: (record, phase, startedAt, cost) => {
      if (!this.#accepting("step.end")) return;
      const ts = this.#clock();
      applyStepEnd(this.#state.turns, record);
      this.#state.updatedAt = ts;
      this.#applied({ type: "step_end", step: record }, ts);
      if (record.usage === undefined) return;
      const details: RecordDetails = { startedAt: new Date(startedAt) };
      if (record.model !== undefined) details.model = record.model;
      if (record.errorClass !== undefined) details.errorClass = record.errorClass;
      this.#recordLLM("step.end", phase, record.usage, cost, "", false, details);
    },
    turnEnd: (turnId, durationMs) => {
      if (!this.#accepting("turn.end")) return;
      const ts = this.#clock();
      applyTurnEnd(this.#state.turns, turnId, durationMs);
      this.#state.updatedAt = ts;
      this.#applied({ type: "turn_end", turnId, durationMs }, ts);
    },
  };

  #prices(): PriceTable {
    return this.#priceTable ?? builtinTable();
  }

  // ------------------------------------------------------------------------------------------
  // Reading, persistence, lifecycle

  /** A deep copy of the current state, in the camelCase shape. */
  snapshot(): SessionMetrics {
    return snapshotState(this.#state);
  }

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
    if (!this.#enabled) return Promise.resolve();
    this.#stopped = true;
    this.#live = false;
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
   * Subscribes to every event as it is applied (drops included). A listener that throws is
   * isolated: recording goes on and the error is reported to `onListenerError` (default: console).
   * @returns a function that unsubscribes.
   */
  subscribe(
    listener: EventListener,
    onListenerError: (error: unknown) => void = reportListenerError,
  ): () => void {
    const safe = this.#guard(listener, onListenerError);
    this.#listeners = [...this.#listeners, safe];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== safe);
    };
  }

  /**
   * A port to hand to a Bun Worker (in `transferList`); inside the worker, `connectCollector(port)`
   * gives the same record API. The owner applies each worker's records in that worker's order.
   */
  workerPort(): MessagePort {
    if (this.#stopped) throw new MetricsError(`[worker] session ${this.sessionId} is stopped`);
    const { port, close } = createWorkerPort((method, args) => this.#applyRemote(method, args));
    this.#closePorts.push(close);
    return port;
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  #accepting(method: string): boolean {
    if (this.#live) return true;
    this.#refuse(method);
    return false;
  }

  /** A record that arrives while not live: ignored when disabled, dropped and counted after stop. */
  #refuse(method: string): void {
    if (this.#enabled && this.#stopped) this.#reject(method, "the collector is stopped");
  }

  #checkPhase(phase: unknown): string | undefined {
    return typeof phase === "string" && this.#state.phases.has(phase) ? undefined : checkName(phase, "phase");
  }

  #countPhase(method: string, type: PhaseCountType, phase: string): void {
    if (!this.#accepting(method)) return;
    const entry = this.#state.phases.get(phase);
    if (entry === undefined) {
      const bad = checkName(phase, "phase");
      if (bad !== undefined) return this.#reject(method, bad);
    } else if (entry[PHASE_COUNTERS[type]] >= MAX_SAFE)
      return this.#reject(method, `phase ${JSON.stringify(phase)} counter is at 2^53−1`);
    const ts = this.#clock();
    applyPhaseCount(this.#state, phase, PHASE_COUNTERS[type], ts);
    this.#applied({ type, phase }, ts);
  }

  #recordLLM(
    method: string,
    phase: string,
    usage: unknown,
    cost: number | undefined,
    promptHash: string,
    truncated: boolean,
    details: RecordDetails | undefined,
  ): void {
    if (usage === null || usage === undefined || !this.#accepting(method)) return;
    const normalized = normalizeUsage(usage);
    if (typeof normalized === "string") return this.#reject(method, normalized);
    const bad =
      this.#checkPhase(phase) ??
      (cost === undefined ? undefined : checkCost(cost)) ??
      (typeof promptHash === "string"
        ? undefined
        : `promptHash must be a string, got ${typeName(promptHash)}`) ??
      checkBoolean(truncated, "truncated");
    if (bad !== undefined) return this.#reject(method, bad);
    let eventDetails: EventDetails | undefined;
    if (details !== undefined) {
      const d = normalizeDetails(details);
      if (typeof d === "string") return this.#reject(method, d);
      eventDetails = d;
    }
    const ts = this.#clock();
    let unpriced: string | undefined;
    if (cost === undefined) {
      const model = eventDetails?.model;
      try {
        cost =
          model === undefined
            ? undefined
            : this.#prices().estimateCost(model, normalized, eventDetails?.startedAt ?? ts);
      } catch (error) {
        // A price table must never make a non-strict record*() throw.
        return this.#reject(method, `pricing ${JSON.stringify(model)} failed: ${(error as Error).message}`);
      }
      if (cost === undefined) unpriced = model ?? "(no model)";
    }
    const entry = this.#state.llms.get(phase);
    const tooLarge = entry === undefined ? undefined : llmTotalsOverflow(entry, normalized, cost ?? 0);
    if (tooLarge !== undefined)
      return this.#reject(method, `${tooLarge} of phase ${JSON.stringify(phase)} would pass its limit`);
    applyLLM(this.#state, phase, normalized, cost ?? 0, promptHash, truncated, ts, unpriced);
    const seq = ++this.#seq;
    if (this.#listeners.length > 0) {
      const event: EventBody = { type: "llm", phase, usage: normalized, cost: cost ?? 0 };
      if (promptHash !== "") event.promptHash = promptHash;
      if (truncated) event.truncated = true;
      if (unpriced !== undefined) event.unpriced = unpriced;
      if (eventDetails !== undefined) event.details = eventDetails;
      this.#emit(event, seq, ts);
    }
  }

  /** Wraps a listener so that one that throws never breaks recording. */
  #guard(listener: EventListener, onError: (error: unknown) => void = reportListenerError): EventListener {
    return (event) => {
      try {
        listener(event);
      } catch (error) {
        onError(error);
      }
    };
  }

  #applied(body: EventBody, ts: number): void {
    const seq = ++this.#seq;
    if (this.#listeners.length > 0) this.#emit(body, seq, ts);
  }

  #emit(body: EventBody, seq: number, ts: number): void {
    const event = body as MetricEvent;
    event.v = 1;
    event.seq = seq;
    event.ts = ts;
    for (const listener of this.#listeners) listener(event);
  }

  #reject(method: string, reason: string): void {
    const error = new ValidationError(`[${method}] ${reason}`);
    if (this.#strict) throw error;
    this.#state.droppedRecords++;
    this.#applied({ type: "dropped", method, reason }, this.#clock());
    this.#onDropped?.(error);
  }

  #applyRemote(method: string, args: unknown[]): void {
    const fn = REMOTE_METHODS.has(method) ? (this as unknown as Record<string, unknown>)[method] : undefined;
    if (typeof fn !== "function")
      throw new ValidationError(`[worker] unknown record method ${JSON.stringify(method)}`);
    (fn as (...a: unknown[]) => void).apply(this, args);
  }

  async #teardown(): Promise<void> {
    for (const close of this.#closePorts) close();
    this.#closePorts = [];
    this.#listeners = [];
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

function isValidDate(date: unknown): date is Date {
  return date instanceof Date && !Number.isNaN(date.getTime());
}

function timeOf(date: Date): number {
  return isValidDate(date) ? date.getTime() : Date.now();
}

function reportListenerError(error: unknown): void {
  console.error("[session-metrics] an event listener threw; recording goes on:", error);
}
