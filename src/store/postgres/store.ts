/**
 * The PostgreSQL backend (drizzle-orm `bun-sql`), for fleets: many hosts write into one database.
 *
 * A store lives in one schema (`search_path`), created if missing, so several stores (one per test
 * run, say) share a database without meeting. Migrations run under an advisory lock, so processes
 * that open a new schema at once do not race. Events of new sessions go in by COPY; the others as
 * `unnest` of one array parameter per column, skipping rows already stored (see `writeBatch`).
 */

import { join } from "node:path";
import type { SQL as BunSQL } from "bun";
import { SQL } from "bun";
import { getTableColumns, type SQL as SQLFragment, sql } from "drizzle-orm";
import { type BunSQLDatabase, drizzle } from "drizzle-orm/bun-sql";
import { migrate } from "drizzle-orm/bun-sql/migrator";
import { PgDialect } from "drizzle-orm/pg-core";
import { ValidationError } from "../../errors.ts";
import { BaseStore, parseSessionRow } from "../base-store.ts";
import {
  groupKey,
  listQuery,
  numOrNull,
  parseAggregateRow,
  parseKeys,
  percentilesQuery,
  sumsQuery,
} from "../queries.ts";
import { type Coverage, documentCoverage, sessionUpsertSet, sessionValues } from "../session-rows.ts";
import { driverError, toStorageError } from "../storage-error.ts";
import type { AggregateRow, AggregateSpec, EventRow, ListSpec, SessionRow, SessionUpsert } from "../types.ts";
import { EVENT_COLUMNS } from "../types.ts";
import { arrayLiteral, joinedJson, textArrayLiteral } from "./arrays.ts";
import { copyBinary } from "./copy.ts";
import { events, sessions } from "./schema.ts";

export interface PostgresStoreOptions {
  /** Connection URL (`postgres://user@host:5432/db`). One of `url`, `client` or `db` is needed. */
  url?: string;
  /** An open Bun SQL client; the store does not close it (its `search_path` picks the schema). */
  client?: BunSQL;
  /** An existing drizzle database over Bun SQL; the store does not close it. */
  db?: BunSQLDatabase & { $client: BunSQL };
  /**
   * Schema that holds the tables, created if missing (only with `url`: it becomes the
   * connections' `search_path`). Lower-case letters, digits and `_`. Default: the server's.
   */
  schema?: string;
  /** Connections in the pool (with `url`). Default 10. */
  max?: number;
  /** Seconds to wait for a connection (with `url`). Default 10. */
  connectTimeoutSeconds?: number;
}

/** Where the drizzle-kit migrations of this dialect live, whatever the working directory. */
export const POSTGRES_MIGRATIONS = join(import.meta.dir, "..", "..", "..", "drizzle", "postgres");
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Key of the advisory lock that serialises migrations (any 64-bit number unique to this library). */
const MIGRATION_LOCK = 0x5e55_1011;
/** Smaller batches (a live sink's) are not worth the extra round trip that picks COPY. */
const COPY_MIN_ROWS = 64;
/**
 * PostgreSQL's unique_violation, and deadlock_detected: a plain insert waits for a concurrent
 * writer of the same key while holding its own rows, so two COPYs of overlapping sessions in
 * different orders can deadlock. Either way the batch is written again through ON CONFLICT.
 */
const UNIQUE_VIOLATION = "23505";
const DEADLOCK = "40P01";
const pgDialect = new PgDialect();

const SNAPSHOT = { isolationLevel: "repeatable read", accessMode: "read only" } as const;

/** A COPY met a stored row: the batch is written again without COPY. */
class CopyConflict extends Error {}

/** Opens (creating the schema and migrating as needed) a PostgreSQL metrics store. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { url, schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema))
    throw new ValidationError(`[store] schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
  if (schema !== undefined && url === undefined)
    throw new ValidationError("[store] schema needs url: an existing client keeps its own search_path");
  const given = options.db?.$client ?? options.client;
  if (given === undefined && typeof url !== "string")
    throw new ValidationError("[store] createPostgresStore needs a connection url, a client or a db");
  const client =
    given ??
    new SQL({
      url,
      max: options.max ?? 10,
      connectionTimeout: options.connectTimeoutSeconds ?? 10,
      ...(schema === undefined ? {} : { connection: { search_path: schema } }),
    });
  const store = new PostgresStore(client, options.db ?? drizzle({ client }), given === undefined);
  try {
    await migrateUnderLock(client, schema);
  } catch (error) {
    await store.close();
    throw toStorageError(
      error,
      `opening the PostgreSQL store${schema === undefined ? "" : ` in schema ${schema}`}`,
    );
  }
  return store;
}

/** Creates the schema and applies migrations on one reserved connection holding an advisory lock. */
async function migrateUnderLock(client: BunSQL, schema: string | undefined): Promise<void> {
  const reserved = await client.reserve();
  try {
    const db = drizzle({ client: reserved });
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      if (schema !== undefined) await db.execute(sql`create schema if not exists ${sql.identifier(schema)}`);
      const [row] = await db.execute<{ schema: string | null }>(sql`select current_schema() as schema`);
      if (row?.schema == null) throw new Error("no schema is selected: set search_path or pass schema");
      // The migration record lives beside the tables, so each schema is migrated on its own.
      await migrate(db, { migrationsFolder: POSTGRES_MIGRATIONS, migrationsSchema: row.schema });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  } finally {
    reserved.release();
  }
}

