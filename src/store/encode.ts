/**
 * Events → rows, with every check that keeps bad input away from the database: an event is
 * structurally checked as a journal line is, then its values as `validate.ts` checks them (no NUL
 * or lone surrogate, finite numbers), and every integer column must hold a safe integer.
 * Failures are `ValidationError`s naming the session, the event and the field.
 */
import { type EventDetails, isPhaseCountType, type MetricEvent } from "../core/events.ts";
import { assertSessionId } from "../core/session-id.ts";
import type { Usage } from "../core/types.ts";
import { utf8Length } from "../core/validate.ts";
import { ValidationError } from "../errors.ts";
import { checkEvent } from "../journal/line-codec.ts";
import type { EncodedEvents, EventRow } from "./types.ts";
import { checkValue, isClean, MAX_KEY_BYTES } from "./validate.ts";

/** Fixed per-row overhead counted in {@link EncodedEvents.bytes}. */
const ROW_OVERHEAD_BYTES = 160;

export interface EncodeOptions {
  /**
   * The events were just decoded from JSON text (a journal), so they hold only JSON values: no
   * functions, symbols or bigints. Then their JSON (the `data` column) shows everything the
   * deep check looks for — a NUL or a lone surrogate is written as a `\u` escape, a non-finite
   * number as `null` — and the deep walk runs only when one of those two appears.
   */
  fromJson?: boolean;
}

/** Validates and flattens events of one session. */
export function encodeEvents(
  sessionId: string,
  events: readonly MetricEvent[],
  options: EncodeOptions = {},
): EncodedEvents {
  return encode(sessionId, events, options.fromJson === true, false);
}

/**
 * {@link encodeEvents} for events just read from a journal (`ingest`): the journal's decoder held
 * each one to `checkEventContent` already, so only the store's own checks run again. Not exported
 * from the package: other callers go through `encodeEvents`.
 */
export function encodeJournalEvents(sessionId: string, events: readonly MetricEvent[]): EncodedEvents {
  return encode(sessionId, events, true, true);
}

function encode(
  sessionId: string,
  events: readonly MetricEvent[],
  fromJson: boolean,
  contentChecked: boolean,
): EncodedEvents {
  assertSessionId(sessionId);
  if (!Array.isArray(events)) throw new ValidationError(`[store] events must be an array of events`);
  const rows: EventRow[] = [];
  let bytes = 0;
  for (const event of events) {
    const before = rows.length;
    encodeEventInto(rows, sessionId, event, fromJson, contentChecked);
    bytes += (rows[before]!.data?.length ?? 0) + (rows.length - before) * ROW_OVERHEAD_BYTES;
  }
  return { rows, events: events.length, bytes } as unknown as EncodedEvents;
}

/** Joins several encoded batches into one (for a multi-session write). */
export function concatEncoded(parts: readonly EncodedEvents[]): EncodedEvents {
  const rows = parts.flatMap((p) => p.rows);
  const events = parts.reduce((n, p) => n + p.events, 0);
  const bytes = parts.reduce((n, p) => n + p.bytes, 0);
  return { rows, events, bytes } as unknown as EncodedEvents;
}

/** Names the event in an error (built only when there is one). */
function whereOf(sessionId: string, event: MetricEvent): string {
  return `event ${typeof event?.seq === "number" ? `seq ${event.seq}` : "(no seq)"} of session ${sessionId}`;
}

function encodeEventInto(
  rows: EventRow[],
  sessionId: string,
  event: MetricEvent,
  fromJson: boolean,
  contentChecked: boolean,
): void {
  if (!contentChecked) {
    const structural = typeof event === "object" && event !== null ? checkEvent(event) : "not an object";
    if (structural !== undefined)
      throw new ValidationError(`[store] ${whereOf(sessionId, event)} is invalid: ${structural}`);
  }
  if (!Number.isSafeInteger(event.ts) || event.ts < 0)
    throw new ValidationError(
      `[store] ${whereOf(sessionId, event)}: ts must be whole epoch milliseconds ≥ 0, got ${event.ts}`,
    );
  // Decoded JSON cannot hold what makes JSON.stringify throw, so its JSON may come first.
  const json = fromJson ? eventJson(event) : undefined;
  const clean = json !== undefined && !json.includes("\\u") && !json.includes("null");
  if (!clean && !isClean(event))
    throw new ValidationError(`[store] ${whereOf(sessionId, event)}: ${checkValue(event, "") ?? "invalid"}`);
  const start = rows.length;
  const row = baseRow(sessionId, event, json ?? eventJson(event));
  row.heldByColumns = flatten(row, event);
  rows.push(row);
  if (event.type === "restore") expandRestore(rows, row, event.metrics);
  for (let i = start; i < rows.length; i++) {
    const bad = checkRow(rows[i]!);
    if (bad !== undefined) throw new ValidationError(`[store] ${whereOf(sessionId, event)}: ${bad}`);
  }
}

