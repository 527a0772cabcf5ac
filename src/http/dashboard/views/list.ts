/**
 * The session list: every session (pages of 1,000 read in turn; the first one is drawn at once),
 * sortable by any column, filtered by text, model and agent, refreshed every few seconds (the
 * browser revalidates with the ETag, so an unchanged list costs a 304).
 */

import type { SessionSummary } from "../../session-read.ts";
import { getJson } from "../api.ts";
import type { HTMLElement, HTMLInputElement } from "../browser.ts";
import { barChart } from "../charts.ts";
import { card, h, markFirstChart } from "../dom.ts";
import { formatCount, formatDuration, formatTime, formatUsd } from "../format.ts";

type Row = SessionSummary;
type Key =
  | "sessionId"
  | "startedAt"
  | "durationMs"
  | "toolCalls"
  | "failures"
  | "llmCalls"
  | "tokens"
  | "cost";

const COLUMNS: { key: Key; label: string; num?: boolean; show: (r: Row) => string }[] = [
  { key: "sessionId", label: "Session", show: (r) => r.sessionId },
  { key: "startedAt", label: "Started (UTC)", show: (r) => formatTime(r.startedAt) },
  { key: "durationMs", label: "Duration", num: true, show: (r) => formatDuration(r.durationMs) },
  { key: "toolCalls", label: "Tool calls", num: true, show: (r) => formatCount(r.toolCalls) },
  { key: "failures", label: "Failures", num: true, show: (r) => formatCount(r.failures) },
  { key: "llmCalls", label: "LLM calls", num: true, show: (r) => formatCount(r.llmCalls) },
  { key: "tokens", label: "Tokens", num: true, show: (r) => formatCount(r.tokens) },
  { key: "cost", label: "Cost", num: true, show: (r) => formatUsd(r.cost) },
];

const SHOWN = 200;
const REFRESH_MS = 5_000;

async function loadAll(onFirst: (rows: Row[]) => void): Promise<Row[]> {
  const rows: Row[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const page: { sessions: Row[]; nextCursor: string | null } = await getJson(
      `/api/sessions?limit=1000${query}`,
    );
    rows.push(...page.sessions);
    if (cursor === null) onFirst(rows.slice());
    cursor = page.nextCursor;
  } while (cursor !== null);
  return rows;
}

export function renderList(root: HTMLElement, signal: AbortSignal): void {
  let rows: Row[] = [];
  let sortKey: Key = "startedAt";
  let ascending = false;
  let shown = SHOWN;
  const search = h("input", {
    type: "search",
    placeholder: "Filter by session, model or agent",
    "aria-label": "filter",
  });
  const model = h("select", { "aria-label": "model" });
  const agent = h("select", { "aria-label": "agent" });
  const count = h("span", { class: "muted" });
  const chartEl = h("div", { class: "chart", id: "chart-cost-per-day" });
  const tableEl = h("div", {});
  root.replaceChildren(
    h("h1", {}, "Sessions"),
    h(
      "div",
      { class: "sub" },
      "Every session in the sessions directory (and the store, when the server has one).",
    ),
    card("Cost per day", chartEl),
    h("section", { class: "card" }, h("div", { class: "toolbar" }, search, model, agent, count), tableEl),
  );
  for (const el of [search, model, agent]) el.addEventListener("input", () => draw());

  function options(select: HTMLInputElement, label: string, values: string[]): void {
    const current = select.value;
    select.replaceChildren(
      h("option", { value: "" }, `All ${label}`),
      ...values.map((v) => h("option", { value: v }, v)),
    );
    select.value = values.includes(current) ? current : "";
  }

  function filtered(): Row[] {
    const text = search.value.trim().toLowerCase();
    return rows.filter(
      (r) =>
        (model.value === "" || r.models.includes(model.value)) &&
        (agent.value === "" || r.agents.includes(agent.value)) &&
        (text === "" ||
          r.sessionId.toLowerCase().includes(text) ||
          r.models.some((m) => m.toLowerCase().includes(text)) ||
          r.agents.some((a) => a.toLowerCase().includes(text))),
    );
  }

  function draw(): void {
    const list = filtered().sort((a, b) => {
      const x = a[sortKey];
      const y = b[sortKey];
      const c =
        typeof x === "number" && typeof y === "number"
          ? x - y
          : String(x) < String(y)
            ? -1
            : String(x) > String(y)
              ? 1
              : 0;
      return ascending ? c : -c;
    });
    count.textContent = `${formatCount(list.length)} of ${formatCount(rows.length)} sessions`;
    const head = h(
      "tr",
      {},
      ...COLUMNS.map((c) => {
        const th = h(
          "th",
          {
            class: `sortable${c.num ? " num" : ""}${c.key === sortKey ? ` sorted${ascending ? " asc" : ""}` : ""}`,
            "data-sort": c.key,
          },
          c.label,
        );
        th.addEventListener("click", () => {
          ascending = sortKey === c.key ? !ascending : c.key === "sessionId";
          sortKey = c.key;
          draw();
        });
        return th;
      }),
      h("th", {}, "Models"),
    );
    const body = list.slice(0, shown).map((r) =>
      h(
        "tr",
        { "data-session": r.sessionId },
        ...COLUMNS.map((c) =>
          h(
            "td",
            {
              class: `${c.num ? "num" : ""}${c.key === "failures" && r.failures > 0 ? " bad" : ""}`,
              "data-field": c.key,
            },
            c.key === "sessionId"
              ? h("a", { href: `#/session/${encodeURIComponent(r.sessionId)}` }, r.sessionId)
              : c.show(r),
          ),
        ),
        h("td", { "data-field": "models" }, ...r.models.map((m) => h("span", { class: "pill" }, m))),
      ),
    );
    const more =
      list.length > shown
        ? h("button", { class: "more" }, `Show ${formatCount(Math.min(SHOWN, list.length - shown))} more`)
        : null;
    more?.addEventListener("click", () => {
      shown += SHOWN;
      draw();
    });
    tableEl.replaceChildren(
      list.length === 0
        ? h("div", { class: "empty" }, "No sessions match.")
        : h("table", { id: "sessions" }, h("thead", {}, head), h("tbody", {}, ...body)),
      more ?? "",
    );
  }

  function drawChart(): void {
    const perDay = new Map<string, number>();
    for (const r of rows) {
      const day = r.startedAt.slice(0, 10);
      perDay.set(day, (perDay.get(day) ?? 0) + r.cost);
    }
    const days = [...perDay.keys()].sort().slice(-60);
    if (days.length === 0) chartEl.replaceChildren(h("div", { class: "empty" }, "No sessions yet."));
    else
      barChart(chartEl, {
        categories: days,
        series: [{ label: "Cost", values: days.map((d) => perDay.get(d)!) }],
        format: formatUsd,
      });
    markFirstChart("list");
  }

  function accept(next: Row[]): void {
    rows = next;
    options(model, "models", [...new Set(rows.flatMap((r) => r.models))].sort());
    options(agent, "agents", [...new Set(rows.flatMap((r) => r.agents))].sort());
    drawChart();
    draw();
  }

  let last = "";
  async function refresh(): Promise<void> {
    const all = await loadAll((first) => {
      if (rows.length === 0) accept(first);
    });
    const text = JSON.stringify(all);
    if (text !== last && !signal.aborted) {
      last = text;
      accept(all);
    }
  }

  refresh().catch((error) => tableEl.replaceChildren(h("div", { class: "error" }, String(error.message))));
  const timer = setInterval(() => refresh().catch(() => {}), REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer));
}
