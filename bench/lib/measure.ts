/**
 * A small benchmark harness: warm-up, several timed rounds, the median; and a printer for markdown
 * tables that put each figure beside its baselines measured in the same run, with ratios and a
 * target column.
 *
 * A body is a function that runs the operation `ops` times in its own loop, so the loop (not a
 * callback per op) is what the JIT compiles, and the timer is read twice per round.
 */
import { threadCpuNs } from "./clock.ts";

/** Runs the operation under test `ops` times. */
export type Body = (ops: number) => void;

export interface SyncOptions {
  /** Operations per timed round. */
  ops: number;
  /** Timed rounds; the median is reported. Default 5. */
  rounds?: number;
  /** Untimed operations first, so the JIT reaches its top tier. Default: one round's worth. */
  warmupOps?: number;
}

export interface SyncResult {
  /**
   * Median over rounds of (round time / ops), in main-thread CPU time when it can be read (see
   * `clock.ts`), else in wall time.
   */
  nsPerOp: number;
  /** The same median in wall time (includes time the OS gave to other processes). */
  wallNsPerOp: number;
  /** ns/op of each round, in run order (the clock of `nsPerOp`). */
  rounds: number[];
  opsPerRound: number;
}

/** What `SyncResult.nsPerOp` measures on this machine. */
export const SYNC_CLOCK = threadCpuNs === undefined ? "wall time" : "main-thread CPU time";

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times `body` in rounds of `ops` operations and reports the median ns/op. */
export function measureSync(body: Body, options: SyncOptions): SyncResult {
  const rounds = options.rounds ?? 5;
  const cpu = threadCpuNs;
  body(options.warmupOps ?? options.ops);
  const wall: number[] = [];
  const used: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const cpuStart = cpu?.() ?? 0;
    const start = Bun.nanoseconds();
    body(options.ops);
    wall.push((Bun.nanoseconds() - start) / options.ops);
    if (cpu !== undefined) used.push((cpu() - cpuStart) / options.ops);
  }
  const perOp = cpu === undefined ? wall : used;
  return { nsPerOp: median(perOp), wallNsPerOp: median(wall), rounds: perOp, opsPerRound: options.ops };
}

/**
 * `measureSync` for several bodies whose figures are compared with one another: each is warmed
 * up, then their rounds alternate (round 1 of each, round 2 of each, …), so that a machine whose
 * load drifts during the run weighs on all of them alike.
 */
export function measureInterleaved(
  subjects: readonly { body: Body; ops: number }[],
  rounds = 5,
): SyncResult[] {
  const cpu = threadCpuNs;
  for (const { body, ops } of subjects) body(ops);
  const wall: number[][] = subjects.map(() => []);
  const used: number[][] = subjects.map(() => []);
  for (let r = 0; r < rounds; r++) {
    subjects.forEach(({ body, ops }, i) => {
      const cpuStart = cpu?.() ?? 0;
      const start = Bun.nanoseconds();
      body(ops);
      wall[i]!.push((Bun.nanoseconds() - start) / ops);
      if (cpu !== undefined) used[i]!.push((cpu() - cpuStart) / ops);
    });
  }
  return subjects.map(({ ops }, i) => {
    const perOp = cpu === undefined ? wall[i]! : used[i]!;
    return { nsPerOp: median(perOp), wallNsPerOp: median(wall[i]!), rounds: perOp, opsPerRound: ops };
  });
}

export interface CalibrateOptions {
  /** Wall time one round should take, roughly. */
  roundMs: number;
  maxOps: number;
  minOps: number;
}

/**
 * Operations per round so that a round takes about `roundMs` (clamped): used for the slow
 * baselines, which would take minutes at the op counts the fast path needs.
 */
export function calibrateOps(body: Body, { roundMs, maxOps, minOps }: CalibrateOptions): number {
  body(1); // the first call compiles
  // Double the probe until it runs long enough to time (≥ 20 ms), whatever one op costs.
  for (let probe = 1; ; probe *= 2) {
    const start = Bun.nanoseconds();
    body(probe);
    const elapsed = Bun.nanoseconds() - start;
    if (elapsed >= 20e6 || probe >= maxOps) {
      const ops = Math.round((roundMs * 1e6 * probe) / Math.max(elapsed, 1));
      return Math.min(maxOps, Math.max(minOps, ops));
    }
  }
}

export interface AsyncResult {
  /** Median of the individually timed operations. */
  ms: number;
  samples: number[];
}

