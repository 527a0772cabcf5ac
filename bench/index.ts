/**
 * `bun run bench [-- suite ...]`: runs the benchmark suites (all, or the ones named) and prints
 * markdown tables to stdout; progress goes to stderr. Not part of `bun test`.
 *
 * To add a suite, append `{ name, run }` to `suites`: `run` measures and returns its tables.
 */
import { runCore } from "./core.bench.ts";
import { runJournal } from "./journal.bench.ts";
import { printTable, type Table, type Verdict, verdictsOf } from "./lib/measure.ts";
import { describeMachine, describeSource } from "./lib/system.ts";
import { run as runLlm } from "./llm.bench.ts";
import { runStore } from "./store.bench.ts";

export interface Suite {
  name: string;
  /** Measures and returns its tables (or, for a suite that prints its own, its verdicts). */
  run: () => Promise<Table[] | { printed: Verdict[] }>;
}

export const suites: Suite[] = [
  { name: "core", run: runCore },
  { name: "journal", run: runJournal },
  // The LLM suite prints its own table.
  { name: "llm", run: async () => ({ printed: await runLlm() }) },
  { name: "store", run: runStore },
  { name: "prices", run: async () => (await import("./prices.bench.ts")).runPrices() },
  { name: "http", run: async () => (await import("./http.bench.ts")).runHttp() },
  { name: "export", run: async () => (await import("./export.bench.ts")).runExport() },
];

async function main(argv: readonly string[]): Promise<number> {
  const wanted = argv.filter((a) => a !== "--");
  const unknown = wanted.filter((name) => !suites.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(
      `[session-metrics] [bench] unknown suite ${unknown.map((n) => JSON.stringify(n)).join(", ")}; ` +
        `available: ${suites.map((s) => s.name).join(", ")}`,
    );
    return 2;
  }
  const selected = wanted.length === 0 ? suites : suites.filter((s) => wanted.includes(s.name));

  // Issue 9: the size of src/ beside the last commit before its refactor.
  const source = describeSource("b6f0012") ?? "";
  console.log(`## session-metrics benchmarks\n\n${describeMachine()}\n${source}\n`);
  console.log(
    "Each baseline is measured in the same run; `(× ours)` is the baseline's figure ÷ session-metrics' " +
      "figure (above 1: session-metrics is faster or smaller). Targets come from DESIGN.md and the issues.\n",
  );
  const all: Table[] = [];
  const printed: Verdict[] = [];
  for (const suite of selected) {
    const started = performance.now();
    console.log(`## Suite: ${suite.name}\n`);
    const result = await suite.run();
    if (Array.isArray(result)) {
      for (const table of result) printTable(table);
      all.push(...result);
    } else printed.push(...result.printed);
    process.stderr.write(`[${suite.name}] done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }

  const verdicts = [...verdictsOf(all), ...printed];
  const missed = verdicts.filter((v) => !v.pass);
  console.log(`**Targets: ${verdicts.length - missed.length} of ${verdicts.length} met.**`);
  for (const v of missed) console.log(`- ❌ missed: ${v.text}`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
