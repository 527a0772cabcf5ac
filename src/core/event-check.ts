/**
 * The recorder's bounds, stated once for events: what a recorded event's fields may hold
 * (`checkEventContent`, used on every journal line and store input) and what the state it is
 * folded into allows (`checkEventBounds`: totals stay exact integers, costs finite). The recorder
 * checks its arguments with the same functions (validate.ts) and every event with
 * `checkEventBounds`, so replay admits exactly what the recorder could have written.
 */
import type { MetricEvent } from "./events.ts";
import { isPhaseCountType, PHASE_COUNTERS } from "./events.ts";
import { parseInvocationMetric } from "./invocation.ts";
import { sessionMetricsSchema } from "./metrics-schema.ts";
import { assertSessionId } from "./session-id.ts";
import type { SessionState } from "./state.ts";
import {
  checkAttributes,
  checkCost,
  checkName,
  isTimestamp,
  llmTotalsOverflow,
  MAX_SAFE,
  normalizeUsage,
  overflows,
} from "./validate.ts";

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isMs = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isName = (v: unknown): boolean => checkName(v, "") === undefined;
const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function isUsage(u: unknown): boolean {
  return isRecord(u) && isCount(u.totalTokens) && typeof normalizeUsage(u) !== "string";
}

function isDetails(d: unknown): boolean {
  if (d === undefined) return true;
  if (!isRecord(d)) return false;
  return (
    optional(d.agent, isName) &&
    optional(d.model, isName) &&
    optional(d.taskId, isName) &&
    optional(d.errorClass, isName) &&
    optional(d.attempt, (v) => isCount(v) && v >= 1) &&
    optional(d.startedAt, isTimestamp) &&
    optional(d.attributes, (v) => typeof checkAttributes(v) !== "string")
  );
}

function isStream(s: unknown): boolean {
  return (
    isRecord(s) &&
    isCount(s.chunks) &&
    optional(s.interChunkP50Ms, isMs) &&
    optional(s.interChunkP90Ms, isMs) &&
    optional(s.outputTokensPerSecond, isMs) &&
    (s.outcome === "completed" || s.outcome === "break" || s.outcome === "error" || s.outcome === "abort")
  );
}

function isStep(s: unknown): boolean {
  return (
    isRecord(s) &&
    isName(s.turnId) &&
    isCount(s.stepIndex) &&
    optional(s.usage, isUsage) &&
    optional(s.ttftMs, isMs) &&
    optional(s.decodeMs, isMs) &&
    optional(s.genTotalMs, isMs) &&
    optional(s.model, isName) &&
    optional(s.errorClass, isName) &&
    optional(s.stream, isStream)
  );
}

function isInvocation(m: unknown): boolean {
  try {
    parseInvocationMetric(m);
    return true;
  } catch {
    return false;
  }
}

function isSessionId(id: unknown): boolean {
  try {
    assertSessionId(id);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a decoded event holds only what the recorder could have written: the envelope (`v`,
 * `seq`, `ts`), the type, and every field within the recorder's bounds (names non-empty,
 * well-formed, NUL-free and ≤ 256 bytes; whole durations and token counts ≤ 2^53−1; finite costs
 * ≥ 0). Returns a reason, or undefined when fine.
 */
export function checkEventContent(value: unknown): string | undefined {
  if (!isRecord(value)) return "not an object";
  const e = value;
  if (e.v !== 1) return `unknown version ${String(e.v)}`;
  if (!isCount(e.seq) || e.seq < 1) return "bad seq";
  if (!isTimestamp(e.ts)) return "bad ts";
  let ok: boolean;
  switch (e.type) {
    case "session_start":
      ok = isSessionId(e.sessionId) && isTimestamp(e.startedAt);
      break;
    case "restore":
      ok = sessionMetricsSchema().safeParse(e.metrics).success;
      break;
    case "tool_call":
      ok = isName(e.name) && typeof e.success === "boolean" && isCount(e.durationMs) && isDetails(e.details);
      break;
    case "llm":
      ok =
        isName(e.phase) &&
        isUsage(e.usage) &&
        checkCost(e.cost) === undefined &&
        optional(e.promptHash, (v) => typeof v === "string") &&
        optional(e.truncated, (v) => typeof v === "boolean") &&
        optional(e.unpriced, isName) &&
        isDetails(e.details);
      break;
    case "phase_duration":
      ok = isName(e.phase) && isCount(e.durationMs) && typeof e.success === "boolean";
      break;
    case "heal_duration":
      ok = isName(e.phase) && isCount(e.durationMs);
      break;
    case "edit_strategy":
      ok = isName(e.strategy);
      break;
    case "invocation":
      ok = isInvocation(e.metric);
      break;
    case "turn_start":
      ok = isName(e.turnId) && isName(e.phase);
      break;
    case "turn_end":
      ok = isName(e.turnId) && isMs(e.durationMs);
      break;
    case "step_end":
      ok = isStep(e.step);
      break;
    case "lost":
      ok = isCount(e.count) && e.count >= 1 && e.seq + e.count - 1 <= MAX_SAFE;
      break;
    case "dropped":
      ok = typeof e.method === "string" && typeof e.reason === "string";
      break;
    default:
      if (!isPhaseCountType(e.type)) return `unknown event type ${JSON.stringify(e.type)}`;
      ok = isName(e.phase);
  }
  return ok ? undefined : `bad ${String(e.type)}`;
}

/**
 * Whether folding `event` into `state` keeps every total exact (integers ≤ 2^53−1) and every cost
 * finite. Returns the recorder's reason, or undefined when it fits.
 */
export function checkEventBounds(state: SessionState, event: MetricEvent): string | undefined {
  switch (event.type) {
    case "tool_call": {
      const tool = state.tools.get(event.name);
      if (
        tool !== undefined &&
        (tool.callCount >= MAX_SAFE || overflows(tool.totalDurationMs, event.durationMs))
      )
        return `tool ${JSON.stringify(event.name)} totals would pass 2^53−1`;
      return undefined;
    }
    case "llm": {
      const entry = state.llms.get(event.phase);
      const field = entry === undefined ? undefined : llmTotalsOverflow(entry, event.usage, event.cost);
      return field === undefined
        ? undefined
        : `${field} of phase ${JSON.stringify(event.phase)} would pass its limit`;
    }
    case "heal_duration": {
      const entry = state.phases.get(event.phase);
      return entry !== undefined && overflows(entry.healDurationMs, event.durationMs)
        ? `heal duration of phase ${JSON.stringify(event.phase)} would pass 2^53−1`
        : undefined;
    }
    case "edit_strategy":
      return (state.editStrategies.get(event.strategy) ?? 0) >= MAX_SAFE
        ? `strategy ${JSON.stringify(event.strategy)} count is at 2^53−1`
        : undefined;
    case "dropped":
      return state.droppedRecords >= MAX_SAFE ? "dropped_records is at 2^53−1" : undefined;
    case "phase_transition":
    case "heal_trigger":
    case "heal_success":
    case "heal_fail":
    case "heal_loop":
    case "bisect_trigger":
    case "bisect_success":
    case "bisect_fail": {
      const entry = state.phases.get(event.phase);
      return entry !== undefined && entry[PHASE_COUNTERS[event.type]] >= MAX_SAFE
        ? `phase ${JSON.stringify(event.phase)} counter is at 2^53−1`
        : undefined;
    }
    default:
      return undefined;
  }
}
