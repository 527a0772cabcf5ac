/**
 * `exportSession`: a finished session's journal gives the same spans and metrics as the live
 * sink, with the original timestamps; a METRICS.json-only (Go) session gives a root span and its
 * aggregates as metrics; a long journal goes through a BatchSpanProcessor without drops.
 */
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { createOtelSink, exportSession } from "../../src/export/otel/index.ts";
import { Collector } from "../../src/session/collector.ts";
import { clock, metricNames, points, providers, quiet, T0, tempDir } from "./helpers.ts";

/** A session recorded with a sink attached; returns the live spans. */
async function recordLive(dir: string) {
  const live = providers();
  const t = clock();
  const sink = createOtelSink({
    tracerProvider: live.tracerProvider,
    meterProvider: live.meterProvider,
    workflowName: "wf",
  });
  const c = new Collector({ sessionId: "r1", sessionsDir: dir, sinks: [sink], now: t.now, logger: quiet });
  t.set(T0 + 5);
  c.recordPhaseTransition("plan");
  t.set(T0 + 50);
  c.recordToolCall("Grep", true, 20, { agent: "planner", startedAt: new Date(T0 + 25) });
  const turn = c.startTurn({ turnId: "t1" });
  const step = turn.startStep();
  step.setModel("gpt-5-mini");
  t.set(T0 + 90);
  step.end({ promptTokens: 70, completionTokens: 7 });
  turn.end();
  t.set(T0 + 120);
  c.recordHealTrigger("plan");
  c.recordHealOutcome("plan", true);
  t.set(T0 + 130);
  c.recordPhaseDuration("plan", 125, true);
  await c.stop();
  return { spans: live.spans.getFinishedSpans(), metrics: (await live.reader.collect()).resourceMetrics };
}

/** What a span is, without its random ids. */
function shape(spans: readonly ReadableSpan[]) {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s.name]));
  return spans.map((s) => ({
    name: s.name,
    kind: s.kind,
    parent: byId.get(s.parentSpanContext?.spanId ?? ""),
    start: s.startTime,
    end: s.endTime,
    attributes: s.attributes,
    events: s.events.map((e) => [e.name, e.time, e.attributes]),
    status: s.status,
  }));
}

describe("exportSession from a journal", () => {
  test("gives the same spans, times and metrics as the live sink", async () => {
    using tmp = tempDir();
    const live = await recordLive(tmp.dir);
    const later = providers();
    const result = await exportSession(tmp.dir, "r1", {
      tracerProvider: later.tracerProvider,
      meterProvider: later.meterProvider,
      workflowName: "wf",
    });
    expect(result).toEqual({ source: "journal", events: 10, spans: 5, failed: 0 });
    expect(shape(later.spans.getFinishedSpans())).toEqual(shape(live.spans));
    const replayedMetrics = (await later.reader.collect()).resourceMetrics;
    expect(metricNames(replayedMetrics)).toEqual(metricNames(live.metrics));
    for (const name of metricNames(live.metrics))
      expect([name, points(replayedMetrics, name).map((d) => [d.attributes, d.value])]).toEqual([
        name,
        points(live.metrics, name).map((d) => [d.attributes, d.value]),
      ]);
  });

  test("keeps up with a BatchSpanProcessor over a long journal (no span dropped past its queue)", async () => {
    using tmp = tempDir();
    const c = new Collector({ sessionId: "long", sessionsDir: tmp.dir, logger: quiet });
    for (let i = 0; i < 6_000; i++) c.recordToolCall(`tool-${i % 7}`, true, 1);
    await c.stop();
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
    const result = await exportSession(tmp.dir, "long", {
      tracerProvider,
      meterProvider: providers().meterProvider,
    });
    expect(result.spans).toBe(6_001);
    expect(exporter.getFinishedSpans().length).toBe(6_001);
  });
});

describe("exportSession from METRICS.json only", () => {
  test("gives a root span over the session's lifetime (nanoseconds kept) and the aggregates as metrics", async () => {
    using tmp = tempDir();
    mkdirSync(join(tmp.dir, "5f3a9c21"));
    copyFileSync(
      join(import.meta.dir, "..", "fixtures", "go-metrics.json"),
      join(tmp.dir, "5f3a9c21", "METRICS.json"),
    );
    const p = providers();
    const result = await exportSession(tmp.dir, "5f3a9c21", {
      tracerProvider: p.tracerProvider,
      meterProvider: p.meterProvider,
      workflowName: "go-run",
    });
    expect(result).toEqual({ source: "metrics", events: 0, spans: 1, failed: 0 });
    const [root] = p.spans.getFinishedSpans();
    expect(root!.name).toBe("invoke_workflow go-run");
    expect(root!.startTime).toEqual([1795311744, 140125935]);
    expect(root!.endTime).toEqual([1795311744, 140191088]);
    expect(root!.attributes).toEqual({
      "gen_ai.operation.name": "invoke_workflow",
      "gen_ai.conversation.id": "5f3a9c21",
      "gen_ai.workflow.name": "go-run",
    });
    const { resourceMetrics: rm } = await p.reader.collect();
    expect(points(rm, "session_metrics.tool.calls").map((d) => [d.attributes, d.value])).toEqual([
      [{ "gen_ai.tool.name": "Read", "session_metrics.outcome": "success" }, 3],
    ]);
    expect(points(rm, "session_metrics.tool.time").map((d) => d.value)).toEqual([0.035]);
    expect(points(rm, "session_metrics.llm.tokens").map((d) => [d.attributes, d.value])).toEqual([
      [{ "session_metrics.phase": "execute", "gen_ai.token.type": "input" }, 17100],
      [{ "session_metrics.phase": "execute", "gen_ai.token.type": "output" }, 3200],
    ]);
    expect(points(rm, "session_metrics.llm.cost").map((d) => d.value)).toEqual([0.30000000000000004]);
    expect(points(rm, "session_metrics.heal.outcomes").map((d) => [d.attributes, d.value])).toEqual([
      [{ "session_metrics.phase": "execute", "session_metrics.outcome": "success" }, 1],
    ]);
    const phase = points(rm, "session_metrics.phase.duration")[0]!;
    expect((phase.value as { sum: number }).sum).toBe(184.532);
    expect(points(rm, "gen_ai.execute_tool.duration")).toEqual([]); // no per-call data to make one from
  });

  test("says what is missing for an unknown session, and refuses a bad id", async () => {
    using tmp = tempDir();
    await expect(exportSession(tmp.dir, "nope")).rejects.toThrow(
      `[session-metrics] [export] session "nope" has neither a journal nor a METRICS.json in ${tmp.dir}`,
    );
    await expect(exportSession(tmp.dir, "../x")).rejects.toThrow("invalid session id");
  });
});
