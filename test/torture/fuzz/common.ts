/**
 * What every fuzz target shares: the verdict on one case (a value, or a `MetricsError`, within
 * 100 ms), and the prototype and memory watch. The byte mutators are in mutators.ts.
 */
import { MetricsError } from "../../../src/errors.ts";
import type { AreaTally } from "../harness.ts";

/** A case slower than this (four times in a row: the VM is noisy) is a violation. */
export const CASE_LIMIT_MS = 100;
/** Resident memory may grow at most this much over one target. */
export const RSS_LIMIT_BYTES = 200 * 1024 * 1024;
/** How many cases run between two prototype checks. */
const BATCH = 100;

/**
 * Says what is wrong with a case's value (a string), or nothing. Runs after the case, outside the
 * timed part.
 */
export type Oracle<T> = (value: T) => string | undefined | Promise<string | undefined>;

export interface FuzzCase<T> {
  /** Reproduces the case: `mut:<seed>` or `fc:<seed>#<index>`. */
  seed: string;
  /** Runs the case once (it may be run twice when the first run is slow). */
  run: () => T | Promise<T>;
  /** Checks a value the case returned; errors are judged by {@link judgeError}. */
  oracle?: Oracle<T>;
  /** Whether the case counts as a fault injected (a mutation or a hostile value). Default true. */
  fault?: boolean;
}

/** Why an error is not an acceptable outcome, or undefined when it is a `MetricsError`. */
export function judgeError(error: unknown): string | undefined {
  if (error instanceof MetricsError) return undefined;
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  return `threw ${name}: ${message.slice(0, 200)}`;
}

type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

async function once<T>(run: () => T | Promise<T>): Promise<Outcome<T>> {
  const started = performance.now();
  try {
    const value = await run();
    return { ok: true, value, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - started };
  }
}

/** The names `Object.prototype` (and friends) hold, to notice pollution. */
function prototypeFingerprint(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((p) => Object.getOwnPropertyNames(p).sort().join(","))
    .join("|");
}

function pollution(baseline: string): string | undefined {
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || probe.isAdmin !== undefined)
    return "Object.prototype gained an enumerable sentinel";
  if (prototypeFingerprint() !== baseline) return "a built-in prototype gained or lost a property";
  return undefined;
}

/** One target's row and how its cases ended. */
export interface TargetRun {
  tally: AreaTally;
  outcomes: Outcomes;
  /** Cases whose input the target accepted (where "a value" includes a refusal). */
  accepted?: number;
}

/** How the cases of a target ended (to see that a fuzzer goes past the first check). */
export interface Outcomes {
  values: number;
  errors: Record<string, number>;
}

/**
 * Runs the cases of one target into `tally`: verdicts, time limit, prototype and memory watch.
 * Returns how the cases ended.
 */
export async function runCases<T>(
  tally: AreaTally,
  cases: Iterable<FuzzCase<T>> | AsyncIterable<FuzzCase<T>>,
): Promise<Outcomes> {
  const outcomes: Outcomes = { values: 0, errors: {} };
  const baseline = prototypeFingerprint();
  const rssBefore = process.memoryUsage.rss();
  let lastSeed = "";
  for await (const c of cases) {
    tally.trials++;
    if (c.fault !== false) tally.faults++;
    lastSeed = c.seed;
    const error = await judge(tally, c);
    if (error === undefined) outcomes.values++;
    else outcomes.errors[error] = (outcomes.errors[error] ?? 0) + 1;
    if (tally.trials % BATCH === 0) {
      const polluted = pollution(baseline);
      if (polluted !== undefined) {
        tally.violation(`${c.seed} (batch)`, polluted);
        return outcomes; // every later case would report it too
      }
    }
  }
  const polluted = pollution(baseline);
  if (polluted !== undefined) tally.violation(`${lastSeed} (batch)`, polluted);
  Bun.gc(true);
  const grown = process.memoryUsage.rss() - rssBefore;
  if (grown > RSS_LIMIT_BYTES)
    tally.violation("memory", `rss grew ${Math.round(grown / 1048576)} MiB over the target`);
  return outcomes;
}

/** Judges one case; returns the name of the error it ended with, if it ended with one. */
async function judge<T>(tally: AreaTally, c: FuzzCase<T>): Promise<string | undefined> {
  let outcome = await once(c.run);
  // A slow case counts only if it stays slow: up to three more runs, after yielding to the other
  // processes of a shared machine, and the fastest one decides.
  const times = [outcome.ms];
  while (outcome.ms > CASE_LIMIT_MS && times.length < 4) {
    await Bun.sleep(10);
    outcome = await once(c.run);
    times.push(outcome.ms);
  }
  if (outcome.ms > CASE_LIMIT_MS) {
    tally.violation(c.seed, `took ${times.map((t) => Math.round(t)).join(", ")} ms`);
    return "slow";
  }
  if (!outcome.ok) {
    const wrong = judgeError(outcome.error);
    if (wrong !== undefined) tally.violation(c.seed, wrong);
    return outcome.error instanceof Error ? outcome.error.name : typeof outcome.error;
  }
  if (c.oracle === undefined) return undefined;
  let wrong: string | undefined;
  try {
    wrong = await c.oracle(outcome.value);
  } catch (error) {
    wrong = `oracle: ${judgeError(error) ?? (error as Error).message}`;
  }
  if (wrong !== undefined) tally.violation(c.seed, wrong);
  return undefined;
}

/** Seeds for the mutation half and the generator half of `total` cases. */
export function split(total: number): { mutations: number; generated: number } {
  const mutations = Math.ceil(total / 2);
  return { mutations, generated: total - mutations };
}

/** A per-case seed derived from the context's seed, the target and the case index. */
export function caseSeed(base: number, target: number, index: number): number {
  return (Math.imul(base ^ (target * 0x9e3779b1), 0x85ebca6b) + index) >>> 0;
}
