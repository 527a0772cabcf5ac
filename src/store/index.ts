/**
 * `session-metrics/store`: cross-session storage and queries, whatever the backend. Open a store
 * with `session-metrics/store/sqlite` or `session-metrics/store/postgres`, stream a collector into
 * it with `createStoreSink`, import existing folders with `ingest`, and query with `report`,
 * `listSessions` and `getSession`. The package root never loads this (nor drizzle).
 */
export { encodeEvents } from "./encode.ts";
export { type IngestOptions, type IngestProgress, type IngestResult, ingest } from "./ingest.ts";
export {
  getSession,
  type Instant,
  type ListSessionsOptions,
  listSessions,
  type ReportOptions,
  type ReportRow,
  report,
  type SessionPage,
  type SessionSummary,
} from "./report.ts";
export { createStoreSink, type StoreSink, type StoreSinkOptions, type StoreSinkStats } from "./sink.ts";
export type {
  AggregateRow,
  AggregateSpec,
  EncodedEvents,
  EventRow,
  GroupKey,
  ListSpec,
  MetricsStore,
  SessionRow,
  SessionUpsert,
  StoreBatch,
  StoreDialect,
  StoredSession,
  WhereSpec,
} from "./types.ts";
