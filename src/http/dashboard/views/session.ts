/**
 * The session page: totals above the phase timeline, tools, tokens and cost, parallelism and
 * turns. It follows the session's event stream and redraws shortly after new events (one fetch
 * per burst), so a live session's new tool call shows without a reload. The stream is opened
 * before the first fetch: an event that lands in between triggers a redraw instead of being lost.
 */

import type { MetricsAggregate } from "../../../aggregate/aggregate.ts";
import type { TurnMetrics } from "../../../core/types.ts";
import type { SessionBreakdown } from "../../breakdown.ts";
import { followEvents, getJson } from "../api.ts";
import { document, type HTMLElement } from "../browser.ts";
import { card, h, markFirstChart } from "../dom.ts";
import { formatCount, formatTime } from "../format.ts";
import * as parts from "./session-parts.ts";

const REDRAW_DELAY_MS = 300;

export function renderSession(
  root: HTMLElement,
  sessionId: string,
  signal: AbortSignal,
  live: HTMLElement,
): void {
  const base = `/api/sessions/${encodeURIComponent(sessionId)}`;
  const el = (id: string) => h("div", { class: "chart", id });
  const header = h("div", {}, h("h1", {}, sessionId), h("div", { class: "sub" }, "Loading…"));
  const totalsEl = h("div", {});
  const ganttEl = el("chart-phases");
  const toolsChart = el("chart-tools");
  const toolsTable = h("div", {});
  const byPhase = el("chart-tokens-phase");
  const costPhase = el("chart-cost-phase");
  const byModel = el("chart-tokens-model");
  const costModel = el("chart-cost-model");
  const parallel = el("chart-parallelism");
  const turnsChart = el("chart-turns");
  const turnsTable = h("div", {});
  root.replaceChildren(
    h("a", { href: "#/" }, "← All sessions"),
    header,
    totalsEl,
    card("Phase timeline", ganttEl),
    h(
      "div",
      { class: "grid" },
      card("Tool latency (p50 / p95)", toolsChart, toolsTable),
      card("Parallelism over time", parallel),
      card("Tokens and cost per phase", byPhase, costPhase),
      card("Tokens and cost per model", byModel, costModel),
    ),
    card("Turns and steps", turnsChart, turnsTable),
  );

  let drawing = false;
  let again = false;
  async function draw(): Promise<void> {
    if (drawing) {
      again = true;
      return;
    }
    drawing = true;
    try {
      // The breakdown first: it feeds the first chart (the timeline).
      const breakdown = getJson<SessionBreakdown>(`${base}/breakdown`);
      const metrics = getJson<parts.GoDocument>(base);
      const turns = getJson<TurnMetrics[]>(`${base}/turns`);
      const aggregate = getJson<MetricsAggregate>(`${base}/aggregate`);
      const b = await breakdown;
      if (signal.aborted) return;
      parts.gantt(ganttEl, b);
      markFirstChart("session");
      const m = await metrics;
      if (signal.aborted) return;
      header.replaceChildren(
        h("h1", {}, sessionId),
        h(
          "div",
          { class: "sub" },
          `Started ${formatTime(m.started_at)} UTC · updated ${formatTime(m.updated_at)} UTC`,
          b.models.length > 0 ? ` · ${b.models.join(", ")}` : "",
          (m.dropped_records ?? 0) > 0 ? ` · ${formatCount(m.dropped_records ?? 0)} dropped records` : "",
        ),
      );
      totalsEl.replaceChildren(parts.totals(m));
      parts.tools(toolsChart, toolsTable, b);
      parts.tokens(byPhase, costPhase, b, "phase");
      parts.tokens(byModel, costModel, b, "model");
      parts.turns(turnsChart, turnsTable, await turns);
      parts.parallelism(parallel, await aggregate);
      document.body.dataset.drawn = String(Number(document.body.dataset.drawn ?? 0) + 1);
    } catch (error) {
      header.replaceChildren(h("h1", {}, sessionId), h("div", { class: "error" }, (error as Error).message));
    } finally {
      drawing = false;
      if (again && !signal.aborted) {
        again = false;
        void draw();
      }
    }
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  let opened = false;
  const first = () => {
    if (!opened) {
      opened = true;
      void draw();
    }
  };
  const stream = followEvents(sessionId, {
    onOpen: () => {
      live.hidden = false;
      first();
    },
    onEvent: () => {
      if (timer === undefined)
        timer = setTimeout(() => {
          timer = undefined;
          void draw();
        }, REDRAW_DELAY_MS);
    },
  });
  // Draw even if the stream cannot open (e.g. a proxy that buffers it).
  const fallback = setTimeout(first, 1_000);
  signal.addEventListener("abort", () => {
    stream.close();
    clearTimeout(fallback);
    if (timer !== undefined) clearTimeout(timer);
    live.hidden = true;
  });
}
