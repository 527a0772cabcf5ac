/**
 * Issue 5's benchmark: ingest into SQLite and PostgreSQL, and `report` grouped by model and by tool
 * (with p95) over 10,000 sessions / 1,000,000 events, against a naive scan of every METRICS.json.
 *
 * The data set is generated once into a temp dir: one journal (checksummed lines, as a collector
 * writes them) and one METRICS.json per session. PostgreSQL runs when `SESSION_METRICS_PG_URL` is
 * set or under CI=true (local server); each run uses its own schema, dropped afterwards.
 * `runStore()` returns the tables (for bench/index.ts); `run()` prints them.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { type EventBody, type MetricEvent, reduce } from "../src/core/events.ts";
import { encodeMetrics } from "../src/core/go-document.ts";
import { createState, snapshotState } from "../src/core/state.ts";
import { load } from "../src/fs/metrics-file.ts";
import { encodeEventLine } from "../src/journal/line-codec.ts";
import { ingest, report } from "../src/store/index.ts";
import { createPostgresStore } from "../src/store/postgres/index.ts";
import { createSqliteStore } from "../src/store/sqlite/index.ts";
import type { MetricsStore } from "../src/store/types.ts";
import { atMost, measureAsync, printTable, type Row, type Table } from "./lib/measure.ts";
import { diskTempDir } from "./lib/system.ts";

const SESSIONS = 10_000;
const EVENTS_PER_SESSION = 100;
const TOOLS = ["Read", "Write", "Edit", "Bash", "Grep", "Glob", "WebFetch", "Task"];
const MODELS = ["claude-sonnet", "claude-haiku", "gpt-5", "gpt-5-mini"];
const AGENTS = ["planner", "coder", "reviewer", "tester", "fixer"];
const DAY = 86_400_000;
const START = Date.parse("2026-10-01T00:00:00.000Z");
const quiet = { warn() {}, error() {} };

/** A small deterministic PRNG (xorshift32), so every run measures the same data. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4_294_967_296;
  };
}

/** Writes `sessions` folders (journal + METRICS.json) under `dir`. */
export function generate(dir: string, sessions = SESSIONS): void {
  const rand = prng(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  for (let s = 0; s < sessions; s++) {
    const id = `b${String(s).padStart(5, "0")}`;
    const state = createState(id, 0);
    let ts = START + Math.floor((s / sessions) * 30 * DAY);
    const lines: string[] = [];
    const push = (seq: number, body: EventBody) => {
      const event = { ...body, v: 1, seq, ts } as MetricEvent;
      reduce(state, event);
      lines.push(encodeEventLine(event));
    };
    push(1, { type: "session_start", sessionId: id, startedAt: ts });
    for (let seq = 2; seq <= EVENTS_PER_SESSION; seq++) {
      ts += 1 + Math.floor(rand() * 2_000);
      const details = { agent: pick(AGENTS), model: pick(MODELS) };
      if (seq % 3 !== 0) {
        const durationMs = 1 + Math.floor(rand() * rand() * 5_000);
        push(seq, { type: "tool_call", name: pick(TOOLS), success: rand() > 0.05, durationMs, details });
      } else {
        const promptTokens = 500 + Math.floor(rand() * 20_000);
        const completionTokens = 50 + Math.floor(rand() * 2_000);
        const usage = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
        const full = {
          ...usage,
          cacheReadTokens: Math.floor(promptTokens / 2),
          cacheWriteTokens: undefined,
          reasoningTokens: undefined,
        };
        push(seq, {
          type: "llm",
          phase: "execute",
          usage: full,
          cost: promptTokens * 3e-6,
          details: { ...details, startedAt: ts - 1 - Math.floor(rand() * 8_000) },
        });
      }
    }
    mkdirSync(join(dir, id));
    writeFileSync(join(dir, id, "journal.jsonl"), lines.join(""));
    writeFileSync(join(dir, id, "METRICS.json"), encodeMetrics(snapshotState(state)));
  }
}

/** The baseline: read and decode every METRICS.json, sum per tool (or per LLM phase: the file has no models). */
async function naiveScan(dir: string, by: "tool" | "model"): Promise<number> {
  const totals = new Map<string, number>();
  for (const id of readdirSync(dir)) {
    const m = await load(dir, id).catch(() => null);
    if (m === null) continue;
    if (by === "tool") for (const t of m.tools) totals.set(t.name, (totals.get(t.name) ?? 0) + t.callCount);
    else for (const l of m.llms) totals.set(l.phase, (totals.get(l.phase) ?? 0) + l.cost);
  }
  return totals.size;
}

interface Backend {
  label: string;
  open(): Promise<MetricsStore>;
  dispose(): Promise<void>;
}

function backends(work: string): Backend[] {
  const list: Backend[] = [
    {
      label: "SQLite",
      open: () => createSqliteStore({ path: join(work, "metrics.db") }),
      dispose: async () => rmSync(join(work, "metrics.db"), { force: true }),
    },
  ];
  const url =
    process.env.SESSION_METRICS_PG_URL ||
    (process.env.CI === "true" ? "postgres://postgres@127.0.0.1:5432/test" : undefined);
  if (url !== undefined) {
    const schema = `sm_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
    list.push({
      label: "PostgreSQL",
      open: () => createPostgresStore({ url, schema }),
      dispose: async () => {
        const admin = new SQL({ url, max: 1 });
        await admin.unsafe(`drop schema if exists "${schema}" cascade`);
        await admin.close();
      },
    });
  }
  return list;
}

/** Measures every backend; returns the tables. */
export async function runStore(): Promise<Table[]> {
  const temp = diskTempDir("sm-bench-store-", join(import.meta.dir, ".."));
  const work = temp.path;
  const dir = join(work, "sessions");
  mkdirSync(dir);
  const log = (m: string) => process.stderr.write(`[store] ${m}\n`);
  try {
    let t = performance.now();
    generate(dir);
    log(
      `generated ${SESSIONS} sessions × ${EVENTS_PER_SESSION} events in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const total = SESSIONS * EVENTS_PER_SESSION;
    const ingestRows: Row[] = [];
    const reportRows: Row[] = [];
    const notes: string[] = [];
    const naive = {
      tool: (await measureAsync(() => naiveScan(dir, "tool"), { samples: 3, warmup: 1 })).ms,
      model: (await measureAsync(() => naiveScan(dir, "model"), { samples: 3, warmup: 1 })).ms,
    };
    for (const backend of backends(work)) {
      const store = await backend.open();
      try {
        t = performance.now();
        const result = await ingest(store, dir, { logger: quiet, host: "bench" });
        const ms = performance.now() - t;
        if (result.events !== total)
          throw new Error(`ingest stored ${result.events} events, expected ${total}`);
        const perSecond = Math.round(total / (ms / 1000));
        const target = backend.label === "SQLite" ? 200_000 : 100_000;
        log(`${backend.label}: ingest ${perSecond.toLocaleString("en-US")} events/s`);
        notes.push(
          `${backend.label}: ingest() ran at ${perSecond.toLocaleString("en-US")} events/s (${(ms / 1000).toFixed(2)} s for ${total.toLocaleString("en-US")} events, journals read, checked, validated and written).`,
        );
        ingestRows.push({
          label: `ingest() into ${backend.label}, per event`,
          values: { ours: (ms * 1e6) / total },
          unit: "ns",
          targets: [atMost((ms * 1e6) / total, 1e9 / target, "ns")],
        });
        for (const by of ["model", "tool"] as const) {
          const run = () => report(store, { groupBy: [by], percentiles: [95] });
          const rows = await run();
          if (rows.reduce((n, r) => n + r.calls, 0) !== SESSIONS * (EVENTS_PER_SESSION - 1))
            throw new Error("report lost calls");
          const timed = await measureAsync(run, { samples: 3, warmup: 1 });
          log(`${backend.label}: report by ${by} ${timed.ms.toFixed(0)} ms`);
          reportRows.push({
            label: `${backend.label}: report by ${by}, p50/p90/p95/p99`,
            values: { ours: timed.ms, naive: naive[by] },
            targets: [atMost(timed.ms, 1_000, "ms")],
          });
        }
      } finally {
        await store.close();
        await backend.dispose();
      }
    }
    if (ingestRows.length < 2)
      notes.push("PostgreSQL not measured: set SESSION_METRICS_PG_URL (or CI=true for the local server).");
    return [
      {
        title: `Store ingest: ${SESSIONS.toLocaleString("en-US")} session folders, ${total.toLocaleString("en-US")} events`,
        unit: "ns",
        subject: { key: "ours", label: "session-metrics" },
        baselines: [],
        rows: ingestRows,
        notes: [
          ...notes,
          "Targets: ≥ 200,000 events/s into SQLite (≤ 5,000 ns/event), ≥ 100,000 events/s into PostgreSQL (≤ 10,000 ns/event).",
        ],
      },
      {
        title: `Cross-session report over ${total.toLocaleString("en-US")} events (median of 3)`,
        unit: "ms",
        subject: { key: "ours", label: "report()" },
        baselines: [{ key: "naive", label: "scan of all METRICS.json" }],
        rows: reportRows,
        notes: [
          "The naive scan decodes all 10,000 METRICS.json files and sums per tool (or per LLM phase: the file has no models); it cannot give percentiles at all.",
        ],
      },
    ];
  } finally {
    temp.remove();
  }
}

/** Runs the store benchmark and prints its markdown tables. */
export async function run(): Promise<void> {
  for (const table of await runStore()) printTable(table);
}

if (import.meta.main) await run();
