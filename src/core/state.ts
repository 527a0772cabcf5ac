/**
 * The in-memory session state: one `Map` per dimension (O(1) per record, first-seen order kept by
 * insertion order) and the `apply*` functions that mutate it. These are the only writers of state;
 * both the live `Collector` and the journal replay (`reduce`) go through them, so replay reproduces
 * the live state exactly. Pure and synchronous: no clock, no I/O.
 */
import type { TurnEntry } from "./turns.ts";
import type { LLMMetrics, PhaseMetrics, SessionMetrics, ToolMetrics } from "./types.ts";

/** Timestamps are epoch milliseconds when this library made them, or verbatim strings from a file. */
export type Timestamp = number | string;

export class ToolEntry {
  callCount = 0;
  successCount = 0;
  failCount = 0;
  totalDurationMs = 0;
  /**
   * The average as read from a file, kept verbatim until the next call (Go files can hold values
   * that total / count would not reproduce). Otherwise the average is computed when read.
   */
  loadedAvgDurationMs: number | undefined = undefined;
  /** callCount when the average was loaded: once it moves, the average is computed again. */
  loadedAtCount = -1;
  constructor(readonly name: string) {}

  get avgDurationMs(): number {
    return this.callCount === this.loadedAtCount
      ? (this.loadedAvgDurationMs as number)
      : this.totalDurationMs / this.callCount;
  }
}

export class LLMEntry {
  promptTokens = 0;
  completionTokens = 0;
  totalTokens = 0;
  cost = 0;
  interactionCount = 0;
  promptHash = "";
  truncatedInput = false;
  cacheReadTokens: number | undefined = undefined;
  cacheWriteTokens: number | undefined = undefined;
  reasoningTokens: number | undefined = undefined;
  unpricedCount = 0;
  constructor(readonly phase: string) {}
}

export class PhaseEntry {
  durationMs = 0;
  transitionCount = 0;
  healTriggerCount = 0;
  healSuccessCount = 0;
  healFailCount = 0;
  healDurationMs = 0;
  healLoopCount = 0;
  bisectTriggerCount = 0;
  bisectSuccessCount = 0;
  bisectFailCount = 0;
  success = false;
  constructor(readonly phase: string) {}
}

export interface SessionState {
  readonly sessionId: string;
  startedAt: Timestamp;
  updatedAt: Timestamp;
  readonly tools: Map<string, ToolEntry>;
  readonly editStrategies: Map<string, number>;
  readonly llms: Map<string, LLMEntry>;
  readonly phases: Map<string, PhaseEntry>;
  /** Turns in start order (not part of the Go document). */
  readonly turns: Map<string, TurnEntry>;
  droppedRecords: number;
  readonly unpricedModels: Set<string>;
  /** The phase of the last `phase_transition` of this run (tool calls are attributed to it). */
  currentPhase: string | undefined;
}

export function createState(sessionId: string, startedAt: Timestamp): SessionState {
  return {
    sessionId,
    startedAt,
    updatedAt: startedAt,
    tools: new Map(),
    editStrategies: new Map(),
    llms: new Map(),
    phases: new Map(),
    turns: new Map(),
    droppedRecords: 0,
    unpricedModels: new Set(),
    currentPhase: undefined,
  };
}

export function toolEntry(state: SessionState, name: string): ToolEntry {
  let entry = state.tools.get(name);
  if (entry === undefined) {
    entry = new ToolEntry(name);
    state.tools.set(name, entry);
  }
  return entry;
}

export function phaseEntry(state: SessionState, phase: string): PhaseEntry {
  let entry = state.phases.get(phase);
  if (entry === undefined) {
    entry = new PhaseEntry(phase);
    state.phases.set(phase, entry);
  }
  return entry;
}

export function applyToolCall(
  state: SessionState,
  tool: ToolEntry,
  success: boolean,
  durationMs: number,
  ts: Timestamp,
): void {
  tool.callCount++;
  if (success) tool.successCount++;
  else tool.failCount++;
  tool.totalDurationMs += durationMs;
  state.updatedAt = ts;
}

