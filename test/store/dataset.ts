/**
 * The contract suite's data set, written through all three ways in: session `alpha` by a real
 * Collector streaming to a store sink, `beta` by `insertEvents` + `upsertSession`, and the
 * Go-written METRICS.json (session `5f3a9c21`) by `ingest`. The expected report rows below are
 * worked out by hand from these records.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../../src/core/events.ts";
import { Collector } from "../../src/session/collector.ts";
import { ingest } from "../../src/store/ingest.ts";
import type { ReportRow } from "../../src/store/report.ts";
import { createStoreSink } from "../../src/store/sink.ts";
import type { MetricsStore } from "../../src/store/types.ts";
import { FIXTURES } from "./helpers.ts";

export const T0 = Date.parse("2026-03-01T10:00:00.000Z");
export const T1 = Date.parse("2026-03-02T10:00:00.000Z");
export const GO_SESSION = "5f3a9c21";

/** Records session `alpha` through a Collector with a store sink; returns its final snapshot. */
export async function recordAlpha(store: MetricsStore, sessionsDir: string) {
  let now = T0;
  const sink = createStoreSink(store, { host: "host-a" });
  const c = new Collector({ sessionId: "alpha", sessionsDir, sinks: [sink], now: () => new Date(now) });
  now = T0 + 1000;
  c.recordToolCall("Read", true, 10, { agent: "planner", model: "m-small" });
  now = T0 + 2000;
  c.recordToolCall("Read", true, 30, { agent: "planner", model: "m-small" });
  now = T0 + 3000;
  c.recordToolCall("Bash", false, 100, { agent: "coder", model: "m-big", errorClass: "timeout" });
  now = T0 + 4000;
  c.recordLLMInteraction("plan", { promptTokens: 1000, completionTokens: 200, cacheReadTokens: 300 }, 0.01, {
    agent: "planner",
    model: "m-small",
    startedAt: new Date(T0 + 3500),
  });
  now = T0 + 5000;
  c.recordPhaseTransition("plan");
  await c.stop();
  return c.snapshot();
}

/** Session `beta`'s events, made by hand (an LLM failure, an invocation with a numeric phase). */
export function betaEvents(): MetricEvent[] {
  const usage = (p: number, c: number, extra: object = {}) =>
    ({ promptTokens: p, completionTokens: c, totalTokens: p + c, ...extra }) as never;
  return [
    { v: 1, seq: 1, ts: T1, type: "session_start", sessionId: "beta", startedAt: T1 },
    {
      ...{ v: 1, seq: 2, ts: T1 + 1000, type: "tool_call", name: "Read", success: true, durationMs: 20 },
      details: { agent: "coder", model: "m-big" },
    },
    {
      ...{ v: 1, seq: 3, ts: T1 + 2000, type: "llm", phase: "execute", cost: 0.02 },
      usage: usage(2000, 400, { reasoningTokens: 50 }),
      details: { agent: "coder", model: "m-big" },
    },
    {
      ...{ v: 1, seq: 4, ts: T1 + 3000, type: "llm", phase: "execute", cost: 0.005 },
      usage: usage(500, 100),
      details: { agent: "coder", model: "m-big", errorClass: "rate_limit" },
    },
    {
      ...{ v: 1, seq: 5, ts: T1 + 4000, type: "invocation" },
      metric: {
        ...{ invocationId: "inv-1", agent: "coder", phase: 2, durationMs: 1000, tokens: 700 },
        ...{ inputTokens: 600, outputTokens: 100, cost: 0.003, exitCode: 0, success: true, attempt: 1 },
        ...{ outputParsed: true, model: "m-big", timestamp: new Date(T1 + 3000).toISOString() },
      },
    },
  ] as MetricEvent[];
}

/** A sessions directory holding only the Go-written METRICS.json (session `5f3a9c21`). */
export function goSessionsDir(root: string): string {
  mkdirSync(join(root, GO_SESSION), { recursive: true });
  copyFileSync(join(FIXTURES, "go-metrics.json"), join(root, GO_SESSION, "METRICS.json"));
  return root;
}

