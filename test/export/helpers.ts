/**
 * Shared harness of the export tests: SDK providers with in-memory exporters, a temp sessions
 * folder, a collector with a stepping clock, and span/metric lookups.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HrTime } from "@opentelemetry/api";
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { Collector } from "../../src/session/collector.ts";
import type { EventSink } from "../../src/session/sink.ts";

/** A reader that collects only when asked (as the Prometheus exporter does). */
export class PullReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Providers {
  spans: InMemorySpanExporter;
  tracerProvider: TracerProvider;
  reader: PullReader;
  meterProvider: MeterProvider;
}

export function providers(): Providers {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
  });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return { spans, tracerProvider, reader, meterProvider };
}

export function tempDir(prefix = "sm-export-"): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** 2026-03-01T10:00:00.000Z, the start of every test session. */
export const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);

/** A clock the test moves by hand (epoch ms). */
export function clock(start = T0): { now: () => Date; set(ms: number): void; advance(ms: number): void } {
  let t = start;
  return {
    now: () => new Date(t),
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export function collector(dir: string, sink: EventSink, now: () => Date, sessionId = "s1"): Collector {
  return new Collector({ sessionId, sessionsDir: dir, sinks: [sink], now, logger: quiet });
}

export const quiet = { warn() {}, error() {} };

/** Epoch ms of an `HrTime` (exact for millisecond times). */
export function ms(t: HrTime): number {
  return t[0] * 1000 + t[1] / 1e6;
}

export function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1)
    throw new Error(`expected one span "${name}", found ${found.length}: ${spans.map((s) => s.name)}`);
  return found[0]!;
}

export function parentOf(span: ReadableSpan, spans: readonly ReadableSpan[]): ReadableSpan | undefined {
  const id = span.parentSpanContext?.spanId;
  return spans.find((s) => s.spanContext().spanId === id);
}

/** Every data point of metric `name`, as `{ attributes, value }`. */
export function points(rm: ResourceMetrics, name: string): DataPoint<number | Histogram>[] {
  for (const scope of rm.scopeMetrics)
    for (const metric of scope.metrics)
      if (metric.descriptor.name === name) return metric.dataPoints as DataPoint<number | Histogram>[];
  return [];
}

export function metricNames(rm: ResourceMetrics): string[] {
  return rm.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)).sort();
}
