/**
 * The fleet page, from the store's reports: cost per model per day, p95 tool latency per agent
 * and failure rate per phase. Without a store the server says so, and so does the page.
 */

import type { ReportRow } from "../../../store/report.ts";
import { ApiError, getJson } from "../api.ts";
import type { HTMLElement } from "../browser.ts";
import { barChart } from "../charts.ts";
import { card, h, markFirstChart, table } from "../dom.ts";
import { formatCount, formatDuration, formatPercent, formatUsd } from "../format.ts";

interface Report {
  rows: ReportRow[];
}

export function renderFleet(root: HTMLElement, signal: AbortSignal): void {
  const costEl = h("div", { class: "chart", id: "chart-cost-model-day" });
  const latencyEl = h("div", { class: "chart", id: "chart-p95-agent" });
  const failEl = h("div", { class: "chart", id: "chart-failure-phase" });
  const failTable = h("div", {});
  root.replaceChildren(
    h("h1", {}, "Fleet"),
    h("div", { class: "sub" }, "Every session in the store: cost, latency and failures across the fleet."),
    card("Cost per model per day", costEl),
    h(
      "div",
      { class: "grid" },
      card("p95 tool latency per agent", latencyEl),
      card("Failure rate per phase", failEl, failTable),
    ),
  );
  const since = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);

  async function load(): Promise<void> {
    const [cost, latency, failures] = await Promise.all([
      getJson<Report>(`/api/report?groupBy=day,model&since=${since}`),
      getJson<Report>("/api/report?groupBy=agent,tool&percentiles=95"),
      getJson<Report>("/api/report?groupBy=phase"),
    ]);
    if (signal.aborted) return;
    drawCost(costEl, cost.rows);
    markFirstChart("fleet");
    drawLatency(latencyEl, latency.rows);
    const phases = failures.rows.map((r) => ({
      ...r,
      phase: r.phase ?? "(tool calls)",
      rate: r.calls === 0 ? 0 : r.failures / r.calls,
    }));
    barChart(failEl, {
      categories: phases.map((p) => p.phase),
      series: [{ label: "Failure rate", values: phases.map((p) => p.rate), color: "#c8423b" }],
      format: formatPercent,
      height: 200,
    });
    failTable.replaceChildren(
      table(
        [
          { label: "Phase" },
          { label: "Calls", cls: "num" },
          { label: "Failures", cls: "num" },
          { label: "Rate", cls: "num" },
        ],
        phases.map((p) => [p.phase, formatCount(p.calls), formatCount(p.failures), formatPercent(p.rate)]),
      ),
    );
  }

  load().catch((error) => {
    const message =
      error instanceof ApiError && error.status === 501
        ? "The fleet view needs a store. Import the sessions with `session-metrics ingest`, then start `session-metrics serve --store <path or URL>`."
        : (error as Error).message;
    root.append(h("div", { class: "card error", id: "fleet-error" }, message));
  });
}

function drawCost(el: HTMLElement, rows: ReportRow[]): void {
  const days = [...new Set(rows.map((r) => r.day ?? ""))].sort();
  const models = [...new Set(rows.map((r) => r.model ?? "(no model)"))];
  if (days.length === 0) {
    el.replaceChildren(h("div", { class: "empty" }, "No calls in the last 30 days."));
    return;
  }
  const cost = (day: string, model: string) =>
    rows
      .filter((r) => (r.day ?? "") === day && (r.model ?? "(no model)") === model)
      .reduce((s, r) => s + r.cost, 0);
  barChart(el, {
    categories: days,
    stacked: true,
    series: models.map((m) => ({ label: m, values: days.map((d) => cost(d, m)) })),
    format: formatUsd,
  });
}

function drawLatency(el: HTMLElement, rows: ReportRow[]): void {
  const calls = rows.filter((r) => r.tool !== null && r.tool !== undefined);
  const agents = [...new Set(calls.map((r) => r.agent ?? "(no agent)"))];
  const byCalls = new Map<string, number>();
  for (const r of calls) byCalls.set(r.tool!, (byCalls.get(r.tool!) ?? 0) + r.calls);
  const tools = [...byCalls]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([t]) => t);
  if (agents.length === 0) {
    el.replaceChildren(h("div", { class: "empty" }, "No tool calls."));
    return;
  }
  const p95 = (agent: string, tool: string) =>
    calls.find((r) => (r.agent ?? "(no agent)") === agent && r.tool === tool)?.durationPercentiles?.p95 ??
    null;
  barChart(el, {
    categories: agents,
    series: tools.map((t) => ({ label: t, values: agents.map((a) => p95(a, t)) })),
    format: formatDuration,
  });
}
