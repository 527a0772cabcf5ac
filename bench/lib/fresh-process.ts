/**
 * The core suite's tables measured in fresh `bun` children: importing the package root, the first
 * priced LLM call, and the CPU of a process that holds an open collector while idle.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { atMost, formatValue, median, type Table, verdict } from "./measure.ts";
import { importCosts, runChildren } from "./system.ts";

const ROOT = new URL("../../src/index.ts", import.meta.url).href;
const FIRST_CALL_RUNS = 7;
const IDLE_SECONDS = 10;
const IDLE_PAIRS = 3;

const log = (message: string) => process.stderr.write(`[core] ${message}\n`);

export function importTable(dir: string): Table {
  log("import cost of the package root");
  const empty = join(dir, "empty.ts");
  writeFileSync(empty, "export {};\n");
  // The root with zod imported beside it: what the root would cost if zod were not loaded on first use.
  const withZod = join(dir, "root-and-zod.ts");
  const zod = Bun.pathToFileURL(Bun.resolveSync("zod", import.meta.dir)).href;
  writeFileSync(withZod, `import ${JSON.stringify(ROOT)};\nimport ${JSON.stringify(zod)};\n`);
  const [pkg, baseline, eager] = importCosts(
    [ROOT, Bun.pathToFileURL(empty).href, Bun.pathToFileURL(withZod).href],
    9,
  );
  return {
    title: "Start-up — ms spent in `await import()` in a fresh bun process (median of 9 processes)",
    unit: "ms",
    subject: { key: "ours", label: "package root (src/index.ts)" },
    baselines: [
      { key: "empty", label: "an empty module" },
      { key: "zod", label: "the root and zod" },
    ],
    rows: [
      {
        label: "import, CPU time (all threads of the child)",
        values: { ours: pkg!.cpuMs, empty: baseline!.cpuMs, zod: eager!.cpuMs },
        noRatio: true,
        targets: [atMost(pkg!.cpuMs, 30, "ms")],
      },
      {
        label: "import, wall time",
        values: { ours: pkg!.wallMs, empty: baseline!.wallMs, zod: eager!.wallMs },
        noRatio: true,
      },
    ],
    notes: [
      "Timed inside the child, so process start-up is excluded. The target is judged on CPU time, which a busy machine does not inflate; on an idle machine wall time is about the same.",
      "zod is still loaded on first use (`src/core/lazy-zod.ts`: a file, a user price table or an invocation is validated); the last column is the root with zod imported eagerly beside it.",
    ],
  };
}

interface FirstCall {
  first: number;
  second: number;
  cost: number;
  calls: number;
}

/**
 * A fresh child that imports the package root, opens a collector (journal off) and times its first
 * two `recordLLMInteraction` calls (wall, `performance.now()`); `cost` is the source of the
 * cost argument (`undefined`: priced from the built-in table).
 */
function firstCallChild(dir: string, sessionId: string, cost: string): string {
  return [
    `const { Collector } = await import(${JSON.stringify(ROOT)});`,
    `const c = new Collector({ sessionId: ${JSON.stringify(sessionId)}, sessionsDir: ${JSON.stringify(dir)}, journal: false });`,
    "const usage = { promptTokens: 1000, completionTokens: 100 };",
    "let t = performance.now();",
    `c.recordLLMInteraction("execute", usage, ${cost}, { model: "gpt-4o" });`,
    "const first = performance.now() - t;",
    "t = performance.now();",
    `c.recordLLMInteraction("execute", usage, ${cost}, { model: "gpt-4o" });`,
    "const second = performance.now() - t;",
    "const llm = c.snapshot().llms[0];",
    "await c.stop();",
    "console.log(JSON.stringify({ first, second, cost: llm?.cost ?? 0, calls: llm?.interactionCount ?? 0 }));",
  ].join("\n");
}

export async function firstCallTable(dir: string): Promise<Table> {
  log(`first priced LLM call: ${FIRST_CALL_RUNS} fresh processes each, priced and with a cost given`);
  const priced: FirstCall[] = [];
  const given: FirstCall[] = [];
  // Run -1 warms the disk cache; the two kinds alternate so that drift hits both alike.
  for (let r = -1; r < FIRST_CALL_RUNS; r++) {
    const [p] = await runChildren<FirstCall>([firstCallChild(dir, `first-priced-${r + 1}`, "undefined")]);
    const [g] = await runChildren<FirstCall>([firstCallChild(dir, `first-given-${r + 1}`, "0.0035")]);
    if (!(p!.out.cost > 0) || p!.out.calls !== 2) throw new Error("the first priced call was not priced");
    if (g!.out.cost !== 0.007 || g!.out.calls !== 2) throw new Error("the calls with a cost lost it");
    if (r < 0) continue;
    priced.push(p!.out);
    given.push(g!.out);
  }
  const first = median(priced.map((c) => c.first));
  return {
    title: `First priced LLM call — wall ms of \`recordLLMInteraction\` in a fresh bun process (median of ${FIRST_CALL_RUNS} processes)`,
    unit: "ms",
    subject: { key: "ours", label: "first call, priced (gpt-4o, built-in table)" },
    baselines: [
      { key: "second", label: "second call, same process" },
      { key: "given", label: "first call with a cost given (no pricing), another process" },
    ],
    rows: [
      {
        label: "recordLLMInteraction, 1,000 + 100 tokens",
        values: {
          ours: first,
          second: median(priced.map((c) => c.second)),
          given: median(given.map((c) => c.first)),
        },
        targets: [atMost(first, 5, "ms")],
      },
    ],
    notes: [
      `Each child imports the package root and opens a collector with the journal off, then times \`recordLLMInteraction("execute", {promptTokens: 1000, completionTokens: 100}, cost, {model: "gpt-4o"})\` twice; the first call pays for building the built-in price table and for code the JIT has not seen yet.`,
      `Second priced call, median: ${formatValue(median(priced.map((c) => c.second)), "ms")}; first call with a cost given: ${formatValue(median(given.map((c) => c.first)), "ms")}, its second ${formatValue(median(given.map((c) => c.second)), "ms")}.`,
    ],
  };
}

