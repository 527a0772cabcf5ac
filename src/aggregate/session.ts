/**
 * The invocation aggregate of a Collector session, folded from its journal on disk: the live
 * session (`collector.computeAggregate()`) and a finished one (`aggregateJournal`) give the same
 * result. Only the latest run counts (a `session_start` begins a new one), as in METRICS.json.
 */
import { replaySession } from "../journal/replay.ts";
import {
  type AggregateOptions,
  type Aggregator,
  createAggregator,
  type MetricsAggregate,
} from "./aggregate.ts";
import { eventToRecord } from "./from-events.ts";

/** The aggregate of the session's journal; the empty aggregate when it has none. */
export function aggregateJournal(
  sessionsDir: string,
  sessionId: string,
  options?: AggregateOptions,
): MetricsAggregate {
  let aggregator: Aggregator = createAggregator(options);
  replaySession(sessionsDir, sessionId, (event) => {
    if (event.type === "session_start" || event.type === "restore") aggregator = createAggregator(options);
    const record = eventToRecord(event);
    if (record !== undefined) aggregator.add(record);
  });
  return aggregator.result();
}
