/**
 * Turn and step state: pure, like the rest of core. A turn's usage is the sum over the steps that
 * reported usage and stays undefined when none did; a step without usage has no usage (not zeros).
 */
import type { StepMetrics, StreamStats, TurnMetrics, Usage } from "./types.ts";

/** What a `step_end` event carries (times in ms, measured by the step). */
export interface StepRecord {
  turnId: string;
  stepIndex: number;
  usage?: Usage;
  ttftMs?: number;
  decodeMs?: number;
  genTotalMs?: number;
  model?: string;
  errorClass?: string;
  stream?: StreamStats;
}

export class TurnEntry {
  durationMs: number | undefined = undefined;
  /** By step index; steps may end out of order. */
  readonly steps = new Map<number, StepMetrics>();
  constructor(
    readonly turnId: string,
    readonly phase: string,
  ) {}
}

export function stepId(turnId: string, stepIndex: number): string {
  return `${turnId}#${stepIndex}`;
}

export function applyTurnStart(turns: Map<string, TurnEntry>, turnId: string, phase: string): void {
  if (!turns.has(turnId)) turns.set(turnId, new TurnEntry(turnId, phase));
}

export function applyStepEnd(turns: Map<string, TurnEntry>, record: StepRecord): void {
  let turn = turns.get(record.turnId);
  if (turn === undefined) {
    turn = new TurnEntry(record.turnId, "llm");
    turns.set(record.turnId, turn);
  }
  const step: StepMetrics = { stepId: stepId(record.turnId, record.stepIndex) };
  if (record.usage !== undefined) step.usage = { ...record.usage };
  if (record.ttftMs !== undefined) step.ttftMs = record.ttftMs;
  if (record.decodeMs !== undefined) step.decodeMs = record.decodeMs;
  if (record.genTotalMs !== undefined) step.genTotalMs = record.genTotalMs;
  if (record.model !== undefined) step.model = record.model;
  if (record.errorClass !== undefined) step.errorClass = record.errorClass;
  if (record.stream !== undefined) step.stream = { ...record.stream };
  turn.steps.set(record.stepIndex, step);
}

export function applyTurnEnd(turns: Map<string, TurnEntry>, turnId: string, durationMs: number): void {
  const turn = turns.get(turnId);
  if (turn !== undefined) turn.durationMs = durationMs;
}

const OPTIONAL_USAGE_KEYS = [
  "totalTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "reasoningTokens",
] as const;

/** Adds usage reports: an optional kind stays undefined unless some report has it. */
export function addUsage(a: Usage | undefined, b: Usage): Usage {
  if (a === undefined) return { ...b };
  const sum: Usage = {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
  };
  for (const key of OPTIONAL_USAGE_KEYS)
    if (a[key] !== undefined || b[key] !== undefined) sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
  return sum;
}

/** Deep copies of the turns, in the order they started, steps by index. */
export function snapshotTurns(turns: Map<string, TurnEntry>): TurnMetrics[] {
  const out: TurnMetrics[] = [];
  for (const turn of turns.values()) {
    const steps = [...turn.steps.entries()].sort((x, y) => x[0] - y[0]).map(([, step]) => copyStep(step));
    let usage: Usage | undefined;
    for (const step of steps) if (step.usage !== undefined) usage = addUsage(usage, step.usage);
    const metrics: TurnMetrics = { turnId: turn.turnId, phase: turn.phase, steps };
    if (usage !== undefined) metrics.usage = usage;
    if (turn.durationMs !== undefined) metrics.durationMs = turn.durationMs;
    out.push(metrics);
  }
  return out;
}

function copyStep(step: StepMetrics): StepMetrics {
  const copy = { ...step };
  if (step.usage !== undefined) copy.usage = { ...step.usage };
  if (step.stream !== undefined) copy.stream = { ...step.stream };
  return copy;
}
