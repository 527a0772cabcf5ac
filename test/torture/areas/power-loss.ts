/**
 * Power loss (issue #12, section 2): a simulated crash model in the manner of SQLite's crash VFS
 * (see ../crash-io.ts). Each trial runs a seeded workload on a modelled folder
 * (power-loss/workload.ts), then loses power at several points of its operation log — anywhere,
 * around fsyncs and renames (where ordering bugs live), and just before an fsync of unsynced
 * writes (where tearing bites) — materialises the after-reboot files, opens the session for real
 * and checks the invariants (power-loss/checks.ts).
 *
 * Rows: durability `group`, durability `on-sync` (a fresh session each), and flush + METRICS.json
 * (a session resumed from an earlier run, with frequent flushes, alternating the two
 * durabilities), and failed fsyncs (a seeded 30% of the journal's fsyncs fail with EIO and drop
 * their pages, "fsyncgate": the journal must write its unsynced lines again before a later sync()
 * resolves; alternating the two durabilities). Quick tier: 40 workloads × 16 crash points per row
 * (20 for failed fsyncs); nightly × ctx.factor.
 *
 * Seeds: trial t of row r uses seed `ctx.seed + r·100003 + t`; a failure names it with the crash
 * point (log position) and its index, e.g. `1582698513@37/9`. Workload and loss choices follow
 * from the seed; the log can still differ slightly between runs where timing decides (a group's
 * timer against a pause, turn durations from performance.now()).
 *
 * The model replaces the library's file operations process-wide (`useFileIO`) while a workload
 * runs: no other area may run file operations concurrently in the same process.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Durability } from "../../../src/journal/writer.ts";
import { type AreaResult, AreaTally, type TortureContext } from "../harness.ts";
import { addTotals, type CoverageTotals, emptyTotals, runTrial } from "../power-loss/trial.ts";

interface Row {
  area: string;
  durability: (trial: number) => Durability;
  earlierRun: boolean;
  flushRate: number;
  /** Workloads in the quick tier. */
  workloads: number;
  fsyncFailRate?: number;
}

export const QUICK_WORKLOADS = 40;
export const CRASH_POINTS = 16;
export const STEPS = 40;
/** The failed-fsync row's quick-tier workloads. */
export const FAILED_FSYNC_WORKLOADS = 20;

const ROWS: readonly Row[] = [
  {
    area: "power loss: durability group",
    durability: () => "group",
    earlierRun: false,
    flushRate: 0.06,
    workloads: QUICK_WORKLOADS,
  },
  {
    area: "power loss: durability on-sync",
    durability: () => "on-sync",
    earlierRun: false,
    flushRate: 0.06,
    workloads: QUICK_WORKLOADS,
  },
  {
    area: "power loss: flush + METRICS.json",
    durability: (t) => (t % 2 === 0 ? "group" : "on-sync"),
    earlierRun: true,
    flushRate: 0.25,
    workloads: QUICK_WORKLOADS,
  },
  {
    area: "power loss: failed fsync drops its pages",
    durability: (t) => (t % 2 === 0 ? "group" : "on-sync"),
    earlierRun: false,
    flushRate: 0.12,
    workloads: FAILED_FSYNC_WORKLOADS,
    fsyncFailRate: 0.3,
  },
];

/** Workloads of every row in the quick tier. */
export const QUICK_TOTAL_WORKLOADS = QUICK_WORKLOADS * 3 + FAILED_FSYNC_WORKLOADS;

export interface RowResult {
  result: AreaResult;
  coverage: CoverageTotals;
  /** Workloads run (the row's quick-tier count × ctx.factor). */
  workloads: number;
  failedFsyncs: number;
  rejections: number;
}

async function runRow(row: Row, index: number, ctx: TortureContext, base: string): Promise<RowResult> {
  const tally = new AreaTally(row.area);
  const coverage = emptyTotals();
  const workloads = row.workloads * ctx.factor;
  let failedFsyncs = 0;
  let rejections = 0;
  for (let t = 0; t < workloads; t++) {
    const durability = row.durability(t);
    const trial = await runTrial({
      base,
      seed: (ctx.seed + index * 100_003 + t) >>> 0,
      sessionId: `pl-${t}`,
      durability,
      earlierRun: row.earlierRun,
      steps: STEPS,
      flushRate: row.flushRate,
      crashPoints: CRASH_POINTS,
      fsyncFailRate: row.fsyncFailRate,
    });
    tally.trials += trial.trials;
    tally.faults += trial.faults;
    failedFsyncs += trial.failedFsyncs;
    rejections += trial.rejections;
    addTotals(coverage, trial.coverage);
    for (const [id, what] of trial.violations) tally.violation(id, `${durability}: ${what}`);
  }
  return { result: tally.result(), coverage, workloads, failedFsyncs, rejections };
}

export async function run(ctx: TortureContext): Promise<AreaResult[]> {
  return (await runWithCoverage(ctx)).map((r) => r.result);
}

/** `run`, with what each row's crash points exercised. */
export async function runWithCoverage(ctx: TortureContext): Promise<RowResult[]> {
  // tmpfs when there is one: the model decides what is durable, so real fsyncs only cost time.
  const base = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "sm-power-loss-"));
  try {
    const rows: RowResult[] = [];
    for (const [i, row] of ROWS.entries()) rows.push(await runRow(row, i, ctx, base));
    return rows;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
