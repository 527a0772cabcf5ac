/**
 * `bun run torture`: runs every area of the torture suite (I/O fault sweep, power loss, fuzzing,
 * soak) and prints one table: area, trials, faults injected, invariant violations, failing seeds,
 * time. `TORTURE_TIER=nightly` multiplies the trials (×10); `TORTURE_SEED=<n>` replays a seed;
 * `bun run torture faults fuzz` runs only the named areas. Exits 1 when any invariant was
 * violated, so a nightly job fails loudly.
 */
import {
  type AreaResult,
  formatTable,
  type TortureContext,
  tortureContext,
} from "../test/torture/harness.ts";

type Area = (ctx: TortureContext) => Promise<AreaResult[]>;

/** The areas, in the order the table shows them; each module exports `run`. */
const AREAS: Record<string, () => Promise<Area>> = {
  faults: async () => (await import("../test/torture/areas/faults.ts")).run,
  "power-loss": async () => (await import("../test/torture/areas/power-loss.ts")).run,
  fuzz: async () => (await import("../test/torture/areas/fuzz.ts")).run,
  soak: async () => (await import("../test/torture/areas/soak.ts")).run,
};

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((name) => !(name in AREAS));
  if (unknown.length > 0) {
    console.error(`unknown area(s) ${unknown.join(", ")}; the areas are ${Object.keys(AREAS).join(", ")}`);
    return 2;
  }
  const ctx = tortureContext();
  const names = argv.length > 0 ? argv : Object.keys(AREAS);
  console.error(`torture: tier ${ctx.tier} (×${ctx.factor}), seed ${ctx.seed}, areas ${names.join(", ")}`);
  const rows: AreaResult[] = [];
  for (const name of names) {
    const started = performance.now();
    const run = await AREAS[name]!();
    const areaRows = await run(ctx);
    rows.push(...areaRows);
    console.error(
      `  ${name}: ${areaRows.length} row(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  console.log(formatTable(rows));
  const violations = rows.reduce((sum, r) => sum + r.violations, 0);
  if (violations > 0) {
    console.log(`\n${violations} invariant violation(s):`);
    for (const r of rows) for (const d of r.details) console.log(`- ${r.area}: ${d}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
