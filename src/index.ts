/**
 * session-metrics: the metrics layer for LLM-agent sessions on Bun.
 * The package root loads no optional dependency (no drizzle, no OpenTelemetry).
 */

export type { CollectorOptions, EventListener } from "./collector.ts";
export { Collector } from "./collector.ts";
export type { EventBody, EventDetails, EventType, MetricEvent } from "./core/events.ts";
export { reduce } from "./core/events.ts";
export { encodeMetrics } from "./core/go-document.ts";
export { hashPrompt } from "./core/hash.ts";
export type {
  EditStrategyMetrics,
  LLMMetrics,
  PhaseMetrics,
  RecordDetails,
  SessionMetrics,
  ToolMetrics,
  Usage,
} from "./core/types.ts";
export {
  InvalidSessionIdError,
  MetricsError,
  ParseError,
  SchemaError,
  SessionLockedError,
  StorageError,
  ValidationError,
} from "./errors.ts";
export { connectCollector, RemoteCollector } from "./runtime/worker-bridge.ts";
export { load, METRICS_FILE, metricsPath, save } from "./store/metrics-file.ts";
