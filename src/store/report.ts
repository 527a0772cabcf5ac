/**
 * Cross-session queries over a {@link MetricsStore}: `report` (aggregates per agent, phase,
 * model, tool or day), `listSessions` (keyset pages, newest first) and `getSession`. Options are
 * validated with zod at this edge; a bad one is a `ValidationError` naming it.
 *
 * What a report counts: tool calls, LLM interactions and agent invocations (and the totals of
 * sessions imported from a METRICS.json without a journal). Tool calls carry no phase, LLM
 * interactions no tool: they group under `null` there. Durations come from tool calls,
 * invocations and LLM interactions with a known start; percentiles are nearest-rank on the
 * exact values and `null` for a group without durations. Cost is summed exactly in nano-units.
 */
import { z } from "zod";
import { describeZodError } from "../core/metrics-schema.ts";
import { assertSessionId } from "../core/session-id.ts";
import type { SessionMetrics } from "../core/types.ts";
import { describeValue, ValidationError } from "../errors.ts";
import { foldSession } from "./session-doc.ts";
import { type AggregateRow, GROUP_KEYS, type GroupKey, type MetricsStore, type WhereSpec } from "./types.ts";
import { checkText } from "./validate.ts";

const text = z.string().superRefine((s, ctx) => {
  const bad = checkText(s, "value");
  if (bad !== undefined) ctx.addIssue({ code: "custom", message: bad });
});
const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);
const keyFilter = oneOrMany(z.union([text, z.null()]));
/** A point in time: a Date, an ISO 8601 string, or epoch milliseconds. */
const instant = z.union([z.date(), z.string(), z.number()]).transform((v, ctx) => {
  const ms = v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : v;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    ctx.addIssue({
      code: "custom",
      message: `is not a valid time at or after 1970 (got ${describeValue(v)})`,
    });
    return z.NEVER;
  }
  return ms;
});

export type Instant = Date | string | number;

const reportSchema = z.strictObject({
  since: instant.optional(),
  until: instant.optional(),
  groupBy: z
    .array(z.enum(GROUP_KEYS))
    .refine((keys) => new Set(keys).size === keys.length, "lists a key twice")
    .default([]),
  where: z
    .strictObject({
      agent: keyFilter.optional(),
      phase: keyFilter.optional(),
      model: keyFilter.optional(),
      tool: keyFilter.optional(),
      errorClass: keyFilter.optional(),
      sessionId: oneOrMany(text).optional(),
      host: oneOrMany(text).optional(),
    })
    .default({}),
  /** Extra duration percentiles (integer percentages) besides p50, p90 and p99. */
  percentiles: z.array(z.int().min(1).max(100)).max(16).default([]),
  kind: z.enum(["tool", "llm"]).optional(),
});

export interface ReportOptions {
  /** Events at or after this time. */
  since?: Instant;
  /** Events before this time. */
  until?: Instant;
  /** Group keys, in order; `day` is the UTC date (`YYYY-MM-DD`) of the event. Default: one total row. */
  groupBy?: GroupKey[];
  /** Equality filters; a list matches any of its values, `null` matches rows without one. */
  where?: {
    agent?: string | null | (string | null)[];
    phase?: string | null | (string | null)[];
    model?: string | null | (string | null)[];
    tool?: string | null | (string | null)[];
    errorClass?: string | null | (string | null)[];
    sessionId?: string | string[];
    host?: string | string[];
  };
  /** Extra duration percentiles to compute (integers 1–100), in `durationPercentiles`. */
  percentiles?: number[];
  /** Only tool calls (`"tool"`) or only LLM calls (`"llm"`); default every call. */
  kind?: "tool" | "llm";
}

export interface ReportRow {
  agent?: string | null;
  phase?: string | null;
  model?: string | null;
  tool?: string | null;
  day?: string | null;
  /** Distinct sessions with at least one call in the group. */
  sessions: number;
  /** Every call of the group: `toolCalls + llmCalls`, plus agent invocations (recordInvocation). */
  calls: number;
  toolCalls: number;
  llmCalls: number;
  failures: number;
  /** All input tokens, cache reads and writes included (the `Usage` name, as everywhere). */
  promptTokens: number;
  /** All output tokens, reasoning included. */
  completionTokens: number;
  /** null when no call of the group reported it (not 0). */
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  cost: number;
  durationP50: number | null;
  durationP90: number | null;
  durationP99: number | null;
  /** The extra percentiles asked for, as `p95` → value. */
  durationPercentiles?: Record<string, number | null>;
}

const BASE_PERCENTILES = [50, 90, 99];

