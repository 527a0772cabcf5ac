/**
 * `session-metrics/otel`: OpenTelemetry GenAI spans, span events and metrics for sessions.
 * Needs the optional peer dependency `@opentelemetry/api`; the package root never loads it.
 */
export type { ExportOptions } from "./event-exporter.ts";
export {
  ATTR,
  ERROR_OTHER,
  EVENT,
  METRIC,
  type MetricSpec,
  OPERATION,
  OUTCOME,
  PHASE_SPAN,
  SCOPE_NAME,
  SEMCONV_SOURCE,
  TOKEN_TYPE,
} from "./names.ts";
export type { ExportSessionOptions, ExportSessionResult } from "./replay.ts";
export { exportSession } from "./replay.ts";
export type { OtelSink, OtelSinkOptions, OtelSinkStats } from "./sink.ts";
export { createOtelSink } from "./sink.ts";
export type {
  EventAttributes,
  PromptSentEvent,
  ResponseReceivedEvent,
  RetryEvent,
  SpanEventTarget,
  StreamFirstTokenEvent,
  ToolCallEvent,
} from "./span-events.ts";
export {
  recordPromptSent,
  recordResponseReceived,
  recordRetry,
  recordStreamFirstToken,
  recordToolCall,
} from "./span-events.ts";
