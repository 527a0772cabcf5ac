/**
 * Issue 2's benchmark: the core Collector's record*(), snapshot() and flush() against the same
 * workload through @opentelemetry/sdk-metrics, prom-client and a line-by-line port of the Go
 * collector, plus memory, event-loop stalls and the import cost of the package root.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../src/core/go-document.ts";
import { Collector, type Usage } from "../src/index.ts";
import { BareMapFloor } from "./baselines/bare-map.ts";
import { GoCollector } from "./baselines/go-port.ts";
import { PromToolRecorder } from "./baselines/prom-client.ts";
import { OtelToolRecorder } from "./baselines/sdk-metrics.ts";
import {
  atMost,
  type Body,
  calibrateOps,
  fasterBy,
  formatValue,
  measureAsync,
  measureSync,
  SYNC_CLOCK,
  type SyncResult,
  type Table,
  verdict,
} from "./lib/measure.ts";
import { diskTempDir, heapAfterGC, importCosts, longestTimerGap } from "./lib/system.ts";

const RECORD_OPS = 5_000_000;
const ROUNDS = 5;
const FLUSHES = 50;
const MiB = 1024 * 1024;

const TOOLS_20 = [
  "Read",
  "Write",
  "Edit",
  "MultiEdit",
  "Bash",
  "Grep",
  "Glob",
  "LS",
  "WebFetch",
  "WebSearch",
  "TodoWrite",
  "Task",
  "NotebookEdit",
  "NotebookRead",
  "ExitPlanMode",
  "BashOutput",
  "KillShell",
  "mcp__github__create_issue",
  "mcp__github__get_file",
  "mcp__postgres__query",
];
const TOOLS_2000 = Array.from({ length: 2000 }, (_, i) => `mcp__server_${i % 40}__tool_${i}`);
const PHASES_20 = Array.from({ length: 20 }, (_, i) => `phase_${i}`);
const PHASES_8 = ["plan", "explore", "design", "implement", "test", "heal", "review", "ship"];
/** Varied durations, some fractional, so rounding and summing do real work. */
const DURATIONS = [3, 12, 40, 7.4, 120, 1, 15, 33, 2, 480, 9, 61, 5.5, 18, 250, 4];
const USAGE: Usage = { promptTokens: 1200, completionTokens: 300, totalTokens: 1500 };

const log = (message: string) => process.stderr.write(`[core] ${message}\n`);

/** The core as issue 2 defines it: journal off (Go's behaviour: state reaches disk only by flush). */
function core(sessionId: string, sessionsDir: string): Collector {
  return new Collector({ sessionId, sessionsDir, journal: false });
}

// One loop per subject, so each call site in the hot loop sees one receiver type (monomorphic).

function collectorTools(c: Collector, names: readonly string[]): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      c.recordToolCall(names[j]!, true, DURATIONS[i & 15]!);
      if (++j === names.length) j = 0;
    }
  };
}

function goTools(c: GoCollector, names: readonly string[]): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      c.recordToolCall(names[j]!, true, DURATIONS[i & 15]!);
      if (++j === names.length) j = 0;
    }
  };
}

function floorTools(f: BareMapFloor, names: readonly string[]): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      f.recordToolCall(names[j]!, true, DURATIONS[i & 15]!);
      if (++j === names.length) j = 0;
    }
  };
}

function otelTools(r: OtelToolRecorder, names: readonly string[]): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      r.recordToolCall(names[j]!, true, DURATIONS[i & 15]!);
      if (++j === names.length) j = 0;
    }
  };
}

function promTools(r: PromToolRecorder, names: readonly string[]): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      r.recordToolCall(names[j]!, true, DURATIONS[i & 15]!);
      if (++j === names.length) j = 0;
    }
  };
}

function collectorLLM(c: Collector): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      c.recordLLMInteraction(PHASES_20[j]!, USAGE, 0.0123);
      if (++j === 20) j = 0;
    }
  };
}

