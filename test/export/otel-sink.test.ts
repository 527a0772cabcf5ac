/**
 * The OpenTelemetry sink against the SDK's in-memory exporters: the span tree a recorded session
 * gives (names, kinds, parents, times, attributes, events), its metrics, and its behaviour on the
 * record path (no span there, failures counted, never thrown).
 */
import { describe, expect, test } from "bun:test";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { createOtelSink } from "../../src/export/otel/index.ts";
import { byName, clock, collector, ms, parentOf, points, providers, quiet, T0, tempDir } from "./helpers.ts";

/** A session touching every span kind, with a hand-moved clock (times are T0 + …). */
async function recordSession() {
  const p = providers();
  const warnings: string[] = [];
  const sink = createOtelSink({
    tracerProvider: p.tracerProvider,
    meterProvider: p.meterProvider,
    workflowName: "fix-bug",
    logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  using tmp = tempDir();
  const t = clock();
  const c = collector(tmp.dir, sink, t.now);
  t.set(T0 + 10);
  c.recordPhaseTransition("plan");
  t.set(T0 + 110);
  c.recordToolCall("Read", true, 40);
  const turn = c.startTurn({ turnId: "t1", phase: "plan" });
  const step = turn.startStep();
  step.setModel("claude-sonnet-4-5");
  t.set(T0 + 160);
  step.end(
    { promptTokens: 1200, completionTokens: 300, cacheReadTokens: 1000, reasoningTokens: 100 },
    { cost: 0.25 },
  );
  t.set(T0 + 170);
  c.recordToolCall("Bash", false, 5, { agent: "coder", errorClass: "exit_1" });
  t.set(T0 + 180);
  turn.end();
  t.set(T0 + 190);
  c.recordHealTrigger("plan");
  t.set(T0 + 200);
  c.recordPhaseDuration("plan", 190, true);
  t.set(T0 + 210);
  c.recordPhaseTransition("execute");
  t.set(T0 + 220);
  c.recordLLMInteraction("execute", { promptTokens: 50, completionTokens: 5 }, 0.5, {
    model: "gpt-4o",
    startedAt: new Date(T0 + 215),
  });
  t.set(T0 + 230);
  c.recordBisectTrigger("execute");
  await c.stop();
  return { p, sink, spans: p.spans.getFinishedSpans(), warnings };
}

const rel = (t: [number, number]) => ms(t) - T0;

describe("the span tree of a recorded session", () => {
  test("has one span per workflow, phase, turn, model call and tool call, with the GenAI names and kinds", async () => {
    const { spans } = await recordSession();
    expect(spans.map((s) => [s.name, s.kind]).sort()).toEqual(
      [
        ["invoke_workflow fix-bug", SpanKind.INTERNAL],
        ["phase plan", SpanKind.INTERNAL],
        ["phase execute", SpanKind.INTERNAL],
        ["invoke_agent coder", SpanKind.INTERNAL],
        ["chat claude-sonnet-4-5", SpanKind.CLIENT],
        ["chat gpt-4o", SpanKind.CLIENT],
        ["execute_tool Read", SpanKind.INTERNAL],
        ["execute_tool Bash", SpanKind.INTERNAL],
      ].sort(),
    );
  });

  test("parents each record to the turn, else the phase, current when it was recorded", async () => {
    const { spans } = await recordSession();
    const parent = (name: string) => parentOf(byName(spans, name), spans)?.name;
    expect(byName(spans, "invoke_workflow fix-bug").parentSpanContext).toBeUndefined();
    expect(parent("phase plan")).toBe("invoke_workflow fix-bug");
    expect(parent("phase execute")).toBe("invoke_workflow fix-bug");
    expect(parent("execute_tool Read")).toBe("phase plan");
    expect(parent("invoke_agent coder")).toBe("phase plan");
    expect(parent("chat claude-sonnet-4-5")).toBe("invoke_agent coder");
    expect(parent("execute_tool Bash")).toBe("invoke_agent coder");
    expect(parent("chat gpt-4o")).toBe("phase execute");
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  test("gives every span its real start and end (a tool call starts its duration before it was recorded)", async () => {
    const { spans } = await recordSession();
    const times = Object.fromEntries(spans.map((s) => [s.name, [rel(s.startTime), rel(s.endTime)]]));
    expect(times).toEqual({
      "invoke_workflow fix-bug": [0, 230],
      "phase plan": [10, 200],
      "execute_tool Read": [70, 110],
      "invoke_agent coder": [110, 180],
      "chat claude-sonnet-4-5": [110, 160],
      "execute_tool Bash": [165, 170],
      "phase execute": [210, 230],
      "chat gpt-4o": [215, 220],
    });
  });

  test("puts usage on chat spans only: input with cache, output with reasoning, the parts as reported", async () => {
    const { spans } = await recordSession();
    expect(byName(spans, "chat claude-sonnet-4-5").attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.conversation.id": "s1",
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": "claude-sonnet-4-5",
      "session_metrics.phase": "plan",
      "session_metrics.turn.id": "t1",
      "session_metrics.step.index": 0,
      "gen_ai.usage.input_tokens": 1200,
      "gen_ai.usage.output_tokens": 300,
      "gen_ai.usage.cache_read.input_tokens": 1000,
      "gen_ai.usage.reasoning.output_tokens": 100,
      "gen_ai.usage.cost": 0.25,
    });
    expect(byName(spans, "chat gpt-4o").attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.conversation.id": "s1",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o",
      "session_metrics.phase": "execute",
      "gen_ai.usage.input_tokens": 50,
      "gen_ai.usage.output_tokens": 5,
      "gen_ai.usage.cost": 0.5,
    });
    const withUsage = spans.filter((s) =>
      Object.keys(s.attributes).some((k) => k.startsWith("gen_ai.usage.")),
    );
    expect(withUsage.map((s) => s.name).sort()).toEqual(["chat claude-sonnet-4-5", "chat gpt-4o"]);
  });

  test("names the workflow, the agent and the tools, and marks failures with error.type", async () => {
    const { spans } = await recordSession();
    expect(byName(spans, "invoke_workflow fix-bug").attributes).toEqual({
      "gen_ai.operation.name": "invoke_workflow",
      "gen_ai.conversation.id": "s1",
      "gen_ai.workflow.name": "fix-bug",
    });
    expect(byName(spans, "invoke_agent coder").attributes).toEqual({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.conversation.id": "s1",
      "session_metrics.turn.id": "t1",
      "session_metrics.phase": "plan",
      "gen_ai.agent.name": "coder",
    });
    const bash = byName(spans, "execute_tool Bash");
    expect(bash.attributes).toEqual({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "Bash",
      "gen_ai.agent.name": "coder",
      "error.type": "exit_1",
    });
    expect(bash.status).toEqual({ code: SpanStatusCode.ERROR, message: "exit_1" });
    expect(byName(spans, "execute_tool Read").status.code).toBe(SpanStatusCode.UNSET);
    expect(byName(spans, "phase plan").attributes).toEqual({
      "session_metrics.phase": "plan",
      "session_metrics.phase.success": true,
    });
  });

  test("puts heal and bisect triggers as events on their phase span, at the time they were recorded", async () => {
    const { spans } = await recordSession();
    const events = (s: ReadableSpan) => s.events.map((e) => [e.name, rel(e.time), e.attributes]);
    expect(events(byName(spans, "phase plan"))).toEqual([
      ["session_metrics.heal.trigger", 190, { "session_metrics.phase": "plan" }],
    ]);
    expect(events(byName(spans, "phase execute"))).toEqual([
      ["session_metrics.bisect.trigger", 230, { "session_metrics.phase": "execute" }],
    ]);
  });

  test("records the GenAI metrics with the conventions' units and buckets, and our counters", async () => {
    const { p } = await recordSession();
    const { resourceMetrics: rm } = await p.reader.collect();
    const descriptors = rm.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor));
    const unit = (name: string) => descriptors.find((d) => d.name === name)?.unit;
    expect(unit("gen_ai.client.token.usage")).toBe("{token}");
    expect(unit("gen_ai.client.operation.duration")).toBe("s");
    expect(unit("gen_ai.execute_tool.duration")).toBe("s");
    expect(unit("gen_ai.workflow.duration")).toBe("s");
    const usage = points(rm, "gen_ai.client.token.usage").map((d) => [
      d.attributes,
      (d.value as { sum: number }).sum,
    ]);
    expect(usage).toEqual([
      [
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "anthropic",
          "gen_ai.request.model": "claude-sonnet-4-5",
          "gen_ai.token.type": "input",
        },
        1200,
      ],
      [
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "anthropic",
          "gen_ai.request.model": "claude-sonnet-4-5",
          "gen_ai.token.type": "output",
        },
        300,
      ],
      [
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o",
          "gen_ai.token.type": "input",
        },
        50,
      ],
      [
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o",
          "gen_ai.token.type": "output",
        },
        5,
      ],
    ]);
    const usagePoint = points(rm, "gen_ai.client.token.usage")[0]!.value as {
      buckets: { boundaries: number[] };
    };
    expect(usagePoint.buckets.boundaries).toEqual([
      1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
    ]);
    const tool = points(rm, "gen_ai.execute_tool.duration").map((d) => [
      d.attributes,
      (d.value as { sum: number }).sum,
    ]);
    expect(tool).toEqual([
      [{ "gen_ai.tool.name": "Read" }, 0.04],
      [{ "gen_ai.tool.name": "Bash", "gen_ai.agent.name": "coder", "error.type": "exit_1" }, 0.005],
    ]);
    const workflow = points(rm, "gen_ai.workflow.duration")[0]!;
    expect([workflow.attributes, (workflow.value as { sum: number }).sum]).toEqual([
      { "gen_ai.workflow.name": "fix-bug" },
      0.23,
    ]);
    expect(points(rm, "session_metrics.llm.cost").map((d) => [d.attributes, d.value])).toEqual([
      [{ "session_metrics.phase": "plan" }, 0.25],
      [{ "session_metrics.phase": "execute" }, 0.5],
    ]);
    expect(points(rm, "session_metrics.heal.triggers").map((d) => [d.attributes, d.value])).toEqual([
      [{ "session_metrics.phase": "plan" }, 1],
    ]);
    expect(points(rm, "session_metrics.bisect.triggers").map((d) => [d.attributes, d.value])).toEqual([
      [{ "session_metrics.phase": "execute" }, 1],
    ]);
    expect(points(rm, "session_metrics.tool.calls").map((d) => [d.attributes, d.value])).toEqual([
      [{ "gen_ai.tool.name": "Read", "session_metrics.outcome": "success" }, 1],
      [{ "gen_ai.tool.name": "Bash", "session_metrics.outcome": "failure" }, 1],
    ]);
  });

  test("counts what it built in stats()", async () => {
    const { sink, spans, warnings } = await recordSession();
    expect(sink.stats()).toEqual({ events: 13, spans: 8, failed: 0, dropped: 0 });
    expect(spans.length).toBe(8);
    expect(warnings).toEqual([]);
  });
});

