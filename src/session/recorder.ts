/**
 * The recording core. Every record takes one path: validate → build the event → `reduce(state,
 * event)` → the journal, then the listeners. The live state is therefore literally the fold of the
 * events the journal holds; replay uses the same `reduce`.
 *
 * `record*()` is synchronous: JavaScript runs one task at a time, so each record is atomic with
 * respect to every other async task without a lock. No file, socket or timer is touched here: the
 * `Collector` adds persistence and lifecycle around a recorder.
 */
import { checkEventBounds, toolCallBounds } from "../core/event-check.ts";
import type { EventBody, EventDetails, MetricEvent, PhaseCountType, ToolCallEvent } from "../core/events.ts";
import { reduce, reduceToolCall } from "../core/events.ts";
import { type InvocationMetric, parseInvocationMetric } from "../core/invocation.ts";
import { builtinTable, type PriceTable, priceHintsOf } from "../core/pricing.ts";
import { createState, type SessionState, snapshotState, toolEntry } from "../core/state.ts";
import { snapshotTurns } from "../core/turns.ts";
import type { RecordDetails, SessionMetrics, TurnMetrics, Usage } from "../core/types.ts";
import {
  checkBoolean,
  checkCost,
  checkDuration,
  checkName,
  checkText,
  MAX_SAFE,
  normalizeDetails,
  normalizeUsage,
  publicUsage,
} from "../core/validate.ts";
import { ValidationError } from "../errors.ts";
import { consoleLogger, type Logger } from "../logger.ts";
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
   * The session's default agent: LLM calls recorded without `details.agent` are attributed to it
   * (in the event, so aggregates, reports and exports agree). Default: none.
   */
  agent?: string;
  /**
   * Where the first drop of each kind is reported (later ones are only counted), and, for a
   * `Collector`, journal recovery and write failures. Default: console.
   */
  logger?: Logger;
  /**
   * Prices for LLM calls recorded without a cost (user entries first, then the built-in table,
   * unless the table was made with `builtin: false`). Default: the built-in table.
   */
  prices?: PriceTable;
}

/** Receives every event the collector applies (and every drop), synchronously, in `seq` order. */
export type EventListener = (event: MetricEvent) => void;

/** Where a session continues from: a replayed journal's state, or a document without a journal. */
export type RecorderStart = { state: SessionState } | { metrics: SessionMetrics };

/** What a `Collector` plugs into its recorder. */
export interface RecorderParts {
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** Takes every event first, unfrozen (it is the library's own). */
  journal?: { append(event: MetricEvent): void };
  /** Called after the journal for every event (already guarded against throwing). */
  listeners?: readonly EventListener[];
  /**
   * Freeze each event before the journal and the listeners see it. Default: when there are
   * listeners; false only when every one of them is known to read events only. `subscribe()`
   * always turns it on (a subscriber is code outside the library).
   */
  freeze?: boolean;
  /** Continue a session instead of starting a fresh one. */
  from?: RecorderStart;
  /** seq of the journal's last event: new events continue after it. Default 0. */
  lastSeq?: number;
}

export class Recorder {
  readonly sessionId: string;
  readonly enabled: boolean;
  readonly #strict: boolean;
  readonly #clock: () => number;
  readonly #state: SessionState;
  readonly #onDropped: ((error: ValidationError) => void) | undefined;
  readonly #prices: PriceTable | undefined;
  readonly #logger: Logger;
  readonly #agent: string | undefined;
  /** Kinds of drop already reported (bounded: past the cap, drops are only counted). */
  readonly #reported = new Set<string>();
  #journal: { append(event: MetricEvent): void } | undefined;
  #listeners: readonly EventListener[];
  #seq: number;
  /** The last timestamp given out: timestamps never go backwards within a run. */
  #lastTs = 0;
  #stopped = false;
  /** enabled && !stopped, kept in one field for the hot path. */
  #live: boolean;
  /** Set while code that may write to events sees them (subscribers, sinks): events are then frozen. */
  #freeze: boolean;
  #nextTurn = 1;
  /** Turns started and not ended, ended by `stop()`. */
  readonly #openTurns = new Map<string, TurnHandle>();