function goLLM(c: GoCollector): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      c.recordLLMInteraction(PHASES_20[j]!, USAGE, 0.0123);
      if (++j === 20) j = 0;
    }
  };
}

function collectorPhases(c: Collector): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      c.recordPhaseTransition(PHASES_20[j]!);
      if (++j === 20) j = 0;
    }
  };
}

function goPhases(c: GoCollector): Body {
  return (ops) => {
    for (let i = 0, j = 0; i < ops; i++) {
      c.recordPhaseTransition(PHASES_20[j]!);
      if (++j === 20) j = 0;
    }
  };
}

/** The fast path at the full op count; baselines calibrated to ~0.4 s a round (they are slower). */
function fast(body: Body): SyncResult {
  return measureSync(body, { ops: RECORD_OPS, rounds: ROUNDS });
}

function calibrated(body: Body, maxOps = RECORD_OPS): SyncResult {
  const ops = calibrateOps(body, { roundMs: 400, maxOps, minOps: 1 });
  return measureSync(body, { ops, rounds: ROUNDS });
}

/** A session shaped like a real one: tools, 8 phases with heals and durations, 3 LLM phases. */
function populate(c: Collector | GoCollector, tools: readonly string[]): void {
  for (let i = 0; i < tools.length * 3; i++) c.recordToolCall(tools[i % tools.length]!, i % 7 !== 0, 10 + i);
  for (const [i, phase] of PHASES_8.entries()) {
    c.recordPhaseTransition(phase);
    c.recordPhaseDuration(phase, 1000 * (i + 1), true);
    if (i % 3 === 0) c.recordHealTrigger(phase);
    if (i < 3) c.recordLLMInteraction(phase, USAGE, 0.0123);
  }
}

/** Wall-clock medians of session-metrics' rows, for comparison with the CPU-time figures. */
function wallNote(results: readonly SyncResult[]): string {
  const figures = results.map((r) => formatValue(r.wallNsPerOp, "ns")).join(" / ");
  return `session-metrics in wall time (rows in order; inflated when other processes compete for the CPU): ${figures}`;
}

function opsNote(name: string, results: readonly SyncResult[]): string {
  return `${name}: ${results.map((r) => r.opsPerRound.toLocaleString("en-US")).join(" / ")} ops × ${ROUNDS} rounds`;
}

