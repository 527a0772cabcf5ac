/**
 * The recorder's bounds, stated once for events: what a recorded event's fields may hold
 * (`checkEventContent`, used on every journal line and store input) and what the state it is
 * folded into allows (`checkEventBounds`: totals stay exact integers, costs finite). The recorder
 * checks its arguments with the same functions (validate.ts) and every event with
 * `checkEventBounds`, so replay admits exactly what the recorder could have written.
 */
import { describeValue } from "../errors.ts";
import type { MetricEvent } from "./events.ts";
import { isPhaseCountEvent, isPhaseCountType, PHASE_COUNTERS } from "./events.ts";
import { parseInvocationMetric } from "./invocation.ts";
import { sessionMetricsSchema } from "./metrics-schema.ts";
import { assertSessionId } from "./session-id.ts";
import type { SessionState, ToolEntry } from "./state.ts";
import {
  checkAttributes,
  checkCost,
  checkName,
  checkText,
  isTimestamp,
  llmTotalsOverflow,
  MAX_ID_BYTES,
  MAX_SAFE,
  normalizeUsage,
  overflows,
} from "./validate.ts";

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isMs = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A field check: undefined when fine, else what is wrong (naming the field). */
type Check = (value: unknown, field: string) => string | undefined;

const name: Check = (v, field) => checkName(v, field);
const count: Check = (v, field) =>
  isCount(v) ? undefined : `${field} must be a whole number from 0 to 2^53−1`;
const ms: Check = (v, field) => (isMs(v) ? undefined : `${field} must be a finite number ≥ 0`);
const bool: Check = (v, field) => (typeof v === "boolean" ? undefined : `${field} must be a boolean`);
const text: Check = (v, field) => (typeof v === "string" ? undefined : `${field} must be a string`);
const instant: Check = (v, field) =>
  isTimestamp(v) ? undefined : `${field} must be epoch ms from year 0 to 9999`;
const optional =
  (check: Check): Check =>
  (v, field) =>
    v === undefined ? undefined : check(v, field);

const usage: Check = (u, field) => {
  if (!isRecord(u)) return `${field} must be an object`;
  if (!isCount(u.totalTokens)) return `${field}.totalTokens must be a whole number from 0 to 2^53−1`;
  const normalized = normalizeUsage(u);
  return typeof normalized === "string" ? `${field}: ${normalized}` : undefined;
};

const details: Check = (d, field) => {
  if (!isRecord(d)) return `${field} must be an object`;
  return (
    optional(name)(d.agent, `${field}.agent`) ??
    optional(name)(d.model, `${field}.model`) ??
    optional((v, f) => checkName(v, f, MAX_ID_BYTES))(d.taskId, `${field}.taskId`) ??
    optional(name)(d.errorClass, `${field}.errorClass`) ??
    optional(name)(d.provider, `${field}.provider`) ??
    optional(name)(d.priceSource, `${field}.priceSource`) ??
    optional((v, f) => (isCount(v) && v >= 1 ? undefined : `${f} must be a whole number ≥ 1`))(
      d.attempt,
      `${field}.attempt`,
    ) ??
    optional(instant)(d.startedAt, `${field}.startedAt`) ??
    (d.attributes === undefined || typeof checkAttributes(d.attributes) !== "string"
      ? undefined
      : (checkAttributes(d.attributes) as string))
  );
};

const OUTCOMES: ReadonlySet<unknown> = new Set(["completed", "break", "error", "abort"]);

const stream: Check = (s, field) => {
  if (!isRecord(s)) return `${field} must be an object`;
  return (
    count(s.chunks, `${field}.chunks`) ??
    optional(ms)(s.interChunkP50Ms, `${field}.interChunkP50Ms`) ??
    optional(ms)(s.interChunkP90Ms, `${field}.interChunkP90Ms`) ??
    optional(ms)(s.outputTokensPerSecond, `${field}.outputTokensPerSecond`) ??
    (OUTCOMES.has(s.outcome) ? undefined : `${field}.outcome is not one of completed, break, error, abort`)
  );
};

const step: Check = (s, field) => {
  if (!isRecord(s)) return `${field} must be an object`;
  return (
    name(s.turnId, `${field}.turnId`) ??
    count(s.stepIndex, `${field}.stepIndex`) ??
    optional(usage)(s.usage, `${field}.usage`) ??
    optional(ms)(s.ttftMs, `${field}.ttftMs`) ??
    optional(ms)(s.decodeMs, `${field}.decodeMs`) ??
    optional(ms)(s.genTotalMs, `${field}.genTotalMs`) ??
    optional(name)(s.model, `${field}.model`) ??
    optional(name)(s.errorClass, `${field}.errorClass`) ??
    optional(stream)(s.stream, `${field}.stream`)
  );
};

