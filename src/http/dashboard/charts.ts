/**
 * The dashboard's charts on uPlot (bundled, no CDN): category bars (grouped or stacked) and time
 * series. Stacked bars are drawn as cumulative sums, top segment first, while the legend and
 * tooltips show each segment's own value.
 */

import uPlot from "uplot";
import { type HTMLElement, newPath, onWindow } from "./browser.ts";
import "uplot/dist/uPlot.min.css";

export const PALETTE = [
  "#3b6fd8",
  "#36a3a0",
  "#e39b32",
  "#8a63d2",
  "#d5577c",
  "#6b9c3a",
  "#a0714f",
  "#5c6f8a",
];

/** One series of a chart; `color` defaults to the palette's, by position. */
export interface Series {
  label: string;
  values: (number | null)[];
  color?: string;
}

export interface BarChartOptions {
  categories: string[];
  series: Series[];
  stacked?: boolean;
  /** Formats y values (axis and legend). */
  format: (v: number) => string;
  height?: number;
}

const charts = new Set<uPlot>();

function widthOf(el: HTMLElement): number {
  return Math.max(320, el.clientWidth || el.parentElement?.clientWidth || 600);
}

onWindow("resize", () => {
  for (const chart of charts) {
    const el = chart.root.parentElement;
    if (el === null || !el.isConnected) charts.delete(chart);
    else chart.setSize({ width: widthOf(el), height: chart.height });
  }
});

/** Removes the charts of elements that left the page (a view change). */
export function disposeDetached(): void {
  for (const chart of charts)
    if (!chart.root.isConnected) {
      chart.destroy();
      charts.delete(chart);
    }
}

function place(el: HTMLElement, opts: uPlot.Options, data: uPlot.AlignedData): uPlot {
  el.textContent = "";
  const chart = new uPlot(opts, data, el as never);
  charts.add(chart);
  return chart;
}

/** Bars per category; several series are grouped side by side, or stacked. */
export function barChart(el: HTMLElement, options: BarChartOptions): uPlot {
  const { categories, stacked = false } = options;
  const n = options.series.length;
  const x = categories.map((_, i) => i);
  const raw = options.series.map((s) => s.values);
  // Stacked: series i holds the sum of segments 0..i; drawn from the tallest down.
  const drawn = stacked
    ? raw.map((_, i) => x.map((j) => raw.slice(0, i + 1).reduce((sum, v) => sum + (v[j] ?? 0), 0))).reverse()
    : raw;
  const order = stacked ? [...options.series].reverse() : options.series;
  const rawOf = stacked ? [...raw].reverse() : raw;
  const groupWidth = 0.8;
  const each = stacked ? groupWidth : groupWidth / Math.max(1, n);
  const series: uPlot.Series[] = [
    { label: "" },
    ...order.map((s, k): uPlot.Series => {
      const i = stacked ? n - 1 - k : k;
      const color = s.color ?? PALETTE[i % PALETTE.length]!;
      const offset = stacked ? 0 : (k - (n - 1) / 2) * each;
      return {
        label: s.label,
        fill: color,
        stroke: color,
        width: 0,
        paths: barPaths(each, offset),
        points: { show: false },
        value: (_u, _v, _si, idx) => (idx == null ? "—" : options.format(rawOf[k]![idx] ?? 0)),
      };
    }),
  ];
  const opts: uPlot.Options = {
    width: widthOf(el),
    height: options.height ?? 240,
    series,
    legend: { show: n > 1 || stacked, live: false },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: {
      x: { time: false, range: [-0.6, categories.length - 0.4] },
      y: { range: (_u, _min, max) => [0, niceMax(max)] },
    },
    axes: [
      {
        splits: () => x,
        values: (_u, splits) => splits.map((i) => truncate(categories[i] ?? "", 18)),
        grid: { show: false },
      },
      { values: (_u, splits) => splits.map((v) => options.format(v)), size: 70, grid: { stroke: "#eef0f4" } },
    ],
  };
  return place(el, opts, [x, ...drawn] as uPlot.AlignedData);
}

/** Bars as wide as `width` x-units, shifted by `offset`, from 0 up to each value. */
function barPaths(width: number, offset: number): uPlot.Series.PathBuilder {
  return (u, seriesIdx, idx0, idx1) => {
    const path = newPath();
    const xs = u.data[0];
    const ys = u.data[seriesIdx]!;
    for (let i = idx0; i <= idx1; i++) {
      const v = ys[i];
      if (v == null || v === 0) continue;
      const left = u.valToPos(xs[i]! + offset - width / 2, "x", true);
      const right = u.valToPos(xs[i]! + offset + width / 2, "x", true);
      const top = u.valToPos(v, "y", true);
      const bottom = u.valToPos(0, "y", true);
      path.rect(left, top, Math.max(1, right - left - 1), bottom - top);
    }
    return { stroke: path, fill: path } as unknown as uPlot.Series.Paths;
  };
}

/**
 * Lines over time: `x` in epoch ms, drawn as time since the first point (`+1.5 s`), which reads
 * better than clock times for a session; `stepped` draws counts such as concurrency as steps.
 */
export function timeChart(
  el: HTMLElement,
  x: number[],
  list: Series[],
  options: { format: (v: number) => string; stepped?: boolean; integer?: boolean; height?: number },
): uPlot {
  const t0 = x[0] ?? 0;
  const rel = x.map((t) => t - t0);
  const series: uPlot.Series[] = [
    {},
    ...list.map((s, i): uPlot.Series => {
      const color = s.color ?? PALETTE[i % PALETTE.length]!;
      return {
        label: s.label,
        stroke: color,
        fill: `${color}22`,
        width: 2,
        paths: options.stepped ? uPlot.paths.stepped!({ align: 1 }) : undefined,
        points: { show: false },
      };
    }),
  ];
  const opts: uPlot.Options = {
    width: widthOf(el),
    height: options.height ?? 220,
    series,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: false, range: () => [0, Math.max(1, rel[rel.length - 1] ?? 1)] },
      y: { range: (_u, _min, max) => [0, niceMax(max)] },
    },
    axes: [
      {
        values: (_u, splits) => splits.map((v) => `+${formatDurationShort(v)}`),
        grid: { stroke: "#eef0f4" },
      },
      {
        values: (_u, s) => s.map((v) => options.format(v)),
        size: 70,
        grid: { stroke: "#eef0f4" },
        // Counts: whole-number ticks only.
        incrs: options.integer ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 10_000] : undefined,
      },
    ],
  };
  return place(el, opts, [rel, ...list.map((s) => s.values)] as uPlot.AlignedData);
}

function formatDurationShort(ms: number): string {
  return ms < 1_000
    ? `${Math.round(ms)} ms`
    : ms < 60_000
      ? `${+(ms / 1_000).toFixed(1)} s`
      : `${+(ms / 60_000).toFixed(1)} min`;
}

function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil((max * 1.1) / step) * step;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