  constructor(options: RecorderOptions, parts: RecorderParts = {}) {
    this.sessionId = options.sessionId;
    this.enabled = options.enabled ?? true;
    this.#live = this.enabled;
    this.#strict = options.strict ?? false;
    this.#onDropped = options.onDropped;
    this.#prices = options.prices;
    this.#logger = options.logger ?? consoleLogger;
    const badAgent = options.agent === undefined ? undefined : checkName(options.agent, "agent");
    if (badAgent !== undefined) throw new ValidationError(`[options] ${badAgent}`);
    this.#agent = options.agent;
    this.#clock = parts.clock ?? Date.now;
    this.#journal = parts.journal;
    this.#listeners = parts.listeners ?? [];
    this.#freeze = parts.freeze ?? this.#listeners.length > 0;
    const from = parts.from;
    this.#seq = parts.lastSeq ?? 0;
    if (from !== undefined && "state" in from) {
      this.#state = from.state;
      return;
    }
    const startedAt = this.#now();
    this.#state = createState(this.sessionId, startedAt);
    if (!this.enabled) return;
    if (from !== undefined) this.#apply("open", { type: "restore", metrics: from.metrics }, startedAt);
    else this.#apply("open", { type: "session_start", sessionId: this.sessionId, startedAt }, startedAt);
  }

  // ------------------------------------------------------------------------------------------
  // Recording (Go API)

