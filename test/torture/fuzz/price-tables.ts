/**
 * Price tables: mutants of real price table files through `createPriceTable(path)` and
 * `loadPriceTable`, and generated entries through `createPriceTable(entries)`. A table that loads
 * must price every model it names, and any other, to a finite cost ≥ 0 or to nothing.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { PriceTable } from "../../../src/index.ts";
import { BUILTIN_PRICES, createPriceTable, loadPriceTable } from "../../../src/index.ts";
import type { TortureContext } from "../harness.ts";
import { AreaTally } from "../harness.ts";
import { caseSeed, type FuzzCase, runCases, split, type TargetRun } from "./common.ts";
import type { Corpus } from "./corpus.ts";
import { hostileString, samples } from "./generators.ts";
import { mutate } from "./mutators.ts";

const encoder = new TextEncoder();

/** Real tables: part of the built-in one, and a hand-written one with every kind of entry. */
function donors(): Uint8Array[] {
  const builtin = { asOf: BUILTIN_PRICES.asOf, entries: BUILTIN_PRICES.entries.slice(0, 12) };
  const handWritten = [
    { model: "my-model", rates: { input: 1.25, output: 10, cacheRead: 0.125 }, provider: "acme" },
    { pattern: "claude-sonnet-4*", from: "2025-06-10", rates: { input: 3, output: 15 } },
    { pattern: "/^gpt-4o(-mini)?$/i", until: "2030-01-01T00:00:00Z", rates: { input: 2.5, output: 10 } },
    {
      model: "long",
      rates: { input: 1, output: 2, cacheWrite: 1.5, reasoning: 3 },
      longContext: { aboveInputTokens: 200_000, rates: { input: 2, output: 4 } },
      note: "tiered",
    },
  ];
  return [JSON.stringify(builtin, null, 2), JSON.stringify(handWritten)].map((t) => encoder.encode(t));
}

const rate = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 0, max: 100, noNaN: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      -0,
      -1,
      1e-9,
      1e6,
      1e300,
      Number.MAX_VALUE,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ),
  },
  fc.constantFrom("1", null, true, [], {}),
);
const rates = fc.record(
  { input: rate, output: rate, cacheRead: rate, cacheWrite: rate, reasoning: rate },
  { requiredKeys: ["input", "output"] },
);
const instant = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    "2025-06-10",
    "2025-02-30",
    "2025-06-10T00:00:00",
    "tomorrow",
    "",
    "+275760-09-13T00:00:00Z",
  ),
  hostileString,
);
const pattern = fc.oneof(
  fc.constantFrom("gpt-*", "claude-?-*", "*", "?", "/(/", "/a+/g", "/^x$/y", "/.*/s", "/[/", "//", "/x/zz"),
  hostileString,
);
const entry = fc.record(
  {
    model: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("m", "gpt-4o", "claude-sonnet-4") },
      hostileString,
    ),
    pattern,
    from: instant,
    until: instant,
    rates,
    longContext: fc.record({ aboveInputTokens: fc.oneof(fc.nat(), fc.double()), rates }),
    provider: hostileString,
    note: hostileString,
    __proto__: fc.constant({ polluted: 1 }),
  },
  { requiredKeys: ["rates"] },
);
const junk = fc.oneof(fc.constantFrom(null, 0, true, {}, { entries: null }), fc.anything({ maxDepth: 2 }));
const source = fc.oneof(
  { weight: 4, arbitrary: fc.array(entry, { maxLength: 4 }) },
  { weight: 2, arbitrary: fc.record({ asOf: instant, entries: fc.array(entry, { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.array(junk, { maxLength: 3 }) },
  { weight: 1, arbitrary: junk },
);

const USAGES = [
  { promptTokens: 1_000, completionTokens: 100 },
  { promptTokens: 300_000, completionTokens: 5_000, cacheReadTokens: 100_000, reasoningTokens: 1_000 },
  { promptTokens: 0, completionTokens: 0 },
];
const AT = [undefined, "2025-01-01T00:00:00Z", "2026-06-01", Date.UTC(2031, 0, 1)];

/** Prices every model the table names (and two it does not); costs must be finite and ≥ 0. */
function checkTable(table: PriceTable): string | undefined {
  const models = table.entries.map((e) => e.model).filter((m): m is string => m !== undefined);
  for (const model of [...models, "gpt-4o", "claude-sonnet-4-5", "unknown/model"])
    for (const usage of USAGES)
      for (const at of AT) {
        const cost = table.estimateCost(model, usage, at);
        if (cost !== undefined && !(Number.isFinite(cost) && cost >= 0))
          return `prices ${JSON.stringify(model)} at ${String(at)} to ${cost}`;
      }
  return undefined;
}

export async function fuzzPriceTables(ctx: TortureContext, corpus: Corpus): Promise<TargetRun> {
  const tally = new AreaTally("fuzz: price tables");
  const { mutations, generated } = split(1_000 * ctx.factor);
  const folder = corpus.scratch("prices");
  const files = donors();
  const generatedSeed = caseSeed(ctx.seed, 3, 0);
  const sources = samples(source, generatedSeed, generated);
  function* cases(): Generator<FuzzCase<PriceTable>> {
    for (let i = 0; i < mutations; i++) {
      const seed = caseSeed(ctx.seed, 3, i + 1);
      const path = join(folder, `p${i}.json`);
      writeFileSync(path, mutate(seed, files, i % 2 === 0));
      yield {
        seed: `mut:${seed}`,
        run: () => (i % 3 === 0 ? loadPriceTable(path, { builtin: false }) : createPriceTable(path)),
        oracle: checkTable,
      };
    }
    for (let i = 0; i < sources.length; i++) {
      const given = sources[i] as Parameters<typeof createPriceTable>[0];
      yield {
        seed: `fc:${generatedSeed}#${i}`,
        // A string source is a path: generated strings are read as (missing) files, harmlessly.
        run: () => createPriceTable(given, { builtin: i % 2 === 0 }),
        oracle: checkTable,
      };
    }
  }
  const outcomes = await runCases(tally, cases());
  return { tally, outcomes };
}
