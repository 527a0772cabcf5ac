/**
 * What the dashboard's session page draws, folded from a session's journal in one pass: the
 * phase timeline, calls and latency per tool, tokens and cost per phase and model, and the
 * models and agents the session used. Like the document, only the latest run counts (a
 * `session_start` or `restore` begins a new one).
 */
import type { MetricEvent } from "../core/events.ts";
import { nearestRank } from "../core/percentiles.ts";
import type { Usage } from "../core/types.ts";

/** One bar of the phase timeline: `[startMs, endMs)` in epoch ms. */
export interface PhaseSpan {
  phase: string;
  startMs: number;
  endMs: number;
  /** From `recordPhaseDuration`; null while the phase is open or when it was never reported. */
  success: boolean | null;
}

export interface ToolLatency {
  name: string;
  calls: number;
  failures: number;
  totalMs: number;
  /** Nearest rank over the calls' durations; null for calls restored from a METRICS.json. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Tokens of one (phase, model): input excludes cache reads and writes, output excludes reasoning. */
export interface TokenSlice {
  phase: string;
  /** `"(unknown)"` when the call named none. */
  model: string;
  calls: number;
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
  cost: number;
}

export interface SessionBreakdown {
  phases: PhaseSpan[];
  tools: ToolLatency[];
  tokens: TokenSlice[];
  models: string[];
  agents: string[];
}

export const UNKNOWN_MODEL = "(unknown)";

/** A streaming fold: `add` every event in journal order, then `result()`. */
export function createBreakdown() {
  let phases: PhaseSpan[] = [];
  let open: { phase: string; startMs: number } | undefined;
  let tools = new Map<string, { calls: number; failures: number; totalMs: number; durations: number[] }>();
  let tokens = new Map<string, TokenSlice>();
  let models = new Set<string>();
  let agents = new Set<string>();
  let lastTs = 0;

  const tool = (name: string) => {
    let t = tools.get(name);
    if (t === undefined) {
      t = { calls: 0, failures: 0, totalMs: 0, durations: [] };
      tools.set(name, t);
    }
    return t;
  };
  const slice = (phase: string, model: string) => {
    const key = `${phase}\0${model}`;
    let s = tokens.get(key);
    if (s === undefined) {
      s = { phase, model, calls: 0, input: 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, cost: 0 };
      tokens.set(key, s);
    }
    return s;
  };
  const reset = () => {
    phases = [];
    open = undefined;
    tools = new Map();
    tokens = new Map();
    models = new Set();
    agents = new Set();
  };
  const note = (details: { agent?: string; model?: string } | undefined) => {
    if (details?.agent !== undefined) agents.add(details.agent);
    if (details?.model !== undefined) models.add(details.model);
  };

  function add(event: MetricEvent): void {
    lastTs = event.ts;
    switch (event.type) {
      case "session_start":
        reset();
        break;
      case "restore":
        reset();
        for (const t of event.metrics.tools) {
          const entry = tool(t.name);
          entry.calls += t.callCount;
          entry.failures += t.failCount;
          entry.totalMs += t.totalDurationMs;
        }
        for (const l of event.metrics.llms)
          addTokens(slice(l.phase, UNKNOWN_MODEL), l, l.interactionCount, l.cost);
        break;
      case "tool_call": {
        const t = tool(event.name);
        t.calls++;
        if (!event.success) t.failures++;
        t.totalMs += event.durationMs;
        t.durations.push(event.durationMs);
        note(event.details);
        break;
      }
      case "llm":
        addTokens(slice(event.phase, event.details?.model ?? UNKNOWN_MODEL), event.usage, 1, event.cost ?? 0);
        note(event.details);
        break;
      case "invocation":
        agents.add(event.metric.agent);
        if (event.metric.model !== undefined) models.add(event.metric.model);
        break;
      case "step_end":
        if (event.step.model !== undefined) models.add(event.step.model);
        break;
      case "phase_transition":
        if (open !== undefined)
          phases.push({ phase: open.phase, startMs: open.startMs, endMs: event.ts, success: null });
        open = { phase: event.phase, startMs: event.ts };
        break;
      case "phase_duration": {
        const startMs = open?.phase === event.phase ? open.startMs : event.ts - event.durationMs;
        if (open?.phase === event.phase) open = undefined;
        phases.push({ phase: event.phase, startMs, endMs: event.ts, success: event.success });
        break;
      }
    }
  }

  function result(): SessionBreakdown {
    const spans = open === undefined ? phases : [...phases, { ...open, endMs: lastTs, success: null }];
    return {
      phases: spans,
      tools: [...tools].map(([name, t]) => {
        const sorted = Float64Array.from(t.durations).sort();
        const p = (q: number) => (sorted.length === 0 ? null : nearestRank(sorted, q));
        return { name, calls: t.calls, failures: t.failures, totalMs: t.totalMs, p50Ms: p(50), p95Ms: p(95) };
      }),
      tokens: [...tokens.values()],
      models: [...models],
      agents: [...agents],
    };
  }
  return { add, result };
}

/** Splits usage into the stacked kinds (input includes cache reads/writes; output, reasoning). */
function addTokens(s: TokenSlice, u: Usage, calls: number, cost: number): void {
  const cacheRead = u.cacheReadTokens ?? 0;
  const cacheWrite = u.cacheWriteTokens ?? 0;
  const reasoning = u.reasoningTokens ?? 0;
  s.calls += calls;
  s.cacheRead += cacheRead;
  s.cacheWrite += cacheWrite;
  s.input += Math.max(0, u.promptTokens - cacheRead - cacheWrite);
  s.reasoning += reasoning;
  s.output += Math.max(0, u.completionTokens - reasoning);
  s.cost += cost;
}
