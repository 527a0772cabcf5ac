/**
 * Session rows: the upsert's conflict rules (newer information wins) in each dialect, and the
 * merge of several upserts of one session within a batch.
 */
import { type SQL, sql } from "drizzle-orm";
import type { EventRow, SessionUpsert, StoreDialect } from "./types.ts";

/** The `set` of a session upsert: newer information wins (see `SessionUpsert`). */
export function sessionUpsertSet(dialect: StoreDialect): Record<string, SQL> {
  const greatest = dialect === "postgres" ? "greatest" : "max";
  const newer = sql.raw(
    "excluded.document is not null and (sessions.document_seq is null or excluded.document_seq >= sessions.document_seq)",
  );
  const pick = (column: string) =>
    sql`case when ${newer} then ${sql.raw(`excluded.${column}`)} else ${sql.raw(`sessions.${column}`)} end`;
  return {
    updatedAt: sql.raw(`${greatest}(sessions.updated_at, excluded.updated_at)`),
    lastSeq: sql.raw(`${greatest}(sessions.last_seq, excluded.last_seq)`),
    host: sql.raw("coalesce(excluded.host, sessions.host)"),
    startedAt: pick("started_at"),
    document: pick("document"),
    documentSeq: pick("document_seq"),
  };
}

/** One row per session (a multi-row upsert may not touch a row twice in PostgreSQL). */
export function mergeSessionUpserts(list: readonly SessionUpsert[]): SessionUpsert[] {
  const byId = new Map<string, SessionUpsert>();
  for (const s of list) {
    const prev = byId.get(s.sessionId);
    if (prev === undefined) {
      byId.set(s.sessionId, { ...s });
      continue;
    }
    const newerDoc =
      s.document != null && (prev.document == null || (s.documentSeq ?? 0) >= (prev.documentSeq ?? 0));
    byId.set(s.sessionId, {
      sessionId: s.sessionId,
      startedAt: newerDoc ? s.startedAt : prev.startedAt,
      updatedAt: Math.max(prev.updatedAt, s.updatedAt),
      host: s.host ?? prev.host ?? null,
      lastSeq: Math.max(prev.lastSeq, s.lastSeq),
      document: newerDoc ? s.document : prev.document,
      documentSeq: newerDoc ? s.documentSeq : prev.documentSeq,
    });
  }
  return [...byId.values()];
}

/** Values for `insert into sessions`, with nulls spelled out. */
export function sessionValues(s: SessionUpsert) {
  return {
    sessionId: s.sessionId,
    startedAt: s.startedAt,
    updatedAt: s.updatedAt,
    host: s.host ?? null,
    lastSeq: s.lastSeq,
    document: s.document ?? null,
    documentSeq: s.document == null ? null : (s.documentSeq ?? null),
  };
}

/** Per session of a write, the `seq` its document (written in the same transaction) reflects. */
export type Coverage = ReadonlyMap<string, number>;

export function documentCoverage(list: readonly SessionUpsert[]): Coverage {
  const coverage = new Map<string, number>();
  for (const s of list)
    if (s.document != null && s.documentSeq != null)
      coverage.set(s.sessionId, Math.max(coverage.get(s.sessionId) ?? 0, s.documentSeq));
  return coverage;
}

/**
 * A row's `data` as stored. An event that the session document written in the same transaction
 * already reflects, and whose every field the analytic columns hold (`heldByColumns`), is
 * stored without it: `getSession` reads only events after the stored document's `seq`, which
 * never goes back, and the columns say all the JSON would. An event with more (attributes, a task
 * id, a prompt hash, ...) keeps its JSON. A third of an ingest's rows by size, a sixth of SQLite's
 * and more of PostgreSQL's write time.
 */
export function storedData(row: EventRow, coverage: Coverage): string | null {
  if (row.data === null || coverage.size === 0 || !row.heldByColumns) return row.data;
  const upTo = coverage.get(row.sessionId);
  return upTo !== undefined && row.seq <= upTo ? null : row.data;
}
