/**
 * The PostgreSQL schema of a metrics store (drizzle `pgTable`). Migrations under
 * `drizzle/postgres` are generated from this file by
 * `bunx drizzle-kit generate --config drizzle.postgres.config.ts`; keep it column for column in
 * step with `../sqlite/schema.ts`.
 *
 * Tables are unqualified: the store sets `search_path` to its schema, so one database can hold
 * several stores (one per test run, say). Integers are `bigint` read as numbers: every value the
 * store writes is a safe integer.
 */
import { bigint, boolean, doublePrecision, index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

const int = (name: string) => bigint(name, { mode: "number" });

/** One row per session: what listing needs, and the latest session document for `getSession`. */
export const sessions = pgTable(
  "sessions",
  {
    sessionId: text("session_id").primaryKey(),
    startedAt: int("started_at").notNull(),
    updatedAt: int("updated_at").notNull(),
    host: text("host"),
    lastSeq: int("last_seq").notNull().default(0),
    document: text("document"),
    documentSeq: int("document_seq"),
  },
  (t) => [index("sessions_started_idx").on(t.startedAt, t.sessionId), index("sessions_host_idx").on(t.host)],
);

/** See `../sqlite/schema.ts` for the meaning of each column. */
export const events = pgTable(
  "events",
  {
    sessionId: text("session_id").notNull(),
    seq: int("seq").notNull(),
    part: int("part").notNull().default(0),
    ts: int("ts").notNull(),
    type: text("type").notNull(),
    calls: int("calls").notNull().default(0),
    failures: int("failures").notNull().default(0),
    tool: text("tool"),
    phase: text("phase"),
    agent: text("agent"),
    model: text("model"),
    success: boolean("success"),
    durationMs: doublePrecision("duration_ms"),
    promptTokens: int("prompt_tokens"),
    completionTokens: int("completion_tokens"),
    totalTokens: int("total_tokens"),
    cacheReadTokens: int("cache_read_tokens"),
    cacheWriteTokens: int("cache_write_tokens"),
    reasoningTokens: int("reasoning_tokens"),
    cost: doublePrecision("cost"),
    costNanos: int("cost_nanos"),
    errorClass: text("error_class"),
    data: text("data"),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.seq, t.part] }),
    // Only ts is indexed, deliberately: see `../sqlite/schema.ts`.
    index("events_ts_idx").on(t.ts),
  ],
);