interface IdleWindow {
  /** CPU of the child (all threads, user + system) over the idle window, ms, from getrusage. */
  cpuMs: number;
  wallMs: number;
}

/** The child's own getrusage over `seconds` of sleep, printed as JSON. */
function idleWindow(seconds: number, before: string[], after: string[]): string {
  return [
    ...before,
    "const u0 = process.cpuUsage(); const t0 = performance.now();",
    `await Bun.sleep(${seconds * 1000});`,
    "const u = process.cpuUsage(u0); const wallMs = performance.now() - t0;",
    ...after,
    "console.log(JSON.stringify({ cpuMs: (u.user + u.system) / 1000, wallMs }));",
  ].join("\n");
}

export async function idleTable(dir: string): Promise<Table> {
  log(
    `idle: ${IDLE_PAIRS} processes each holding an open collector, importing the root only, and bare, ${IDLE_SECONDS} s, all at once`,
  );
  const ours = (i: number) =>
    idleWindow(
      IDLE_SECONDS,
      [
        `const { Collector } = await import(${JSON.stringify(ROOT)});`,
        `const c = new Collector({ sessionId: "idle-${i}", sessionsDir: ${JSON.stringify(dir)} });`,
        `for (let i = 0; i < 10; i++) c.recordToolCall("Read", true, 5);`,
      ],
      ["await c.stop();"],
    );
  const imported = idleWindow(IDLE_SECONDS, [`await import(${JSON.stringify(ROOT)});`], []);
  const bare = idleWindow(IDLE_SECONDS, [], []);
  const codes: string[] = [];
  for (let i = 0; i < IDLE_PAIRS; i++) codes.push(ours(i), imported, bare);
  const runs = await runChildren<IdleWindow>(codes);
  const oursRuns = runs.filter((_, i) => i % 3 === 0);
  const importRuns = runs.filter((_, i) => i % 3 === 1);
  const bareRuns = runs.filter((_, i) => i % 3 === 2);
  const window = (list: typeof runs) => median(list.map((r) => r.out.cpuMs));
  const whole = (list: typeof runs) => median(list.map((r) => r.cpuMs));
  const wallMs = median(runs.map((r) => r.out.wallMs));
  const perProcess = (list: typeof runs) => list.map((r) => r.out.cpuMs.toFixed(2)).join(" / ");
  const share = (100 * (window(oursRuns) - window(bareRuns))) / wallMs;
  return {
    title: `Idle — CPU of a process holding an open collector for ${IDLE_SECONDS} s (median of ${IDLE_PAIRS} processes)`,
    unit: "ms",
    subject: { key: "ours", label: "open collector, journal on" },
    baselines: [
      { key: "imported", label: "the root imported, no collector" },
      { key: "bare", label: `bare process (\`await Bun.sleep(${IDLE_SECONDS * 1000})\`)` },
    ],
    rows: [
      {
        label: `CPU over the ${IDLE_SECONDS} s (getrusage in the child, all threads, user + system)`,
        values: { ours: window(oursRuns), imported: window(importRuns), bare: window(bareRuns) },
        noRatio: true,
        targets: [verdict(`≤ 0.1% of a core beyond the bare process (${share.toFixed(3)}%)`, share <= 0.1)],
      },
      {
        label: "CPU of the whole child (start-up, import, open, stop, exit), from the OS after exit",
        values: { ours: whole(oursRuns), imported: whole(importRuns), bare: whole(bareRuns) },
        noRatio: true,
      },
    ],
    notes: [
      `The collector child opens a session with the journal on (durability \`group\`), records 10 tool calls and sleeps; the window starts right after the records, so their group write and fsync fall inside it. All ${3 * IDLE_PAIRS} children run at once (they sleep, so they do not compete).`,
      "The window is read with `process.cpuUsage()` (getrusage, µs resolution) in the child: the whole child's figure includes start-up, and /proc/<pid>/stat counts in 10 ms ticks, the whole budget over 10 s.",
      `Per process, window CPU (ms): collector ${perProcess(oursRuns)}; root imported ${perProcess(importRuns)}; bare ${perProcess(bareRuns)}. The middle column tells what is the collector's own and what is the runtime's upkeep of a heap with the package loaded (GC and JIT timers).`,
    ],
  };
}
