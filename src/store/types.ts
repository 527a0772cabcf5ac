/**
 * The one interface every metrics store backend implements (SQLite and PostgreSQL today), and the
 * shapes that cross it. Backends only store and query; validation happens before (see
 * `encode.ts`), and the public query API (`report`, `listSessions`, `getSession`) lives in
 * `report.ts` on top of the query primitives here.
 */
import type { MetricEvent } from "../core/events.ts";

export type StoreDialect = "sqlite" | "postgres";

/** One row of the `events` table. Analytic columns are null when the event did not report them. */
export interface EventRow {
  sessionId: string;
  seq: number;
  /** 0 for the event itself; 1, 2, … for the summary rows a `restore` event expands into. */
  part: number;
  ts: number;
  type: string;
  calls: number;
  failures: number;
  tool: string | null;
  phase: string | null;
  agent: string | null;
  model: string | null;
  success: boolean | null;
  durationMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  cost: number | null;
  costNanos: number | null;
  errorClass: string | null;
  data: string | null;
  /**
   * Whether the analytic columns hold every field of the event, so that `data` may be left out
   * once a stored document reflects it (see `storedData`). Not a column.
   */
  heldByColumns: boolean;
}

/** Column order of bulk inserts (keys of {@link EventRow}). */
export const EVENT_COLUMNS = [
  "sessionId",
  "seq",
  "part",
  "ts",
  "type",
  "calls",
  "failures",
  "tool",
  "phase",
  "agent",
  "model",
  "success",
  "durationMs",
  "promptTokens",
  "completionTokens",
  "totalTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "reasoningTokens",
  "cost",
  "costNanos",
  "errorClass",
  "data",
] as const satisfies readonly (keyof EventRow)[];

declare const encodedBrand: unique symbol;

/**
 * Validated rows, made only by `encodeEvents`: a backend never sees rows that skipped validation.
 * `events` counts the events (rows with `part` 0).
 */
export interface EncodedEvents {
  readonly rows: readonly EventRow[];
  readonly events: number;
  /** Approximate size in memory (the JSON of the events plus a fixed overhead per row). */
  readonly bytes: number;
  readonly [encodedBrand]: true;
}

/**
 * A session's row. Newer information wins on conflict: `lastSeq` and `updatedAt` keep the
 * largest value, the document the one with the highest `documentSeq`, `host` the last non-null.
 */
export interface SessionUpsert {
  sessionId: string;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms. */
  updatedAt: number;
  host?: string | null;
  lastSeq: number;
  /** The session document as METRICS.json text (`encodeMetrics`); null leaves the stored one. */
  document?: string | null;
  /** The `seq` of the last event the document reflects. Required with `document`. */
  documentSeq?: number | null;
}

/** A stored session row: the fields of an upsert, with null where there is no value. */
export type SessionRow = Required<SessionUpsert>;

/** Events and session rows written in one transaction. */
export interface StoreBatch {
  events?: EncodedEvents;
  sessions?: readonly SessionUpsert[];
}

export const GROUP_KEYS = ["agent", "phase", "model", "tool", "day"] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

/** Equality filters of a report; `null` in a list matches rows without the value. */
export interface WhereSpec {
  agent?: readonly (string | null)[];
  phase?: readonly (string | null)[];
  model?: readonly (string | null)[];
  tool?: readonly (string | null)[];
  errorClass?: readonly (string | null)[];
  sessionId?: readonly string[];
  host?: readonly string[];
}

/** A validated, normalised report query (see `report()` for the public options). */
export interface AggregateSpec {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  groupBy: readonly GroupKey[];
  where: WhereSpec;
  /** Integer percentages in [1, 100] of the durations to compute (nearest rank). */
  percentiles: readonly number[];
  /** Only tool calls, or only LLM calls (an agent invocation is neither); default every call. */
  kind?: "tool" | "llm";
}

/** One group of a report as the backend computes it. */
export interface AggregateRow {
  /** Values of `groupBy`, in order; `day` as whole days since the epoch (UTC). */
  keys: (string | number | null)[];
  sessions: number;
  calls: number;
  toolCalls: number;
  llmCalls: number;
  failures: number;
  promptTokens: number;
  completionTokens: number;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  costNanos: number;
  /** Aligned with `AggregateSpec.percentiles`; null when the group has no durations. */
  percentiles: (number | null)[];
}

/** A validated listing query: newest first, `(startedAt, sessionId)` descending. */
export interface ListSpec {
  limit: number;
  /** Keyset cursor: rows strictly after this one in the listing order. */
  after?: { startedAt: number; sessionId: string };
  host?: string;
  /** Started at or after (epoch ms). */
  since?: number;
  /** Started before (epoch ms). */
  until?: number;
}

/** A session's stored row and its events after `documentSeq` (all of them without a document). */
export interface StoredSession {
  row: SessionRow;
  events: MetricEvent[];
}

/**
 * A metrics store: events and sessions of many sessions, in SQLite or PostgreSQL. Every method
 * either resolves or rejects with a `MetricsError` (`ValidationError` for bad input, which never
 * reaches the database; `StorageError` naming the failing statement for database errors).
 * Close it when done (`await using` works); `close()` releases only what the store opened.
 */
export interface MetricsStore extends AsyncDisposable {
  readonly dialect: StoreDialect;
  /**
   * Stores events of one session, skipping those already stored (same session and `seq`), so
   * retries and re-imports never duplicate. Resolves the number of events newly stored.
   */
  insertEvents(sessionId: string, events: readonly MetricEvent[]): Promise<number>;
  /** Creates or updates a session's row (see {@link SessionUpsert} for the conflict rules). */
  upsertSession(session: SessionUpsert): Promise<void>;
  /** Writes encoded events and session rows in one transaction; resolves the events newly stored. */
  write(batch: StoreBatch): Promise<number>;
  /** Report primitive: aggregates of call events per group. Use `report()` instead. */
  aggregate(spec: AggregateSpec): Promise<AggregateRow[]>;
  /** Listing primitive. Use `listSessions()` instead. */
  listSessionRows(spec: ListSpec): Promise<SessionRow[]>;
  /** Session primitive. Use `getSession()` instead. */
  readSession(sessionId: string): Promise<StoredSession | null>;
  /** Releases what the store opened (connections, the database file). Safe to call twice. */
  close(): Promise<void>;
}
