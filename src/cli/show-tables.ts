/**
 * `show <id>` for people: the session's tools, LLM phases, workflow phases and turns as tables
 * (the demo's summary), numbers formatted with separators, dollars and ms/s/min.
 */
import type { SessionMetrics, TurnMetrics } from "../core/types.ts";
import { formatCount, formatDuration, formatTime, formatUsd } from "../http/dashboard/format.ts";
import { type Column, heading, numberColumn, renderTable } from "./output.ts";

type Tool = SessionMetrics["tools"][number];
type Llm = SessionMetrics["llms"][number];
type Phase = SessionMetrics["phases"][number];
type Step = TurnMetrics["steps"][number] & { phase: string };

const TOOLS: Column<Tool>[] = [
  { header: "tool", show: (t) => t.name },
  numberColumn("calls", (t) => t.callCount, formatCount),
  numberColumn("ok", (t) => t.successCount, formatCount),
  {
    ...numberColumn("fail", (t) => t.failCount, formatCount),
    tone: (t) => (t.failCount > 0 ? "bad" : undefined),
  },
  numberColumn("avg", (t) => t.avgDurationMs, formatDuration),
  numberColumn("total", (t) => t.totalDurationMs, formatDuration),
];

const LLMS: Column<Llm>[] = [
  { header: "phase", show: (l) => l.phase },
  numberColumn("calls", (l) => l.interactionCount, formatCount),
  numberColumn("prompt", (l) => l.promptTokens, formatCount),
  numberColumn("cache read", (l) => l.cacheReadTokens ?? 0, formatCount),
  numberColumn("output", (l) => l.completionTokens, formatCount),
  numberColumn("total", (l) => l.totalTokens, formatCount),
  numberColumn("cost", (l) => l.cost, formatUsd),
];

const PHASES: Column<Phase>[] = [
  { header: "phase", show: (p) => p.phase },
  numberColumn("duration", (p) => p.durationMs, formatDuration),
  { header: "ok", show: (p) => (p.success ? "yes" : "no"), tone: (p) => (p.success ? "good" : "bad") },
  numberColumn("transitions", (p) => p.transitionCount, formatCount),
  {
    header: "heal t/ok/fail",
    show: (p) => `${p.healTriggerCount}/${p.healSuccessCount}/${p.healFailCount}`,
    align: "right",
  },
  {
    header: "bisect t/ok/fail",
    show: (p) => `${p.bisectTriggerCount}/${p.bisectSuccessCount}/${p.bisectFailCount}`,
    align: "right",
  },
];

export const STEPS: Column<Step>[] = [
  { header: "step", show: (s) => s.stepId },
  { header: "phase", show: (s) => s.phase },
  { header: "model", show: (s) => s.model ?? "—" },
  numberColumn("ttft", (s) => s.ttftMs, formatDuration),
  numberColumn("decode", (s) => s.decodeMs, formatDuration),
  {
    header: "tokens",
    show: (s) => (s.usage === undefined ? "—" : formatCount(s.usage.totalTokens ?? 0)),
    align: "right",
    raw: (s) => s.usage?.totalTokens,
  },
  { header: "error", show: (s) => s.errorClass ?? "", tone: () => "bad" },
];

export function stepsOf(turns: readonly TurnMetrics[]): Step[] {
  return turns.flatMap((t) => t.steps.map((s) => ({ ...s, phase: t.phase })));
}

export function renderShow(m: SessionMetrics, turns: readonly TurnMetrics[], color: boolean): string {
  const sections: string[] = [];
  const started = Date.parse(m.startedAt);
  const duration = Date.parse(m.updatedAt) - started;
  const cost = m.llms.reduce((s, l) => s + l.cost, 0);
  sections.push(
    [
      heading(`session ${m.sessionId}`, color),
      `started ${formatTime(m.startedAt)} UTC · updated ${formatTime(m.updatedAt)} UTC · ${formatDuration(duration)} · ${formatUsd(cost)}`,
    ].join("\n"),
  );
  if (m.tools.length > 0) sections.push(`${heading("tools", color)}\n${renderTable(m.tools, TOOLS, color)}`);
  if (m.llms.length > 0)
    sections.push(`${heading("LLM calls by phase", color)}\n${renderTable(m.llms, LLMS, color)}`);
  if (m.phases.length > 0)
    sections.push(`${heading("phases", color)}\n${renderTable(m.phases, PHASES, color)}`);
  const steps = stepsOf(turns);
  if (steps.length > 0) sections.push(`${heading("turns", color)}\n${renderTable(steps, STEPS, color)}`);
  const extra: string[] = [];
  if (m.editStrategies.length > 0)
    extra.push(`edit strategies: ${m.editStrategies.map((s) => `${s.strategy} ×${s.count}`).join(", ")}`);
  if ((m.droppedRecords ?? 0) > 0) extra.push(`dropped records: ${formatCount(m.droppedRecords ?? 0)}`);
  if ((m.unpricedModels ?? []).length > 0) extra.push(`unpriced models: ${m.unpricedModels!.join(", ")}`);
  if (extra.length > 0) sections.push(extra.join("\n"));
  return sections.join("\n\n");
}
