/**
 * An event sink: where a collector streams its events besides the journal (a database, a
 * message bus). The collector calls `write` synchronously on the record*() path, so a sink only
 * queues there; `flush` and `close` are awaited by `collector.flush()` and `collector.stop()`.
 */
import type { MetricEvent } from "../core/events.ts";

export interface EventSink {
  /** Queues one event of `sessionId`; called in `seq` order. Must not throw or block. */
  write(sessionId: string, event: MetricEvent): void;
  /** Resolves once everything written so far has reached the sink's destination (or rejects). */
  flush(): Promise<void>;
  /** Flushes and releases what the sink opened for this collector. Safe to call twice. */
  close(): Promise<void>;
}