/** The keys of an event of some type whose fields are all columns. */
const eventKeys = (...keys: string[]) => new Set(["v", "seq", "ts", "type", "phase", ...keys]);
const TOOL_CALL_KEYS = eventKeys("name", "success", "durationMs", "details");
const LLM_KEYS = eventKeys("usage", "cost", "details");
const PHASE_KEYS = eventKeys();
const PHASE_DURATION_KEYS = eventKeys("durationMs", "success");
const HEAL_DURATION_KEYS = eventKeys("durationMs");
const USAGE_KEYS = new Set([
  "promptTokens",
  "completionTokens",
  "totalTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "reasoningTokens",
]);
const DETAIL_KEYS = new Set(["agent", "model", "errorClass"]);
/** An LLM call's start is held too, as its duration (see `flatten`). */
const LLM_DETAIL_KEYS = new Set([...DETAIL_KEYS, "startedAt"]);

function keysWithin(value: object, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

function baseRow(sessionId: string, event: MetricEvent, data: string): EventRow {
  return {
    sessionId,
    seq: event.seq,
    part: 0,
    ts: event.ts,
    type: event.type,
    calls: 0,
    failures: 0,
    tool: null,
    phase: null,
    agent: null,
    model: null,
    success: null,
    durationMs: null,
    promptTokens: null,
    completionTokens: null,
    totalTokens: null,
    cacheReadTokens: null,
    cacheWriteTokens: null,
    reasoningTokens: null,
    cost: null,
    costNanos: null,
    errorClass: null,
    data,
    heldByColumns: false,
  };
}

/**
 * The `data` column: the event as JSON. A cost of -0 is spelled "-0" (JSON would write 0), as the
 * journal does; `checkEvent` turns it back into -0 when the event is read.
 */
function eventJson(event: MetricEvent): string {
  if (event.type === "llm" && Object.is(event.cost, -0)) return JSON.stringify({ ...event, cost: "-0" });
  return JSON.stringify(event);
}

function applyDetails(row: EventRow, d: EventDetails | undefined): void {
  if (d === undefined) return;
  row.agent = d.agent ?? null;
  row.model = d.model ?? null;
  row.errorClass = d.errorClass ?? null;
}

/**
 * Fills the analytic columns. Calls are tool calls, LLM interactions and agent invocations; a
 * step's usage is not repeated from `step_end` (its `llm` event carries it), so nothing counts twice.
 *
 * Returns whether the columns hold every field of the event, so that it could be written back
 * from them exactly: only such rows may be stored without their JSON (`storedData`). An event
 * with anything more (attributes, a task id, a prompt hash, an invocation, a turn) keeps its
 * JSON, so the database never loses what the journal had.
 */
function flatten(row: EventRow, event: MetricEvent): boolean {
  switch (event.type) {
    case "tool_call": {
      const d = event.details;
      applyDetails(row, d);
      row.tool = event.name;
      row.phase = event.phase ?? null;
      row.success = event.success;
      row.durationMs = event.durationMs;
      row.calls = 1;
      row.failures = event.success ? 0 : 1;
      return keysWithin(event, TOOL_CALL_KEYS) && (d === undefined || keysWithin(d, DETAIL_KEYS));
    }
    case "llm": {
      const d = event.details;
      applyDetails(row, d);
      row.phase = event.phase;
      row.success = d?.errorClass === undefined;
      // Only a known start gives a duration; otherwise it is unknown, not 0.
      if (d?.startedAt !== undefined) row.durationMs = Math.max(0, Math.round(event.ts - d.startedAt));
      row.calls = 1;
      row.failures = row.success ? 0 : 1;
      setUsage(row, event.usage);
      setCost(row, event.cost);
      // A start is held as the duration ts − startedAt, which gives it back only when whole and not after ts.
      const startHeld =
        d?.startedAt === undefined || (Number.isSafeInteger(d.startedAt) && d.startedAt <= event.ts);
      return (
        keysWithin(event, LLM_KEYS) &&
        keysWithin(event.usage, USAGE_KEYS) &&
        !Object.is(event.cost, -0) &&
        (d === undefined || (startHeld && keysWithin(d, LLM_DETAIL_KEYS)))
      );
    }
    case "invocation": {
      const m = event.metric;
      row.agent = m.agent;
      row.phase = String(m.phase);
      row.model = m.model ?? null;
      row.errorClass = m.errorClass ?? null;
      row.success = m.success;
      row.durationMs = m.durationMs;
      row.calls = 1;
      row.failures = m.success ? 0 : 1;
      row.totalTokens = m.tokens;
      row.promptTokens = m.inputTokens ?? null;
      row.completionTokens = m.outputTokens ?? null;
      row.cacheReadTokens = m.cachedTokens ?? null;
      setCost(row, m.cost);
      return false;
    }
    case "phase_duration":
      row.phase = event.phase;
      row.durationMs = event.durationMs;
      row.success = event.success;
      return keysWithin(event, PHASE_DURATION_KEYS);
    case "heal_duration":
      row.phase = event.phase;
      row.durationMs = event.durationMs;
      return keysWithin(event, HEAL_DURATION_KEYS);
    case "turn_start":
      row.phase = event.phase;
      return false;
    case "turn_end":
      row.durationMs = event.durationMs;
      return false;
    case "step_end":
      row.model = event.step.model ?? null;
      row.errorClass = event.step.errorClass ?? null;
      return false;
    case "session_start":
    case "restore":
    case "edit_strategy":
    case "dropped":
      return false;
    default:
      // The phase counters (and any later event type that names a phase).
      if ("phase" in event && typeof event.phase === "string") row.phase = event.phase;
      return isPhaseCountType(event.type) && keysWithin(event, PHASE_KEYS);
  }
}

/** Usage columns, from an LLM call's usage or an LLM phase's totals (which have the same names). */
function setUsage(row: EventRow, u: Usage & { totalTokens: number }): void {
  row.promptTokens = u.promptTokens;
  row.completionTokens = u.completionTokens;
  row.totalTokens = u.totalTokens;
  row.cacheReadTokens = u.cacheReadTokens ?? null;
  row.cacheWriteTokens = u.cacheWriteTokens ?? null;
  row.reasoningTokens = u.reasoningTokens ?? null;
}

function setCost(row: EventRow, cost: number): void {
  row.cost = cost;
  // + 0 turns -0 into 0: the sum is the same, and both databases then store the same integer.
  row.costNanos = Math.round(cost * 1e9) + 0;
}

/**
 * A `restore` event carries a whole session document (a session resumed from a METRICS.json that
 * had no journal, or a Go-written one imported by `ingest`). Its tools and LLM phases become
 * summary rows (`calls` = the document's counts) so reports count them; they have no durations,
 * since the document keeps only totals.
 */
function expandRestore(
  rows: EventRow[],
  event: EventRow,
  m: Extract<MetricEvent, { type: "restore" }>["metrics"],
) {
  let part = 0;
  const summary = (): EventRow => ({ ...event, part: ++part, data: null });
  for (const t of m.tools) {
    const row = summary();
    row.tool = t.name;
    row.calls = t.callCount;
    row.failures = t.failCount;
    rows.push(row);
  }
  for (const l of m.llms) {
    const row = summary();
    row.phase = l.phase;
    row.calls = l.interactionCount;
    setUsage(row, l);
    setCost(row, l.cost);
    rows.push(row);
  }
}

const INTEGER_COLUMNS = [
  "calls",
  "failures",
  "promptTokens",
  "completionTokens",
  "totalTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "reasoningTokens",
  "costNanos",
] as const;
const KEY_COLUMNS = ["tool", "phase", "agent", "model", "errorClass"] as const;

/** Why a row cannot be stored exactly, or undefined. */
function checkRow(row: EventRow): string | undefined {
  for (const key of INTEGER_COLUMNS) {
    const v = row[key];
    if (v !== null && !Number.isSafeInteger(v))
      return key === "costNanos"
        ? `cost ${row.cost} is too large to sum exactly (limit 9007199 per event)`
        : `${key} ${v} is not a safe integer`;
  }
  for (const key of KEY_COLUMNS) {
    const v = row[key];
    if (v !== null && v.length > MAX_KEY_BYTES / 3 && utf8Length(v) > MAX_KEY_BYTES)
      return `${key} is longer than ${MAX_KEY_BYTES} bytes of UTF-8`;
  }
  return undefined;
}
