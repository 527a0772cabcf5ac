/** `session-metrics/store/sqlite`: the SQLite backend of the metrics store (drizzle-orm bun-sqlite). */
export { createSqliteStore, SQLITE_MIGRATIONS, SqliteStore, type SqliteStoreOptions } from "./store.ts";
