/**
 * Issue 10's benchmark: what the OpenTelemetry sink adds to record*(), how fast it turns events
 * into spans, and `toPrometheusText` for a session with 2,000 tools — each beside a baseline
 * measured in the same run.
 *
 * 1. record*() with the sink attached vs without (journal off, 10 tools), and vs the obvious
 *    alternative: starting and ending an SDK span per tool call. Rounds alternate between the
 *    three; after each round the sink builds its queue and the SDK exports, untimed (that work
 *    happens off the record path, which is the point).
 * 2. Sink throughput: events written, built into spans and handed to a BatchSpanProcessor (no-op
 *    exporter, default queue), until flush() resolves; beside the same spans made by hand.
 * 3. toPrometheusText vs prom-client's `registry.metrics()` holding the same series.
 */
import { type Attributes, ROOT_CONTEXT, type Tracer, trace } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { Counter, Gauge, Registry } from "prom-client";
import type { EventBody, MetricEvent } from "../src/core/events.ts";
import type { SessionMetrics } from "../src/core/types.ts";
import { createOtelSink } from "../src/export/otel/index.ts";
import { toPrometheusText } from "../src/export/prometheus.ts";
import { Collector } from "../src/session/collector.ts";
import { threadCpuNs } from "./lib/clock.ts";
import {
  atMost,
  fasterBy,
  measureAsync,
  measureSync,
  median,
  SYNC_CLOCK,
  type Table,
  verdict,
} from "./lib/measure.ts";

const RECORD_OPS = 200_000;
const ROUNDS = 5;
const THROUGHPUT_EVENTS = 200_000;
const TOOLS = ["Read", "Write", "Edit", "Bash", "Grep", "Glob", "LS", "WebFetch", "WebSearch", "Task"];
const quiet = { warn() {}, error() {} };
const log = (message: string) => process.stderr.write(`[export] ${message}\n`);

/** Counts what it is given and drops it. */
class NoopExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

class PullReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

function sdk(maxQueueSize?: number) {
  const exporter = new NoopExporter();
  const processor = new BatchSpanProcessor({
    exporter,
    ...(maxQueueSize === undefined ? {} : { maxQueueSize }),
  });
  const tracerProvider = new TracerProvider({ spanProcessors: [processor] });
  const meterProvider = new MeterProvider({ readers: [new PullReader()] });
  return { exporter, tracerProvider, meterProvider };
}

const cpuNow = () => threadCpuNs?.() ?? Bun.nanoseconds();

interface Subject {
  body: (ops: number) => void;
  /** Untimed work after each round (building, exporting). */
  settle: () => Promise<unknown>;
}

/** Alternating rounds of several subjects; ns per op (thread CPU time when available), median. */
async function interleaved(subjects: Subject[], ops: number): Promise<number[]> {
  const per: number[][] = subjects.map(() => []);
  for (const s of subjects) {
    s.body(ops / 10);
    await s.settle();
  }
  for (let r = 0; r < ROUNDS; r++)
    for (const [i, s] of subjects.entries()) {
      const start = cpuNow();
      s.body(ops);
      per[i]!.push((cpuNow() - start) / ops);
      await s.settle();
      // Collect what the round and its settling left (spans built, events queued) before the next
      // round: else the garbage of one subject is paid by whichever allocates next.
      Bun.gc(true);
    }
  return per.map((v) => median(v));
}

function recorder(c: Collector) {
  return (ops: number) => {
    for (let i = 0, j = 0; i < ops; i++) {
      c.recordToolCall(TOOLS[j]!, true, 12);
      if (++j === TOOLS.length) j = 0;
    }
  };
}

function spanPerCall(tracer: Tracer) {
  return (ops: number) => {
    for (let i = 0, j = 0; i < ops; i++) {
      const span = tracer.startSpan(`execute_tool ${TOOLS[j]!}`, {
        attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": TOOLS[j]! },
      });
      span.end();
      if (++j === TOOLS.length) j = 0;
    }
  };
}

