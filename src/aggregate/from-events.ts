/**
 * Journal events → analytics records, so a Collector session (live or replayed from its journal)
 * feeds the same `computeAggregate` as the `InvocationMetricsCollector`.
 *
 * Conventions for events that are not invocations (the event carries less than a metric):
 * - a tool call or LLM interaction is recorded when it ends, at the event's `ts`;
 * - `agent` defaults to `"unknown"`; a tool call belongs to the phase current when it was recorded
 *   (the event's `phase`: the last `recordPhaseTransition`), and to {@link UNKNOWN_PHASE} before any;
 * - `invocationId` is `details.taskId` when given — so the attempts of one task line up as retries
 *   of each other — and otherwise `tool:<seq>` / `llm:<seq>`, unique in the session;
 * - `exitCode` is 0 on success and 1 on failure, and `outputParsed` mirrors `success` (there is no
 *   separate parse step to report).
 */
import type { EventDetails, MetricEvent } from "../core/events.ts";
import {
  type AggregateOptions,
  type AnalyticsRecord,
  computeAggregate,
  type MetricsAggregate,
} from "./aggregate.ts";

/** The phase of tool-call records made before any phase transition. */
export const UNKNOWN_PHASE = "unknown";
/** The agent of records whose event names none. */
export const UNKNOWN_AGENT = "unknown";

/**
 * The analytics record of one journal event: `invocation` → its metric (as journaled),
 * `tool_call` → a record with `tool: name`, `llm` → a record with its usage and cost; every other
 * event → `undefined`.
 */
export function eventToRecord(event: MetricEvent): AnalyticsRecord | undefined {
  switch (event.type) {
    case "invocation":
      return event.metric;
    case "tool_call": {
      const d = event.details;
      // Without a start, the call ran for durationMs up to the moment it was recorded.
      const startMs = d?.startedAt ?? event.ts - event.durationMs;
      return {
        invocationId: d?.taskId ?? `tool:${event.seq}`,
        agent: d?.agent ?? UNKNOWN_AGENT,
        phase: event.phase ?? UNKNOWN_PHASE,
        durationMs: event.durationMs,
        tokens: 0,
        cost: 0,
        exitCode: event.success ? 0 : 1,
        success: event.success,
        attempt: d?.attempt ?? 1,
        outputParsed: event.success,
        timestamp: new Date(startMs).toISOString(),
        tool: event.name,
        ...detailFields(d),
      };
    }
    case "llm": {
      const d = event.details;
      const success = d?.errorClass === undefined;
      // With a known start the interaction lasted until it was recorded; without one its length is
      // unknown and it counts as instantaneous (open at no instant of the parallelism timeline).
      const startMs = d?.startedAt ?? event.ts;
      const record: AnalyticsRecord = {
        invocationId: d?.taskId ?? `llm:${event.seq}`,
        agent: d?.agent ?? UNKNOWN_AGENT,
        phase: event.phase,
        durationMs: Math.max(0, Math.round(event.ts - startMs)),
        tokens: event.usage.totalTokens,
        inputTokens: event.usage.promptTokens,
        outputTokens: event.usage.completionTokens,
        cost: event.cost,
        exitCode: success ? 0 : 1,
        success,
        attempt: d?.attempt ?? 1,
        outputParsed: success,
        timestamp: new Date(startMs).toISOString(),
        ...detailFields(d),
      };
      if (event.usage.cacheReadTokens !== undefined) record.cachedTokens = event.usage.cacheReadTokens;
      return record;
    }
    default:
      return undefined;
  }
}

/** The analytics records of a stream of events, in order (lazily: fit for a journal of any size). */
export function* eventsToRecords(events: Iterable<MetricEvent>): Generator<AnalyticsRecord> {
  for (const event of events) {
    const record = eventToRecord(event);
    if (record !== undefined) yield record;
  }
}

/** `computeAggregate` over the records of a stream of events (a Collector session or a replayed journal). */
export function aggregateEvents(events: Iterable<MetricEvent>, options?: AggregateOptions): MetricsAggregate {
  return computeAggregate(eventsToRecords(events), options);
}

/** The optional fields a record takes from event details; absent ones stay absent (no `key: undefined`). */
function detailFields(d: EventDetails | undefined): Pick<AnalyticsRecord, "taskId" | "model" | "errorClass"> {
  const fields: Pick<AnalyticsRecord, "taskId" | "model" | "errorClass"> = {};
  if (d === undefined) return fields;
  if (d.taskId !== undefined) fields.taskId = d.taskId;
  if (d.model !== undefined) fields.model = d.model;
  if (d.errorClass !== undefined) fields.errorClass = d.errorClass;
  return fields;
}
