/**
 * Fuzzing (issue #12, section 3): every edge that takes outside input — METRICS.json, journal
 * lines, price tables, store ingest, CLI arguments and HTTP query parameters — fed seeded
 * mutants of real files and fast-check generated values, 1,000 cases per target in the quick
 * tier (× the nightly factor). Every case must end in a value or a `MetricsError` within 100 ms,
 * leave the built-in prototypes untouched and keep memory bounded.
 */
import { fuzzCliArguments } from "../fuzz/cli-args.ts";
import type { TargetRun } from "../fuzz/common.ts";
import { createCorpus } from "../fuzz/corpus.ts";
import { fuzzHttpParameters } from "../fuzz/http-params.ts";
import { fuzzJournalLines } from "../fuzz/journal-lines.ts";
import { fuzzMetricsJson } from "../fuzz/metrics-json.ts";
import { fuzzPriceTables } from "../fuzz/price-tables.ts";
import { fuzzStoreIngest } from "../fuzz/store-ingest.ts";
import type { AreaResult, TortureContext } from "../harness.ts";

/** Every target, in table order. */
export async function runTargets(ctx: TortureContext): Promise<TargetRun[]> {
  const corpus = await createCorpus();
  try {
    const runs: TargetRun[] = [];
    runs.push(await fuzzMetricsJson(ctx, corpus));
    runs.push(await fuzzJournalLines(ctx, corpus));
    runs.push(await fuzzPriceTables(ctx, corpus));
    runs.push(await fuzzStoreIngest(ctx, corpus));
    runs.push(await fuzzCliArguments(ctx, corpus));
    runs.push(await fuzzHttpParameters(ctx, corpus));
    return runs;
  } finally {
    corpus.remove();
  }
}

export async function run(ctx: TortureContext): Promise<AreaResult[]> {
  return (await runTargets(ctx)).map((r) => r.tally.result());
}
