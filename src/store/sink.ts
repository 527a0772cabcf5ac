/**
 * A Collector sink that streams events into a {@link MetricsStore}.
 *
 * `write()` (on the record*() path) validates and queues: it never waits for the database. A
 * timer writes the queue in batches, one write at a time, each one transaction. When the store is
 * unreachable, recording goes on: events stay queued up to a bound (events and bytes), writes are
 * retried with exponential backoff, events past the bound are dropped and reported through the
 * logger (they remain in the session's journal: `ingest` fills the gap), and the queue catches up
 * on reconnect. Rows are keyed by (session, seq), so a retry of a write that did land, or a
 * restart that sends events again, never duplicates anything.
 */
import { hostname } from "node:os";
import type { MetricEvent } from "../core/events.ts";
import { StorageError, ValidationError, withoutPrefix } from "../errors.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import type { EventSink } from "../session/sink.ts";
import { concatEncoded, encodeEvents } from "./encode.ts";
import { SessionTracker } from "./sink-tracker.ts";
import type { EncodedEvents, MetricsStore } from "./types.ts";

export interface StoreSinkOptions {
  /** Events per write (one transaction); a queue this long is written at once. Default 1,000. */
  batchSize?: number;
  /** A shorter queue waits at most this long. Default 100 ms. */
  flushIntervalMs?: number;
  /** Bound on queued events while the store is slow or down. Default 100,000. */
  maxBufferedEvents?: number;
  /** Bound on queued bytes (approximate). Default 64 MiB. */
  maxBufferedBytes?: number;
  /** First retry delay after a failed write; doubles up to `retryMaxMs`. Default 100 ms. */
  retryInitialMs?: number;
  /** Default 30,000 ms. */
  retryMaxMs?: number;
  /** How long `close()` keeps trying to write what is queued. Default 10,000 ms. */
  closeTimeoutMs?: number;
  /** Recorded with each session. Default: this machine's host name. */
  host?: string | null;
  /** Where outages, drops and invalid events are reported. Default: console. */
  logger?: Logger;
  /** Close the store when the sink closes. Default `false` (the store may serve other sinks). */
  closeStore?: boolean;
}

export interface StoreSinkStats {
  /** Events queued, not yet written. */
  buffered: number;
  bufferedBytes: number;
  /** Events written (newly stored or found already stored). */
  written: number;
  /** Events dropped past the bound, or written after close. */
  dropped: number;
  /** Events refused by validation (never queued). */
  invalid: number;
  /** Failed writes. */
  failures: number;
  /** False from a failed write until the next successful one. */
  connected: boolean;
}

export interface StoreSink extends EventSink, AsyncDisposable {
  stats(): StoreSinkStats;
}

interface Pending {
  sessionId: string;
  seq: number;
  encoded: EncodedEvents;
}

/** Creates a sink for `new Collector({ …, sinks: [createStoreSink(store)] })`. */
export function createStoreSink(store: MetricsStore, options: StoreSinkOptions = {}): StoreSink {
  return new StoreSinkImpl(store, options);
}

const positive = (v: number | undefined, fallback: number, name: string): number => {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new ValidationError(`[store sink] ${name} must be a whole number ≥ 1, got ${v}`);
  return v;
};

