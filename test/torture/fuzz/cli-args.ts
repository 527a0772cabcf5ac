/**
 * CLI arguments: mutants of real command lines, and generated argv arrays for every command
 * (its own flags with hostile values, unknown flags, `--help`, stray positionals). Every run must
 * end with exit code 0–3 and no error other than a `MetricsError` ("unexpected error" on stderr).
 *
 * Kept away from the machine: `--dir` always names the fuzz folder, `--store` a file in it (or
 * `:memory:`), `serve` binds loopback port 0 and stops at once, `demo` gets an invalid id, and
 * `--otlp` gets no reachable address.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { OptionSpecs } from "../../../src/cli/args.ts";
import { COMMANDS, runCli } from "../../../src/cli/commands.ts";
import type { CliResult } from "../../../src/cli/context.ts";
import type { TortureContext } from "../harness.ts";
import { AreaTally, rng } from "../harness.ts";
import { caseSeed, type FuzzCase, runCases, split, type TargetRun } from "./common.ts";
import type { Corpus } from "./corpus.ts";
import { hostileString, samples } from "./generators.ts";
import { int, mutate, pick, type Random } from "./mutators.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FLAG_VALUES = [
  "0",
  "1",
  "-1",
  "10",
  "9007199254740993",
  "1e3",
  "",
  "tool",
  "llm",
  "model,tool",
  "day,day",
];
const INVALID_IDS = ["", "..", "../x", "-x", "con", "a/b", "x".repeat(200), "%00", "a\u0000"];

/** The command lines a user would type (`ID` is the recorded session). */
function realLines(id: string): string[][] {
  return [
    ["list"],
    ["list", "--sort", "cost", "--reverse", "--limit", "2", "--json"],
    ["show", id],
    ["show", id, "--json"],
    ["turns", id, "--csv"],
    ["aggregate", id, "--json"],
    ["verify", id],
    ["report", "--by", "model,tool", "--kind", "tool", "--since", "2026-11-22", "--csv"],
    ["report", "--by", "day", "--until", "1900000000000"],
    ["ingest", "--store", ":memory:", "--json"],
    ["export", id, "--prom"],
    ["prices", "gpt-4o", "--provider", "openai", "--at", "2026-01-01", "--json"],
    ["prices", "--unpriced", "--csv"],
    ["help", "report"],
    ["report", "--help"],
    ["--version"],
  ];
}

/** Pins the values that would reach outside the fuzz folder (see the header). */
export function confine(argv: string[], dir: string, random: Random): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = arg.replace(/=.*$/s, "");
    if (flag === "--dir") {
      if (!arg.includes("=")) i++;
      continue;
    }
    if (flag === "--store" || flag === "--otlp" || flag === "--host" || flag === "--port") {
      const value = {
        "--store": [":memory:", join(dir, "fuzz.db"), join(dir, "missing", "deeper", "x.db")],
        "--otlp": ["not a url", "", "ftp://127.0.0.1:1/", "http://[::1"],
        "--host": ["127.0.0.1"],
        "--port": ["0", "-1", "65536", "x"],
      }[flag];
      out.push(flag, pick(random, value));
      if (!arg.includes("=")) i++;
      continue;
    }
    out.push(arg);
  }
  const command = out.find((a) => !a.startsWith("-"));
  // demo records for real (hundreds of ms of simulated work): only with an id it refuses.
  if (command === "demo") out.push("--id", pick(random, INVALID_IDS));
  return ["--dir", dir, ...out];
}

