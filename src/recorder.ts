/**
 * The recording core: validation, state, events. `record*()` is synchronous: JavaScript runs one
 * task at a time, so each record is atomic with respect to every other async task without a lock.
 * It validates (cheaply: names are checked once, when first seen), applies the record to the state
 * through the same `apply*` functions the journal replay uses, and hands an event to listeners
 * (the journal, sinks, subscribers). No file, socket or timer is touched here: the `Collector`
 * adds persistence and lifecycle on top.
 */
import { type InvocationMetric, parseInvocationMetric } from "./aggregate/invocation.ts";
import type { EventBody, EventDetails, MetricEvent, PhaseCountType } from "./core/events.ts";
import { PHASE_COUNTERS } from "./core/events.ts";
import {
  applyEditStrategy,
  applyHealDuration,
  applyLLM,
  applyPhaseCount,
  applyPhaseDuration,
  applyToolCall,
  createState,
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
import { ValidationError } from "./errors.ts";
import { builtinTable, type PriceTable } from "./llm/pricing.ts";
import type { EventJournal } from "./sink.ts";
import { TurnHandle, type TurnSink } from "./turns.ts";

export interface RecorderOptions {
  sessionId: string;
  /** A disabled recorder does nothing at all, as in Go. Default `true`. */
  enabled?: boolean;
  /** Throw `ValidationError` on a bad record instead of dropping and counting it. Default `false`. */
  strict?: boolean;
  /** Called with each dropped record's error (non-strict mode). */
  onDropped?: (error: ValidationError) => void;
  /**
   * Prices for LLM calls recorded without a cost (user entries first, then the built-in table,
   * unless the table was made with `builtin: false`). Default: the built-in table.
   */
  prices?: PriceTable;
}

/** Receives every event the collector applies (and every drop), synchronously, in `seq` order. */
export type EventListener = (event: MetricEvent) => void;

export class Recorder {
  readonly sessionId: string;
  protected readonly enabledFlag: boolean;
  protected readonly strict: boolean;
  protected readonly clock: () => number;
  protected readonly state: SessionState;
  protected readonly onDropped: ((error: ValidationError) => void) | undefined;
  protected readonly priceTable: PriceTable | undefined;
  protected listeners: EventListener[] = [];
  /** The journal takes every event before the listeners (see {@link EventJournal}). */
  protected journal: EventJournal | undefined;
  protected seq = 0;
  protected stoppedFlag = false;
  /** Set once code outside the library sees events (subscribers, sinks): events are then frozen. */
  protected freezeEvents = false;
  /** enabled && !stopped, kept in one field for the hot path. */
  protected live: boolean;
  #nextTurn = 1;

  /** `clock` gives epoch milliseconds. */
  constructor(options: RecorderOptions, clock: () => number) {
    this.sessionId = options.sessionId;
    this.enabledFlag = options.enabled ?? true;
    this.live = this.enabledFlag;
    this.strict = options.strict ?? false;
    this.onDropped = options.onDropped;
    this.priceTable = options.prices;
    this.clock = clock;
    this.state = createState(this.sessionId, clock());
  }

  // ------------------------------------------------------------------------------------------
  // Recording (Go API)

  recordToolCall(name: string, success: boolean, durationMs: number, details?: RecordDetails): void {
    // The hot path: a name seen before was validated then, so a known tool costs one Map lookup.
    if (!this.live) return this.refuse("recordToolCall");
    let tool = this.state.tools.get(name);
    if (
      typeof success !== "boolean" ||
      typeof durationMs !== "number" ||
      !(durationMs >= 0 && durationMs <= MAX_SAFE)
    )
      return this.reject("recordToolCall", checkBoolean(success, "success") ?? checkDuration(durationMs)!);
    const ms = Math.round(durationMs) + 0; // + 0 turns -0 into 0
    if (tool === undefined) {
      const bad = checkName(name, "tool name");
      if (bad !== undefined) return this.reject("recordToolCall", bad);
      tool = new ToolEntry(name);
    }
    let eventDetails: EventDetails | undefined;
    if (details !== undefined) {
      const normalized = normalizeDetails(details);
      if (typeof normalized === "string") return this.reject("recordToolCall", normalized);
      eventDetails = normalized;
    }
    if (tool.callCount === 0) this.state.tools.set(name, tool);
    const ts = this.clock();
    // Applied first and undone in the (practically never) case that the totals pass 2^53−1:
    // checking after the additions is measurably cheaper than before them with 2,000 tools.
    const total = tool.totalDurationMs;
    const updatedAt = this.state.updatedAt;
    applyToolCall(this.state, tool, success, ms, ts);
    if (tool.totalDurationMs > MAX_SAFE || tool.callCount > MAX_SAFE) {
      tool.callCount--;
      if (success) tool.successCount--;
      else tool.failCount--;
      tool.totalDurationMs = total;
      this.state.updatedAt = updatedAt;
      return this.reject("recordToolCall", `tool ${JSON.stringify(name)} totals would pass 2^53−1`);
    }
    const seq = ++this.seq;
    if (this.listeners.length > 0 || (eventDetails !== undefined && this.journal !== undefined)) {
      const event: EventBody = { type: "tool_call", name, success, durationMs: ms };
      if (eventDetails !== undefined) event.details = eventDetails;
      this.emit(event, seq, ts);
    } else this.journal?.appendToolCall(seq, ts, name, success, ms);
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
    this.recordLLM("recordLLMInteraction", phase, usage, cost, "", false, details);
  }

  recordLLMInteractionWithPrompt(
    phase: string,
    usage: Usage | null | undefined,
    cost: number | undefined,
    promptHash: string,
    truncated: boolean,
    details?: RecordDetails,
  ): void {
    this.recordLLM("recordLLMInteractionWithPrompt", phase, usage, cost, promptHash, truncated, details);
  }

  recordPhaseTransition(phase: string): void {
    this.countPhase("recordPhaseTransition", "phase_transition", phase);
  }

  recordPhaseDuration(phase: string, durationMs: number, success: boolean): void {
    const method = "recordPhaseDuration";
    if (!this.accepting(method)) return;
    const bad = this.checkPhase(phase) ?? checkDuration(durationMs) ?? checkBoolean(success, "success");
    if (bad !== undefined) return this.reject(method, bad);
    const ms = Math.round(durationMs) + 0;
    const ts = this.clock();
    applyPhaseDuration(this.state, phase, ms, success, ts);
    this.applied({ type: "phase_duration", phase, durationMs: ms, success }, ts);
  }

  recordHealTrigger(phase: string): void {
    this.countPhase("recordHealTrigger", "heal_trigger", phase);
  }

  recordHealOutcome(phase: string, success: boolean): void {
    if (typeof success !== "boolean") {
      if (this.accepting("recordHealOutcome"))
        this.reject("recordHealOutcome", checkBoolean(success, "success")!);
      return;
    }
    this.countPhase("recordHealOutcome", success ? "heal_success" : "heal_fail", phase);
  }

  recordHealDuration(phase: string, durationMs: number): void {
    const method = "recordHealDuration";
    if (!this.accepting(method)) return;
    const bad = this.checkPhase(phase) ?? checkDuration(durationMs);
    if (bad !== undefined) return this.reject(method, bad);
    const ms = Math.round(durationMs) + 0;
    const entry = this.state.phases.get(phase);
    if (entry !== undefined && overflows(entry.healDurationMs, ms))
      return this.reject(method, `heal duration of phase ${JSON.stringify(phase)} would pass 2^53−1`);
    const ts = this.clock();
    applyHealDuration(this.state, phase, ms, ts);
    this.applied({ type: "heal_duration", phase, durationMs: ms }, ts);
  }

  recordHealLoop(phase: string): void {
    this.countPhase("recordHealLoop", "heal_loop", phase);
  }

  recordBisectTrigger(phase: string): void {
    this.countPhase("recordBisectTrigger", "bisect_trigger", phase);
  }

  recordBisectOutcome(phase: string, success: boolean): void {
    if (typeof success !== "boolean") {
      if (this.accepting("recordBisectOutcome"))
        this.reject("recordBisectOutcome", checkBoolean(success, "success")!);
      return;
    }
    this.countPhase("recordBisectOutcome", success ? "bisect_success" : "bisect_fail", phase);
  }

  /** An empty strategy is a no-op, as in Go (not a drop). */
  recordEditStrategy(strategy: string): void {
    const method = "recordEditStrategy";
    if (strategy === "" || !this.accepting(method)) return;
    const known = this.state.editStrategies.get(strategy);
    if (known === undefined) {
      const bad = checkName(strategy, "strategy");
      if (bad !== undefined) return this.reject(method, bad);
    } else if (known >= MAX_SAFE)
      return this.reject(method, `strategy ${JSON.stringify(strategy)} count is at 2^53−1`);
    const ts = this.clock();
    applyEditStrategy(this.state, strategy, ts);
    this.applied({ type: "edit_strategy", strategy }, ts);
  }

  /**
   * Records one agent invocation (the multi-agent proposal's `InvocationMetric`, validated with
   * zod). It feeds `computeAggregate()`; it is journaled but not part of the Go document.
   */
  recordInvocation(metric: InvocationMetric): void {
    const method = "recordInvocation";
    if (!this.accepting(method)) return;
    let valid: InvocationMetric;
    try {
      valid = parseInvocationMetric(metric);
    } catch (error) {
      return this.reject(method, (error as Error).message.replace(/^\[session-metrics\] /, ""));
    }
    const ts = this.clock();
    this.state.updatedAt = ts;
    this.applied({ type: "invocation", metric: valid }, ts);
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
    const turns = this.state.turns;
    let turnId = options.turnId;
    if (turnId === undefined) {
      do turnId = `turn-${this.#nextTurn++}`;
      while (turns.has(turnId));
    }
    const phase = options.phase ?? "llm";
    if (!this.accepting(method)) return new TurnHandle(undefined, String(turnId), String(phase));
    const bad =
      checkName(turnId, "turnId") ??
      this.checkPhase(phase) ??
      (turns.has(turnId) ? `turn ${JSON.stringify(turnId)} already exists` : undefined);
    if (bad !== undefined) {
      this.reject(method, bad);
      return new TurnHandle(undefined, String(turnId), String(phase));
    }
    const ts = this.clock();
    applyTurnStart(turns, turnId, phase);
    this.state.updatedAt = ts;
    this.applied({ type: "turn_start", turnId, phase }, ts);
    return new TurnHandle(this.turnSink, turnId, phase);
  }

  /** The session's turns in start order (deep copies). */
  turns(): TurnMetrics[] {
    return snapshotTurns(this.state.turns);
  }

  protected readonly turnSink: TurnSink = {
    now: () => this.clock(),
    usage: (method, usage) => {
      if (!this.accepting(method)) return undefined;
      const normalized = normalizeUsage(usage);
      if (typeof normalized !== "string") return publicUsage(normalized);
      this.reject(method, normalized);
      return undefined;
    },
    name: (method, value, what) => {
      if (!this.accepting(method)) return false;
      const bad = checkName(value, what);
      if (bad === undefined) return true;
      this.reject(method, bad);
      return false;
    },
    stepEnd: (record, phase, startedAt, cost) => {
      if (!this.accepting("step.end")) return;
      const ts = this.clock();
      applyStepEnd(this.state.turns, record);
      this.state.updatedAt = ts;
      this.applied({ type: "step_end", step: record }, ts);
      if (record.usage === undefined) return;
      const details: RecordDetails = { startedAt: new Date(startedAt) };
      if (record.model !== undefined) details.model = record.model;
      if (record.errorClass !== undefined) details.errorClass = record.errorClass;
      this.recordLLM("step.end", phase, record.usage, cost, "", false, details);
    },
    turnEnd: (turnId, durationMs) => {
      if (!this.accepting("turn.end")) return;
      const ts = this.clock();
      applyTurnEnd(this.state.turns, turnId, durationMs);
      this.state.updatedAt = ts;
      this.applied({ type: "turn_end", turnId, durationMs }, ts);
    },
  };

  protected prices(): PriceTable {
    return this.priceTable ?? builtinTable();
  }

  /** A deep copy of the current state, in the camelCase shape. */
  snapshot(): SessionMetrics {
    return snapshotState(this.state);
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
    const safe = this.guard(listener, onListenerError);
    this.listeners = [...this.listeners, safe];
    this.freezeEvents = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== safe);
    };
  }

  // ------------------------------------------------------------------------------------------
  // Internals shared with the Collector

  protected accepting(method: string): boolean {
    if (this.live) return true;
    this.refuse(method);
    return false;
  }

  /** A record that arrives while not live: ignored when disabled, dropped and counted after stop. */
  protected refuse(method: string): void {
    if (this.enabledFlag && this.stoppedFlag) this.reject(method, "the collector is stopped");
  }

  protected checkPhase(phase: unknown): string | undefined {
    return typeof phase === "string" && this.state.phases.has(phase) ? undefined : checkName(phase, "phase");
  }

  protected countPhase(method: string, type: PhaseCountType, phase: string): void {
    if (!this.accepting(method)) return;
    const entry = this.state.phases.get(phase);
    if (entry === undefined) {
      const bad = checkName(phase, "phase");
      if (bad !== undefined) return this.reject(method, bad);
    } else if (entry[PHASE_COUNTERS[type]] >= MAX_SAFE)
      return this.reject(method, `phase ${JSON.stringify(phase)} counter is at 2^53−1`);
    const ts = this.clock();
    applyPhaseCount(this.state, phase, PHASE_COUNTERS[type], ts);
    if (this.listeners.length > 0) return this.applied({ type, phase }, ts);
    const seq = ++this.seq;
    this.journal?.appendPhaseCount(type, seq, ts, phase);
  }

  protected recordLLM(
    method: string,
    phase: string,
    usage: unknown,
    cost: number | undefined,
    promptHash: string,
    truncated: boolean,
    details: RecordDetails | undefined,
  ): void {
    if (usage === null || usage === undefined || !this.accepting(method)) return;
    const normalized = normalizeUsage(usage);
    if (typeof normalized === "string") return this.reject(method, normalized);
    const bad =
      this.checkPhase(phase) ??
      (cost === undefined ? undefined : checkCost(cost)) ??
      (typeof promptHash === "string"
        ? undefined
        : `promptHash must be a string, got ${typeName(promptHash)}`) ??
      checkBoolean(truncated, "truncated");
    if (bad !== undefined) return this.reject(method, bad);
    let eventDetails: EventDetails | undefined;
    if (details !== undefined) {
      const d = normalizeDetails(details);
      if (typeof d === "string") return this.reject(method, d);
      eventDetails = d;
    }
    const ts = this.clock();
    let unpriced: string | undefined;
    if (cost === undefined) {
      const model = eventDetails?.model;
      try {
        cost =
          model === undefined
            ? undefined
            : this.prices().estimateCost(model, normalized, eventDetails?.startedAt ?? ts);
      } catch (error) {
        // A price table must never make a non-strict record*() throw.
        return this.reject(method, `pricing ${JSON.stringify(model)} failed: ${(error as Error).message}`);
      }
      if (cost === undefined) unpriced = model ?? "(no model)";
    }
    const entry = this.state.llms.get(phase);
    const tooLarge = entry === undefined ? undefined : llmTotalsOverflow(entry, normalized, cost ?? 0);
    if (tooLarge !== undefined)
      return this.reject(method, `${tooLarge} of phase ${JSON.stringify(phase)} would pass its limit`);
    applyLLM(this.state, phase, normalized, cost ?? 0, promptHash, truncated, ts, unpriced);
    const seq = ++this.seq;
    if (this.listeners.length > 0 || this.journal !== undefined) {
      const event: EventBody = { type: "llm", phase, usage: normalized, cost: cost ?? 0 };
      if (promptHash !== "") event.promptHash = promptHash;
      if (truncated) event.truncated = true;
      if (unpriced !== undefined) event.unpriced = unpriced;
      if (eventDetails !== undefined) event.details = eventDetails;
      this.emit(event, seq, ts);
    }
  }

  /** Wraps a listener so that one that throws never breaks recording. */
  protected guard(
    listener: EventListener,
    onError: (error: unknown) => void = reportListenerError,
  ): EventListener {
    return (event) => {
      try {
        listener(event);
      } catch (error) {
        onError(error);
      }
    };
  }

  protected applied(body: EventBody, ts: number): void {
    const seq = ++this.seq;
    if (this.listeners.length > 0 || this.journal !== undefined) this.emit(body, seq, ts);
  }

  protected emit(body: EventBody, seq: number, ts: number): void {
    const event = body as MetricEvent;
    event.v = 1;
    event.seq = seq;
    event.ts = ts;
    // The journal encodes events after this call returns: a subscriber must not be able to change them.
    if (this.freezeEvents) deepFreeze(event);
    this.journal?.append(event);
    for (const listener of this.listeners) listener(event);
  }

  protected reject(method: string, reason: string): void {
    const error = new ValidationError(`[${method}] ${reason}`);
    if (this.strict) throw error;
    this.state.droppedRecords++;
    this.applied({ type: "dropped", method, reason }, this.clock());
    this.onDropped?.(error);
  }
}

function deepFreeze(value: object): void {
  Object.freeze(value);
  for (const inner of Object.values(value))
    if (typeof inner === "object" && inner !== null && !Object.isFrozen(inner)) deepFreeze(inner);
}

function reportListenerError(error: unknown): void {
  console.error("[session-metrics] an event listener threw; recording goes on:", error);
}
