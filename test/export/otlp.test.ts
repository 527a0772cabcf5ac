/**
 * Integration: the official OTLP exporters (HTTP/JSON and HTTP/protobuf, traces and metrics)
 * carry a session's spans and metrics to a local receiver, which decodes them with
 * OpenTelemetry's own generated protobuf code. Exact names, kinds, parent links, timestamps,
 * attribute names and values on the wire.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { OTLPMetricExporter as HttpMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as HttpTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { createOtelSink } from "../../src/export/otel/index.ts";
import { clock, collector, T0, tempDir } from "./helpers.ts";
import { type ReceivedSpan, startReceiver } from "./otlp-receiver.ts";

let receiver: ReturnType<typeof startReceiver>;
beforeAll(() => {
  receiver = startReceiver();
});
afterAll(() => receiver.stop());

/** Nanoseconds since the epoch of T0 + `ms`, as OTLP writes them. */
const nanos = (ms: number) => (BigInt(T0 + ms) * 1_000_000n).toString();

async function exportThrough(traces: SpanExporter, metrics: PushMetricExporter) {
  const tracerProvider = new TracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter: traces })],
  });
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const sink = createOtelSink({ tracerProvider, meterProvider, workflowName: "triage" });
  using tmp = tempDir();
  const t = clock();
  const c = collector(tmp.dir, sink, t.now, "otlp-1");
  t.set(T0 + 10);
  c.recordPhaseTransition("investigate");
  t.set(T0 + 60);
  c.recordToolCall("WebFetch", false, 30, {
    errorClass: "http_503",
    attributes: { "http.url.host": "example" },
  });
  t.set(T0 + 80);
  c.recordLLMInteraction(
    "investigate",
    {
      promptTokens: 3000,
      completionTokens: 250,
      cacheReadTokens: 2048,
      cacheWriteTokens: 512,
      reasoningTokens: 64,
    },
    0.0125,
    { model: "claude-opus-4-1", startedAt: new Date(T0 + 65) },
  );
  t.set(T0 + 90);
  c.recordHealTrigger("investigate");
  await c.stop(); // the sink flushes both providers
  await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
  const before = receiver.received.length;
  return receiver.received.splice(0, before);
}

function checkSpans(spans: ReceivedSpan[]) {
  expect(spans.map((s) => s.name).sort()).toEqual([
    "chat claude-opus-4-1",
    "execute_tool WebFetch",
    "invoke_workflow triage",
    "phase investigate",
  ]);
  const byName = (n: string) => spans.find((s) => s.name === n)!;
  const root = byName("invoke_workflow triage");
  const phase = byName("phase investigate");
  const tool = byName("execute_tool WebFetch");
  const chat = byName("chat claude-opus-4-1");
  expect(new Set(spans.map((s) => s.scope))).toEqual(new Set(["session-metrics"]));
  expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  expect(root.parentSpanId).toBe("");
  expect(phase.parentSpanId).toBe(root.spanId);
  expect(tool.parentSpanId).toBe(phase.spanId);
  expect(chat.parentSpanId).toBe(phase.spanId);
  // OTLP span kinds: 1 INTERNAL, 3 CLIENT.
  expect([root.kind, phase.kind, tool.kind, chat.kind]).toEqual([1, 1, 1, 3]);
  expect([root.start, root.end]).toEqual([nanos(0), nanos(90)]);
  expect([phase.start, phase.end]).toEqual([nanos(10), nanos(90)]);
  expect([tool.start, tool.end]).toEqual([nanos(30), nanos(60)]);
  expect([chat.start, chat.end]).toEqual([nanos(65), nanos(80)]);
  expect(root.attributes).toEqual({
    "gen_ai.operation.name": "invoke_workflow",
    "gen_ai.conversation.id": "otlp-1",
    "gen_ai.workflow.name": "triage",
  });
  expect(tool.attributes).toEqual({
    "http.url.host": "example",
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "WebFetch",
    "error.type": "http_503",
  });
  expect(tool.status).toEqual({ code: 2, message: "http_503" });
  expect(chat.attributes).toEqual({
    "gen_ai.operation.name": "chat",
    "gen_ai.conversation.id": "otlp-1",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-opus-4-1",
    "session_metrics.phase": "investigate",
    "gen_ai.usage.input_tokens": 3000,
    "gen_ai.usage.output_tokens": 250,
    "gen_ai.usage.cache_read.input_tokens": 2048,
    "gen_ai.usage.cache_creation.input_tokens": 512,
    "gen_ai.usage.reasoning.output_tokens": 64,
    "gen_ai.usage.cost": 0.0125,
  });
  expect(phase.events).toEqual([
    {
      name: "session_metrics.heal.trigger",
      time: nanos(90),
      attributes: { "session_metrics.phase": "investigate" },
    },
  ]);
}

function checkMetrics(metrics: ReturnType<typeof startReceiver>["received"][number]["metrics"]) {
  const find = (n: string) => metrics.find((m) => m.name === n);
  const usage = find("gen_ai.client.token.usage")!;
  expect([usage.kind, usage.unit]).toEqual(["histogram", "{token}"]);
  expect(usage.points.map((p) => [p.attributes["gen_ai.token.type"], p.sum, p.count])).toEqual([
    ["input", 3000, 1],
    ["output", 250, 1],
  ]);
  expect(usage.points[0]!.bounds).toEqual([
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
  ]);
  const duration = find("gen_ai.client.operation.duration")!;
  expect([duration.unit, duration.points[0]!.sum]).toEqual(["s", 0.015]);
  const tool = find("gen_ai.execute_tool.duration")!;
  expect(tool.points).toEqual([
    {
      attributes: { "gen_ai.tool.name": "WebFetch", "error.type": "http_503" },
      sum: 0.03,
      count: 1,
      bounds: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
    },
  ]);
  expect(find("gen_ai.workflow.duration")!.points[0]!.sum).toBe(0.09);
  const cost = find("session_metrics.llm.cost")!;
  expect([cost.kind, cost.unit, cost.points]).toEqual([
    "sum",
    "USD",
    [{ attributes: { "session_metrics.phase": "investigate" }, value: 0.0125 }],
  ]);
  expect(find("session_metrics.heal.triggers")!.points).toEqual([
    { attributes: { "session_metrics.phase": "investigate" }, value: 1 },
  ]);
}

describe("OTLP export to a local receiver", () => {
  test("HTTP/JSON: spans and metrics arrive exactly", async () => {
    const received = await exportThrough(
      new HttpTraceExporter({ url: `${receiver.url}/v1/traces` }),
      new HttpMetricExporter({ url: `${receiver.url}/v1/metrics` }),
    );
    expect(new Set(received.map((r) => r.contentType))).toEqual(new Set(["application/json"]));
    checkSpans(received.flatMap((r) => r.spans));
    checkMetrics(received.flatMap((r) => r.metrics));
  });

  test("HTTP/protobuf: spans and metrics arrive exactly", async () => {
    const received = await exportThrough(
      new ProtoTraceExporter({ url: `${receiver.url}/v1/traces` }),
      new ProtoMetricExporter({ url: `${receiver.url}/v1/metrics` }),
    );
    expect(new Set(received.map((r) => r.contentType))).toEqual(new Set(["application/x-protobuf"]));
    checkSpans(received.flatMap((r) => r.spans));
    checkMetrics(received.flatMap((r) => r.metrics));
  });
});
