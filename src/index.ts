/**
 * session-metrics: the metrics layer for LLM-agent sessions on Bun.
 * The package root loads no optional dependency (no drizzle, no OpenTelemetry, no provider SDK).
 */

export type {
  AggregateOptions,
  Aggregator,
  AnalyticsRecord,
  MetricsAggregate,
} from "./aggregate/aggregate.ts";
export { computeAggregate, createAggregator } from "./aggregate/aggregate.ts";
export { aggregateEvents, eventToRecord } from "./aggregate/from-events.ts";
export type { InvocationMetric } from "./aggregate/invocation.ts";
export { invocationMetricSchema, parseInvocationMetric } from "./aggregate/invocation.ts";
export type { InvocationCollectorOptions, InvocationLogger } from "./aggregate/invocation-collector.ts";
export { INVOCATIONS_FILE, InvocationMetricsCollector } from "./aggregate/invocation-collector.ts";
export type { ParallelismBucket } from "./aggregate/parallelism.ts";
export type { Percentiles } from "./aggregate/percentiles.ts";
export { percentiles } from "./aggregate/percentiles.ts";
export { aggregateJournal } from "./aggregate/session.ts";
export type { CollectorOptions, OpenOptions } from "./collector.ts";
export { Collector } from "./collector.ts";
export type { EventBody, EventDetails, EventType, InvocationRecord, MetricEvent } from "./core/events.ts";
export { reduce } from "./core/events.ts";
export { encodeMetrics } from "./core/go-document.ts";
export { hashPrompt } from "./core/hash.ts";
export type {
  EditStrategyMetrics,
  LLMMetrics,
  PhaseMetrics,
  RecordDetails,
  SessionMetrics,
  StepMetrics,
  StepRecorder,
  StreamStats,
  ToolMetrics,
  TurnMetrics,
  TurnRecorder,
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
export type { JournalScan, Logger } from "./journal/reader.ts";
export { JOURNAL_FILE } from "./journal/reader.ts";
export { journalPath, loadTurns, replayMetrics, replaySession } from "./journal/replay.ts";
export type { Durability } from "./journal/writer.ts";
export type { ErrorClass } from "./llm/errors.ts";
export { classifyError } from "./llm/errors.ts";
export type { InstrumentOptions, InstrumentTarget } from "./llm/instrument-shared.ts";
export type {
  PriceEntry,
  PriceInstant,
  PriceTableFile,
  PriceTableOptions,
  TokenRates,
} from "./llm/pricing.ts";
export {
  BUILTIN_PRICES,
  builtinTable,
  createPriceTable,
  estimateCost,
  loadPriceTable,
  PriceTable,
} from "./llm/pricing.ts";
export type { TimeStreamOptions } from "./llm/stream-timer.ts";
export { timeStream } from "./llm/stream-timer.ts";
export {
  fromAISDKUsage,
  fromAnthropicUsage,
  fromOpenAIChatUsage,
  fromOpenAIResponsesUsage,
} from "./llm/usage.ts";
export type { EventListener, RecorderOptions } from "./recorder.ts";
export { Recorder } from "./recorder.ts";
export { connectCollector, RemoteCollector } from "./runtime/worker-bridge.ts";
export type { EventSink } from "./sink.ts";
export { load, METRICS_FILE, metricsPath, save } from "./store/metrics-file.ts";
export { StepHandle, TurnHandle } from "./turns.ts";
