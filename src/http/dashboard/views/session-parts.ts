/** The panels of the session page, each drawn from the API's JSON into its element. */

import type { MetricsAggregate } from "../../../aggregate/aggregate.ts";
import type { TurnMetrics } from "../../../core/types.ts";
import type { SessionBreakdown } from "../../breakdown.ts";
import type { HTMLElement } from "../browser.ts";
import { barChart, PALETTE, timeChart } from "../charts.ts";
import { h, table } from "../dom.ts";
import { formatCount, formatDuration, formatTime, formatUsd } from "../format.ts";

/** The fields of the Go document (`GET /api/sessions/:id`, snake_case) the page shows. */
export interface GoDocument {
  session_id: string;
  started_at: string;
  updated_at: string;
  tools: { name: string; call_count: number; fail_count: number }[];
  llms: { phase: string; interaction_count: number; total_tokens: number; cost: number }[];
  dropped_records?: number;
}

/** The totals strip; each value carries `data-total` for tests. */
export function totals(m: GoDocument): HTMLElement {
  const sum = <T>(list: T[], f: (t: T) => number) => list.reduce((s, t) => s + f(t), 0);
  const failures = sum(m.tools, (t) => t.fail_count);
  const duration = Math.max(0, Date.parse(m.updated_at) - Date.parse(m.started_at));
  const items: [string, string, string, boolean?][] = [
    ["toolCalls", "Tool calls", formatCount(sum(m.tools, (t) => t.call_count))],
    ["failures", "Failures", formatCount(failures), failures > 0],
    ["llmCalls", "LLM calls", formatCount(sum(m.llms, (l) => l.interaction_count))],
    ["tokens", "Tokens", formatCount(sum(m.llms, (l) => l.total_tokens))],
    ["cost", "Cost", formatUsd(sum(m.llms, (l) => l.cost))],
    ["duration", "Duration", formatDuration(duration)],
  ];
  return h(
    "div",
    { class: "totals" },
    ...items.map(([key, label, value, bad]) =>
      h(
        "div",
        { class: "total" },
        h("div", { class: "label" }, label),
        h("div", { class: `value${bad ? " bad" : ""}`, "data-total": key }, value),
      ),
    ),
  );
}

/** The phase timeline as a Gantt chart: one row per phase, bars in wall-clock time. */
export function gantt(el: HTMLElement, b: SessionBreakdown): void {
  if (b.phases.length === 0) {
    el.replaceChildren(h("div", { class: "empty" }, "No phases recorded."));
    return;
  }
  const start = Math.min(...b.phases.map((p) => p.startMs));
  const end = Math.max(...b.phases.map((p) => p.endMs), start + 1);
  const span = end - start;
  const names = [...new Set(b.phases.map((p) => p.phase))];
  const rows = names.map((name) =>
    h(
      "div",
      { class: "gantt-row" },
      h("div", { class: "gantt-label", title: name }, name),
      h(
        "div",
        { class: "gantt-track" },
        ...b.phases
          .filter((p) => p.phase === name)
          .map((p) => {
            const bar = h(
              "div",
              {
                class: `gantt-bar${p.success === false ? " failed" : p.success === null ? " open" : ""}`,
                title: `${p.phase}: ${formatDuration(p.endMs - p.startMs)}${p.success === null ? "" : p.success ? ", succeeded" : ", failed"}`,
                "data-phase": p.phase,
              },
              formatDuration(p.endMs - p.startMs),
            );
            bar.style.left = `${((p.startMs - start) / span) * 100}%`;
            bar.style.width = `${Math.max(0.3, ((p.endMs - p.startMs) / span) * 100)}%`;
            return bar;
          }),
      ),
    ),
  );
  el.replaceChildren(
    h("div", { class: "gantt" }, ...rows),
    h(
      "div",
      { class: "gantt-axis" },
      h("span", {}, formatTime(start)),
      h("span", {}, `+${formatDuration(span)}`),
    ),
  );
}

/** Calls per tool and p50/p95 latency: a table and a grouped bar chart. */
export function tools(chartEl: HTMLElement, tableEl: HTMLElement, b: SessionBreakdown): void {
  if (b.tools.length === 0) {
    chartEl.replaceChildren(h("div", { class: "empty" }, "No tool calls."));
    tableEl.replaceChildren();
    return;
  }
  const list = [...b.tools].sort((x, y) => y.calls - x.calls);
  barChart(chartEl, {
    categories: list.map((t) => t.name),
    series: [
      { label: "p50", values: list.map((t) => t.p50Ms), color: PALETTE[0] },
      { label: "p95", values: list.map((t) => t.p95Ms), color: PALETTE[2] },
    ],
    format: formatDuration,
  });
  const rows = list.map((t) => [
    t.name,
    formatCount(t.calls),
    t.failures > 0 ? h("span", { class: "error" }, formatCount(t.failures)) : "0",
    formatDuration(t.p50Ms),
    formatDuration(t.p95Ms),
  ]);
  const cols = [
    { label: "Tool" },
    { label: "Calls", cls: "num" },
    { label: "Failures", cls: "num" },
    { label: "p50", cls: "num" },
    { label: "p95", cls: "num" },
  ];
  tableEl.replaceChildren(table(cols, rows, "tools"));
  let i = 0;
  for (const tr of tableEl.querySelectorAll("tbody tr")) tr.setAttribute("data-tool", list[i++]!.name);
}

