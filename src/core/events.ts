/**
 * Events are the truth; documents are views. Every applied record becomes one immutable
 * `MetricEvent`, and `reduce` folds events into `SessionState` through the same `apply*` functions
 * the live collector uses, so replaying a journal reproduces the live state exactly.
 */
import {
  applyEditStrategy,
  applyHealDuration,
  applyLLM,
  applyPhaseCount,
  applyPhaseDuration,
  applyToolCall,
  type NormalizedUsage,
  type PhaseCounter,
  resetState,
  restoreState,
  type SessionState,
  type ToolEntry,
  toolEntry,
} from "./state.ts";
import { applyStepEnd, applyTurnEnd, applyTurnStart, type StepRecord } from "./turns.ts";
import type { SessionMetrics } from "./types.ts";

/**
 * An agent invocation as journaled (the validated `InvocationMetric` of the multi-agent
 * proposal). `phase` is a number there; string phases are accepted for Collector sessions.
 */
export interface InvocationRecord {
  invocationId: string;
  agent: string;
  phase: number | string;
  taskId?: string;
  durationMs: number;
  tokens: number;
  inputTokens?: number;
  outputTokens?: number;
  cachedTokens?: number;
  cost: number;
  exitCode: number;
  success: boolean;
  /** 1 = first try. */
  attempt: number;
  outputParsed: boolean;
  model?: string;
  tier?: string;
  /** ISO 8601 start time. */
  timestamp: string;
  errorClass?: string;
}

/** Context carried by tool-call and LLM events (validated and normalised). */
export interface EventDetails {
  agent?: string;
  taskId?: string;
  model?: string;
  /** Epoch milliseconds. */
  startedAt?: number;
  attempt?: number;
  errorClass?: string;
  /** The provider that served the call: a hint for pricing. */
  provider?: string;
  /** Set by the recorder when it priced the call: which table did (`built-in price table`, `genai-prices@0.1.8`, a file path). */
  priceSource?: string;
  attributes?: Record<string, string | number | boolean>;
}

export type PhaseCountType =
  | "phase_transition"
  | "heal_trigger"
  | "heal_success"
  | "heal_fail"
  | "heal_loop"
  | "bisect_trigger"
  | "bisect_success"
  | "bisect_fail";

export const PHASE_COUNTERS: Readonly<Record<PhaseCountType, PhaseCounter>> = {
  phase_transition: "transitionCount",
  heal_trigger: "healTriggerCount",
  heal_success: "healSuccessCount",
  heal_fail: "healFailCount",
  heal_loop: "healLoopCount",
  bisect_trigger: "bisectTriggerCount",
  bisect_success: "bisectSuccessCount",
  bisect_fail: "bisectFailCount",
};

/** Whether `type` names one of the phase counter events (`phase_transition`, `heal_trigger`, ...). */
export function isPhaseCountType(type: unknown): type is PhaseCountType {
  return typeof type === "string" && Object.hasOwn(PHASE_COUNTERS, type);
}

export type EventBody =
  /** A fresh start of the session: replay empties the state here (a new Go-style run). */
  | { type: "session_start"; sessionId: string; startedAt: number }
  /** The session continues from a METRICS.json that had no journal: replay takes it whole. */
  | { type: "restore"; metrics: SessionMetrics }
  | {
      type: "tool_call";
      name: string;
      success: boolean;
      durationMs: number;
      /** The phase current when it was recorded (the last `phase_transition`), if any. */
      phase?: string;
      details?: EventDetails;
    }
  | {
      type: "llm";
      phase: string;
      usage: NormalizedUsage;
      cost: number;
      promptHash?: string;
      truncated?: boolean;
      /** The cost could not be priced: the model, or "(no model)". `cost` is then 0. */
      unpriced?: string;
      details?: EventDetails;
    }
  | { type: PhaseCountType; phase: string }
  | { type: "phase_duration"; phase: string; durationMs: number; success: boolean }
  | { type: "heal_duration"; phase: string; durationMs: number }
  | { type: "edit_strategy"; strategy: string }
  /** One agent invocation (see `InvocationMetric`); feeds analytics, not the Go document. */
  | { type: "invocation"; metric: InvocationRecord }
  | { type: "turn_start"; turnId: string; phase: string }
  /** A step's timings and usage; its LLM interaction is a separate `llm` event. */
  | { type: "step_end"; step: StepRecord }
  | { type: "turn_end"; turnId: string; durationMs: number }
  /**
   * Written by the journal when it had to shed `count` events (seq `seq` … `seq + count − 1`)
   * because the disk refused writes past its bound: replay knows they are missing.
   */
  | { type: "lost"; count: number }
  /** A record rejected by validation: counted in `dropped_records`, does not move `updated_at`. */
  | { type: "dropped"; method: string; reason: string };

/** One journal line's content. `ts` is epoch milliseconds; `seq` is gap-free per session. */
export type MetricEvent = EventBody & { v: 1; seq: number; ts: number };

export type EventType = EventBody["type"];

/** A phase counter event (`phase_transition`, `heal_trigger`, ...). */
export type PhaseCountEvent = Extract<MetricEvent, { type: PhaseCountType }>;

/** Whether `event` is one of the phase counter events. */
export function isPhaseCountEvent(event: MetricEvent): event is PhaseCountEvent {
  return isPhaseCountType(event.type);
}

/** A tool-call event. */
export type ToolCallEvent = Extract<MetricEvent, { type: "tool_call" }>;

/**
 * Folds a tool call into its entry: `reduce`'s own case, exported so that the recorder, which has
 * already looked the entry up to check its bounds, can pass it instead of a second lookup. Live and
 * replay still run this one function.
 */
export function reduceToolCall(state: SessionState, event: ToolCallEvent, tool: ToolEntry): void {
  applyToolCall(state, tool, event.success, event.durationMs, event.ts);
}

/** Folds one event into the state. Pure apart from mutating `state`; never throws for a valid event. */
export function reduce(state: SessionState, event: MetricEvent): SessionState {
  const ts = event.ts;
  switch (event.type) {
    case "session_start":
      resetState(state, event.startedAt);
      break;
    case "restore":
      restoreState(state, event.metrics);
      break;
    case "tool_call":
      reduceToolCall(state, event, toolEntry(state, event.name));
      break;
    case "llm":
      applyLLM(
        state,
        event.phase,
        event.usage,
        event.cost,
        event.promptHash ?? "",
        event.truncated === true,
        ts,
        event.unpriced,
      );
      break;
    case "phase_duration":
      applyPhaseDuration(state, event.phase, event.durationMs, event.success, ts);
      break;
    case "heal_duration":
      applyHealDuration(state, event.phase, event.durationMs, ts);
      break;
    case "edit_strategy":
      applyEditStrategy(state, event.strategy, ts);
      break;
    case "dropped":
      state.droppedRecords++;
      break;
    case "lost":
      break;
    case "invocation":
      state.updatedAt = ts;
      break;
    case "turn_start":
      applyTurnStart(state.turns, event.turnId, event.phase);
      state.updatedAt = ts;
      break;
    case "step_end":
      applyStepEnd(state.turns, event.step);
      state.updatedAt = ts;
      break;
    case "turn_end":
      applyTurnEnd(state.turns, event.turnId, event.durationMs);
      state.updatedAt = ts;
      break;
    default:
      applyPhaseCount(state, event.phase, PHASE_COUNTERS[event.type], ts);
      if (event.type === "phase_transition") state.currentPhase = event.phase;
  }
  return state;
}
