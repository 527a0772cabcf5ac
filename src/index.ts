/**
 * session-metrics: the metrics layer for LLM-agent sessions on Bun.
 * The package root loads no optional dependency (no drizzle, no OpenTelemetry, no provider SDK):
 * those sit behind subpath exports (`session-metrics/store`, `session-metrics/llm/openai`, …).
 */

export type {
  AggregateOptions,
  Aggregator,
  AnalyticsRecord,
  MetricsAggregate,
} from "./aggregate/aggregate.ts";
export { computeAggregate, createAggregator } from "./aggregate/aggregate.ts";
export { aggregateEvents, eventToRecord } from "./aggregate/from-events.ts";
export type { InvocationCollectorOptions, InvocationLogger } from "./aggregate/invocation-collector.ts";
export { InvocationMetricsCollector } from "./aggregate/invocation-collector.ts";
export type { ParallelismBucket } from "./aggregate/parallelism.ts";
export { aggregateJournal, aggregateJournalSync } from "./aggregate/session.ts";
export type { EventBody, EventDetails, EventType, InvocationRecord, MetricEvent } from "./core/events.ts";
export { reduce } from "./core/events.ts";
export { encodeMetrics } from "./core/go-document.ts";
export { hashPrompt } from "./core/hash.ts";
export type { InvocationMetric } from "./core/invocation.ts";
export { invocationMetricSchema, parseInvocationMetric } from "./core/invocation.ts";
export type { Percentiles } from "./core/percentiles.ts";
export { percentiles } from "./core/percentiles.ts";
export type {
  PriceEntry,
  PriceInstant,
  PriceTableFile,
  PriceTableOptions,
  TokenRates,
} from "./core/pricing.ts";
export { BUILTIN_PRICES, builtinTable, estimateCost, PriceTable } from "./core/pricing.ts";
export {
  INVOCATIONS_FILE,
  JOURNAL_FILE,
  journalPath,
  METRICS_FILE,
  metricsPath,
} from "./core/session-layout.ts";
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
  fromAISDKUsage,
  fromAnthropicUsage,
  fromOpenAIChatUsage,
  fromOpenAIResponsesUsage,
} from "./core/usage.ts";
export {
  InvalidSessionIdError,
  MetricsError,
  ParseError,
  SchemaError,
  SessionLockedError,
  StorageError,
  ValidationError,
} from "./errors.ts";
export { load, save } from "./fs/metrics-file.ts";
export { createPriceTable, loadPriceTable } from "./fs/price-file.ts";
export type { JournalProblem, JournalScan } from "./journal/reader.ts";
export type { ReplayOptions, SessionRun } from "./journal/replay.ts";
export { loadTurns, replayMetrics, replaySession, sessionRuns, streamSession } from "./journal/replay.ts";
export type { JournalVerification } from "./journal/verify.ts";
export { verifyJournal } from "./journal/verify.ts";
export type { Durability } from "./journal/writer.ts";
export type { ErrorClass } from "./llm/errors.ts";
export { classifyError } from "./llm/errors.ts";
export type { InstrumentOptions, InstrumentTarget } from "./llm/instrument-shared.ts";
export type { TimeStreamOptions } from "./llm/stream-timer.ts";
export { timeStream } from "./llm/stream-timer.ts";
export type { Logger } from "./logger.ts";
export type { CollectorOptions, JournalStats, OpenOptions } from "./session/collector.ts";
export { Collector } from "./session/collector.ts";
export type { EventListener, RecorderOptions } from "./session/recorder.ts";
export { Recorder } from "./session/recorder.ts";
export type { EventSink } from "./session/sink.ts";
export { StepHandle, TurnHandle } from "./session/turns.ts";
export { connectCollector, RemoteCollector } from "./session/worker-bridge.ts";