async function recordTable(dir: string): Promise<Table> {
  const c20 = core("rec-20", dir);
  const c2000 = core("rec-2000", dir);
  const cLLM = core("rec-llm", dir);
  const cPhase = core("rec-phase", dir);
  log("recordToolCall, session-metrics");
  const m20 = fast(collectorTools(c20, TOOLS_20));
  const m2000 = fast(collectorTools(c2000, TOOLS_2000));
  log("recordLLMInteraction / recordPhaseTransition, session-metrics");
  const mLLM = fast(collectorLLM(cLLM));
  const mPhase = fast(collectorPhases(cPhase));
  for (const c of [c20, c2000, cLLM, cPhase]) await c.stop();

  log("bare Map floor");
  const floor = [new BareMapFloor(), new BareMapFloor()] as const;
  const f20 = fast(floorTools(floor[0], TOOLS_20));
  const f2000 = fast(floorTools(floor[1], TOOLS_2000));
  if (floor[0].size !== 20 || floor[1].size !== 2000) throw new Error("the floor lost tools");

  log("Go port");
  const g20 = calibrated(goTools(new GoCollector("g20", dir), TOOLS_20));
  const g2000 = calibrated(goTools(new GoCollector("g2000", dir), TOOLS_2000));
  const gLLM = calibrated(goLLM(new GoCollector("gllm", dir)));
  const gPhase = calibrated(goPhases(new GoCollector("gphase", dir)));

  log("@opentelemetry/sdk-metrics");
  const otel = [new OtelToolRecorder(), new OtelToolRecorder()] as const;
  const o20 = calibrated(otelTools(otel[0], TOOLS_20));
  const o2000 = calibrated(otelTools(otel[1], TOOLS_2000));
  const otelPoints = [await otel[0].close(), await otel[1].close()];

  log("prom-client");
  const prom = [new PromToolRecorder(), new PromToolRecorder()] as const;
  const p20 = calibrated(promTools(prom[0], TOOLS_20));
  const p2000 = calibrated(promTools(prom[1], TOOLS_2000));
  await prom[0].close();
  await prom[1].close();

  const toolRow = (
    label: string,
    o: SyncResult,
    f: SyncResult,
    g: SyncResult,
    s: SyncResult,
    p: SyncResult,
  ) => ({
    label,
    values: { ours: o.nsPerOp, floor: f.nsPerOp, go: g.nsPerOp, otel: s.nsPerOp, prom: p.nsPerOp },
    targets: [
      atMost(o.nsPerOp, 20, "ns"),
      fasterBy(o.nsPerOp, s.nsPerOp, 15, "sdk-metrics"),
      fasterBy(o.nsPerOp, p.nsPerOp, 15, "prom-client"),
    ],
  });
  return {
    title: `record*() — ns per call (median of ${ROUNDS} rounds, ${SYNC_CLOCK}; lower is better)`,
    unit: "ns",
    subject: { key: "ours", label: "session-metrics" },
    baselines: [
      { key: "floor", label: "bare Map floor" },
      { key: "go", label: "Go port" },
      { key: "otel", label: "sdk-metrics" },
      { key: "prom", label: "prom-client" },
    ],
    rows: [
      toolRow("recordToolCall, 20 tools", m20, f20, g20, o20, p20),
      toolRow("recordToolCall, 2,000 tools", m2000, f2000, g2000, o2000, p2000),
      { label: "recordLLMInteraction, 20 phases", values: { ours: mLLM.nsPerOp, go: gLLM.nsPerOp } },
      { label: "recordPhaseTransition, 20 phases", values: { ours: mPhase.nsPerOp, go: gPhase.nsPerOp } },
    ],
    notes: [
      `Every subject gets the same calls: names cycle in order; durations cycle through ${DURATIONS.join(", ")} ms (two fractional, as \`performance.now()\` differences are); success always true.`,
      "bare Map floor: one Map lookup and three additions (no validation, clock or rounding): what this machine allows at the least.",
      "sdk-metrics / prom-client: a Counter `add(1, {tool})` / `inc({tool})` plus a Histogram `record` / `observe` per call (default buckets); a MeterProvider with a pull reader / a private Registry.",
      opsNote("session-metrics", [m20, m2000, mLLM, mPhase]) + "; bare Map floor the same",
      wallNote([m20, m2000, mLLM, mPhase]),
      opsNote("Go port (calibrated to ~0.4 s a round)", [g20, g2000, gLLM, gPhase]),
      opsNote("sdk-metrics (calibrated)", [o20, o2000]) + `; ${otelPoints.join(" + ")} data points collected`,
      opsNote("prom-client (calibrated)", [p20, p2000]),
    ],
  };
}