describe("the record path", () => {
  test("creates no span: spans are built later, in a batch", async () => {
    const p = providers();
    const sink = createOtelSink({ tracerProvider: p.tracerProvider, meterProvider: p.meterProvider });
    using tmp = tempDir();
    const c = collector(tmp.dir, sink, clock().now);
    for (let i = 0; i < 100; i++) c.recordToolCall("Read", true, 1);
    expect(p.spans.getFinishedSpans().length).toBe(0);
    expect(sink.stats().events).toBe(0);
    await c.flush();
    expect(p.spans.getFinishedSpans().length).toBe(100);
    expect(sink.stats()).toEqual({ events: 101, spans: 100, failed: 0, dropped: 0 });
    await c.stop();
    expect(
      p.spans
        .getFinishedSpans()
        .map((s) => s.name)
        .at(-1),
    ).toBe("invoke_workflow");
  });

  test("builds on its own after flushIntervalMs, without flush()", async () => {
    const p = providers();
    const sink = createOtelSink({
      tracerProvider: p.tracerProvider,
      meterProvider: p.meterProvider,
      flushIntervalMs: 1,
    });
    using tmp = tempDir();
    const c = collector(tmp.dir, sink, clock().now);
    c.recordToolCall("Read", true, 1);
    for (let i = 0; i < 100 && p.spans.getFinishedSpans().length === 0; i++) await Bun.sleep(5);
    expect(p.spans.getFinishedSpans().map((s) => s.name)).toEqual(["execute_tool Read"]);
    await c.stop();
  });

  test("never throws when the tracer does: failures are logged and counted, recording goes on", async () => {
    const p = providers();
    const broken = {
      getTracer: () => ({
        startSpan: () => {
          throw new Error("tracer exploded");
        },
        startActiveSpan: () => {
          throw new Error("tracer exploded");
        },
      }),
    };
    const warnings: string[] = [];
    const sink = createOtelSink({
      tracerProvider: broken,
      meterProvider: p.meterProvider,
      logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    using tmp = tempDir();
    const c = collector(tmp.dir, sink, clock().now);
    c.recordToolCall("Read", true, 1);
    c.recordToolCall("Read", true, 2);
    await c.stop();
    expect(c.snapshot().tools[0]!.callCount).toBe(2);
    expect(sink.stats()).toEqual({ events: 3, spans: 0, failed: 3, dropped: 0 });
    expect(warnings[0]).toBe(
      "[session-metrics] [otel] building spans from event 1 (session_start) of session s1 failed: tracer exploded; recording goes on (1 failure so far, see stats().failed)",
    );
  });

  test("resolves flush() and close() when the exporter fails, and counts the failure", async () => {
    const p = providers();
    const failing = {
      getTracer: (name: string) => p.tracerProvider.getTracer(name),
      forceFlush: () => Promise.reject(new Error("collector unreachable")),
    };
    const warnings: string[] = [];
    const sink = createOtelSink({
      tracerProvider: failing,
      meterProvider: p.meterProvider,
      logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    using tmp = tempDir();
    const c = collector(tmp.dir, sink, clock().now);
    c.recordToolCall("Read", true, 1);
    await c.stop();
    expect(sink.stats().failed).toBe(2); // the flush and the close
    expect(warnings[0]).toContain(
      "exporting (the tracer provider's forceFlush) failed: collector unreachable",
    );
  });

  test("drops and counts events past maxQueuedEvents and after close()", async () => {
    const p = providers();
    const sink = createOtelSink({
      tracerProvider: p.tracerProvider,
      meterProvider: p.meterProvider,
      maxQueuedEvents: 3,
      logger: quiet,
    });
    using tmp = tempDir();
    const c = collector(tmp.dir, sink, clock().now);
    for (let i = 0; i < 5; i++) c.recordToolCall("Read", true, 1);
    await c.stop();
    expect(sink.stats()).toEqual({ events: 3, spans: 3, failed: 0, dropped: 3 });
    sink.write("s1", { v: 1, seq: 99, ts: T0, type: "phase_transition", phase: "late" });
    expect(sink.stats().dropped).toBe(4);
    await sink.close(); // a second close does nothing
  });

  test("refuses options that are not whole numbers", () => {
    expect(() => createOtelSink({ batchSize: 0 })).toThrow(
      "[session-metrics] [otel sink] batchSize must be a whole number ≥ 1, got 0",
    );
  });
});