async function recordTable(): Promise<Table> {
  log(`record*() with and without the sink, and an SDK span per call: ${RECORD_OPS} ops × ${ROUNDS} rounds`);
  const plain = new Collector({ sessionId: "bench-plain", journal: false, logger: quiet });
  const withSink = sdk(RECORD_OPS * 2);
  const sink = createOtelSink({ ...withSink, maxQueuedEvents: RECORD_OPS * 2, logger: quiet });
  const sunk = new Collector({ sessionId: "bench-sink", journal: false, sinks: [sink], logger: quiet });
  const noopSink = { write() {}, flush: () => Promise.resolve(), close: () => Promise.resolve() };
  const nooped = new Collector({ sessionId: "bench-noop", journal: false, sinks: [noopSink], logger: quiet });
  const direct = sdk(RECORD_OPS * 2);
  const tracer = direct.tracerProvider.getTracer("bench");
  const [ours, none, noop, spans] = await interleaved(
    [
      { body: recorder(sunk), settle: () => sunk.flush() },
      { body: recorder(plain), settle: () => Promise.resolve() },
      { body: recorder(nooped), settle: () => Promise.resolve() },
      { body: spanPerCall(tracer), settle: () => direct.tracerProvider.forceFlush() },
    ],
    RECORD_OPS,
  );
  await Promise.all([plain.stop(), sunk.stop(), nooped.stop()]);
  const stats = sink.stats();
  return {
    title: `record*() with the OpenTelemetry sink — ns per recordToolCall (median of ${ROUNDS} rounds, ${SYNC_CLOCK}; lower is better)`,
    unit: "ns",
    subject: { key: "ours", label: "with createOtelSink" },
    baselines: [
      { key: "none", label: "without a sink" },
      { key: "noop", label: "a sink that does nothing" },
      { key: "span", label: "SDK span per call" },
    ],
    rows: [
      {
        label: "recordToolCall, 10 tools cycling, journal off",
        values: { ours: ours!, none: none!, noop: noop!, span: spans! },
        targets: [
          verdict(`≤ 2× the cost without a sink (${(ours! / none!).toFixed(2)}×)`, ours! <= 2 * none!),
          fasterBy(ours!, spans!, 5, "an SDK span per call"),
        ],
      },
    ],
    notes: [
      `A sink costs the collector a guarded listener call and the event object itself (without a listener it never leaves registers); a sink without \`readsOnly\` also costs a freeze of each event and its sub-objects: the no-op sink column. createOtelSink declares \`readsOnly\` (not frozen) and queues a bare tool call as numbers (EventQueue), so no event object outlives the call; it adds ${(ours! - none!).toFixed(0)} ns over no sink, ${Math.abs(ours! - noop!).toFixed(0)} ns ${ours! >= noop! ? "more" : "less"} than the no-op sink.`,
      "SDK span per call: `tracer.startSpan(name, { attributes }).end()` (two attributes) on a TracerProvider with a BatchSpanProcessor and a no-op exporter; its export runs between rounds, untimed, as the sink's span building does.",
      `Sink after the run: ${stats.events.toLocaleString("en-US")} events, ${stats.spans.toLocaleString("en-US")} spans, ${stats.failed} failed, ${stats.dropped} dropped; ${withSink.exporter.spans.toLocaleString("en-US")} spans exported.`,
    ],
  };
}

/** Tool calls and LLM calls (8:2), one span each, with details as a real session has them. */
function throughputEvents(n: number): MetricEvent[] {
  const t0 = Date.UTC(2026, 2, 1);
  const events: MetricEvent[] = [
    { type: "session_start", sessionId: "tp", startedAt: t0, v: 1, seq: 1, ts: t0 },
  ];
  for (let i = 1; i < n; i++) {
    const ts = t0 + i * 10;
    const body: EventBody =
      i % 5 === 0
        ? {
            type: "llm",
            phase: "execute",
            usage: {
              promptTokens: 1200,
              completionTokens: 300,
              totalTokens: 1500,
              cacheReadTokens: 1000,
              cacheWriteTokens: undefined,
              reasoningTokens: undefined,
            },
            cost: 0.004,
            details: { model: "claude-sonnet-4-5", startedAt: ts - 900 },
          }
        : { type: "tool_call", name: TOOLS[i % TOOLS.length]!, success: i % 17 !== 0, durationMs: 8 };
    events.push({ ...body, v: 1, seq: i + 1, ts } as MetricEvent);
  }
  return events;
}

