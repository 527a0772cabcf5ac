/**
 * An event sink: where a collector streams its events besides the journal (a database, a
 * message bus). The collector calls `write` synchronously on the record*() path, so a sink only
 * queues there; `flush` and `close` are awaited by `collector.flush()` and `collector.stop()`.
 */
import type { MetricEvent } from "../core/events.ts";

export interface EventSink {
  /**
   * True when the sink only reads the events it is given, and what they hold (it copies whatever
   * it keeps to change): the collector then skips freezing each event for it, which costs a record
   * about as much as the rest of it. Leave it out unless a test proves it: a sink that writes to an
   * event changes what the journal and the other sinks see. The OpenTelemetry sink sets it.
   */
  readonly readsOnly?: boolean;
  /** Queues one event of `sessionId`; called in `seq` order. Must not throw or block. */
  write(sessionId: string, event: MetricEvent): void;
  /** Resolves once everything written so far has reached the sink's destination (or rejects). */
  flush(): Promise<void>;
  /** Flushes and releases what the sink opened for this collector. Safe to call twice. */
  close(): Promise<void>;
}