/** Normalised usage: `totalTokens` filled in; optional kinds `undefined` when not reported. */
export interface NormalizedUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cacheReadTokens: number | undefined;
  cacheWriteTokens: number | undefined;
  reasoningTokens: number | undefined;
}

export function applyLLM(
  state: SessionState,
  phase: string,
  usage: NormalizedUsage,
  cost: number,
  promptHash: string,
  truncated: boolean,
  ts: Timestamp,
  /** Set when the cost could not be priced: the model name, or "(no model)". */
  unpricedModel?: string,
): void {
  let llm = state.llms.get(phase);
  if (llm === undefined) {
    llm = new LLMEntry(phase);
    // Start from the first value, not 0 + value, so a cost of -0 stays -0 as in Go's document.
    llm.cost = cost;
    state.llms.set(phase, llm);
  } else {
    llm.cost += cost;
  }
  llm.promptTokens += usage.promptTokens;
  llm.completionTokens += usage.completionTokens;
  llm.totalTokens += usage.totalTokens;
  llm.interactionCount++;
  if (usage.cacheReadTokens !== undefined)
    llm.cacheReadTokens = (llm.cacheReadTokens ?? 0) + usage.cacheReadTokens;
  if (usage.cacheWriteTokens !== undefined)
    llm.cacheWriteTokens = (llm.cacheWriteTokens ?? 0) + usage.cacheWriteTokens;
  if (usage.reasoningTokens !== undefined)
    llm.reasoningTokens = (llm.reasoningTokens ?? 0) + usage.reasoningTokens;
  if (llm.promptHash === "" && promptHash !== "") llm.promptHash = promptHash;
  if (truncated) llm.truncatedInput = true;
  if (unpricedModel !== undefined) {
    llm.unpricedCount++;
    state.unpricedModels.add(unpricedModel);
  }
  state.updatedAt = ts;
}

export type PhaseCounter =
  | "transitionCount"
  | "healTriggerCount"
  | "healSuccessCount"
  | "healFailCount"
  | "healLoopCount"
  | "bisectTriggerCount"
  | "bisectSuccessCount"
  | "bisectFailCount";

export function applyPhaseCount(
  state: SessionState,
  phase: string,
  counter: PhaseCounter,
  ts: Timestamp,
): void {
  phaseEntry(state, phase)[counter]++;
  state.updatedAt = ts;
}

export function applyPhaseDuration(
  state: SessionState,
  phase: string,
  durationMs: number,
  success: boolean,
  ts: Timestamp,
): void {
  const entry = phaseEntry(state, phase);
  entry.durationMs = durationMs;
  entry.success = success;
  state.updatedAt = ts;
}

export function applyHealDuration(
  state: SessionState,
  phase: string,
  durationMs: number,
  ts: Timestamp,
): void {
  phaseEntry(state, phase).healDurationMs += durationMs;
  state.updatedAt = ts;
}

export function applyEditStrategy(state: SessionState, strategy: string, ts: Timestamp): void {
  state.editStrategies.set(strategy, (state.editStrategies.get(strategy) ?? 0) + 1);
  state.updatedAt = ts;
}

/** Renders a timestamp as RFC 3339: ours as UTC with milliseconds, a file's verbatim. */
export function formatTimestamp(ts: Timestamp): string {
  return typeof ts === "string" ? ts : new Date(ts).toISOString();
}

