/**
 * The fault sweep (issue #12 §1): every file operation of a scenario fails in turn. A scenario
 * runs once without faults to count its operations N; then for every n in 1..N the n-th call
 * fails. Quick tier: the five kinds (ENOSPC, EIO, EACCES, EDQUOT, short write) cycle over n and
 * once/persistent alternate, so every n is hit once and every pairing within ten n. Nightly: every
 * n × every kind × both modes, plus seeded random shapes (records, durability) with random plans.
 *
 * After each trial: nothing but a MetricsError escaped (synchronously or from a callback), and
 * the scenario's invariants hold (see `faults/world.ts`).
 */
import { MetricsError } from "../../../src/errors.ts";
import { FAULT_KINDS, FaultIO, type FaultPlan } from "../fault-io.ts";
import { collectorScenarios, type Scenario, type Trial } from "../faults/collector-scenarios.ts";
import { fileScenarios } from "../faults/file-scenarios.ts";
import { checkThrown, DEFAULT_SHAPE, describeError, type Shape, trialDir } from "../faults/world.ts";
import { type AreaResult, AreaTally, rng, type TortureContext } from "../harness.ts";

/** A trial that has not settled by then hangs (a promise that never settles is a violation). */
const HANG_MS = 20_000;

interface Outcome {
  ops: number;
  injected: number;
  violations: string[];
}

class Sweeper {
  readonly escaped: unknown[] = [];
  constructor(readonly fault: FaultIO) {}

  readonly onEscape = (error: unknown): void => {
    this.escaped.push(error);
  };

  async trial(scenario: Scenario, shape: Shape, plan: FaultPlan | undefined): Promise<Outcome> {
    const { dir, remove } = trialDir();
    let trial: Trial | undefined;
    try {
      this.fault.arm(undefined);
      trial = await scenario.prepare(dir, shape);
      const escapedBefore = this.escaped.length;
      this.fault.arm(plan);
      const thrown = await settle(trial.act());
      const { calls: ops, injected } = this.fault;
      this.fault.clear();
      const violations = checkThrown(thrown === HUNG ? undefined : thrown);
      if (thrown === HUNG) violations.push(`the operation did not settle within ${HANG_MS} ms`);
      violations.push(...(await trial.check(thrown)));
      for (const e of this.escaped.splice(escapedBefore))
        if (!(e instanceof MetricsError)) violations.push(`escaped from a callback: ${describeError(e)}`);
      return { ops, injected, violations };
    } catch (error) {
      this.fault.clear();
      return { ops: 0, injected: 0, violations: [`the trial itself failed: ${describeError(error)}`] };
    } finally {
      this.fault.clear();
      await trial?.dispose();
      remove();
    }
  }

  async sweep(scenario: Scenario, ctx: TortureContext): Promise<AreaResult> {
    const tally = new AreaTally(scenario.area);
    const run = async (id: string, shape: Shape, plan: FaultPlan | undefined) => {
      const outcome = await this.trial(scenario, shape, plan);
      tally.trials++;
      tally.faults += outcome.injected;
      for (const what of outcome.violations) tally.violation(id, what);
      return outcome;
    };
    const { ops } = await run("fault-free", DEFAULT_SHAPE, undefined);
    for (const plan of plans(ops, ctx.factor > 1))
      await run(`n=${plan.at} ${plan.kind} ${plan.persistent ? "persistent" : "once"}`, DEFAULT_SHAPE, plan);
    if (ctx.factor > 1) await this.randomShapes(scenario, ctx, ops, run);
    return tally.result();
  }

  /** Nightly: seeded shapes, each counted fault-free first, then random plans over its N. */
  async randomShapes(
    scenario: Scenario,
    ctx: TortureContext,
    baseOps: number,
    run: (id: string, shape: Shape, plan: FaultPlan | undefined) => Promise<Outcome>,
  ): Promise<void> {
    const random = rng(ctx.seed ^ hash(scenario.area));
    const shapes = Math.max(2, Math.ceil(ctx.factor / 2));
    for (let s = 0; s < shapes; s++) {
      const shape: Shape = {
        records: 1 + Math.floor(random() * 20),
        durability: (["group", "on-sync", "buffered"] as const)[Math.floor(random() * 3)]!,
      };
      const label = `seed=${ctx.seed} shape=${shape.records}/${shape.durability}`;
      const { ops } = await run(`${label} fault-free`, shape, undefined);
      for (let i = 0; i < Math.max(ops, baseOps); i++) {
        const plan: FaultPlan = {
          at: 1 + Math.floor(random() * Math.max(1, ops)),
          kind: FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)]!,
          persistent: random() < 0.5,
        };
        await run(
          `${label} n=${plan.at} ${plan.kind} ${plan.persistent ? "persistent" : "once"}`,
          shape,
          plan,
        );
      }
    }
  }
}

/** Quick: one plan per n (kinds cycle, modes alternate); full: every n × kind × mode. */
export function plans(ops: number, full: boolean): FaultPlan[] {
  const out: FaultPlan[] = [];
  for (let at = 1; at <= ops; at++) {
    if (!full) {
      out.push({ at, kind: FAULT_KINDS[(at - 1) % FAULT_KINDS.length]!, persistent: (at - 1) % 2 === 1 });
      continue;
    }
    for (const kind of FAULT_KINDS)
      for (const persistent of [false, true]) out.push({ at, kind, persistent });
  }
  return out;
}

const HUNG = Symbol("hung");

/** What the promise threw (undefined when it resolved), or HUNG. */
async function settle(promise: Promise<void>): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<typeof HUNG>((resolve) => {
    timer = setTimeout(() => resolve(HUNG), HANG_MS);
  });
  try {
    const result = await Promise.race([promise.then(() => undefined), hang]);
    return result;
  } catch (error) {
    return error ?? new Error("rejected with nothing");
  } finally {
    clearTimeout(timer);
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Runs the sweep over every scenario; one row per scenario. */
export async function run(ctx: TortureContext): Promise<AreaResult[]> {
  const fault = new FaultIO();
  const sweeper = new Sweeper(fault);
  const restore = fault.install();
  process.on("uncaughtException", sweeper.onEscape);
  process.on("unhandledRejection", sweeper.onEscape);
  try {
    const files = await fileScenarios(fault);
    try {
      const scenarios = [...(await collectorScenarios()), ...files.scenarios];
      const rows: AreaResult[] = [];
      for (const scenario of scenarios) rows.push(await sweeper.sweep(scenario, ctx));
      return rows;
    } finally {
      files.dispose();
    }
  } finally {
    process.off("uncaughtException", sweeper.onEscape);
    process.off("unhandledRejection", sweeper.onEscape);
    restore();
  }
}
