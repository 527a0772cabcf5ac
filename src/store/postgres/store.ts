/**
 * The PostgreSQL backend (drizzle-orm `bun-sql`), for fleets: many hosts write into one database.
 *
 * A store lives in one schema (`search_path`), created if missing, so several stores (one per test
 * run, say) share a database without meeting. Migrations run under an advisory lock, so processes
 * that open a new schema at once do not race. Events go in as `unnest` of one array parameter per
 * column: one statement per batch whatever its size, parsed once and planned once.
 */

import { join } from "node:path";
import type { SQL as BunSQL } from "bun";
import { SQL } from "bun";
import { getTableColumns, type SQL as SQLFragment, sql } from "drizzle-orm";
import { type BunSQLDatabase, drizzle } from "drizzle-orm/bun-sql";
import { migrate } from "drizzle-orm/bun-sql/migrator";
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
import { sessionUpsertSet, sessionValues } from "../session-rows.ts";
import { toStorageError } from "../storage-error.ts";
import type { AggregateRow, AggregateSpec, EventRow, ListSpec, SessionRow, SessionUpsert } from "../types.ts";
import { EVENT_COLUMNS } from "../types.ts";
import { arrayLiteral, joinedJson } from "./arrays.ts";
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
  }

  protected async writeBatch(rows: readonly EventRow[], list: readonly SessionUpsert[]): Promise<number> {
    const main = rows.filter((r) => r.part === 0);
    const summaries = rows.filter((r) => r.part !== 0);
    try {
      return await this.db.transaction(async (tx) => {
        const inserted = main.length === 0 ? 0 : await this.#insertRows(tx, main);
        if (summaries.length > 0) await this.#insertRows(tx, summaries);
        if (list.length > 0)
          await tx
            .insert(sessions)
            .values(list.map(sessionValues))
            .onConflictDoUpdate({ target: sessions.sessionId, set: sessionUpsertSet("postgres") });
        return inserted;
      });
    } catch (error) {
      throw toStorageError(error, "writing events");
    }
  }

  /** `insert … select * from unnest($1::text[], $2::bigint[], …)`: one statement per batch. */
  async #insertRows(tx: Pick<BunSQLDatabase, "execute">, rows: readonly EventRow[]): Promise<number> {
    const arrays = EVENT_COLUMNS.map((key, i) =>
      key === "data"
        ? sql`string_to_array(${joinedJson(rows)}::text, chr(30), '')`
        : sql`${arrayLiteral(rows, key)}${this.#types[i]}`,
    );
    const result = await tx.execute(
      sql`insert into ${events} (${this.#columns}) select * from unnest(${sql.join(arrays, sql`, `)}) on conflict do nothing`,
    );
    return (result as unknown as { count: number }).count;
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
      });
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
