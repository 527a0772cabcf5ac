/** `session-metrics/store/postgres`: the PostgreSQL backend of the metrics store (drizzle-orm bun-sql). */
export {
  createPostgresStore,
  POSTGRES_MIGRATIONS,
  PostgresStore,
  type PostgresStoreOptions,
} from "./store.ts";
