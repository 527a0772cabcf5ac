/**
 * The metric side of the export: one instrument per row of `METRIC` (names.ts), with the
 * conventions' units and bucket boundaries, and the recordings each kind of event makes. The same
 * recordings serve the live sink and the replay; a session known only by its METRICS.json (a Go
 * session) gives the counters and the phase histogram through {@link recordDocument}.
 */
import type { Attributes, Counter, Histogram, Meter } from "@opentelemetry/api";
import type { NormalizedUsage } from "../../core/state.ts";
import type { SessionMetrics, Usage } from "../../core/types.ts";
import { ATTR, METRIC, type MetricKey, OPERATION, OUTCOME, TOKEN_TYPE } from "./names.ts";

type Instrument<K extends MetricKey> = (typeof METRIC)[K]["kind"] extends "histogram" ? Histogram : Counter;
export type Instruments = { [K in MetricKey]: Instrument<K> };

export function createInstruments(meter: Meter): Instruments {
  const out: Record<string, Histogram | Counter> = {};
  for (const [key, spec] of Object.entries(METRIC)) {
    const options = { unit: spec.unit, description: spec.description };
    out[key] =
      spec.kind === "histogram"
        ? meter.createHistogram(spec.name, {
            ...options,
            advice: { explicitBucketBoundaries: [...spec.buckets] },
          })
        : meter.createCounter(spec.name, options);
  }
  return out as Instruments;
}

/** What a `chat` recording needs (the span builder fills it from a step and/or an LLM event). */
export interface ChatMeasure {
  model: string | undefined;
  provider: string | undefined;
  phase: string | undefined;
  usage: NormalizedUsage | Usage | undefined;
  /** Only for LLM events: a step without usage has no cost. */
  cost: number | undefined;
  durationS: number | undefined;
  ttftS: number | undefined;
  errorType: string | undefined;
}

/** Sums of one tool's calls since the last flush. */
interface ToolSums {
  ok: number;
  failed: number;
  ms: number;
}

/** Sums of one LLM phase since the last flush, tokens by `TOKEN_KINDS` (undefined: never reported). */
interface LLMSums {
  tokens: (number | undefined)[];
  cost: number;
  interactions: number;
}

const TOKEN_KINDS = [
  TOKEN_TYPE.input,
  TOKEN_TYPE.output,
  TOKEN_TYPE.cacheRead,
  TOKEN_TYPE.cacheWrite,
  TOKEN_TYPE.reasoning,
] as const;

/**
 * Records metrics for spans and events; `base` (the sink's `metricAttributes`) goes on every point.
 *
 * The per-tool and per-LLM-phase counters are summed here and handed to the SDK by
 * {@link flush} (the sink calls it after each batch): an SDK `add()` hashes its attribute set
 * every time, and a batch touches few tools and phases, so thousands of calls become a handful.
 * Histogram observations, and the rare phase counters, go to the SDK one by one.
 */
export class MetricRecorder {
  readonly #tools = new Map<string, ToolSums>();
  readonly #llms = new Map<string, LLMSums>();

  constructor(
    readonly m: Instruments,
    readonly base: Attributes,
  ) {}

