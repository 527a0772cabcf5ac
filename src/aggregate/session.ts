/**
 * The invocation aggregate of a Collector session, folded from its journal on disk: the live
 * session (`collector.computeAggregate()`) and a finished one (`aggregateJournal`) give the same
 * result. Only the latest run counts (a `session_start` begins a new one), as in METRICS.json.
 *
 * Every Collector imports this module, so what it folds with (journal replay, the aggregator)
 * loads on the first call rather than at start-up.
 */
import type * as ReplayModule from "../journal/replay.ts";
import { once } from "../runtime/lazy-module.ts";
import type * as AggregateModule from "./aggregate.ts";
import type { AggregateOptions, Aggregator, MetricsAggregate } from "./aggregate.ts";
import type * as FromEventsModule from "./from-events.ts";

const modules = once(() => ({
  replay: require("../journal/replay.ts") as typeof ReplayModule,
  aggregate: require("./aggregate.ts") as typeof AggregateModule,
  fromEvents: require("./from-events.ts") as typeof FromEventsModule,
}));

/** The aggregate of the session's journal; the empty aggregate when it has none. */
export function aggregateJournal(
  sessionsDir: string,
  sessionId: string,
  options?: AggregateOptions,
): MetricsAggregate {
  const { replay, aggregate, fromEvents } = modules();
  let aggregator: Aggregator = aggregate.createAggregator(options);
  replay.replaySession(sessionsDir, sessionId, (event) => {
    if (event.type === "session_start" || event.type === "restore")
      aggregator = aggregate.createAggregator(options);
    const record = fromEvents.eventToRecord(event);
    if (record !== undefined) aggregator.add(record);
  });
  return aggregator.result();
}
