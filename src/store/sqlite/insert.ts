/**
 * SQLite's bulk writes: prepared multi-row statements whose SQL comes from drizzle's builder,
 * run on the raw bun:sqlite client. Building a query per batch through drizzle, and reading row
 * values by a list of keys, cost more than SQLite's own work here (profiled: ~1.4 µs of the
 * ~6 µs per ingested event went to reading values by key alone).
 */
import type { Database, Statement } from "bun:sqlite";
import { getTableColumns, sql } from "drizzle-orm";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { type Coverage, sessionUpsertSet, sessionValues, storedData } from "../session-rows.ts";
import { toStorageError } from "../storage-error.ts";
import type { EventRow, SessionRow, SessionUpsert } from "../types.ts";
import { EVENT_COLUMNS } from "../types.ts";
import { events, sessions } from "./schema.ts";

/** Rows per multi-row insert statement (23 columns each: well under SQLite's 32,766 parameters). */
const CHUNK = 100;
const WIDTH = EVENT_COLUMNS.length;

/** The session row's columns in the table's order (the schema names them as `SessionRow` does). */
const SESSION_COLUMNS = Object.keys(getTableColumns(sessions)) as (keyof SessionRow)[];

/** The prepared statements of one connection. */
export class SqliteWriter {
  readonly #many: Statement;
  readonly #one: Statement;
  readonly #session: Statement;
  readonly #insertSql: string;
  readonly #sessionSql: string;

  constructor(client: Database, db: BunSQLiteDatabase) {
    const placeholders = Object.fromEntries(EVENT_COLUMNS.map((c) => [c, sql.placeholder(c)]));
    const statement = (n: number) =>
      db
        .insert(events)
        .values(Array.from({ length: n }, () => placeholders) as never)
        .onConflictDoNothing()
        .toSQL();
    const single = statement(1);
    assertOrder(single.params, EVENT_COLUMNS);
    this.#insertSql = single.sql;
    this.#one = client.prepare(single.sql);
    this.#many = client.prepare(statement(CHUNK).sql);
    const session = db
      .insert(sessions)
      .values(Object.fromEntries(SESSION_COLUMNS.map((c) => [c, sql.placeholder(c)])) as never)
      .onConflictDoUpdate({ target: sessions.sessionId, set: sessionUpsertSet("sqlite") })
      .toSQL();
    assertOrder(session.params, SESSION_COLUMNS);
    this.#sessionSql = session.sql;
    this.#session = client.prepare(session.sql);
  }

  /** Inserts rows (skipping stored ones); returns how many events (part 0) were new. */
  insertRows(rows: readonly EventRow[], coverage: Coverage): number {
    const many = this.#many;
    const one = this.#one;
    let inserted = 0;
    try {
      // Events in chunks; summary rows (part > 0) one by one, so `changes` counts only events.
      const main: EventRow[] = [];
      const summaries: EventRow[] = [];
      for (const row of rows) (row.part === 0 ? main : summaries).push(row);
      const params = new Array<unknown>(CHUNK * WIDTH);
      let i = 0;
      for (; i + CHUNK <= main.length; i += CHUNK) {
        for (let j = 0; j < CHUNK; j++) putRow(params, j * WIDTH, main[i + j]!, coverage);
        inserted += many.run(...(params as never[])).changes;
      }
      const single = new Array<unknown>(WIDTH);
      for (; i < main.length; i++) {
        putRow(single, 0, main[i]!, coverage);
        inserted += one.run(...(single as never[])).changes;
      }
      for (const row of summaries) {
        putRow(single, 0, row, coverage);
        one.run(...(single as never[]));
      }
    } catch (error) {
      throw toStorageError(error, "writing events", this.#insertSql);
    }
    return inserted;
  }

  /** Upserts session rows (see `SessionUpsert` for the conflict rules). */
  upsertSessions(list: readonly SessionUpsert[]): void {
    try {
      for (const s of list) {
        const values = sessionValues(s);
        this.#session.run(...SESSION_COLUMNS.map((c) => values[c]));
      }
    } catch (error) {
      throw toStorageError(error, "writing sessions", this.#sessionSql);
    }
  }
}

/** The statement's parameters must be the columns in this order (drizzle keeps the table's). */
function assertOrder(params: readonly unknown[], columns: readonly string[]): void {
  const names = params.map((p) => (p as { value?: { name?: string } }).value?.name);
  if (names.join() !== columns.join())
    throw new Error(`[store] unexpected parameter order from drizzle: ${names.join(", ")}`);
}

/** Writes a row's values at `at`, in `EVENT_COLUMNS` order; booleans become 0/1 as SQLite stores them. */
function putRow(out: unknown[], at: number, r: EventRow, coverage: Coverage): void {
  out[at] = r.sessionId;
  out[at + 1] = r.seq;
  out[at + 2] = r.part;
  out[at + 3] = r.ts;
  out[at + 4] = r.type;
  out[at + 5] = r.calls;
  out[at + 6] = r.failures;
  out[at + 7] = r.tool;
  out[at + 8] = r.phase;
  out[at + 9] = r.agent;
  out[at + 10] = r.model;
  out[at + 11] = r.success === null ? null : r.success ? 1 : 0;
  out[at + 12] = r.durationMs;
  out[at + 13] = r.promptTokens;
  out[at + 14] = r.completionTokens;
  out[at + 15] = r.totalTokens;
  out[at + 16] = r.cacheReadTokens;
  out[at + 17] = r.cacheWriteTokens;
  out[at + 18] = r.reasoningTokens;
  out[at + 19] = r.cost;
  out[at + 20] = r.costNanos;
  out[at + 21] = r.errorClass;
  out[at + 22] = storedData(r, coverage);
}
