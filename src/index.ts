/**
 * session-metrics: the metrics layer for LLM-agent sessions on Bun.
 * The package root loads no optional dependency (no drizzle, no OpenTelemetry, no provider SDK),
 * and the functions at the end of this file load their modules on first call (start-up budget:
 * see runtime/lazy-module.ts).
 */
import type * as AggregateModule from "./aggregate/aggregate.ts";
import type * as FromEventsModule from "./aggregate/from-events.ts";
import type * as InvocationCollectorModule from "./aggregate/invocation-collector.ts";
import type * as PercentilesModule from "./aggregate/percentiles.ts";
import type * as HashModule from "./core/hash.ts";
import type * as ReplayModule from "./journal/replay.ts";
import type * as LLMErrorsModule from "./llm/errors.ts";
import type * as StreamTimerModule from "./llm/stream-timer.ts";
import type * as UsageModule from "./llm/usage.ts";
import { lazyClass, lazyFunction, once } from "./runtime/lazy-module.ts";

export type {
  AggregateOptions,
  Aggregator,
  AnalyticsRecord,
  MetricsAggregate,
} from "./aggregate/aggregate.ts";
export type { InvocationMetric } from "./aggregate/invocation.ts";
export { INVOCATIONS_FILE, invocationMetricSchema, parseInvocationMetric } from "./aggregate/invocation.ts";
export type { InvocationCollectorOptions, InvocationLogger } from "./aggregate/invocation-collector.ts";
export type { ParallelismBucket } from "./aggregate/parallelism.ts";
export type { Percentiles } from "./aggregate/percentiles.ts";
export { aggregateJournal } from "./aggregate/session.ts";
export type { CollectorOptions, JournalStats, OpenOptions } from "./collector.ts";
export { Collector } from "./collector.ts";
export type { EventBody, EventDetails, EventType, InvocationRecord, MetricEvent } from "./core/events.ts";
export { reduce } from "./core/events.ts";
export { encodeMetrics } from "./core/go-document.ts";
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
export type { Durability } from "./journal/writer.ts";
export type { ErrorClass } from "./llm/errors.ts";
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
export type { EventListener, RecorderOptions } from "./recorder.ts";
export { Recorder } from "./recorder.ts";
export { connectCollector, RemoteCollector } from "./runtime/worker-bridge.ts";
export type { EventSink } from "./sink.ts";
export { load, METRICS_FILE, metricsPath, save } from "./store/metrics-file.ts";
export { StepHandle, TurnHandle } from "./turns.ts";

// ---------------------------------------------------------------------------------------------
// Loaded on first call (same names, types and behaviour as the modules' own exports)

const aggregate = once(() => require("./aggregate/aggregate.ts") as typeof AggregateModule);
const invocationCollector = once(
  () => require("./aggregate/invocation-collector.ts") as typeof InvocationCollectorModule,
);
const fromEvents = once(() => require("./aggregate/from-events.ts") as typeof FromEventsModule);
const percentilesModule = once(() => require("./aggregate/percentiles.ts") as typeof PercentilesModule);
const hash = once(() => require("./core/hash.ts") as typeof HashModule);
const replay = once(() => require("./journal/replay.ts") as typeof ReplayModule);
const llmErrors = once(() => require("./llm/errors.ts") as typeof LLMErrorsModule);
const streamTimer = once(() => require("./llm/stream-timer.ts") as typeof StreamTimerModule);
const usage = once(() => require("./llm/usage.ts") as typeof UsageModule);

/**
 * {@inheritDoc InvocationCollectorModule.InvocationMetricsCollector} (Loads with its first use:
 * it is a node:events EventEmitter, and node:events alone costs ~1 ms of start-up.)
 */
export const InvocationMetricsCollector = lazyClass(invocationCollector, "InvocationMetricsCollector");
export type InvocationMetricsCollector = InvocationCollectorModule.InvocationMetricsCollector;
/** {@inheritDoc AggregateModule.computeAggregate} */
export const computeAggregate = lazyFunction(aggregate, "computeAggregate");
/** {@inheritDoc AggregateModule.createAggregator} */
export const createAggregator = lazyFunction(aggregate, "createAggregator");
/** {@inheritDoc FromEventsModule.aggregateEvents} */
export const aggregateEvents = lazyFunction(fromEvents, "aggregateEvents");
/** {@inheritDoc FromEventsModule.eventToRecord} */
export const eventToRecord = lazyFunction(fromEvents, "eventToRecord");
/** {@inheritDoc PercentilesModule.percentiles} */
export const percentiles = lazyFunction(percentilesModule, "percentiles");
/** {@inheritDoc HashModule.hashPrompt} */
export const hashPrompt = lazyFunction(hash, "hashPrompt");
/** {@inheritDoc ReplayModule.journalPath} */
export const journalPath = lazyFunction(replay, "journalPath");
/** {@inheritDoc ReplayModule.loadTurns} */
export const loadTurns = lazyFunction(replay, "loadTurns");
/** {@inheritDoc ReplayModule.replayMetrics} */
export const replayMetrics = lazyFunction(replay, "replayMetrics");
/** {@inheritDoc ReplayModule.replaySession} */
export const replaySession = lazyFunction(replay, "replaySession");
/** {@inheritDoc LLMErrorsModule.classifyError} */
export const classifyError = lazyFunction(llmErrors, "classifyError");
/** {@inheritDoc StreamTimerModule.timeStream} */
export const timeStream = lazyFunction(streamTimer, "timeStream");
/** {@inheritDoc UsageModule.fromAISDKUsage} */
export const fromAISDKUsage = lazyFunction(usage, "fromAISDKUsage");
/** {@inheritDoc UsageModule.fromAnthropicUsage} */
export const fromAnthropicUsage = lazyFunction(usage, "fromAnthropicUsage");
/** {@inheritDoc UsageModule.fromOpenAIChatUsage} */
export const fromOpenAIChatUsage = lazyFunction(usage, "fromOpenAIChatUsage");
/** {@inheritDoc UsageModule.fromOpenAIResponsesUsage} */
export const fromOpenAIResponsesUsage = lazyFunction(usage, "fromOpenAIResponsesUsage");