/** Writes the whole data set (alpha's collector writes into `collectorDir`); returns alpha's snapshot. */
export async function loadDataset(store: MetricsStore, collectorDir: string, goDir: string) {
  const alpha = await recordAlpha(store, collectorDir);
  await store.insertEvents("beta", betaEvents());
  await store.upsertSession({
    sessionId: "beta",
    startedAt: T1,
    updatedAt: T1 + 4000,
    host: "host-b",
    lastSeq: 5,
  });
  await ingest(store, goSessionsDir(goDir), { host: "host-go", logger: { warn() {}, error() {} } });
  return { alpha };
}

type Numbers = [
  sessions: number,
  calls: number,
  failures: number,
  input: number,
  output: number,
  cacheRead: number | null,
  reasoning: number | null,
  cost: number,
  p50: number | null,
  p90: number | null,
  p99: number | null,
];

/** Tool calls and LLM calls of a row (`calls` also counts beta's one agent invocation). */
type Kinds = [toolCalls: number, llmCalls: number];

/** A report row from its keys and numbers (no call in the data set reports cache writes). */
export function row(keys: Partial<ReportRow>, n: Numbers, [toolCalls, llmCalls]: Kinds): ReportRow {
  const [sessions, calls, failures, promptTokens, completionTokens, cacheReadTokens, reasoningTokens, cost] =
    n;
  return {
    ...keys,
    ...{ sessions, calls, toolCalls, llmCalls, failures, promptTokens, completionTokens },
    ...{ cacheReadTokens, cacheWriteTokens: null },
    ...{ reasoningTokens, cost, durationP50: n[8], durationP90: n[9], durationP99: n[10] },
  };
}

const CODER: Numbers = [2, 5, 2, 3100, 600, null, 50, 0.028, 100, 1000, 1000];
const PLANNER: Numbers = [1, 3, 0, 1000, 200, 300, null, 0.01, 30, 500, 500];
const GO: Numbers = [1, 7, 0, 17100, 3200, null, null, 0.3, null, null, null];

export const EXPECTED = {
  // Tool calls: alpha's 3, beta's 1, the Go file's 3 (Read); LLM calls: alpha's 1, beta's 2, the
  // Go file's 4 (execute); beta's invocation is in `calls` only.
  total: [row({}, [3, 15, 2, 21200, 4000, 300, 50, 0.338, 30, 1000, 1000], [7, 7])],
  agent: [
    row({ agent: "coder" }, CODER, [2, 2]),
    row({ agent: "planner" }, PLANNER, [2, 1]),
    row({ agent: null }, GO, [3, 4]),
  ],
  model: [
    row({ model: "m-big" }, CODER, [2, 2]),
    row({ model: "m-small" }, PLANNER, [2, 1]),
    row({ model: null }, GO, [3, 4]),
  ],
  phase: [
    row({ phase: "2" }, [1, 1, 0, 600, 100, null, null, 0.003, 1000, 1000, 1000], [0, 0]),
    row({ phase: "execute" }, [2, 6, 1, 19600, 3700, null, 50, 0.325, null, null, null], [0, 6]),
    row({ phase: "plan" }, [1, 1, 0, 1000, 200, 300, null, 0.01, 500, 500, 500], [0, 1]),
    row({ phase: null }, [3, 7, 1, 0, 0, null, null, 0, 20, 100, 100], [7, 0]),
  ],
  tool: [
    row({ tool: "Bash" }, [1, 1, 1, 0, 0, null, null, 0, 100, 100, 100], [1, 0]),
    row({ tool: "Read" }, [3, 6, 0, 0, 0, null, null, 0, 20, 30, 30], [6, 0]),
    row({ tool: null }, [3, 8, 1, 21200, 4000, 300, 50, 0.338, 500, 1000, 1000], [0, 7]),
  ],
  day: [
    row({ day: "2026-03-01" }, [1, 4, 1, 1000, 200, 300, null, 0.01, 30, 500, 500], [3, 1]),
    row({ day: "2026-03-02" }, [1, 4, 1, 3100, 600, null, 50, 0.028, 20, 1000, 1000], [1, 2]),
    row({ day: "2026-11-22" }, GO, [3, 4]),
  ],
} as const;
