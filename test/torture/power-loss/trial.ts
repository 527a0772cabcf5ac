/**
 * One power-loss trial: a seeded workload, then a power loss at each of several crash points of
 * its log, each checked (checks.ts). Also the choice of crash points and the coverage totals that
 * show a run reached the recovery paths.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { MemoryLogger } from "../../journal/helpers.ts";
import { rng } from "../harness.ts";
import { type Coverage, checkCrashPoint, prepare } from "./checks.ts";
import type { DiskEntry } from "./disk-model.ts";
import { runWorkload, type WorkloadOptions } from "./workload.ts";

/**
 * Crash points: a third anywhere in the log, a third just before or after an fsync or a rename,
 * and a third just before an fsync of a file with unsynced writes (where tearing can bite). A
 * failed fsync counts as an fsync here: around it are the dropped pages and their rewrite.
 */
export function crashPoints(log: readonly DiskEntry[], count: number, random: () => number): number[] {
  const marks: number[] = [];
  const beforeSync: number[] = [];
  const unsynced = new Set<number>();
  log.forEach((entry, i) => {
    if (entry.t === "file" && entry.op.kind === "write") unsynced.add(entry.node);
    const fsync = entry.t === "fsync" || entry.t === "fsync-failed";
    if (fsync && unsynced.delete(entry.node)) beforeSync.push(i);
    if (fsync || (entry.t === "dir" && entry.op.kind === "rename")) marks.push(i, i + 1);
  });
  const lists = [marks, beforeSync];
  const points: number[] = [];
  for (let i = 0; i < count; i++) {
    const list = lists[(i % 3) - 1];
    points.push(
      list === undefined || list.length === 0
        ? Math.floor(random() * (log.length + 1))
        : list[Math.floor(random() * list.length)]!,
    );
  }
  return points;
}

/** How many crash points reached each recovery path (see `Coverage`). */
export interface CoverageTotals {
  tornTails: number;
  salvaged: number;
  withLostEvents: number;
  fromDocument: number;
  fresh: number;
  leftovers: number;
}

export function emptyTotals(): CoverageTotals {
  return { tornTails: 0, salvaged: 0, withLostEvents: 0, fromDocument: 0, fresh: 0, leftovers: 0 };
}

function count(totals: CoverageTotals, c: Coverage): void {
  totals.tornTails += c.tornTail ? 1 : 0;
  totals.salvaged += c.salvaged ? 1 : 0;
  totals.withLostEvents += c.lostEvents > 0 ? 1 : 0;
  totals.fromDocument += c.fromDocument ? 1 : 0;
  totals.fresh += c.fresh ? 1 : 0;
  totals.leftovers += c.leftovers > 0 ? 1 : 0;
}

export interface TrialOptions extends Omit<WorkloadOptions, "root"> {
  /** A folder for the trial's own folders (removed again). */
  base: string;
  crashPoints: number;
  /** The logger the reopened collectors report to (tests of the checks lose its messages). */
  logger?: () => MemoryLogger;
}

export interface TrialResult {
  /** Crash points checked. */
  trials: number;
  /** Power losses plus sectors torn or garbled, plus fsyncs failed. */
  faults: number;
  /** fsyncs of the workload that failed (the failed-fsync mode). */
  failedFsyncs: number;
  /** sync()/flush()/stop()/flushSync() calls of the workload that failed and were made again. */
  rejections: number;
  /** `[id, what]`, the id `<seed>@<crash point>/<index>` (or the seed for the whole trial). */
  violations: [string, string][];
  coverage: CoverageTotals;
}

export async function runTrial(options: TrialOptions): Promise<TrialResult> {
  const { base, seed } = options;
  const result: TrialResult = {
    trials: 0,
    faults: 0,
    failedFsyncs: 0,
    rejections: 0,
    violations: [],
    coverage: emptyTotals(),
  };
  const root = join(base, `trial-${seed}`);
  mkdirSync(root);
  try {
    const workload = await runWorkload({ ...options, root });
    result.failedFsyncs = workload.crash.failedFsyncs;
    result.rejections = workload.rejections;
    result.faults += workload.crash.failedFsyncs;
    for (const diverged of workload.crash.divergences().slice(0, 1))
      result.violations.push([String(seed), `crash model diverged from the disk: ${diverged}`]);
    const prepared = prepare(workload);
    const points = crashPoints(workload.crash.log, options.crashPoints, rng(seed ^ 0x9e37_79b9));
    for (const [i, state] of workload.crash.statesAt(points).entries()) {
      const lossSeed = (seed * 31 + i) >>> 0;
      const outcome = await checkCrashPoint(prepared, state, lossSeed, base, options.logger?.());
      result.trials++;
      result.faults += 1 + outcome.stats.torn + outcome.stats.garbled;
      count(result.coverage, outcome.coverage);
      for (const what of outcome.violations) result.violations.push([`${seed}@${state.at}/${i}`, what]);
    }
  } catch (error) {
    result.violations.push([String(seed), `trial failed: ${(error as Error).stack ?? error}`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return result;
}

/** Adds `b` into `a`. */
export function addTotals(a: CoverageTotals, b: CoverageTotals): void {
  for (const key of Object.keys(a) as (keyof CoverageTotals)[]) a[key] += b[key];
}
