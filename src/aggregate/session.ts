/**
 * The invocation aggregate of a Collector session, folded from its journal on disk: the live
 * session (`await collector.aggregate()`) and a finished one (`await aggregateJournal(...)`) give
 * the same result. Only the latest run counts (a `session_start` begins a new one), as in
 * METRICS.json. The journal is streamed: the event loop runs between chunks, and memory holds
 * the distinct keys and the duration lists the percentiles need, never the whole journal.
 */

import type { MetricEvent } from "../core/events.ts";
import { type ReplayOptions, replaySession, streamSession } from "../journal/replay.ts";
import {
  type AggregateOptions,
  type Aggregator,
  createAggregator,
  type MetricsAggregate,
} from "./aggregate.ts";
import { eventToRecord } from "./from-events.ts";

/** Folds events into the aggregate of the latest run. */
function folder(options: AggregateOptions | undefined): {
  visit: (e: MetricEvent) => void;
  result: () => MetricsAggregate;
} {
  let aggregator: Aggregator = createAggregator(options);
  return {
    visit(event) {
      if (event.type === "session_start" || event.type === "restore") aggregator = createAggregator(options);
      const record = eventToRecord(event);
      if (record !== undefined) aggregator.add(record);
    },
    result: () => aggregator.result(),
  };
}

/** The aggregate of the session's journal, streamed; the empty aggregate when it has none. */
export async function aggregateJournal(
  sessionsDir: string,
  sessionId: string,
  options?: AggregateOptions & ReplayOptions,
): Promise<MetricsAggregate> {
  const fold = folder(options);
  await streamSession(sessionsDir, sessionId, fold.visit, options);
  return fold.result();
}

/**
 * {@link aggregateJournal} in one synchronous pass (the whole journal in memory, the event loop
 * blocked meanwhile): for small sessions and synchronous callers.
 */
export function aggregateJournalSync(
  sessionsDir: string,
  sessionId: string,
  options?: AggregateOptions & ReplayOptions,
): MetricsAggregate {
  const fold = folder(options);
  replaySession(sessionsDir, sessionId, fold.visit, options);
  return fold.result();
}
