/**
 * `computeAggregate`: post-run analytics over invocation records — per agent and per phase counts,
 * retries (infrastructure or not), escalations, tokens, cost, durations and their percentiles,
 * parallelism over time. Definitions in DESIGN.md, "Analytics definitions".
 *
 * Records are folded one at a time (`createAggregator().add`), keeping per record only what the
 * exact answers need — a start and a duration for the timeline and percentiles, and each attempt's
 * outcome and tier for the retry analysis — never the record objects themselves.
 */

import type { InvocationMetric } from "../core/invocation.ts";
import { NumberList } from "../core/number-list.ts";
import { type Percentiles, percentiles } from "../core/percentiles.ts";
import { ValidationError } from "../errors.ts";
import {
  computeParallelism,
  type ParallelismBucket,
  type ParallelismOptions,
  resolveParallelismOptions,
} from "./parallelism.ts";

/** An invocation record, optionally naming the tool it measures (tool calls from a Collector session). */
export type AnalyticsRecord = InvocationMetric & { tool?: string };

/** Options of {@link computeAggregate}: the parallelism bucket width (default 1,000 ms) and limit. */
export type AggregateOptions = ParallelismOptions;

/**
 * The aggregate of the multi-agent proposal, plus percentiles and cost breakdowns. Keyed maps are
 * plain objects with every key an own property (an agent named `__proto__` is just a key), in
 * first-seen order — except that JavaScript lists integer-like keys (phase `2`) first, ascending.
 * Phases are keyed by `String(phase)`, so phase `1` and phase `"1"` share a key.
 */
export interface MetricsAggregate {
  totalInvocations: number;
  invocationsByAgent: Record<string, number>;
  invocationsByPhase: Record<string, number>;
  /** Records with `attempt > 1`. */
  totalRetries: number;
  /** Retries per agent: only agents that had retries (the proposal's collector has no zero entries). */
  retriesByAgent: Record<string, number>;
  /** Retries per phase: only phases in which something was retried. */
  retriesByPhase: Record<string, number>;
  /** Retries whose previous attempt (same id, `attempt − 1`) failed with an `errorClass`. */
  infraRetries: number;
  totalTokens: number;
  totalCost: number;
  totalCachedTokens: number;
  tokensByAgent: Record<string, number>;
  costByAgent: Record<string, number>;
  totalDurationMs: number;
  avgDurationByAgent: Record<string, number>;
  peakParallelInvocations: number;
  parallelismOverTime: ParallelismBucket[];
  /** Retries with a `tier` that differs from the previous attempt's (which must have one). */
  escalationCount: number;
  /** Successful records ÷ all records, in [0, 1]; 0 when there are none. */
  successRate: number;
  /** Nearest-rank p50/p90/p99 of `durationMs`, for every agent seen. */
  durationPercentilesByAgent: Record<string, Percentiles>;
  /** The same for records that name a `tool`; records without one are not in it. */
  durationPercentilesByTool: Record<string, Percentiles>;
  costByPhase: Record<string, number>;
  /** Records without a `model` are not in it (their cost is still in `totalCost`). */
  costByModel: Record<string, number>;
}

/** A streaming fold: `add` records in journal order, read `result()` at any time (as often as needed). */
export interface Aggregator {
  add(record: AnalyticsRecord): void;
  result(): MetricsAggregate;
  /** Records added so far. */
  readonly count: number;
}

interface AgentStats {
  invocations: number;
  retries: number;
  tokens: number;
  cost: number;
  durationMs: number;
  durations: NumberList;
}

interface PhaseStats {
  invocations: number;
  retries: number;
  cost: number;
}

/** What a later attempt needs to know about the one before it. */
interface AttemptOutcome {
  failedWithErrorClass: boolean;
  tier: string | undefined;
}

interface Retry {
  invocationId: string;
  attempt: number;
  tier: string | undefined;
}

/**
 * Creates a streaming aggregator. The previous attempt of a retry may arrive before or after it;
 * retries are resolved in `result()`. When one `(invocationId, attempt)` is recorded more than
 * once, the last record wins — the record that ended the attempt is the one that says how it failed.
 * @throws ValidationError on bad options (at once) or, from `add`, on a timestamp `Date` cannot parse.
 */