  recordToolCall(name: string, success: boolean, durationMs: number, details?: RecordDetails): void {
    const method = "recordToolCall";
    if (!this.#live) return this.#refuse(method);
    if (typeof success !== "boolean") return this.#reject(method, checkBoolean(success, "success")!);
    if (typeof durationMs !== "number" || !(durationMs >= 0 && durationMs <= MAX_SAFE))
      return this.#reject(method, checkDuration(durationMs)!);
    const ms = Math.round(durationMs) + 0; // + 0 turns -0 into 0
    // The hot path: a name seen before was validated then, so a known tool costs one Map lookup
    // here, which serves the bounds check (the same one replay applies) and the fold below.
    const tool = this.#state.tools.get(name);
    const bad = tool === undefined ? checkName(name, "tool name") : toolCallBounds(tool, name, ms);
    if (bad !== undefined) return this.#reject(method, bad);
    // The envelope is in the literal (seq is set once the event is accepted): one object shape from the start.
    const event: ToolCallEvent = {
      v: 1,
      seq: 0,
      ts: this.#now(),
      type: "tool_call",
      name,
      success,
      durationMs: ms,
    };
    const phase = this.#state.currentPhase;
    if (phase !== undefined) event.phase = phase;
    if (details !== undefined) {
      const normalized = normalizeDetails(details);
      if (typeof normalized === "string") return this.#reject(method, normalized);
      event.details = normalized;
    }
    event.seq = ++this.#seq;
    // reduce()'s own tool-call case, given the entry looked up above (a new tool gets its entry here).
    reduceToolCall(this.#state, event, tool ?? toolEntry(this.#state, name));
    this.#handOn(event);
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
    this.#apply(method, { type: "phase_duration", phase, durationMs: ms, success }, this.#now());
  }

  recordHealTrigger(phase: string): void {
    this.#countPhase("recordHealTrigger", "heal_trigger", phase);
  }

  recordHealOutcome(phase: string, success: boolean): void {
    this.#outcome("recordHealOutcome", phase, success, "heal_success", "heal_fail");
  }

  recordHealDuration(phase: string, durationMs: number): void {
    const method = "recordHealDuration";
    if (!this.#accepting(method)) return;
    const bad = this.#checkPhase(phase) ?? checkDuration(durationMs);
    if (bad !== undefined) return this.#reject(method, bad);
    const ms = Math.round(durationMs) + 0;
    this.#apply(method, { type: "heal_duration", phase, durationMs: ms }, this.#now());
  }

  recordHealLoop(phase: string): void {
    this.#countPhase("recordHealLoop", "heal_loop", phase);
  }

  recordBisectTrigger(phase: string): void {
    this.#countPhase("recordBisectTrigger", "bisect_trigger", phase);
  }

  recordBisectOutcome(phase: string, success: boolean): void {
    this.#outcome("recordBisectOutcome", phase, success, "bisect_success", "bisect_fail");
  }

  /** An empty strategy is a no-op, as in Go (not a drop). */
  recordEditStrategy(strategy: string): void {
    const method = "recordEditStrategy";
    if (strategy === "" || !this.#accepting(method)) return;
    if (!this.#state.editStrategies.has(strategy)) {
      const bad = checkName(strategy, "strategy");
      if (bad !== undefined) return this.#reject(method, bad);
    }
    this.#apply(method, { type: "edit_strategy", strategy }, this.#now());
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
    this.#apply(method, { type: "invocation", metric: valid }, this.#now());
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
    this.#apply(method, { type: "turn_start", turnId, phase }, this.#now());
    const turn = new TurnHandle(this.#turnSink, turnId, phase);
    this.#openTurns.set(turnId, turn);
    return turn;
  }

  /** The session's turns in start order (deep copies). */
  turns(): TurnMetrics[] {
    return snapshotTurns(this.#state.turns);
  }

  readonly #turnSink: TurnSink = {
    now: () => this.#now(),
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
      this.#apply("step.end", { type: "step_end", step: record }, this.#now());
      if (record.usage === undefined) return;
      const details: RecordDetails = { startedAt: new Date(startedAt) };
      if (record.model !== undefined) details.model = record.model;
      if (record.errorClass !== undefined) details.errorClass = record.errorClass;
      this.#recordLLM("step.end", phase, record.usage, cost, "", false, details);
    },
    turnEnd: (turnId, durationMs) => {
      this.#openTurns.delete(turnId);
      if (!this.#accepting("turn.end")) return;
      this.#apply("turn.end", { type: "turn_end", turnId, durationMs }, this.#now());
    },
  };

  // ------------------------------------------------------------------------------------------
  // Reading and lifecycle

  /** A deep copy of the current state, in the camelCase shape. */
  snapshot(): SessionMetrics {
    return snapshotState(this.#state);
  }

  /** True once `stop()` was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** seq of the last event (0 before the first). */
  get lastSeq(): number {
    return this.#seq;
  }

  /**
   * Stops recording: turns still open are ended first (with their open steps, whose usage is
   * kept); later records are dropped and counted (`"the collector is stopped"`).
   */
  stop(): void {
    if (this.#live) for (const turn of [...this.#openTurns.values()]) turn.end();
    this.#stopped = true;
    this.#live = false;
    this.#journal = undefined;
  }

  /** Detaches the listeners (after the last event, when the owner closes its sinks). */
  detachListeners(): void {
    this.#listeners = [];
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
    const safe = guardListener(listener, onListenerError);
    this.#listeners = [...this.#listeners, safe];
    this.#freeze = true;
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== safe);
    };
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  /** The clock, never going backwards within a run (a stepped wall clock holds at the last value). */
  #now(): number {
    const t = this.#clock();
    if (t > this.#lastTs) this.#lastTs = t;
    return this.#lastTs;
  }

  #accepting(method: string): boolean {
    if (this.#live) return true;
    this.#refuse(method);
    return false;
  }

  /** A record that arrives while not live: ignored when disabled, dropped and counted after stop. */
  #refuse(method: string): void {
    if (this.enabled && this.#stopped) this.#reject(method, "the collector is stopped");
  }

  #checkPhase(phase: unknown): string | undefined {
    return typeof phase === "string" && this.#state.phases.has(phase) ? undefined : checkName(phase, "phase");
  }

  #countPhase(method: string, type: PhaseCountType, phase: string): void {
    if (!this.#accepting(method)) return;
    const bad = this.#checkPhase(phase);
    if (bad !== undefined) return this.#reject(method, bad);
    this.#apply(method, { type, phase }, this.#now());
  }

  #outcome(
    method: string,
    phase: string,
    success: boolean,
    ok: PhaseCountType,
    failed: PhaseCountType,
  ): void {
    if (typeof success === "boolean") return this.#countPhase(method, success ? ok : failed, phase);
    if (this.#accepting(method)) this.#reject(method, checkBoolean(success, "success")!);
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
      checkText(promptHash, "promptHash") ??
      checkBoolean(truncated, "truncated");
    if (bad !== undefined) return this.#reject(method, bad);
    let eventDetails: EventDetails | undefined;
    if (details !== undefined) {
      const d = normalizeDetails(details);
      if (typeof d === "string") return this.#reject(method, d);
      eventDetails = d;
    }
    if (this.#agent !== undefined && eventDetails?.agent === undefined)
      eventDetails = { ...eventDetails, agent: this.#agent };
    const ts = this.#now();
    let unpriced: string | undefined;
    if (cost === undefined) {
      const model = eventDetails?.model;
      let priced: { cost: number; source: string } | undefined;
      try {
        priced =
          model === undefined
            ? undefined
            : (this.#prices ?? builtinTable()).price(
                model,
                normalized,
                eventDetails?.startedAt ?? ts,
                priceHintsOf(eventDetails),
              );
      } catch (error) {
        // A price table must never make a non-strict record*() throw.
        return this.#reject(method, `pricing ${JSON.stringify(model)} failed: ${(error as Error).message}`);
      }
      if (priced === undefined) unpriced = model ?? "(no model)";
      else {
        cost = priced.cost;
        // Which source priced it travels with the event (eventDetails is this call's own copy).
        eventDetails = { ...eventDetails, priceSource: priced.source };
      }
    }
    const event: EventBody = { type: "llm", phase, usage: normalized, cost: cost ?? 0 };
    if (promptHash !== "") event.promptHash = promptHash;
    if (truncated) event.truncated = true;
    if (unpriced !== undefined) event.unpriced = unpriced;
    if (eventDetails !== undefined) event.details = eventDetails;
    this.#apply(method, event, ts);
  }

  /**
   * The one path of every record: check the event against the state (the bounds replay applies
   * too), stamp it, fold it into the state, hand it on.
   */
  #apply(method: string, body: EventBody, ts: number): void {
    const event = body as MetricEvent;
    const bad = checkEventBounds(this.#state, event);
    if (bad !== undefined) {
      // A drop that cannot be counted any more (2^53−1 drops) is not recorded either.
      if (event.type !== "dropped") this.#reject(method, bad);
      return;
    }
    event.v = 1;
    event.ts = ts;
    this.#fold(event);
  }

  /** Numbers an event that passed its bounds, folds it into the state and hands it on. */
  #fold(event: MetricEvent): void {
    event.seq = ++this.#seq;
    reduce(this.#state, event);
    this.#handOn(event);
  }

  /** Gives a folded event to the journal, then the listeners. */
  #handOn(event: MetricEvent): void {
    const journal = this.#journal;
    const listeners = this.#listeners;
    // The plain collector (journal off, nobody listening): the event has nowhere to go.
    if (journal === undefined && listeners.length === 0) return;
    // The journal encodes events after this call returns: a subscriber must not be able to change them.
    if (this.#freeze) freezeEvent(event);
    journal?.append(event);
    for (const listener of listeners) listener(event);
  }

  #reject(method: string, given: string): void {
    // A reason may quote what was refused: the drop event must hold neither a NUL nor a lone surrogate.
    const reason = given.toWellFormed().replaceAll("\0", "\\u0000");
    const error = new ValidationError(`[${method}] ${reason}`);
    if (this.#strict) throw error;
    this.#apply(method, { type: "dropped", method, reason }, this.#now());
    this.#warnOnce(method, reason);
    this.#onDropped?.(error);
  }

  /** The first drop of each kind (method + reason without its values) is said; the rest counted. */
  #warnOnce(method: string, reason: string): void {
    const kind = `${method}: ${reason.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/-?\d[\d.e+]*/g, "#")}`;
    if (this.#reported.has(kind) || this.#reported.size >= MAX_REPORTED_KINDS) return;
    this.#reported.add(kind);
    this.#logger.warn(
      `[session-metrics] [${method}] dropped a record of session ${this.sessionId}: ${reason}; further drops of this kind are only counted (dropped_records)`,
    );
  }
}

const MAX_REPORTED_KINDS = 64;

/** Wraps a listener so that one that throws never breaks recording. */
export function guardListener(
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

/**
 * Freezes what a listener can reach of an event: the event and the sub-objects its type carries.
 * Named, not walked: `Object.freeze` costs about as much as the rest of a record (tens of ns an
 * object), so each object is frozen once and nothing is probed or enumerated. A new event type
 * with a sub-object must be added here (the frozen-events test records every type and checks).
 */
function freezeEvent(event: MetricEvent): void {
  switch (event.type) {
    case "tool_call":
      if (event.details !== undefined) freezeDetails(event.details);
      break;
    case "llm":
      Object.freeze(event.usage);
      if (event.details !== undefined) freezeDetails(event.details);
      break;
    case "step_end": {
      const step = event.step;
      if (step.usage !== undefined) Object.freeze(step.usage);
      if (step.stream !== undefined) Object.freeze(step.stream);
      Object.freeze(step);
      break;
    }
    case "invocation":
      Object.freeze(event.metric);
      break;
    case "restore":
      // A whole document with lists, once per session: walked.
      deepFreeze(event.metrics as unknown as Record<string, unknown>);
      break;
  }
  Object.freeze(event);
}

function freezeDetails(details: EventDetails): void {
  if (details.attributes !== undefined) Object.freeze(details.attributes);
  Object.freeze(details);
}

function deepFreeze(value: Record<string, unknown>): void {
  Object.freeze(value);
  for (const inner of Object.values(value))
    if (typeof inner === "object" && inner !== null) deepFreeze(inner as Record<string, unknown>);
}

function reportListenerError(error: unknown): void {
  console.error("[session-metrics] an event listener threw; recording goes on:", error);
}
