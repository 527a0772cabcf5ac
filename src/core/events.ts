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
  type SessionState,
  toolEntry,
} from "./state.ts";

/** Context carried by tool-call and LLM events (validated and normalised). */
export interface EventDetails {
  agent?: string;
  taskId?: string;
  model?: string;
  /** Epoch milliseconds. */
  startedAt?: number;
  attempt?: number;
  errorClass?: string;
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

export type EventBody =
  | { type: "session_start"; sessionId: string; startedAt: number }
  | { type: "tool_call"; name: string; success: boolean; durationMs: number; details?: EventDetails }
  | {
      type: "llm";
      phase: string;
      usage: NormalizedUsage;
      cost: number;
      promptHash?: string;
      truncated?: boolean;
      details?: EventDetails;
    }
  | { type: PhaseCountType; phase: string }
  | { type: "phase_duration"; phase: string; durationMs: number; success: boolean }
  | { type: "heal_duration"; phase: string; durationMs: number }
  | { type: "edit_strategy"; strategy: string }
  /** A record rejected by validation: counted in `dropped_records`, does not move `updated_at`. */
  | { type: "dropped"; method: string; reason: string };

/** One journal line's content. `ts` is epoch milliseconds; `seq` is gap-free per session. */
export type MetricEvent = EventBody & { v: 1; seq: number; ts: number };

export type EventType = EventBody["type"];

/** Folds one event into the state. Pure apart from mutating `state`; never throws for a valid event. */
export function reduce(state: SessionState, event: MetricEvent): SessionState {
  const ts = event.ts;
  switch (event.type) {
    case "session_start":
      state.startedAt = event.startedAt;
      state.updatedAt = event.startedAt;
      break;
    case "tool_call":
      applyToolCall(state, toolEntry(state, event.name), event.success, event.durationMs, ts);
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
    default:
      applyPhaseCount(state, event.phase, PHASE_COUNTERS[event.type], ts);
  }
  return state;
}