const invocation: Check = (m) => {
  try {
    parseInvocationMetric(m);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^\[session-metrics\] /, "");
  }
};

const sessionId: Check = (id) => {
  try {
    assertSessionId(id);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^\[session-metrics\] /, "");
  }
};

/** What each event type's fields must hold (the envelope is checked for every type). */
const BODY: Record<string, (e: Record<string, unknown>) => string | undefined> = {
  session_start: (e) => sessionId(e.sessionId, "sessionId") ?? instant(e.startedAt, "startedAt"),
  restore: (e) =>
    sessionMetricsSchema().safeParse(e.metrics).success ? undefined : "metrics is not a valid document",
  tool_call: (e) =>
    name(e.name, "name") ??
    bool(e.success, "success") ??
    count(e.durationMs, "durationMs") ??
    optional(name)(e.phase, "phase") ??
    optional(details)(e.details, "details"),
  llm: (e) =>
    name(e.phase, "phase") ??
    usage(e.usage, "usage") ??
    checkCost(e.cost) ??
    optional(checkText)(e.promptHash, "promptHash") ??
    optional(bool)(e.truncated, "truncated") ??
    optional(name)(e.unpriced, "unpriced") ??
    optional(details)(e.details, "details"),
  phase_duration: (e) =>
    name(e.phase, "phase") ?? count(e.durationMs, "durationMs") ?? bool(e.success, "success"),
  heal_duration: (e) => name(e.phase, "phase") ?? count(e.durationMs, "durationMs"),
  edit_strategy: (e) => name(e.strategy, "strategy"),
  invocation: (e) => invocation(e.metric, "metric"),
  turn_start: (e) => name(e.turnId, "turnId") ?? name(e.phase, "phase"),
  turn_end: (e) => name(e.turnId, "turnId") ?? ms(e.durationMs, "durationMs"),
  step_end: (e) => step(e.step, "step"),
  lost: (e) =>
    // Compared without adding, which could round past 2^53−1 and pass.
    isCount(e.count) && e.count >= 1 && e.count <= MAX_SAFE - (e.seq as number) + 1
      ? undefined
      : "count must be a whole number ≥ 1 that keeps seq within 2^53−1",
  dropped: (e) => text(e.method, "method") ?? text(e.reason, "reason"),
};

/**
 * Whether a decoded event holds only what the recorder could have written: the envelope (`v`,
 * `seq`, `ts`), the type, and every field within the recorder's bounds (names non-empty,
 * well-formed, NUL-free and ≤ 256 bytes; whole durations and token counts ≤ 2^53−1; finite costs
 * ≥ 0). Returns a reason (`bad tool_call: name contains a NUL character`), or undefined when fine.
 */
export function checkEventContent(value: unknown): string | undefined {
  if (!isRecord(value)) return "not an object";
  const e = value;
  // describeValue, not String(): a version such as {"toString":1} has no string form.
  if (e.v !== 1) return `unknown version ${describeValue(e.v)}`;
  if (!isCount(e.seq) || e.seq < 1) return "bad seq";
  if (!isTimestamp(e.ts)) return "bad ts: ts must be whole epoch milliseconds from year 0 to 9999";
  const type = e.type;
  const body = typeof type === "string" && Object.hasOwn(BODY, type) ? BODY[type] : undefined;
  const reason = body !== undefined ? body(e) : isPhaseCountType(type) ? name(e.phase, "phase") : undefined;
  if (body === undefined && !isPhaseCountType(type)) return `unknown event type ${JSON.stringify(type)}`;
  return reason === undefined ? undefined : `bad ${String(type)}: ${reason}`;
}

/** Whether one more call of `durationMs` keeps the tool's totals exact (the recorder's hot path uses this directly). */
export function toolCallBounds(tool: ToolEntry, name: string, durationMs: number): string | undefined {
  return tool.callCount >= MAX_SAFE || overflows(tool.totalDurationMs, durationMs)
    ? `tool ${JSON.stringify(name)} totals would pass 2^53−1`
    : undefined;
}

/**
 * Whether folding `event` into `state` keeps every total exact (integers ≤ 2^53−1) and every cost
 * finite. Returns the recorder's reason, or undefined when it fits.
 */
export function checkEventBounds(state: SessionState, event: MetricEvent): string | undefined {
  switch (event.type) {
    case "tool_call": {
      const tool = state.tools.get(event.name);
      return tool === undefined ? undefined : toolCallBounds(tool, event.name, event.durationMs);
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
    default: {
      if (!isPhaseCountEvent(event)) return undefined;
      const entry = state.phases.get(event.phase);
      return entry !== undefined && entry[PHASE_COUNTERS[event.type]] >= MAX_SAFE
        ? `phase ${JSON.stringify(event.phase)} counter is at 2^53−1`
        : undefined;
    }
  }
}
