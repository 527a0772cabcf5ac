/**
 * `createOtelSink()`: a Collector sink that turns sessions into OpenTelemetry traces and metrics.
 *
 * The record*() path only queues the event (`EventQueue`, which keeps no object per bare tool
 * call): no span is created there, and nothing an exporter does can reach it. A timer, armed only while events are pending (unref'd, never an
 * interval), builds the spans and metrics in batches; between batches it yields to the event loop
 * so a `BatchSpanProcessor` can export what it was given instead of dropping past its queue.
 * Failures are reported through the logger and counted in `stats()`; `flush()` and `close()`
 * resolve even when the backend is down, so `collector.stop()` never fails because of it.
 */
import type { MetricEvent } from "../../core/events.ts";
import { ValidationError } from "../../errors.ts";
import { consoleLogger, type Logger } from "../../logger.ts";
import type { EventSink } from "../../session/sink.ts";
import { EventExporter, type ExportOptions } from "./event-exporter.ts";
import { EventQueue } from "./event-queue.ts";

export interface OtelSinkOptions extends ExportOptions {
  /** Events built per batch, between two yields to the event loop. Default 512. */
  batchSize?: number;
  /** How long a queued event waits for its batch. Default 50 ms. */
  flushIntervalMs?: number;
  /**
   * Bound on queued events while building lags behind; events past it are dropped (counted).
   * Default 100,000. A queued bare tool call takes 56 bytes (other events are kept as they are),
   * and the room a burst made is reused by the next one until `close()`.
   */
  maxQueuedEvents?: number;
}

export interface OtelSinkStats {
  /** Events built into spans and metrics. */
  events: number;
  /** Spans ended and handed to the tracer provider. */
  spans: number;
  /** Span or metric calls that threw, and failed exports seen by flush()/close(). */
  failed: number;
  /** Events not exported: the queue was full, or they came after close(). */
  dropped: number;
}

export interface OtelSink extends EventSink, AsyncDisposable {
  stats(): OtelSinkStats;
}

/**
 * Creates a sink for `new Collector({ …, sinks: [createOtelSink({ tracerProvider, meterProvider })] })`.
 * One sink can take several sessions (kept apart by session id, one trace each), but `close()`,
 * which `collector.stop()` calls, ends them all: give each collector its own sink unless they
 * stop together. The providers are not shut down (the sink did not create them); they are flushed.
 */
export function createOtelSink(options: OtelSinkOptions = {}): OtelSink {
  return new OtelSinkImpl(options);
}

const whole = (v: number | undefined, fallback: number, name: string, min: number): number => {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < min)
    throw new ValidationError(`[otel sink] ${name} must be a whole number ≥ ${min}, got ${String(v)}`);
  return v;
};

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

class OtelSinkImpl implements OtelSink {
  /** Events are only read here (span attributes are copies): the collector need not freeze them. */
  readonly readsOnly = true;
  readonly #exporter: EventExporter;
  readonly #batch: number;
  readonly #delay: number;
  readonly #max: number;
  readonly #logger: Logger;
  readonly #queue = new EventQueue();
  #dropped = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #draining: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: OtelSinkOptions) {
    this.#batch = whole(options.batchSize, 512, "batchSize", 1);
    this.#delay = whole(options.flushIntervalMs, 50, "flushIntervalMs", 0);
    this.#max = whole(options.maxQueuedEvents, 100_000, "maxQueuedEvents", 1);
    this.#logger = options.logger ?? consoleLogger;
    this.#exporter = new EventExporter(options);
  }

  write(sessionId: string, event: MetricEvent): void {
    if (this.#closed) return this.#drop("the sink is closed");
    if (this.#queue.size >= this.#max)
      return this.#drop(`the queue is full (${this.#max} events; the exporter is slower than recording)`);
    this.#queue.push(sessionId, event);
    if (this.#timer === undefined && this.#draining === undefined) this.#arm();
  }

  /** The one timer: armed while events wait and no drain runs (unref'd: it never keeps a process up). */
  #arm(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#drain();
    }, this.#delay);
    this.#timer.unref?.();
  }

  async flush(): Promise<void> {
    await this.#buildQueued();
    await this.#exporter.forceFlush();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  stats(): OtelSinkStats {
    const e = this.#exporter;
    return { events: e.events, spans: e.spans, failed: e.failed, dropped: this.#dropped };
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await this.#buildQueued();
    this.#queue.release();
    this.#exporter.endAll();
    await this.#exporter.forceFlush();
    if (this.#dropped > 0)
      this.#logger.warn(
        `[session-metrics] [otel sink] closed; ${this.#dropped} events were not exported (dropped)`,
      );
  }

  async #buildQueued(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.size > 0 || this.#draining !== undefined) await this.#drain();
  }

  /** Builds everything queued, one batch per event-loop turn; one drain at a time. */
  #drain(): Promise<void> {
    if (this.#draining !== undefined) return this.#draining;
    const run = this.#build();
    // Cleared once settled (never inside #build: a drain that needs no yield settles at once).
    this.#draining = run.finally(() => {
      if (this.#draining === guarded) this.#draining = undefined;
      // Events written after the last batch but before this drain settled wait for the next one.
      if (this.#queue.size > 0 && this.#timer === undefined && !this.#closed) this.#arm();
    });
    const guarded = this.#draining;
    return guarded;
  }

  async #build(): Promise<void> {
    const exporter = this.#exporter;
    const apply = (sessionId: string, event: MetricEvent) => exporter.apply(sessionId, event);
    while (this.#queue.size > 0) {
      this.#queue.take(this.#batch, apply);
      exporter.flushMetrics();
      if (this.#queue.size === 0) break;
      await nextTurn();
    }
  }

  #drop(why: string): void {
    if (this.#dropped++ === 0 || this.#dropped % 10_000 === 0)
      this.#logger.warn(
        `[session-metrics] [otel sink] an event was not exported: ${why} (${this.#dropped} so far, see stats().dropped); recording goes on`,
      );
  }
}