class StoreSinkImpl implements StoreSink {
  readonly #store: MetricsStore;
  readonly #o: Required<Omit<StoreSinkOptions, "host" | "logger">>;
  readonly #logger: Logger;
  readonly #tracker: SessionTracker;
  #queue: Pending[] = [];
  #head = 0;
  #bytes = 0;
  #accepted = 0;
  #written = 0;
  #invalid = 0;
  #failures = 0;
  #down = false;
  #retryMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(store: MetricsStore, options: StoreSinkOptions) {
    this.#store = store;
    this.#o = {
      batchSize: positive(options.batchSize, 1_000, "batchSize"),
      flushIntervalMs: positive(options.flushIntervalMs, 100, "flushIntervalMs"),
      maxBufferedEvents: positive(options.maxBufferedEvents, 100_000, "maxBufferedEvents"),
      maxBufferedBytes: positive(options.maxBufferedBytes, 64 * 1024 * 1024, "maxBufferedBytes"),
      retryInitialMs: positive(options.retryInitialMs, 100, "retryInitialMs"),
      retryMaxMs: positive(options.retryMaxMs, 30_000, "retryMaxMs"),
      closeTimeoutMs: positive(options.closeTimeoutMs, 10_000, "closeTimeoutMs"),
      closeStore: options.closeStore ?? false,
    };
    this.#retryMs = this.#o.retryInitialMs;
    this.#logger = options.logger ?? consoleLogger;
    this.#tracker = new SessionTracker(options.host === undefined ? hostname() : options.host, this.#logger);
  }

  write(sessionId: string, event: MetricEvent): void {
    if (this.#closed) return this.#tracker.drop(sessionId, event, "the sink is closed");
    let encoded: EncodedEvents;
    try {
      encoded = encodeEvents(sessionId, [event]);
    } catch (error) {
      this.#invalid++;
      if (this.#invalid <= 10 || this.#invalid % 10_000 === 0)
        this.#logger.warn(
          `[session-metrics] ${withoutPrefix((error as Error).message)}; not sent to the store (${this.#invalid} so far)`,
        );
      return;
    }
    this.#tracker.track(sessionId, event);
    const buffered = this.#queue.length - this.#head;
    if (buffered >= this.#o.maxBufferedEvents || this.#bytes + encoded.bytes > this.#o.maxBufferedBytes)
      return this.#tracker.drop(
        sessionId,
        event,
        `the buffer is full (${buffered} events, ${this.#bytes} bytes)`,
      );
    this.#queue.push({ sessionId, seq: event.seq, encoded });
    this.#bytes += encoded.bytes;
    this.#accepted++;
    if (!this.#down) this.#schedule(buffered + 1 >= this.#o.batchSize ? 0 : this.#o.flushIntervalMs);
  }

  async flush(): Promise<void> {
    const target = this.#accepted;
    while (this.#written < target) {
      try {
        await this.#drain();
      } catch (error) {
        throw new StorageError(
          `[store sink] flush: ${target - this.#written} events are not written yet (kept; retrying in the background): ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close().catch((error) => {
      this.#closing = undefined; // a failed close may be tried again: the events are still queued
      throw error;
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  stats(): StoreSinkStats {
    return {
      buffered: this.#queue.length - this.#head,
      bufferedBytes: this.#bytes,
      written: this.#written,
      dropped: this.#tracker.dropped,
      invalid: this.#invalid,
      failures: this.#failures,
      connected: !this.#down,
    };
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const deadline = Date.now() + this.#o.closeTimeoutMs;
    let lastError: unknown;
    while (this.#written < this.#accepted && Date.now() < deadline) {
      try {
        await this.flush();
      } catch (error) {
        lastError = error;
        await Bun.sleep(Math.min(this.#retryMs, Math.max(0, deadline - Date.now())));
      }
    }
    const left = this.#accepted - this.#written;
    if (left > 0)
      throw new StorageError(
        `[store sink] close: ${left} events could not be written within ${this.#o.closeTimeoutMs} ms (${(lastError as Error)?.message ?? "timed out"}); they remain in the sessions' journals: run ingest() to import them`,
        { cause: lastError },
      );
    clearTimeout(this.#timer);
    this.#tracker.reportDrops();
    if (this.#o.closeStore) await this.#store.close();
  }

  #schedule(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#background(), delayMs);
    this.#timer.unref?.();
  }

  #background(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#drain().then(
      () => {
        const left = this.#queue.length - this.#head;
        if (left > 0) this.#schedule(left >= this.#o.batchSize || this.#closed ? 0 : this.#o.flushIntervalMs);
      },
      () => {}, // #drain reported it and scheduled a retry
    );
  }

  /** Writes one batch from the head of the queue; one write at a time. */
  #drain(): Promise<void> {
    const run = this.#chain.then(() => this.#writeBatch());
    this.#chain = run.catch(() => {});
    return run;
  }

  async #writeBatch(): Promise<void> {
    const end = Math.min(this.#queue.length, this.#head + this.#o.batchSize);
    if (end === this.#head) return;
    const batch = this.#queue.slice(this.#head, end);
    const maxSeq = new Map<string, number>();
    for (const p of batch) maxSeq.set(p.sessionId, Math.max(maxSeq.get(p.sessionId) ?? 0, p.seq));
    const sessions = Array.from(maxSeq, ([id, seq]) => this.#tracker.upsert(id, seq));
    try {
      await this.#store.write({ events: concatEncoded(batch.map((p) => p.encoded)), sessions });
    } catch (error) {
      this.#failed(error);
      throw error;
    }
    this.#head = end;
    for (const p of batch) this.#bytes -= p.encoded.bytes;
    this.#written += batch.length;
    if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#down) {
      this.#down = false;
      this.#retryMs = this.#o.retryInitialMs;
      this.#logger.warn(
        `[session-metrics] [store sink] the ${this.#store.dialect} store is reachable again; catching up`,
      );
      this.#tracker.reportDrops();
    }
  }

  #failed(error: unknown): void {
    this.#failures++;
    if (!this.#down) {
      this.#down = true;
      this.#logger.warn(
        `[session-metrics] [store sink] cannot write to the ${this.#store.dialect} store (${(error as Error).message}); recording goes on: queueing up to ${this.#o.maxBufferedEvents} events and retrying with backoff`,
      );
    }
    // Jitter spreads the retries of many processes that lost the same server.
    this.#schedule(Math.round(this.#retryMs * (0.75 + Math.random() / 2)));
    this.#retryMs = Math.min(this.#retryMs * 2, this.#o.retryMaxMs);
  }
}