export class PostgresStore extends BaseStore {
  readonly dialect = "postgres" as const;
  /** `("session_id", …)` and the array type of each column, in `EVENT_COLUMNS` order. */
  readonly #columns: SQLFragment;
  readonly #types: SQLFragment[];
  readonly #copySql: string;
  readonly #freshSql: string;

  constructor(
    readonly client: BunSQL,
    readonly db: BunSQLDatabase,
    private readonly owned: boolean,
  ) {
    super();
    const columns = getTableColumns(events);
    this.#columns = sql.join(
      EVENT_COLUMNS.map((key) => sql.identifier(columns[key].name)),
      sql`, `,
    );
    this.#types = EVENT_COLUMNS.map((key) => sql.raw(`::${columns[key].getSQLType()}[]`));
    this.#copySql = pgDialect.sqlToQuery(
      sql`copy ${events} (${this.#columns}) from stdin (format binary)`,
    ).sql;
    this.#freshSql = pgDialect.sqlToQuery(
      sql`select t.s from unnest(${sql.raw("$1")}::text[]) as t(s) where not exists (select 1 from ${events} where ${events.sessionId} = t.s)`,
    ).sql;
  }

  /**
   * Events of sessions the table does not hold yet go in by COPY; the others by an `unnest`
   * insert that skips rows already stored. A COPY that meets a stored row anyway (another writer
   * got there first, or the batch repeats an event) fails on the primary key: the whole
   * transaction is then rolled back and written again the careful way.
   */
  protected async writeBatch(rows: readonly EventRow[], list: readonly SessionUpsert[]): Promise<number> {
    try {
      return await this.#writeOnce(rows, list, true);
    } catch (error) {
      if (!(error instanceof CopyConflict)) throw error;
      return this.#writeOnce(rows, list, false);
    }
  }

  #writeOnce(rows: readonly EventRow[], list: readonly SessionUpsert[], copy: boolean): Promise<number> {
    return this.#statement("writing events", undefined, () =>
      this.client.begin(async (tx) => {
        const coverage = documentCoverage(list);
        const fresh = copy && rows.length >= COPY_MIN_ROWS ? await this.#freshSessions(tx, rows) : undefined;
        const copied: EventRow[] = [];
        const main: EventRow[] = [];
        const summaries: EventRow[] = [];
        for (const row of rows)
          (fresh?.has(row.sessionId) ? copied : row.part === 0 ? main : summaries).push(row);
        let inserted = 0;
        if (copied.length > 0) {
          await this.#copyRows(tx, copied, coverage);
          for (const row of copied) if (row.part === 0) inserted++;
        }
        if (main.length > 0) inserted += await this.#insertRows(tx, main, coverage);
        if (summaries.length > 0) await this.#insertRows(tx, summaries, coverage);
        if (list.length > 0) {
          const query = this.db
            .insert(sessions)
            .values(list.map(sessionValues))
            .onConflictDoUpdate({ target: sessions.sessionId, set: sessionUpsertSet("postgres") })
            .toSQL();
          await this.#statement("writing sessions", query.sql, () => tx.unsafe(query.sql, query.params));
        }
        return inserted;
      }),
    );
  }

  /** The sessions of `rows` that have no stored event yet. */
  async #freshSessions(tx: BunSQL, rows: readonly EventRow[]): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const row of rows) ids.add(row.sessionId);
    const found = await this.#statement("writing events", this.#freshSql, () =>
      tx.unsafe<{ s: string }[]>(this.#freshSql, [textArrayLiteral([...ids])]),
    );
    return new Set(found.map((r) => r.s));
  }

  /** `copy events (…) from stdin`; a stored row (or a deadlock) rolls the batch back with a CopyConflict. */
  async #copyRows(tx: BunSQL, rows: readonly EventRow[], coverage: Coverage): Promise<void> {
    const body = copyBinary(rows, coverage);
    try {
      const query = tx.unsafe(this.#copySql);
      const writer = query.writable().getWriter();
      await writer.write(body);
      await writer.close();
      await query;
    } catch (error) {
      const errno = (driverError(error) as { errno?: unknown })?.errno;
      if (errno === UNIQUE_VIOLATION || errno === DEADLOCK) throw new CopyConflict();
      throw toStorageError(error, "writing events", this.#copySql);
    }
  }

  /** `insert … select * from unnest($1::text[], $2::bigint[], …)`: one statement per batch. */
  async #insertRows(tx: BunSQL, rows: readonly EventRow[], coverage: Coverage): Promise<number> {
    const arrays = EVENT_COLUMNS.map((key, i) =>
      key === "data"
        ? sql`string_to_array(${joinedJson(rows, coverage)}::text, chr(30), '')`
        : sql`${arrayLiteral(rows, key)}${this.#types[i]}`,
    );
    const query = pgDialect.sqlToQuery(
      sql`insert into ${events} (${this.#columns}) select * from unnest(${sql.join(arrays, sql`, `)}) on conflict do nothing`,
    );
    const result = await this.#statement("writing events", query.sql, () =>
      tx.unsafe(query.sql, query.params),
    );
    return (result as unknown as { count: number }).count;
  }

  /** Runs one statement; a failure becomes a StorageError naming it. */
  async #statement<T>(what: string, statement: string | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof CopyConflict) throw error;
      throw toStorageError(error, what, statement);
    }
  }

  /** Sums and percentiles at once, on two connections, merged by group. (Either may fail first: one
   * context for both, and the statement in the error tells which.) */
  protected async runAggregate(spec: AggregateSpec): Promise<AggregateRow[]> {
    const tables = { events, sessions };
    const [sums, percentiles] = await Promise.all([
      this.#all("computing a report", sumsQuery(tables, spec, true)),
      spec.percentiles.length === 0 ? [] : this.#all("computing a report", percentilesQuery(tables, spec)),
    ]);
    const byGroup = new Map<string, (number | null)[]>();
    for (const row of percentiles)
      byGroup.set(
        groupKey(parseKeys(row, spec)),
        spec.percentiles.map((_, i) => numOrNull(row[`p${i}`])),
      );
    return sums.map((row) => {
      const parsed = parseAggregateRow(row, spec);
      parsed.percentiles = byGroup.get(groupKey(parsed.keys)) ?? parsed.percentiles;
      return parsed;
    });
  }

  protected async runList(spec: ListSpec): Promise<SessionRow[]> {
    const rows = await this.#all("listing sessions", listQuery({ events, sessions }, spec, "postgres"));
    return rows.map((row) => parseSessionRow({ ...row, document: null, document_seq: null }));
  }

  /**
   * One snapshot for both reads (repeatable read): an event stored without its text is always
   * seen together with the document that reflects it (see `storedData`).
   */
  protected async fetchSession(sessionId: string): Promise<{ row: SessionRow; data: string[] } | null> {
    try {
      return await this.db.transaction(async (tx) => {
        const [found] = await tx.execute<Record<string, unknown>>(
          sql`select session_id, started_at, updated_at, host, last_seq, document, document_seq from ${sessions} where ${sessions.sessionId} = ${sessionId}`,
        );
        if (found === undefined) return null;
        const row = parseSessionRow(found);
        const data = await tx.execute<{ data: string }>(
          sql`select ${events.data} as data from ${events} where ${events.sessionId} = ${sessionId} and ${events.part} = 0 and ${events.seq} > ${row.documentSeq ?? 0} order by ${events.seq}`,
        );
        return { row, data: data.map((r) => r.data) };
      }, SNAPSHOT);
    } catch (error) {
      throw toStorageError(error, "reading a session");
    }
  }

  /**
   * One read query in its own transaction, with room to sort in memory: 64 MiB of work_mem
   * (PostgreSQL's default 4 MiB sends a report's sorts to disk; measured 25% slower).
   */
  async #all(what: string, query: SQLFragment): Promise<Record<string, unknown>[]> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.execute(sql`set local work_mem = '64MB'`);
        return [...(await tx.execute<Record<string, unknown>>(query))];
      });
    } catch (error) {
      throw toStorageError(error, what);
    }
  }

  protected async release(): Promise<void> {
    if (this.owned) await this.client.close({ timeout: 5 });
  }
}
