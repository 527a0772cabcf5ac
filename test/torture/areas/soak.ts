/**
 * Soak (issue #12, section 4): 8 worker processes × 50 sessions each record, sync, flush and stop
 * while the supervisor SIGKILLs a random worker every 0.5–2 s and restarts it (a new incarnation,
 * the same sessions, `resume: true`). Then every worker is stopped gracefully, every session is
 * resumed and stopped once more, and the checks run (see soak/check.ts): every acknowledged
 * record is in the journal exactly once, nothing unannounced is, METRICS.json equals the fold,
 * and a fresh SQLite store reports the same per session and tool.
 *
 * Sessions: each worker has 50 of its own and borrows one of its neighbour's now and then, so
 * sessions change hands between processes too: a live neighbour refuses (`SessionLockedError`),
 * a killed one's lock is reclaimed by whoever comes next.
 *
 * Duration: 20 s in the quick tier, × `ctx.factor` nightly; `SOAK_SECONDS` replaces either.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AreaResult, AreaTally, rng, type TortureContext } from "../harness.ts";
import { checkJournals, checkStore } from "../soak/check.ts";
import { Ledger, Slot } from "../soak/supervisor.ts";

export const WORKERS = 8;
export const SESSIONS_PER_WORKER = 50;
const QUICK_SECONDS = 20;
const STOP_LIMIT_MS = 30_000;

/** The soak's length: `SOAK_SECONDS` if set, else 20 s × the tier's factor. */
export function soakSeconds(
  ctx: TortureContext,
  env: Record<string, string | undefined> = process.env,
): number {
  const text = env.SOAK_SECONDS;
  if (text === undefined) return QUICK_SECONDS * ctx.factor;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds <= 0)
    throw new Error(`SOAK_SECONDS must be a positive number, not ${JSON.stringify(text)}`);
  return seconds;
}

export function sessionIdsOf(worker: number): string[] {
  return Array.from({ length: SESSIONS_PER_WORKER }, (_, j) => `soak-${worker}-${j}`);
}

async function bundleWorker(outdir: string): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "..", "soak", "worker.ts")],
    target: "bun",
    outdir,
  });
  if (!result.success) throw new AggregateError(result.logs, "could not bundle the soak worker");
  return result.outputs[0]!.path;
}

export async function run(ctx: TortureContext): Promise<AreaResult[]> {
  const soak = new AreaTally(`soak: ${WORKERS} processes × ${SESSIONS_PER_WORKER} sessions`);
  // Kills, not fsync, are the fault here: tmpfs keeps 400 sessions' fsyncs from flooding the disk.
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const root = mkdtempSync(join(base, "sm-soak-"));
  const sessionsDir = join(root, "sessions");
  const random = rng(ctx.seed);
  const ledger = new Ledger();
  const slots: Slot[] = [];
  const rows: AreaResult[] = [];
  try {
    const bundle = await bundleWorker(join(root, "bundle"));
    let incarnation = 0;
    const seedOf = () => Math.floor(random() * 0xffff_ffff);
    for (let w = 0; w < WORKERS; w++) {
      const plan = { sessionsDir, home: sessionIdsOf(w), borrow: sessionIdsOf((w + 1) % WORKERS) };
      const slot = new Slot(bundle, plan, ledger);
      slot.start(incarnation++, seedOf());
      slots.push(slot);
    }
    const deadline = Date.now() + soakSeconds(ctx) * 1000;
    for (;;) {
      const pause = 500 + random() * 1500;
      if (Date.now() + pause >= deadline) break;
      await Bun.sleep(pause);
      const slot = slots[Math.floor(random() * WORKERS)]!;
      await slot.kill();
      soak.faults++;
      slot.start(incarnation++, seedOf());
    }
    await Bun.sleep(Math.max(0, deadline - Date.now()));
    await Promise.all(slots.map((slot) => slot.stop(STOP_LIMIT_MS)));
    for (const problem of ledger.problems) soak.violation(ctx.seed, problem);

    const allIds = Array.from({ length: WORKERS }, (_, w) => sessionIdsOf(w)).flat();
    const { expected, stats } = await checkJournals(sessionsDir, allIds, ledger, soak, ctx.seed);
    rows.push(soak.result());
    // Its own row (and time): the same sessions, read back through ingest and report().
    const store = new AreaTally("soak: SQLite store of the soaked sessions");
    try {
      await checkStore(sessionsDir, expected, store, ctx.seed);
    } catch (error) {
      // A store that throws is a finding of its own; the journal row above still stands.
      store.violation(ctx.seed, `the store check threw: ${error instanceof Error ? error.message : error}`);
    }
    rows.push(store.result());
    console.log(
      `[soak] ${soakSeconds(ctx)} s, ${incarnation} worker runs, ${soak.faults} SIGKILLs, ${ledger.opens} opens ` +
        `(${ledger.staleLocks} over a stale lock, ${ledger.lockedRefusals} refused as locked), ` +
        `${ledger.tornTailRecoveries} torn tails cut on reopen + ${stats.tornTailsAtEnd} at the end; ` +
        `${stats.acked} records acknowledged, ${stats.present} in the journals, ${ledger.inFlightAtKills} in flight at kills`,
    );
  } finally {
    // Only this area's processes: other areas may have children of their own.
    await Promise.all(slots.map((slot) => slot.abort()));
    rmSync(root, { recursive: true, force: true });
  }
  return rows;
}
