/**
 * Database errors → `StorageError`: the message names the operation and the failing statement
 * (drizzle's `DrizzleQueryError` carries it; raw statements pass theirs), and `cause` is the
 * driver's own error, so its code (`SQLITE_BUSY`, `23505`, `ERR_POSTGRES_CONNECTION_CLOSED`, …)
 * stays reachable. Parameters are never put in the message: they can be large or private.
 */
import { DrizzleError, DrizzleQueryError } from "drizzle-orm/errors";
import { MetricsError, StorageError } from "../errors.ts";

/** Statements longer than this are cut in messages (a bulk insert can be megabytes). */
const MAX_STATEMENT_CHARS = 1000;

export function toStorageError(error: unknown, operation: string, statement?: string): MetricsError {
  if (error instanceof MetricsError) return error;
  let cause = error;
  let query = statement;
  // drizzle wraps driver errors (DrizzleQueryError with the query; DrizzleError "Failed to run the
  // query '…'" from the SQLite migrator): keep the statement, and the driver's error as the cause.
  while (cause instanceof DrizzleQueryError || cause instanceof DrizzleError) {
    if (cause instanceof DrizzleQueryError) query = cause.query;
    else query = /^Failed to run the query '([\s\S]*)'$/.exec(cause.message)?.[1] ?? query;
    if (cause.cause === undefined) break;
    cause = cause.cause;
  }
  const reason = cause instanceof Error ? cause.message : String(cause);
  const shown =
    query === undefined
      ? ""
      : `; statement: ${query.length > MAX_STATEMENT_CHARS ? `${query.slice(0, MAX_STATEMENT_CHARS)}…` : query}`;
  return new StorageError(`[store] ${operation} failed: ${reason}${shown}`, { cause });
}

/** The driver error under a possibly wrapped one. */
export function driverError(error: unknown): unknown {
  let e = error;
  while (
    (e instanceof StorageError || e instanceof DrizzleQueryError || e instanceof DrizzleError) &&
    e.cause !== undefined
  )
    e = e.cause;
  return e;
}

/** SQLite's "database is locked" family: another connection holds the lock; worth retrying. */
export function isSqliteBusy(error: unknown): boolean {
  const e = driverError(error) as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return true;
  return typeof e?.message === "string" && /database (table )?is locked/.test(e.message);
}
