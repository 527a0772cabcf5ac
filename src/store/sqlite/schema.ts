/**
 * The SQLite schema of a metrics store (drizzle `sqliteTable`). Migrations under `drizzle/sqlite`
 * are generated from this file by `bunx drizzle-kit generate --config drizzle.sqlite.config.ts`;
 * keep it column for column in step with `../postgres/schema.ts` (the contract suite checks both).
 *
 * Integers are SQLite's 8-byte integers, so every safe JavaScript integer fits. Timestamps are
 * epoch milliseconds (UTC).
 */
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per session: what listing needs, and the latest session document for `getSession`. */
export const sessions = sqliteTable(
  "sessions",
  {
    sessionId: text("session_id").primaryKey(),
    startedAt: integer("started_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    host: text("host"),
    /** Highest `seq` written for the session (by any writer). */
    lastSeq: integer("last_seq").notNull().default(0),
    /** The session document as Go's METRICS.json text (exact round trip); null when not known. */
    document: text("document"),
    /** The `seq` the document reflects; events after it are folded in on read. */
    documentSeq: integer("document_seq"),
  },
  (t) => [index("sessions_started_idx").on(t.startedAt, t.sessionId), index("sessions_host_idx").on(t.host)],
);

/**
 * One row per event (`part` 0), plus, for a `restore` event, one summary row per tool and per LLM
 * phase of the restored document (`part` 1, 2, …) so that reports count what it carried.
 * Analytic columns are null when the event did not report the value ("not reported" ≠ 0).
 */
export const events = sqliteTable(
  "events",
  {
    sessionId: text("session_id").notNull(),
    seq: integer("seq").notNull(),
    part: integer("part").notNull().default(0),
    ts: integer("ts").notNull(),
    type: text("type").notNull(),
    /** Calls this row stands for: 1 for tool/LLM/invocation events, the count for summary rows. */
    calls: integer("calls").notNull().default(0),
    failures: integer("failures").notNull().default(0),
    tool: text("tool"),
    phase: text("phase"),
    agent: text("agent"),
    model: text("model"),
    success: integer("success", { mode: "boolean" }),
    durationMs: real("duration_ms"),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    totalTokens: integer("total_tokens"),
    cacheReadTokens: integer("cache_read_tokens"),
    cacheWriteTokens: integer("cache_write_tokens"),
    reasoningTokens: integer("reasoning_tokens"),
    cost: real("cost"),
    /** `round(cost × 1e9)`: summed exactly, so both backends report the same cost to the bit. */
    costNanos: integer("cost_nanos"),
    errorClass: text("error_class"),
    /**
     * The event as its journal line body; null on summary rows, and on events that the session
     * document written in the same transaction reflects (`getSession` reads only later events).
     */
    data: text("data"),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.seq, t.part] }),
    // Time ranges use this index; session filters the primary key. There is deliberately no
    // index on tool/model/agent/phase: a report reads most rows of its range anyway, such an
    // index halved insert throughput in the benchmark, and SQLite would walk it for GROUP BY
    // with one random row lookup per event (several times slower than a scan and a sort).
    index("events_ts_idx").on(t.ts),
  ],
);
