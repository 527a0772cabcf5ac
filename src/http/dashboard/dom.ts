/** Small DOM helpers: elements from tags and children, text only (never HTML from data). */
import { document, type HTMLElement, type HTMLTableElement, type TagTypes } from "./browser.ts";

type Child = HTMLElement | string | number | null | undefined | false;
type Tag<K extends string> = K extends keyof TagTypes ? TagTypes[K] : HTMLElement;

export function h<K extends string>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): Tag<K> {
  const el = document.createElement(tag) as Tag<K>;
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "object" ? child : String(child));
  }
  return el;
}

/** A table: `columns` give header text and class (`num` right-aligns). */
export function table(
  columns: { label: string; cls?: string }[],
  rows: Child[][],
  cls?: string,
): HTMLTableElement {
  return h(
    "table",
    { class: cls },
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { class: c.cls }, c.label)))),
    h(
      "tbody",
      {},
      ...rows.map((r) => h("tr", {}, ...r.map((cell, i) => h("td", { class: columns[i]?.cls }, cell)))),
    ),
  );
}

export function card(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

/** Marks the first chart of a view (the benchmark reads it with the Performance API). */
export function markFirstChart(view: string): void {
  const name = `first-chart:${view}`;
  if (performance.getEntriesByName(name).length === 0) performance.mark(name);
}