/** Aggregates calls across sessions; rows sorted by their keys (`null` last). */
export async function report(store: MetricsStore, options: ReportOptions = {}): Promise<ReportRow[]> {
  const parsed = parse(reportSchema, options, "report");
  if (parsed.since !== undefined && parsed.until !== undefined && parsed.since > parsed.until)
    throw new ValidationError("[report] since: is after until");
  const extra = parsed.percentiles;
  const spec = {
    since: parsed.since,
    until: parsed.until,
    groupBy: parsed.groupBy,
    where: parsed.where as WhereSpec,
    percentiles: [...BASE_PERCENTILES, ...extra],
    ...(parsed.kind === undefined ? {} : { kind: parsed.kind }),
  };
  const rows = await store.aggregate(spec);
  return rows
    .filter((row) => row.calls > 0 || row.sessions > 0)
    .sort((a, b) => compareKeys(a.keys, b.keys))
    .map((row) => toReportRow(row, spec.groupBy, extra));
}

function toReportRow(row: AggregateRow, groupBy: readonly GroupKey[], extra: readonly number[]): ReportRow {
  const out: Record<string, unknown> = {};
  groupBy.forEach((key, i) => {
    const v = row.keys[i] ?? null;
    out[key] = key === "day" && v !== null ? new Date(Number(v) * 86_400_000).toISOString().slice(0, 10) : v;
  });
  const [p50 = null, p90 = null, p99 = null, ...more] = row.percentiles;
  const result = {
    ...out,
    sessions: row.sessions,
    calls: row.calls,
    toolCalls: row.toolCalls,
    llmCalls: row.llmCalls,
    failures: row.failures,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    cacheReadTokens: row.cacheReadTokens,
    cacheWriteTokens: row.cacheWriteTokens,
    reasoningTokens: row.reasoningTokens,
    cost: row.costNanos / 1e9,
    durationP50: p50,
    durationP90: p90,
    durationP99: p99,
  } as ReportRow;
  // Deprecated: 0.1 called these inputTokens/outputTokens. The old names stay readable for one
  // release as non-enumerable getters (not in the type, nor in JSON, CSV or toEqual).
  Object.defineProperties(result, {
    inputTokens: { get: () => result.promptTokens },
    outputTokens: { get: () => result.completionTokens },
  });
  if (extra.length > 0)
    result.durationPercentiles = Object.fromEntries(extra.map((p, i) => [`p${p}`, more[i] ?? null]));
  return result;
}

/**
 * Strings in UTF-16 code-unit order (JavaScript's `<`, done here for both backends, so neither the
 * database's collation nor the locale matters), numbers numerically, null last.
 */
function compareKeys(a: readonly (string | number | null)[], b: readonly (string | number | null)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

const listSchema = z.strictObject({
  filter: z
    .strictObject({ host: text.optional(), since: instant.optional(), until: instant.optional() })
    .default({}),
  limit: z.int().min(1).max(1000).default(100),
  cursor: z.string().max(400).optional(),
});

export interface ListSessionsOptions {
  /** Sessions of one host, or started within [since, until). */
  filter?: { host?: string; since?: Instant; until?: Instant };
  /** Page size, 1–1000. Default 100. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface SessionSummary {
  sessionId: string;
  /** ISO 8601, UTC, milliseconds. */
  startedAt: string;
  updatedAt: string;
  host: string | null;
  /** Highest event `seq` stored for the session. */
  lastSeq: number;
}

export interface SessionPage {
  sessions: SessionSummary[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

const cursorSchema = z.tuple([z.int().min(0), z.string().min(1).max(128)]);

/** One page of sessions, newest first (ties by session id); stable under concurrent inserts of newer ones. */
export async function listSessions(
  store: MetricsStore,
  options: ListSessionsOptions = {},
): Promise<SessionPage> {
  const { filter, limit, cursor } = parse(listSchema, options, "listSessions");
  let after: { startedAt: number; sessionId: string } | undefined;
  if (cursor !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    } catch {
      decoded = undefined;
    }
    const checked = cursorSchema.safeParse(decoded);
    if (!checked.success)
      throw new ValidationError("[listSessions] cursor: is not a cursor this library made");
    after = { startedAt: checked.data[0], sessionId: checked.data[1] };
  }
  const rows = await store.listSessionRows({ ...filter, limit: limit + 1, after });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > limit && last !== undefined
      ? Buffer.from(JSON.stringify([last.startedAt, last.sessionId])).toString("base64url")
      : null;
  return {
    sessions: page.map((r) => ({
      sessionId: r.sessionId,
      startedAt: new Date(r.startedAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
      host: r.host,
      lastSeq: r.lastSeq,
    })),
    nextCursor,
  };
}

/** The session document (METRICS.json shape), or null when the store does not know the session. */
export async function getSession(store: MetricsStore, sessionId: string): Promise<SessionMetrics | null> {
  assertSessionId(sessionId);
  const stored = await store.readSession(sessionId);
  return stored === null ? null : foldSession(stored);
}

function parse<T extends z.ZodType>(schema: T, options: unknown, what: string): z.output<T> {
  const result = schema.safeParse(options ?? {});
  if (!result.success) throw new ValidationError(`[${what}] ${describeZodError(result.error)}`);
  return result.data;
}