/** Times `op` one call at a time (for operations in the millisecond range) and reports the median. */
export async function measureAsync(
  op: () => unknown,
  { samples, warmup = 5 }: { samples: number; warmup?: number },
): Promise<AsyncResult> {
  for (let i = 0; i < warmup; i++) await op();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = Bun.nanoseconds();
    await op();
    times.push((Bun.nanoseconds() - start) / 1e6);
  }
  return { ms: median(times), samples: times };
}

// ---------------------------------------------------------------------------------------------
// Reporting

export type Unit = "ns" | "ms" | "bytes";

/** A target and whether this run met it. */
export interface Verdict {
  text: string;
  pass: boolean;
}

export function verdict(text: string, pass: boolean): Verdict {
  return { text, pass };
}

/** `value ≤ limit` (unit as the table's). */
export function atMost(value: number, limit: number, unit: Unit): Verdict {
  return verdict(`≤ ${formatValue(limit, unit)}`, value <= limit);
}

/** session-metrics is at least `factor` times faster than `baseline` (both times). */
export function fasterBy(ours: number, baseline: number, factor: number, name: string): Verdict {
  return verdict(`≥ ${factor}× faster than ${name}`, baseline / ours >= factor);
}

export interface Row {
  label: string;
  /** Values by column key; `undefined` prints as "—". */
  values: Record<string, number | undefined>;
  /** Overrides the table's unit for this row. */
  unit?: Unit;
  /** Ratios make no sense for this row (deltas around zero, say). */
  noRatio?: boolean;
  targets?: Verdict[];
}

export interface Table {
  title: string;
  unit: Unit;
  /** Column key and header of the measured subject. */
  subject: { key: string; label: string };
  /** Baseline columns, in order. */
  baselines: { key: string; label: string }[];
  rows: Row[];
  notes?: string[];
}

export function formatValue(value: number, unit: Unit): string {
  if (unit === "ns")
    return `${value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US")} ns`;
  if (unit === "ms")
    return `${value < 0.1 ? value.toPrecision(2) : value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
  const sign = value < 0 ? "−" : "";
  const abs = Math.abs(value);
  if (abs >= 1024 * 1024) return `${sign}${(abs / 1024 / 1024).toFixed(2)} MiB`;
  if (abs >= 1024) return `${sign}${(abs / 1024).toFixed(1)} KiB`;
  return `${sign}${Math.round(abs)} B`;
}

function formatRatio(baseline: number, ours: number): string {
  const ratio = baseline / ours;
  if (ratio >= 10) return `${Math.round(ratio)}×`;
  return `${ratio >= 1 ? ratio.toFixed(1) : ratio.toPrecision(2)}×`;
}

/** The table as markdown: subject, each baseline with its ratio to the subject, then the targets. */
export function renderTable(table: Table): string {
  const headers = ["", table.subject.label, ...table.baselines.map((b) => `${b.label} (× ours)`), "target"];
  const lines = [
    `### ${table.title}`,
    "",
    row(headers),
    row(headers.map((_, i) => (i === 0 ? "---" : "---:"))),
  ];
  for (const r of table.rows) {
    const unit = r.unit ?? table.unit;
    const ours = r.values[table.subject.key];
    const cells = [r.label, ours === undefined ? "—" : formatValue(ours, unit)];
    for (const b of table.baselines) {
      const value = r.values[b.key];
      if (value === undefined) cells.push("—");
      else if (r.noRatio || ours === undefined || ours <= 0 || value <= 0)
        cells.push(formatValue(value, unit));
      else cells.push(`${formatValue(value, unit)} (${formatRatio(value, ours)})`);
    }
    const targets = r.targets ?? [];
    cells.push(
      targets.length === 0 ? "" : targets.map((t) => `${t.pass ? "✅" : "❌"} ${t.text}`).join("<br>"),
    );
    lines.push(row(cells));
  }
  if (table.notes !== undefined && table.notes.length > 0)
    lines.push("", ...table.notes.map((n) => `- ${n}`));
  return lines.join("\n");
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

export function printTable(table: Table): void {
  console.log(`${renderTable(table)}\n`);
}

/** Every target in the tables, named by its row, for a closing summary. */
export function verdictsOf(tables: readonly Table[]): Verdict[] {
  return tables.flatMap((t) =>
    t.rows.flatMap((r) => (r.targets ?? []).map((v) => verdict(`${r.label}: ${v.text}`, v.pass))),
  );
}