async function snapshotAndFlushTables(dir: string): Promise<Table[]> {
  log("snapshot()");
  const small = core("flush-20", dir);
  const big = core("flush-2000", dir);
  const goSmall = new GoCollector("go-flush-20", dir);
  const goBig = new GoCollector("go-flush-2000", dir);
  populate(small, TOOLS_20);
  populate(big, TOOLS_2000);
  populate(goSmall, TOOLS_20);
  populate(goBig, TOOLS_2000);
  let sink = 0;
  const snap = calibrated((ops) => {
    for (let i = 0; i < ops; i++) sink += small.snapshot().tools.length;
  }, 1_000_000);
  const clone = calibrated((ops) => {
    for (let i = 0; i < ops; i++) sink += structuredClone(goSmall.metrics).tools.length;
  }, 1_000_000);

  log("flush()");
  const flushOf = (c: Collector) => () => {
    c.recordToolCall("Read", true, 5); // every flush writes changed data
    return c.flush();
  };
  const goFlushOf = (c: GoCollector) => () => {
    c.recordToolCall("Read", true, 5);
    c.flush();
  };
  const f20 = await measureAsync(flushOf(small), { samples: FLUSHES });
  const f2000 = await measureAsync(flushOf(big), { samples: FLUSHES });
  const gf20 = await measureAsync(goFlushOf(goSmall), { samples: FLUSHES });
  const gf2000 = await measureAsync(goFlushOf(goBig), { samples: FLUSHES });
  const encode = calibrated((ops) => {
    for (let i = 0; i < ops; i++) sink += encodeMetrics(big.snapshot()).length;
  }, 10_000);
  const stringify = calibrated((ops) => {
    for (let i = 0; i < ops; i++) sink += JSON.stringify(goBig.metrics, null, 2).length;
  }, 10_000);

  log("event-loop stall while flushing");
  const stall = await longestTimerGap(async () => {
    for (let i = 0; i < FLUSHES; i++) await flushOf(big)();
  });
  const idle = await longestTimerGap(() => Bun.sleep(Math.max(50, f2000.ms * FLUSHES)));
  const goStall = await longestTimerGap(async () => {
    for (let i = 0; i < FLUSHES; i++) {
      goFlushOf(goBig)();
      await Bun.sleep(1); // the Go port's flush is synchronous: yield so the ticker can run at all
    }
  });
  await small.stop();
  await big.stop();
  if (sink === 0) throw new Error("unreachable: keeps the loops' results alive");

  return [
    {
      title: `snapshot() — ns per call (20 tools, 8 phases, 3 LLM phases; ${SYNC_CLOCK})`,
      unit: "ns",
      subject: { key: "ours", label: "session-metrics" },
      baselines: [{ key: "clone", label: "structuredClone(Go port's object)" }],
      rows: [{ label: "snapshot()", values: { ours: snap.nsPerOp, clone: clone.nsPerOp } }],
      notes: [
        "The Go collector has no snapshot; a generic deep copy of its object is the nearest reference.",
        opsNote("ops per round", [snap, clone]),
        wallNote([snap]),
      ],
    },
    {
      title: `flush() — ms per flush (median of ${FLUSHES}; lower is better)`,
      unit: "ms",
      subject: { key: "ours", label: "session-metrics (temp + fsync + rename + dir fsync)" },
      baselines: [{ key: "go", label: "Go port (writeFileSync, no fsync)" }],
      rows: [
        { label: "flush(), 20 tools", values: { ours: f20.ms, go: gf20.ms } },
        {
          label: "flush(), 2,000 tools",
          values: { ours: f2000.ms, go: gf2000.ms },
          targets: [atMost(f2000.ms, 3, "ms")],
        },
        {
          label: `of which on the event loop: snapshot + encode, 2,000 tools (${SYNC_CLOCK})`,
          values: { ours: encode.nsPerOp / 1e6, go: stringify.nsPerOp / 1e6 },
        },
      ],
      notes: [
        `Files written to a temporary folder on a disk-backed filesystem (not tmpfs); each flush follows one new record, so every write carries changed data.`,
        "The event-loop row is the synchronous part of a flush (Go port: JSON.stringify with indent); flush rows are wall time and include fsync.",
      ],
    },
    {
      title: `Event loop — longest gap between ticks of a 1 ms setInterval over ${FLUSHES} flushes, 2,000 tools`,
      unit: "ms",
      subject: { key: "ours", label: "session-metrics flush()" },
      baselines: [
        { key: "go", label: "Go port flush (sync, 1 ms pause between)" },
        { key: "idle", label: "idle loop (timer jitter)" },
      ],
      rows: [
        {
          label: "longest gap",
          values: { ours: stall, go: goStall, idle },
          noRatio: true,
          targets: [atMost(stall, 5, "ms")],
        },
      ],
    },
  ];
}