async function throughputTable(): Promise<Table> {
  log(`sink throughput: ${THROUGHPUT_EVENTS} events × ${ROUNDS} rounds into a BatchSpanProcessor`);
  const events = throughputEvents(THROUGHPUT_EVENTS);
  const ours: number[] = [];
  const byHand: number[] = [];
  let exported = 0;
  let stats = { events: 0, spans: 0, failed: 0, dropped: 0 };
  for (let r = 0; r <= ROUNDS; r++) {
    const a = sdk();
    const sink = createOtelSink({ ...a, maxQueuedEvents: THROUGHPUT_EVENTS, logger: quiet });
    let start = Bun.nanoseconds();
    for (const event of events) sink.write("tp", event);
    await sink.close();
    const oursNs = (Bun.nanoseconds() - start) / events.length;
    const b = sdk();
    const tracer = b.tracerProvider.getTracer("bench");
    start = Bun.nanoseconds();
    await spansByHand(tracer, events);
    await b.tracerProvider.forceFlush();
    const handNs = (Bun.nanoseconds() - start) / events.length;
    if (r === 0) continue; // warm-up
    ours.push(oursNs);
    byHand.push(handNs);
    exported = a.exporter.spans;
    stats = sink.stats();
  }
  const ns = median(ours);
  const perSecond = 1e9 / ns;
  return {
    title: `Sink throughput — ns per event into spans (median of ${ROUNDS} rounds, wall time; lower is better)`,
    unit: "ns",
    subject: { key: "ours", label: "createOtelSink" },
    baselines: [{ key: "hand", label: "the same spans by hand" }],
    rows: [
      {
        label: `${THROUGHPUT_EVENTS.toLocaleString("en-US")} events (8 tool calls : 2 LLM calls) → BatchSpanProcessor, no-op exporter: ${Math.round(perSecond).toLocaleString("en-US")} events/s`,
        values: { ours: ns, hand: median(byHand) },
        targets: [verdict("≥ 200,000 events/s", perSecond >= 200_000)],
      },
    ],
    notes: [
      "Timed: every write(), building the spans (and the GenAI metrics, into a MeterProvider with a pull reader) in batches of 512 with a yield to the event loop between them, and close() (which flushes).",
      "By hand: the same spans (name, kind, start/end time, the same attributes) started and ended with the SDK directly, yielding as often, no metrics.",
      `Last round: ${stats.events.toLocaleString("en-US")} events, ${stats.spans.toLocaleString("en-US")} spans built, ${exported.toLocaleString("en-US")} exported by the BatchSpanProcessor (default queue of 2,048: nothing dropped when equal), ${stats.failed} failed.`,
    ],
  };
}