export function createAggregator(options?: AggregateOptions): Aggregator {
  const parallelismOptions = resolveParallelismOptions(options);
  const agents = new Map<string, AgentStats>();
  const phases = new Map<string, PhaseStats>();
  const tools = new Map<string, NumberList>();
  const models = new Map<string, number>();
  const attempts = new Map<string, Map<number, AttemptOutcome>>();
  const retries: Retry[] = [];
  const starts = new NumberList(1024);
  const durations = new NumberList(1024);
  const totals = { count: 0, successes: 0, tokens: 0, cost: 0, cachedTokens: 0, durationMs: 0 };

  function add(record: AnalyticsRecord): void {
    const start = Date.parse(record.timestamp);
    if (!Number.isFinite(start))
      throw new ValidationError(
        `[aggregate] invocation ${JSON.stringify(record.invocationId)} has an unreadable timestamp ${JSON.stringify(record.timestamp)}`,
      );
    const isRetry = record.attempt > 1;
    totals.count++;
    if (record.success) totals.successes++;
    totals.tokens += record.tokens;
    totals.cost += record.cost;
    totals.cachedTokens += record.cachedTokens ?? 0;
    totals.durationMs += record.durationMs;
    starts.push(start);
    durations.push(record.durationMs);

    const agent = getOrCreate(agents, record.agent, newAgentStats);
    agent.invocations++;
    agent.tokens += record.tokens;
    agent.cost += record.cost;
    agent.durationMs += record.durationMs;
    agent.durations.push(record.durationMs);

    const phase = getOrCreate(phases, String(record.phase), newPhaseStats);
    phase.invocations++;
    phase.cost += record.cost;

    if (record.tool !== undefined) getOrCreate(tools, record.tool, newNumberList).push(record.durationMs);
    if (record.model !== undefined) models.set(record.model, (models.get(record.model) ?? 0) + record.cost);

    getOrCreate(attempts, record.invocationId, newAttemptMap).set(record.attempt, {
      failedWithErrorClass: !record.success && record.errorClass !== undefined,
      tier: record.tier,
    });
    if (isRetry) {
      agent.retries++;
      phase.retries++;
      retries.push({ invocationId: record.invocationId, attempt: record.attempt, tier: record.tier });
    }
  }

  function result(): MetricsAggregate {
    let infraRetries = 0;
    let escalationCount = 0;
    for (const retry of retries) {
      const previous = attempts.get(retry.invocationId)?.get(retry.attempt - 1);
      if (previous === undefined) continue; // the earlier attempt was never recorded: nothing to judge by
      if (previous.failedWithErrorClass) infraRetries++;
      if (retry.tier !== undefined && previous.tier !== undefined && retry.tier !== previous.tier)
        escalationCount++;
    }
    const parallelism = computeParallelism(starts.view(), durations.view(), parallelismOptions);
    return {
      totalInvocations: totals.count,
      invocationsByAgent: mapValues(agents, (a) => a.invocations),
      invocationsByPhase: mapValues(phases, (p) => p.invocations),
      totalRetries: retries.length,
      retriesByAgent: mapNonZero(agents, (a) => a.retries),
      retriesByPhase: mapNonZero(phases, (p) => p.retries),
      infraRetries,
      totalTokens: totals.tokens,
      totalCost: totals.cost,
      totalCachedTokens: totals.cachedTokens,
      tokensByAgent: mapValues(agents, (a) => a.tokens),
      costByAgent: mapValues(agents, (a) => a.cost),
      totalDurationMs: totals.durationMs,
      avgDurationByAgent: mapValues(agents, (a) => a.durationMs / a.invocations),
      peakParallelInvocations: parallelism.peak,
      parallelismOverTime: parallelism.buckets,
      escalationCount,
      successRate: totals.count === 0 ? 0 : totals.successes / totals.count,
      // Every list here has at least one value, so `percentiles` is never undefined.
      durationPercentilesByAgent: mapValues(agents, (a) => percentiles(a.durations.view())!),
      durationPercentilesByTool: mapValues(tools, (list) => percentiles(list.view())!),
      costByPhase: mapValues(phases, (p) => p.cost),
      costByModel: mapValues(models, (cost) => cost),
    };
  }

  return {
    add,
    result,
    get count() {
      return totals.count;
    },
  };
}

/**
 * Aggregates invocation records (any iterable: an array, a generator over a journal, ...).
 * @throws ValidationError on bad options, a timeline past `maxBuckets`, or an unreadable timestamp.
 */
export function computeAggregate(
  metrics: Iterable<AnalyticsRecord>,
  options?: AggregateOptions,
): MetricsAggregate {
  const aggregator = createAggregator(options);
  for (const record of metrics) aggregator.add(record);
  return aggregator.result();
}

function getOrCreate<V>(map: Map<string, V>, key: string, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

const newAgentStats = (): AgentStats => ({
  invocations: 0,
  retries: 0,
  tokens: 0,
  cost: 0,
  durationMs: 0,
  durations: new NumberList(),
});
const newPhaseStats = (): PhaseStats => ({ invocations: 0, retries: 0, cost: 0 });
const newNumberList = (): NumberList => new NumberList();
const newAttemptMap = (): Map<number, AttemptOutcome> => new Map();

/**
 * A plain object from a Map. `Object.fromEntries` defines own data properties, so a key like
 * `__proto__` becomes an ordinary key instead of reaching the prototype through the setter.
 */
function mapValues<V, R>(map: ReadonlyMap<string, V>, pick: (value: V) => R): Record<string, R> {
  return Object.fromEntries(Array.from(map, ([key, value]) => [key, pick(value)]));
}

/** {@link mapValues} without the zero entries. */
function mapNonZero<V>(map: ReadonlyMap<string, V>, pick: (value: V) => number): Record<string, number> {
  return Object.fromEntries(Array.from(map, ([key, value]) => [key, pick(value)]).filter(([, n]) => n !== 0));
}