function memoryTable(dir: string): Table {
  log("memory: 10,000,000 records");
  /** Heap after 10,000,000 records minus heap after the first 1,000 (the body keeps its session alive). */
  const growth = (body: Body) => {
    body(1000);
    const before = heapAfterGC();
    body(10_000_000 - 1000);
    return heapAfterGC() - before;
  };
  const ours = growth(collectorTools(core("mem-growth", dir), TOOLS_20));
  const go = growth(goTools(new GoCollector("go-mem-growth", dir), TOOLS_20));

  log("memory: a 2,000-tool session");
  const held = <C extends Collector | GoCollector>(make: () => C) => {
    const before = heapAfterGC();
    const c = make();
    // Names are made here, so the session is their only holder.
    for (let i = 0; i < 2000; i++) c.recordToolCall(`mcp__server_${i % 40}__held_tool_${i}`, true, 5);
    const after = heapAfterGC();
    return { bytes: after - before, c };
  };
  const heldOurs = held(() => core("mem-held", dir));
  const heldGo = held(() => new GoCollector("go-mem-held", dir));
  if (heldOurs.c.snapshot().tools.length !== 2000 || heldGo.c.metrics.tools.length !== 2000)
    throw new Error("the 2,000-tool sessions lost tools");
  const withinMiB = Math.abs(ours) <= MiB;
  return {
    title: "Memory — JSC heap after a full GC (heapStats().heapSize, strings included)",
    unit: "bytes",
    subject: { key: "ours", label: "session-metrics" },
    baselines: [{ key: "go", label: "Go port" }],
    rows: [
      {
        label: "heap growth from 1,000 to 10,000,000 records, 20 tools",
        values: { ours, go },
        noRatio: true,
        targets: [verdict("within ± 1 MiB", withinMiB)],
      },
      {
        label: "heap held by a session with 2,000 tools",
        values: { ours: heldOurs.bytes, go: heldGo.bytes },
        targets: [atMost(heldOurs.bytes, 2 * MiB, "bytes")],
      },
    ],
  };
}

function importTable(dir: string): Table {
  log("import cost of the package root");
  const root = new URL("../src/index.ts", import.meta.url).href;
  const empty = join(dir, "empty.ts");
  writeFileSync(empty, "export {};\n");
  const [pkg, baseline] = importCosts([root, Bun.pathToFileURL(empty).href], 9);
  return {
    title: "Start-up — ms spent in `await import()` in a fresh bun process (median of 9 processes)",
    unit: "ms",
    subject: { key: "ours", label: "package root (src/index.ts)" },
    baselines: [{ key: "empty", label: "an empty module" }],
    rows: [
      {
        label: "import, CPU time (all threads of the child)",
        values: { ours: pkg!.cpuMs, empty: baseline!.cpuMs },
        noRatio: true,
        targets: [atMost(pkg!.cpuMs, 20, "ms")],
      },
      { label: "import, wall time", values: { ours: pkg!.wallMs, empty: baseline!.wallMs }, noRatio: true },
    ],
    notes: [
      "Timed inside the child, so process start-up is excluded. The target is judged on CPU time, which a busy machine does not inflate; on an idle machine wall time is about the same.",
    ],
  };
}

export async function runCore(): Promise<Table[]> {
  const tmp = diskTempDir("session-metrics-bench-", join(import.meta.dir, "..", "sessions"));
  try {
    const dir = tmp.path;
    const tables = [await recordTable(dir), ...(await snapshotAndFlushTables(dir))];
    tables.push(memoryTable(dir));
    tables.push(importTable(dir));
    return tables;
  } finally {
    tmp.remove();
  }
}