const KINDS = [
  ["input", "Input"],
  ["cacheRead", "Cache read"],
  ["cacheWrite", "Cache write"],
  ["output", "Output"],
  ["reasoning", "Reasoning"],
] as const;

/** Tokens per phase or per model, stacked by kind; the cost of each in the legend's chart below. */
export function tokens(
  el: HTMLElement,
  costEl: HTMLElement,
  b: SessionBreakdown,
  by: "phase" | "model",
): void {
  const keys = [...new Set(b.tokens.map((s) => s[by]))];
  if (keys.length === 0) {
    el.replaceChildren(h("div", { class: "empty" }, "No LLM calls."));
    costEl.replaceChildren();
    return;
  }
  const total = (key: string, f: (s: SessionBreakdown["tokens"][number]) => number) =>
    b.tokens.filter((s) => s[by] === key).reduce((sum, s) => sum + f(s), 0);
  barChart(el, {
    categories: keys,
    stacked: true,
    series: KINDS.map(([kind, label], i) => ({
      label,
      values: keys.map((k) => total(k, (s) => s[kind])),
      color: PALETTE[i],
    })),
    format: formatCount,
  });
  barChart(costEl, {
    categories: keys,
    series: [{ label: "Cost", values: keys.map((k) => total(k, (s) => s.cost)), color: PALETTE[3] }],
    format: formatUsd,
    height: 160,
  });
}

/** Concurrent calls over time (from the aggregate's parallelism buckets). */
export function parallelism(el: HTMLElement, a: MetricsAggregate): void {
  const buckets = a.parallelismOverTime;
  if (buckets.length === 0) {
    el.replaceChildren(h("div", { class: "empty" }, "No timed calls."));
    return;
  }
  const x = buckets.map((p) => Date.parse(p.bucketStart));
  const values: number[] = buckets.map((p) => p.concurrent);
  // Close the last bucket, so even a one-bucket session draws a step.
  const width = x.length > 1 ? x[1]! - x[0]! : 1_000;
  x.push(x[x.length - 1]! + width);
  values.push(values[values.length - 1]!);
  timeChart(el, x, [{ label: "Concurrent calls", values }], {
    format: (v) => formatCount(v),
    stepped: true,
    integer: true,
  });
}

/** Each turn and its steps: time to first token, decode time, tokens. */
export function turns(chartEl: HTMLElement, tableEl: HTMLElement, list: TurnMetrics[]): void {
  const steps = list.flatMap((t) => t.steps);
  if (steps.length === 0) {
    chartEl.replaceChildren(h("div", { class: "empty" }, "No turns recorded."));
    tableEl.replaceChildren();
    return;
  }
  const shown = steps.slice(-200);
  barChart(chartEl, {
    categories: shown.map((s) => s.stepId),
    stacked: true,
    series: [
      { label: "Time to first token", values: shown.map((s) => s.ttftMs ?? 0), color: PALETTE[2] },
      { label: "Decode", values: shown.map((s) => s.decodeMs ?? 0), color: PALETTE[0] },
    ],
    format: formatDuration,
  });
  const rows: (string | HTMLElement)[][] = [];
  for (const t of list.slice(-100)) {
    rows.push([
      `${t.turnId} · ${t.phase}`,
      "",
      "",
      "",
      formatCount(t.usage?.totalTokens ?? 0),
      formatDuration(t.durationMs),
    ]);
    for (const s of t.steps)
      rows.push([
        s.stepId,
        s.model ?? "—",
        formatDuration(s.ttftMs),
        formatDuration(s.decodeMs),
        formatCount(s.usage?.totalTokens ?? 0),
        formatDuration(s.genTotalMs),
      ]);
  }
  const cols = [
    { label: "Turn / step" },
    { label: "Model" },
    { label: "TTFT", cls: "num" },
    { label: "Decode", cls: "num" },
    { label: "Tokens", cls: "num" },
    { label: "Total", cls: "num" },
  ];
  const el = table(cols, rows, "steps");
  let i = 0;
  for (const t of list.slice(-100)) {
    el.tBodies[0]!.rows[i]!.className = "turn-row";
    i += 1 + t.steps.length;
  }
  tableEl.replaceChildren(el);
}