/** A deep copy of the state in the public camelCase shape. */
export function snapshotState(state: SessionState): SessionMetrics {
  const tools: ToolMetrics[] = [];
  for (const t of state.tools.values()) {
    tools.push({
      name: t.name,
      callCount: t.callCount,
      successCount: t.successCount,
      failCount: t.failCount,
      totalDurationMs: t.totalDurationMs,
      avgDurationMs: t.avgDurationMs,
    });
  }
  const editStrategies = Array.from(state.editStrategies, ([strategy, count]) => ({ strategy, count }));
  const llms: LLMMetrics[] = [];
  for (const l of state.llms.values()) {
    const out: LLMMetrics = {
      phase: l.phase,
      promptTokens: l.promptTokens,
      completionTokens: l.completionTokens,
      totalTokens: l.totalTokens,
      cost: l.cost,
      interactionCount: l.interactionCount,
    };
    if (l.promptHash !== "") out.promptHash = l.promptHash;
    if (l.truncatedInput) out.truncatedInput = true;
    if (l.cacheReadTokens !== undefined) out.cacheReadTokens = l.cacheReadTokens;
    if (l.cacheWriteTokens !== undefined) out.cacheWriteTokens = l.cacheWriteTokens;
    if (l.reasoningTokens !== undefined) out.reasoningTokens = l.reasoningTokens;
    if (l.unpricedCount > 0) out.unpricedCount = l.unpricedCount;
    llms.push(out);
  }
  const phases: PhaseMetrics[] = [];
  for (const p of state.phases.values()) {
    phases.push({
      phase: p.phase,
      durationMs: p.durationMs,
      transitionCount: p.transitionCount,
      healTriggerCount: p.healTriggerCount,
      healSuccessCount: p.healSuccessCount,
      healFailCount: p.healFailCount,
      healDurationMs: p.healDurationMs,
      healLoopCount: p.healLoopCount,
      bisectTriggerCount: p.bisectTriggerCount,
      bisectSuccessCount: p.bisectSuccessCount,
      bisectFailCount: p.bisectFailCount,
      success: p.success,
    });
  }
  const metrics: SessionMetrics = {
    sessionId: state.sessionId,
    startedAt: formatTimestamp(state.startedAt),
    updatedAt: formatTimestamp(state.updatedAt),
    tools,
    editStrategies,
    llms,
    phases,
  };
  if (state.droppedRecords > 0) metrics.droppedRecords = state.droppedRecords;
  if (state.unpricedModels.size > 0) metrics.unpricedModels = [...state.unpricedModels];
  return metrics;
}

/** Empties the state for a fresh start (a new `session_start` in the journal). */
export function resetState(state: SessionState, startedAt: Timestamp): void {
  state.startedAt = startedAt;
  state.updatedAt = startedAt;
  state.tools.clear();
  state.editStrategies.clear();
  state.llms.clear();
  state.phases.clear();
  state.turns.clear();
  state.droppedRecords = 0;
  state.unpricedModels.clear();
  state.currentPhase = undefined;
}

/** The inverse of {@link snapshotState}: state that continues from a loaded document. */
export function stateFromMetrics(m: SessionMetrics): SessionState {
  const state = createState(m.sessionId, m.startedAt);
  restoreState(state, m);
  return state;
}

/**
 * Replaces the state's content with a loaded document. Go never writes two entries with one
 * name; should a file hold some, the first is the one that continues (as Go's linear scan would).
 */
export function restoreState(state: SessionState, m: SessionMetrics): void {
  resetState(state, m.startedAt);
  state.updatedAt = m.updatedAt;
  for (const t of m.tools) {
    if (state.tools.has(t.name)) continue;
    const e = new ToolEntry(t.name);
    e.callCount = t.callCount;
    e.successCount = t.successCount;
    e.failCount = t.failCount;
    e.totalDurationMs = t.totalDurationMs;
    e.loadedAvgDurationMs = t.avgDurationMs;
    e.loadedAtCount = t.callCount;
    state.tools.set(t.name, e);
  }
  for (const s of m.editStrategies)
    if (!state.editStrategies.has(s.strategy)) state.editStrategies.set(s.strategy, s.count);
  // The entry classes hold every field of their document entries (document-fields.ts); what a
  // document leaves out (an empty prompt hash, no cache tokens) keeps the class's default.
  for (const l of m.llms) {
    if (state.llms.has(l.phase)) continue;
    const { phase: _phase, ...fields } = l;
    state.llms.set(l.phase, Object.assign(new LLMEntry(l.phase), fields));
  }
  for (const p of m.phases) {
    if (state.phases.has(p.phase)) continue;
    const { phase: _phase, ...fields } = p;
    state.phases.set(p.phase, Object.assign(new PhaseEntry(p.phase), fields));
  }
  state.droppedRecords = m.droppedRecords ?? 0;
  for (const model of m.unpricedModels ?? []) state.unpricedModels.add(model);
}