async function spansByHand(tracer: Tracer, events: MetricEvent[]): Promise<void> {
  const root = tracer.startSpan("invoke_workflow", { startTime: events[0]!.ts });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  for (let i = 1; i < events.length; i++) {
    const e = events[i]!;
    const attributes: Attributes =
      e.type === "tool_call"
        ? { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": e.name }
        : {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 300,
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.usage.cost": 0.004,
          };
    const name = e.type === "tool_call" ? `execute_tool ${e.name}` : "chat claude-sonnet-4-5";
    const span = tracer.startSpan(name, { startTime: e.ts - 8, attributes }, ctx);
    span.end(e.ts);
    if (i % 512 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  root.end(events.at(-1)!.ts);
}

function bigSession(tools: number): SessionMetrics {
  const phases = ["plan", "execute", "verify", "heal", "bisect", "review", "commit", "report"];
  return {
    sessionId: "bench-2000",
    startedAt: "2026-03-01T10:00:00.000Z",
    updatedAt: "2026-03-01T11:00:00.000Z",
    tools: Array.from({ length: tools }, (_, i) => ({
      name: `mcp__server_${i % 50}__tool_${i}`,
      callCount: 10,
      successCount: 9,
      failCount: 1,
      totalDurationMs: 1234 + i,
      avgDurationMs: 123.4,
    })),
    editStrategies: [{ strategy: "exact_match", count: 12 }],
    llms: phases.slice(0, 3).map((phase) => ({
      phase,
      promptTokens: 120_000,
      completionTokens: 9_000,
      totalTokens: 129_000,
      cost: 1.23,
      interactionCount: 40,
      cacheReadTokens: 90_000,
    })),
    phases: phases.map((phase, i) => ({
      phase,
      durationMs: 60_000 * (i + 1),
      transitionCount: 1,
      healTriggerCount: i % 2,
      healSuccessCount: i % 2,
      healFailCount: 0,
      healDurationMs: 500,
      healLoopCount: 0,
      bisectTriggerCount: 0,
      bisectSuccessCount: 0,
      bisectFailCount: 0,
      success: true,
    })),
    droppedRecords: 0,
  };
}

/** prom-client holding the same series as `toPrometheusText(doc)` writes (tool, LLM, phase families). */
function promRegistry(doc: SessionMetrics): Registry {
  const registry = new Registry();
  const counter = (name: string, labelNames: string[]) =>
    new Counter({ name, help: name, labelNames, registers: [registry] });
  const gauge = (name: string, labelNames: string[]) =>
    new Gauge({ name, help: name, labelNames, registers: [registry] });
  const session_id = doc.sessionId;
  const calls = counter("session_metrics_tool_calls_total", ["session_id", "tool", "outcome"]);
  const seconds = counter("session_metrics_tool_duration_seconds_total", ["session_id", "tool"]);
  for (const t of doc.tools) {
    calls.inc({ session_id, tool: t.name, outcome: "success" }, t.successCount);
    calls.inc({ session_id, tool: t.name, outcome: "failure" }, t.failCount);
    seconds.inc({ session_id, tool: t.name }, t.totalDurationMs / 1000);
  }
  const tokens = counter("session_metrics_llm_tokens_total", ["session_id", "phase", "type"]);
  const cost = counter("session_metrics_llm_cost_usd_total", ["session_id", "phase"]);
  for (const l of doc.llms) {
    tokens.inc({ session_id, phase: l.phase, type: "input" }, l.promptTokens);
    tokens.inc({ session_id, phase: l.phase, type: "output" }, l.completionTokens);
    tokens.inc({ session_id, phase: l.phase, type: "cache_read" }, l.cacheReadTokens ?? 0);
    cost.inc({ session_id, phase: l.phase }, l.cost);
  }
  const duration = gauge("session_metrics_phase_duration_seconds", ["session_id", "phase"]);
  const heals = counter("session_metrics_heal_triggers_total", ["session_id", "phase"]);
  for (const p of doc.phases) {
    duration.set({ session_id, phase: p.phase }, p.durationMs / 1000);
    heals.inc({ session_id, phase: p.phase }, p.healTriggerCount);
  }
  return registry;
}

async function prometheusTable(): Promise<Table> {
  log("toPrometheusText vs prom-client registry.metrics(), 2,000 tools");
  const doc = bigSession(2_000);
  const text = toPrometheusText(doc);
  const ours = measureSync(
    (ops) => {
      for (let i = 0; i < ops; i++) if (toPrometheusText(doc).length === 0) throw new Error("unreachable");
    },
    { ops: 50, rounds: 7 },
  );
  const registry = promRegistry(doc);
  const theirs = await measureAsync(() => registry.metrics(), { samples: 51 });
  const oursMs = ours.nsPerOp / 1e6;
  const promText = await registry.metrics();
  return {
    title: "toPrometheusText — ms per call, session with 2,000 tools (lower is better)",
    unit: "ms",
    subject: { key: "ours", label: "toPrometheusText" },
    baselines: [{ key: "prom", label: "prom-client registry.metrics()" }],
    rows: [
      {
        label: "2,000 tools, 3 LLM phases, 8 phases",
        values: { ours: oursMs, prom: theirs.ms },
        targets: [atMost(oursMs, 2, "ms"), fasterBy(oursMs, theirs.ms, 3, "prom-client")],
      },
    ],
    notes: [
      `toPrometheusText: median of 7 rounds of 50 calls (${SYNC_CLOCK}); prom-client: median of 51 awaited calls (wall time).`,
      `Output: ours ${text.split("\n").length.toLocaleString("en-US")} lines (${(text.length / 1024).toFixed(0)} KiB, every family); prom-client ${promText.split("\n").length.toLocaleString("en-US")} lines (the tool, token, cost, phase-duration and heal families only).`,
    ],
  };
}

/** Runs the export benchmarks; returns their tables (bench/index.ts prints them). */
export async function runExport(): Promise<Table[]> {
  return [await recordTable(), await throughputTable(), await prometheusTable()];
}

if (import.meta.main) {
  const { printTable } = await import("./lib/measure.ts");
  for (const table of await runExport()) printTable(table);
}