  /** Hands the summed counter increments to the SDK. */
  flush(): void {
    for (const [name, t] of this.#tools) {
      const tool = { [ATTR.toolName]: name };
      if (t.ok > 0) this.m.toolCalls.add(t.ok, this.#a({ ...tool, [ATTR.outcome]: OUTCOME.success }));
      if (t.failed > 0) this.m.toolCalls.add(t.failed, this.#a({ ...tool, [ATTR.outcome]: OUTCOME.failure }));
      this.m.toolTime.add(t.ms / 1000, this.#a(tool));
    }
    this.#tools.clear();
    for (const [phase, l] of this.#llms) {
      for (const [i, value] of l.tokens.entries())
        if (value !== undefined)
          this.m.llmTokens.add(value, this.#a({ [ATTR.phase]: phase, [ATTR.tokenType]: TOKEN_KINDS[i]! }));
      // A counter refuses negative values; a cost of -0 (kept from Go files) adds nothing anyway.
      if (l.cost > 0) this.m.llmCost.add(l.cost, this.#a({ [ATTR.phase]: phase }));
      this.m.llmInteractions.add(l.interactions, this.#a({ [ATTR.phase]: phase }));
    }
    this.#llms.clear();
  }

  /** Attributes with `base` added (no copy when there is no base). */
  #a(attrs: Attributes): Attributes {
    for (const _ in this.base) return { ...this.base, ...attrs };
    return attrs;
  }

  tool(
    name: string,
    success: boolean,
    durationMs: number,
    errorType: string | undefined,
    agent?: string,
  ): void {
    const attrs: Attributes = { [ATTR.toolName]: name };
    if (agent !== undefined) attrs[ATTR.agentName] = agent;
    const semconv = errorType === undefined ? attrs : { ...attrs, [ATTR.errorType]: errorType };
    this.m.toolDuration.record(durationMs / 1000, this.#a(semconv));
    this.toolTotals(name, success ? 1 : 0, success ? 0 : 1, durationMs);
  }

  toolTotals(name: string, successes: number, failures: number, durationMs: number): void {
    let t = this.#tools.get(name);
    if (t === undefined) {
      t = { ok: 0, failed: 0, ms: 0 };
      this.#tools.set(name, t);
    }
    t.ok += successes;
    t.failed += failures;
    t.ms += durationMs;
  }

  chat(c: ChatMeasure): void {
    const attrs: Attributes = { [ATTR.operationName]: OPERATION.chat };
    if (c.provider !== undefined) attrs[ATTR.providerName] = c.provider;
    if (c.model !== undefined) attrs[ATTR.requestModel] = c.model;
    if (c.usage !== undefined) {
      this.m.tokenUsage.record(
        c.usage.promptTokens,
        this.#a({ ...attrs, [ATTR.tokenType]: TOKEN_TYPE.input }),
      );
      this.m.tokenUsage.record(
        c.usage.completionTokens,
        this.#a({ ...attrs, [ATTR.tokenType]: TOKEN_TYPE.output }),
      );
    }
    if (c.ttftS !== undefined) this.m.timeToFirstChunk.record(c.ttftS, this.#a(attrs));
    if (c.durationS !== undefined) {
      if (c.errorType !== undefined) attrs[ATTR.errorType] = c.errorType;
      this.m.operationDuration.record(c.durationS, this.#a(attrs));
    }
    if (c.usage !== undefined && c.phase !== undefined) this.llmTotals(c.phase, c.usage, c.cost, 1);
  }

  llmTotals(
    phase: string,
    usage: NormalizedUsage | Usage,
    cost: number | undefined,
    interactions: number,
  ): void {
    let l = this.#llms.get(phase);
    if (l === undefined) {
      l = { tokens: [undefined, undefined, undefined, undefined, undefined], cost: 0, interactions: 0 };
      this.#llms.set(phase, l);
    }
    const kinds = [
      usage.promptTokens,
      usage.completionTokens,
      usage.cacheReadTokens,
      usage.cacheWriteTokens,
      usage.reasoningTokens,
    ];
    for (const [i, value] of kinds.entries())
      if (value !== undefined) l.tokens[i] = (l.tokens[i] ?? 0) + value;
    if (cost !== undefined && cost > 0) l.cost += cost;
    l.interactions += interactions;
  }

  phaseDuration(phase: string, durationMs: number, success: boolean): void {
    const outcome = success ? OUTCOME.success : OUTCOME.failure;
    this.m.phaseDuration.record(durationMs / 1000, this.#a({ [ATTR.phase]: phase, [ATTR.outcome]: outcome }));
  }

  /** A phase counter; `outcome` for the heal/bisect outcome counters. */
  count(key: PhaseCounterKey, phase: string, value = 1, outcome?: boolean): void {
    if (value <= 0) return;
    const attrs: Attributes = { [ATTR.phase]: phase };
    if (outcome !== undefined) attrs[ATTR.outcome] = outcome ? OUTCOME.success : OUTCOME.failure;
    this.m[key].add(value, this.#a(attrs));
  }

  healTime(phase: string, durationMs: number): void {
    if (durationMs > 0) this.m.healTime.add(durationMs / 1000, this.#a({ [ATTR.phase]: phase }));
  }

  dropped(count: number, method?: string): void {
    if (count > 0)
      this.m.droppedRecords.add(count, this.#a(method === undefined ? {} : { [ATTR.method]: method }));
  }

  workflow(durationS: number, workflowName: string | undefined): void {
    this.m.workflowDuration.record(
      Math.max(0, durationS),
      this.#a(workflowName === undefined ? {} : { [ATTR.workflowName]: workflowName }),
    );
  }
}

export type PhaseCounterKey =
  | "phaseTransitions"
  | "healTriggers"
  | "healOutcomes"
  | "healLoops"
  | "bisectTriggers"
  | "bisectOutcomes";

/** The aggregates of a session known only by its document: counters and one phase duration each. */
export function recordDocument(r: MetricRecorder, doc: SessionMetrics): void {
  for (const t of doc.tools) r.toolTotals(t.name, t.successCount, t.failCount, t.totalDurationMs);
  // An LLM entry carries its usage in the Usage fields (absent parts stay absent).
  for (const l of doc.llms) r.llmTotals(l.phase, l, l.cost, l.interactionCount);
  for (const p of doc.phases) {
    if (p.durationMs > 0 || p.transitionCount > 0) r.phaseDuration(p.phase, p.durationMs, p.success);
    r.count("phaseTransitions", p.phase, p.transitionCount);
    r.count("healTriggers", p.phase, p.healTriggerCount);
    r.count("healOutcomes", p.phase, p.healSuccessCount, true);
    r.count("healOutcomes", p.phase, p.healFailCount, false);
    r.count("healLoops", p.phase, p.healLoopCount);
    r.healTime(p.phase, p.healDurationMs);
    r.count("bisectTriggers", p.phase, p.bisectTriggerCount);
    r.count("bisectOutcomes", p.phase, p.bisectSuccessCount, true);
    r.count("bisectOutcomes", p.phase, p.bisectFailCount, false);
  }
  r.dropped(doc.droppedRecords ?? 0);
}
