/**
 * `exportSession()`: a finished session, exported after the fact with its original timestamps:
 * the journal's events go through the same span builder and metric recordings as the live sink.
 * A session without a journal (recorded by the Go collector, or with `journal: false`) has only
 * its METRICS.json: it gives a root span over the session's lifetime and its per-tool, per-phase
 * and per-LLM-phase aggregates as the `session_metrics.*` counters and phase histogram.
 */
import type { MetricEvent } from "../../core/events.ts";
import { assertSessionId } from "../../core/session-id.ts";
import { MetricsError } from "../../errors.ts";
import { load } from "../../fs/metrics-file.ts";
import { replaySession } from "../../journal/replay.ts";
import { parseTimestamp } from "../time.ts";
import { hrSeconds } from "./attributes.ts";
import { EventExporter, type ExportOptions } from "./event-exporter.ts";
import { workflowSpan } from "./leaf-spans.ts";
import { recordDocument } from "./metrics.ts";

export interface ExportSessionOptions extends ExportOptions {}

export interface ExportSessionResult {
  /** What the export was built from. */
  source: "journal" | "metrics";
  /** Journal events replayed (0 for a METRICS.json-only session). */
  events: number;
  spans: number;
  /** Span/metric calls that threw and failed exports (see the logger). */
  failed: number;
}

/** Events built between two span flushes: a `BatchSpanProcessor` keeps up instead of dropping. */
const SLICE = 1_000;

/**
 * Exports session `sessionId` of `sessionsDir` to the given providers and resolves once both
 * were flushed (when they can be). The journal is read whole, then built in slices.
 * @throws InvalidSessionIdError; MetricsError when the session has neither a journal nor a
 *   METRICS.json; ParseError/SchemaError/StorageError from reading METRICS.json
 */
export async function exportSession(
  sessionsDir: string,
  sessionId: string,
  options: ExportSessionOptions = {},
): Promise<ExportSessionResult> {
  assertSessionId(sessionId);
  const events: MetricEvent[] = [];
  const replayed = replaySession(sessionsDir, sessionId, (event) => events.push(event), {
    logger: options.logger,
  });
  const exporter = new EventExporter(options);
  if (replayed !== null) {
    for (let i = 0; i < events.length; i += SLICE) {
      const end = Math.min(events.length, i + SLICE);
      for (let j = i; j < end; j++) exporter.apply(sessionId, events[j]!);
      exporter.flushMetrics();
      if (end < events.length) await exporter.flushSpans();
    }
    exporter.endAll();
    await exporter.forceFlush();
    return { source: "journal", events: events.length, spans: exporter.spans, failed: exporter.failed };
  }
  const doc = await load(sessionsDir, sessionId);
  if (doc === null)
    throw new MetricsError(
      `[export] session ${JSON.stringify(sessionId)} has neither a journal nor a METRICS.json in ${sessionsDir}`,
    );
  const start = parseTimestamp(doc.startedAt);
  const end = parseTimestamp(doc.updatedAt) ?? start;
  if (start !== undefined && end !== undefined) {
    const name = options.workflowName;
    workflowSpan({ tracer: exporter.tracer, sessionId }, exporter.parent, name, start).end(end);
    exporter.spans++;
    exporter.metrics.workflow(hrSeconds(start, end), name);
  } else
    exporter.fail(
      `placing session ${sessionId} in time (started_at ${JSON.stringify(doc.startedAt)} is not RFC 3339)`,
      new Error("no root span"),
    );
  recordDocument(exporter.metrics, doc);
  await exporter.forceFlush();
  return { source: "metrics", events: 0, spans: exporter.spans, failed: exporter.failed };
}
