/**
 * The PostgreSQL backend (drizzle-orm `bun-sql`), for fleets: many hosts write into one database.
 *
 * A store lives in one schema (`search_path`), created if missing, so several stores (one per test
 * run, say) share a database without meeting. Migrations run under an advisory lock, so processes
 * that open a new schema at once do not race. Writes are in `write.ts`.
 */

import { join } from "node:path";
import type { SQL as BunSQL } from "bun";
import { SQL } from "bun";
import { type SQL as SQLFragment, sql } from "drizzle-orm";
import { type BunSQLDatabase, drizzle } from "drizzle-orm/bun-sql";
import { migrate } from "drizzle-orm/bun-sql/migrator";
import { ValidationError } from "../../errors.ts";
import { BaseStore, parseSessionRow } from "../base-store.ts";
import {
  eventDataQuery,
  groupKey,
  listQuery,
  numOrNull,
  parseAggregateRow,
  parseKeys,
  percentilesQuery,
  sessionRowQuery,
  sumsQuery,
} from "../queries.ts";
import { toStorageError } from "../storage-error.ts";
import type { AggregateRow, AggregateSpec, EventRow, ListSpec, SessionRow, SessionUpsert } from "../types.ts";
import { events, sessions } from "./schema.ts";
import { PostgresWriter } from "./write.ts";

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
const TABLES = { events, sessions };
const SNAPSHOT = { isolationLevel: "repeatable read", accessMode: "read only" } as const;

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
  readonly #writer: PostgresWriter;

  constructor(
    readonly client: BunSQL,
    readonly db: BunSQLDatabase,
    private readonly owned: boolean,
  ) {
    super();
    this.#writer = new PostgresWriter(client, db);
  }

  protected writeBatch(rows: readonly EventRow[], list: readonly SessionUpsert[]): Promise<number> {
    return this.#writer.write(rows, list);
  }

  /** Sums and percentiles at once, on two connections, merged by group. (Either may fail first: one
   * context for both, and the statement in the error tells which.) */
  protected async runAggregate(spec: AggregateSpec): Promise<AggregateRow[]> {
    const [sums, percentiles] = await Promise.all([
      this.#all("computing a report", sumsQuery(TABLES, spec)),
      spec.percentiles.length === 0 ? [] : this.#all("computing a report", percentilesQuery(TABLES, spec)),
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

  protected runList(spec: ListSpec): Promise<Record<string, unknown>[]> {
    return this.#all("listing sessions", listQuery(TABLES, spec, "postgres"));
  }

  /**
   * One snapshot for both reads (repeatable read): an event stored without its text is always
   * seen together with the document that reflects it (see `storedData`).
   */
  protected async fetchSession(sessionId: string): Promise<{ row: SessionRow; data: string[] } | null> {
    try {
      return await this.db.transaction(async (tx) => {
        const [found] = await tx.execute<Record<string, unknown>>(sessionRowQuery(TABLES, sessionId));
        if (found === undefined) return null;
        const row = parseSessionRow(found);
        const data = await tx.execute<{ data: string }>(
          eventDataQuery(TABLES, sessionId, row.documentSeq ?? 0),
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
