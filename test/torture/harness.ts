/**
 * The torture suite's common shape. Every area (fault sweep, power loss, fuzzing, soak) is a
 * function `run(context)` that returns one or more `AreaResult` rows; `bun run torture` prints
 * them as a table, and each area's `*.test.ts` runs the quick tier inside `bun test` and fails
 * on any invariant violation, printing the seeds that reproduce it.
 *
 * Tiers: `quick` (default, inside `bun test`, the whole suite under 3 minutes on 2 cores) and
 * `nightly` (`TORTURE_TIER=nightly`, at least 10× the trials). Seeds: `TORTURE_SEED` (an integer)
 * replaces the fixed default, so a failure's seed can be replayed exactly.
 */

export type Tier = "quick" | "nightly";

/** One row of the torture table. */
export interface AreaResult {
  /** What was tortured, e.g. "faults: flush()" or "fuzz: journal lines". */
  area: string;
  /** Trials run (fault points, crash points, fuzz cases, soak rounds). */
  trials: number;
  /** Faults injected (I/O errors, power losses, mutations, SIGKILLs). */
  faults: number;
  /** Invariant violations found; must be 0. */
  violations: number;
  /** Seeds (or trial ids) that reproduce each violation, at most a handful. */
  failingSeeds: string[];
  /** What the violations were, for the report (at most a handful of lines). */
  details: string[];
  /** Wall time of the area, in milliseconds. */
  ms: number;
}

export interface TortureContext {
  tier: Tier;
  /** The base seed; areas derive per-trial seeds from it. */
  seed: number;
  /** Multiplies quick-tier trial counts: 1 for quick, `NIGHTLY_FACTOR` for nightly. */
  factor: number;
}

export const NIGHTLY_FACTOR = 10;
const DEFAULT_SEED = 0x5e55_1011;

/** The context from `TORTURE_TIER` and `TORTURE_SEED` (invalid values are refused, not guessed). */
export function tortureContext(env: Record<string, string | undefined> = process.env): TortureContext {
  const tierText = env.TORTURE_TIER ?? "quick";
  if (tierText !== "quick" && tierText !== "nightly") {
    throw new Error(`TORTURE_TIER must be "quick" or "nightly", not ${JSON.stringify(tierText)}`);
  }
  const seedText = env.TORTURE_SEED;
  let seed = DEFAULT_SEED;
  if (seedText !== undefined) {
    if (!/^\d{1,10}$/.test(seedText) || Number(seedText) > 0xffff_ffff) {
      throw new Error(`TORTURE_SEED must be an integer 0..4294967295, not ${JSON.stringify(seedText)}`);
    }
    seed = Number(seedText);
  }
  return { tier: tierText, seed, factor: tierText === "nightly" ? NIGHTLY_FACTOR : 1 };
}

/** A small seeded generator (mulberry32): the same seed gives the same trials on every machine. */
export { seededRandom as rng } from "../journal/helpers.ts";

/** Collects violations for one area and turns them into its row. */
export class AreaTally {
  readonly #area: string;
  readonly #started = performance.now();
  trials = 0;
  faults = 0;
  violations = 0;
  readonly #seeds: string[] = [];
  readonly #details: string[] = [];

  constructor(area: string) {
    this.#area = area;
  }

  /** Records one violation: `seed` reproduces it, `what` says which invariant broke. */
  violation(seed: string | number, what: string): void {
    this.violations++;
    if (this.#seeds.length < 10) this.#seeds.push(String(seed));
    if (this.#details.length < 10) this.#details.push(`${seed}: ${what}`);
  }

  result(): AreaResult {
    return {
      area: this.#area,
      trials: this.trials,
      faults: this.faults,
      violations: this.violations,
      failingSeeds: [...this.#seeds],
      details: [...this.#details],
      ms: Math.round(performance.now() - this.#started),
    };
  }
}

/** The table `bun run torture` prints (Markdown, so it can go into the README as it is). */
export function formatTable(rows: readonly AreaResult[]): string {
  const header = "| area | trials | faults injected | invariant violations | failing seeds | time |";
  const rule = "|---|---:|---:|---:|---|---:|";
  const lines = rows.map(
    (r) =>
      `| ${r.area} | ${r.trials.toLocaleString("en-US")} | ${r.faults.toLocaleString("en-US")} | ` +
      `${r.violations} | ${r.failingSeeds.length > 0 ? r.failingSeeds.join(", ") : "—"} | ${formatMs(r.ms)} |`,
  );
  return [header, rule, ...lines].join("\n");
}

function formatMs(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A failure message for a test: every violating row with its seeds and details. */
export function describeViolations(rows: readonly AreaResult[]): string {
  return rows
    .filter((r) => r.violations > 0)
    .map((r) => `${r.area}: ${r.violations} violation(s)\n  ${r.details.join("\n  ")}`)
    .join("\n");
}