function mutateLine(seed: number, lines: readonly string[][]): string[] {
  const random = rng(seed);
  const argv = [...pick(random, lines)];
  for (let n = 1 + int(random, 2); n > 0; n--) {
    const at = int(random, argv.length + 1);
    switch (int(random, 5)) {
      case 0: // an argument's bytes mutated
        if (argv.length > 0)
          argv[at % argv.length] = decoder.decode(
            mutate(seed + n, [encoder.encode(argv[at % argv.length]!)]),
          );
        break;
      case 1:
        argv.splice(at, 1);
        break;
      case 2:
        argv.splice(at, 0, argv[int(random, argv.length)] ?? "--json");
        break;
      case 3:
        argv.splice(
          at,
          0,
          pick(random, ["--", "-h", "--help", "--json", "--csv", "--nope", "-x", "--limit", "--by="]),
        );
        break;
      default:
        argv.splice(at, 0, pick(random, FLAG_VALUES));
    }
  }
  return argv;
}

function optionsOf(name: string): OptionSpecs {
  return COMMANDS.find((c) => c.name === name)?.options ?? {};
}

/** An argv for one command: its flags (values hostile), format flags, positionals, junk. */
function argvFor(id: string): fc.Arbitrary<string[]> {
  const names = [...COMMANDS.map((c) => c.name), "help", "nope", ""];
  return fc.constantFrom(...names).chain((name) => {
    const flags = [...Object.keys(optionsOf(name)), "json", "csv", "help", "version", "dir"];
    const value = fc.oneof(fc.constantFrom(...FLAG_VALUES, id), hostileString);
    const flag = fc
      .tuple(fc.constantFrom(...flags), value, fc.constantFrom("space", "equals", "bare"))
      .map(([f, v, how]) =>
        how === "space" ? [`--${f}`, v] : how === "equals" ? [`--${f}=${v}`] : [`--${f}`],
      );
    const positional = fc.oneof(fc.constantFrom(id, "gpt-4o", ...INVALID_IDS), hostileString).map((p) => [p]);
    const junk = fc.constantFrom(["--nope"], ["-z"], ["--"], ["-h"], ["--json", "--csv"]);
    const parts = fc.array(
      fc.oneof({ weight: 3, arbitrary: flag }, { weight: 2, arbitrary: positional }, junk),
      {
        maxLength: 4,
      },
    );
    return parts.map((p) => (name === "" ? p.flat() : [name, ...p.flat()]));
  });
}

export async function fuzzCliArguments(ctx: TortureContext, corpus: Corpus): Promise<TargetRun> {
  const tally = new AreaTally("fuzz: CLI arguments");
  const { mutations, generated } = split(1_000 * ctx.factor);
  const dir = corpus.scratch("cli");
  cpSync(join(corpus.dir, corpus.sessionId), join(dir, corpus.sessionId), { recursive: true });
  const lines = realLines(corpus.sessionId);
  const generatedSeed = caseSeed(ctx.seed, 5, 0);
  const argvs = samples(argvFor(corpus.sessionId), generatedSeed, generated);
  const stopped = AbortSignal.abort();
  const env = { NO_COLOR: "1" };
  const oracle = (r: CliResult): string | undefined => {
    if (![0, 1, 2, 3].includes(r.code)) return `exit code ${r.code}`;
    if (r.err.includes("unexpected error")) return `stderr: ${r.err.slice(0, 200)}`;
    return undefined;
  };
  function* cases(): Generator<FuzzCase<CliResult>> {
    for (let i = 0; i < mutations + argvs.length; i++) {
      const generatedCase = i >= mutations;
      const seed = generatedCase ? generatedSeed : caseSeed(ctx.seed, 5, i + 1);
      const raw = generatedCase ? argvs[i - mutations]! : mutateLine(seed, lines);
      const argv = confine(raw, dir, rng(seed + i));
      yield {
        seed: generatedCase ? `fc:${generatedSeed}#${i - mutations}` : `mut:${seed}`,
        run: () => runCli(argv, { env, signal: stopped }),
        oracle: (r) => {
          const wrong = oracle(r);
          return wrong === undefined
            ? undefined
            : `${wrong} for ${JSON.stringify(argv.slice(2)).slice(0, 200)}`;
        },
      };
    }
  }
  const outcomes = await runCases(tally, cases());
  return { tally, outcomes };
}
