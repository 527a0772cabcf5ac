/**
 * The span builder fed hand-made events (exact times, including stream timings a live clock
 * cannot give): streamed steps, steps without usage, invocations, phases without transitions,
 * retries, unpriced calls and a journal holding two runs.
 */
import { describe, expect, test } from "bun:test";
import { SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { EventBody, MetricEvent } from "../../src/core/events.ts";
import { createOtelSink } from "../../src/export/otel/index.ts";
import { byName, ms, parentOf, points, providers, T0 } from "./helpers.ts";

const usage = (promptTokens: number, completionTokens: number) => ({
  promptTokens,
  completionTokens,
  totalTokens: promptTokens + completionTokens,
  cacheReadTokens: undefined,
  cacheWriteTokens: undefined,
  reasoningTokens: undefined,
});

/** Builds the spans of `bodies`, given as [ms after T0, event body]. */
async function build(bodies: [number, EventBody][]) {
  const p = providers();
  const sink = createOtelSink({ tracerProvider: p.tracerProvider, meterProvider: p.meterProvider });
  for (const [i, [at, body]] of bodies.entries())
    sink.write("s1", { ...body, v: 1, seq: i + 1, ts: T0 + at } as MetricEvent);
  await sink.close();
  const spans = p.spans.getFinishedSpans();
  return { p, sink, spans };
}

const rel = (s: ReadableSpan) => [ms(s.startTime) - T0, ms(s.endTime) - T0];
const start: [number, EventBody] = [0, { type: "session_start", sessionId: "s1", startedAt: T0 }];

describe("chat spans of steps", () => {
  test("a streamed step is one chat span with first-token and response events at their times", async () => {
    const { spans } = await build([
      start,
      [100, { type: "turn_start", turnId: "t1", phase: "llm" }],
      [
        1100,
        {
          type: "step_end",
          step: {
            turnId: "t1",
            stepIndex: 0,
            usage: { promptTokens: 900, completionTokens: 100, cacheWriteTokens: 200 },
            ttftMs: 250.5,
            decodeMs: 700,
            genTotalMs: 950.5,
            model: "claude-haiku-4-5",
            stream: { chunks: 12, outcome: "completed" },
          },
        },
      ],
      [
        1100,
        {
          type: "llm",
          phase: "llm",
          usage: { ...usage(900, 100), cacheWriteTokens: 200 },
          cost: 0.002,
          details: { model: "claude-haiku-4-5", startedAt: T0 + 150 },
        },
      ],
      [1200, { type: "turn_end", turnId: "t1", durationMs: 1100 }],
    ]);
    expect(spans.map((s) => s.name)).toEqual(["chat claude-haiku-4-5", "invoke_agent", "invoke_workflow"]);
    const chat = byName(spans, "chat claude-haiku-4-5");
    expect(rel(chat)).toEqual([150, 1100]);
    expect(parentOf(chat, spans)?.name).toBe("invoke_agent");
    expect(chat.attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.conversation.id": "s1",
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": "claude-haiku-4-5",
      "session_metrics.phase": "llm",
      "session_metrics.turn.id": "t1",
      "session_metrics.step.index": 0,
      "gen_ai.usage.input_tokens": 900,
      "gen_ai.usage.output_tokens": 100,
      "gen_ai.usage.cache_creation.input_tokens": 200,
      "gen_ai.usage.cost": 0.002,
      "gen_ai.response.time_to_first_chunk": 0.2505,
      "session_metrics.stream.outcome": "completed",
      "session_metrics.stream.chunks": 12,
    });
    expect(chat.events.map((e) => [e.name, ms(e.time) - T0, e.attributes])).toEqual([
      ["gen_ai.stream.first_token", 400.5, {}],
      [
        "gen_ai.response.received",
        1100,
        {
          "gen_ai.response.model": "claude-haiku-4-5",
          "gen_ai.usage.input_tokens": 900,
          "gen_ai.usage.output_tokens": 100,
          "gen_ai.usage.total_tokens": 1000,
          "gen_ai.usage.cache_creation.input_tokens": 200,
        },
      ],
    ]);
  });

  test("a step without usage is a chat span without usage, placed by its generation time", async () => {
    const { spans, p } = await build([
      start,
      [10, { type: "turn_start", turnId: "t1", phase: "llm" }],
      [
        500,
        { type: "step_end", step: { turnId: "t1", stepIndex: 0, genTotalMs: 400, errorClass: "timeout" } },
      ],
      [600, { type: "turn_end", turnId: "t1", durationMs: 590 }],
    ]);
    const chat = byName(spans, "chat");
    expect(rel(chat)).toEqual([100, 500]);
    expect(chat.attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.conversation.id": "s1",
      "session_metrics.turn.id": "t1",
      "session_metrics.step.index": 0,
      "error.type": "timeout",
    });
    expect(chat.status).toEqual({ code: SpanStatusCode.ERROR, message: "timeout" });
    const { resourceMetrics } = await p.reader.collect();
    expect(points(resourceMetrics, "gen_ai.client.token.usage")).toEqual([]);
    const duration = points(resourceMetrics, "gen_ai.client.operation.duration")[0]!;
    expect([duration.attributes, (duration.value as { sum: number }).sum]).toEqual([
      { "gen_ai.operation.name": "chat", "error.type": "timeout" },
      0.4,
    ]);
  });

  test("an LLM call without a start is a point in time, and a retry says so in an event", async () => {
    const { spans } = await build([
      start,
      [
        300,
        {
          type: "llm",
          phase: "review",
          usage: usage(10, 2),
          cost: 0,
          unpriced: "my-local-model",
          promptHash: "9c78",
          truncated: true,
          details: { model: "my-local-model", attempt: 2, attributes: { "gen_ai.provider.name": "ollama" } },
        },
      ],
    ]);
    const chat = byName(spans, "chat my-local-model");
    expect(rel(chat)).toEqual([300, 300]);
    expect(chat.attributes).toEqual({
      "gen_ai.provider.name": "ollama",
      "gen_ai.operation.name": "chat",
      "gen_ai.conversation.id": "s1",
      "gen_ai.request.model": "my-local-model",
      "session_metrics.phase": "review",
      "session_metrics.attempt": 2,
      "gen_ai.usage.input_tokens": 10,
      "gen_ai.usage.output_tokens": 2,
      "session_metrics.cost.unpriced": "my-local-model",
      "session_metrics.prompt.hash": "9c78",
      "session_metrics.prompt.truncated": true,
    });
    expect(chat.events.map((e) => [e.name, e.attributes])).toEqual([
      ["gen_ai.retry", { "retry.attempt": 2 }],
    ]);
  });
});

describe("phases, invocations and runs", () => {
  test("entering a phase ends the current one; a duration alone still gives its span", async () => {
    const { spans } = await build([
      start,
      [10, { type: "phase_transition", phase: "plan" }],
      [50, { type: "phase_transition", phase: "plan" }],
      [100, { type: "phase_transition", phase: "execute" }],
      [400, { type: "phase_duration", phase: "verify", durationMs: 100, success: false }],
      [500, { type: "heal_trigger", phase: "verify" }],
    ]);
    expect(spans.map((s) => [s.name, ...rel(s)])).toEqual([
      ["phase plan", 10, 100],
      ["phase verify", 300, 400],
      ["phase execute", 100, 500],
      ["invoke_workflow", 0, 500],
    ]);
    const verify = byName(spans, "phase verify");
    expect(verify.status).toEqual({ code: SpanStatusCode.ERROR, message: "phase verify failed" });
    expect(verify.attributes["session_metrics.phase.success"]).toBe(false);
    // A trigger for a phase with no open span lands on the current phase.
    expect(byName(spans, "phase execute").events.map((e) => [e.name, e.attributes])).toEqual([
      ["session_metrics.heal.trigger", { "session_metrics.phase": "verify" }],
    ]);
  });

  test("a recorded invocation is an invoke_agent span with its own times and no usage keys", async () => {
    const { spans } = await build([
      start,
      [
        9000,
        {
          type: "invocation",
          metric: {
            invocationId: "inv-1",
            agent: "reviewer",
            phase: 3,
            durationMs: 4000,
            tokens: 5000,
            cost: 0.12,
            exitCode: 1,
            success: false,
            attempt: 1,
            outputParsed: false,
            model: "gpt-5",
            timestamp: new Date(T0 + 5000).toISOString(),
            errorClass: "timeout",
          },
        },
      ],
    ]);
    const agent = byName(spans, "invoke_agent reviewer");
    expect(rel(agent)).toEqual([5000, 9000]);
    expect(agent.attributes).toEqual({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "reviewer",
      "gen_ai.conversation.id": "s1",
      "session_metrics.invocation.id": "inv-1",
      "session_metrics.phase": "3",
      "session_metrics.attempt": 1,
      "session_metrics.invocation.tokens": 5000,
      "session_metrics.invocation.cost": 0.12,
      "session_metrics.invocation.exit_code": 1,
      "gen_ai.request.model": "gpt-5",
      "error.type": "timeout",
    });
  });

  test("a fresh run in the same journal starts a new trace", async () => {
    const { spans } = await build([
      start,
      [100, { type: "tool_call", name: "Read", success: true, durationMs: 10 }],
      [1000, { type: "session_start", sessionId: "s1", startedAt: T0 + 1000 }],
      [1100, { type: "tool_call", name: "Edit", success: true, durationMs: 10 }],
    ]);
    expect(spans.map((s) => [s.name, ...rel(s)])).toEqual([
      ["execute_tool Read", 90, 100],
      ["invoke_workflow", 0, 100],
      ["execute_tool Edit", 1090, 1100],
      ["invoke_workflow", 1000, 1100],
    ]);
    expect(spans[0]!.spanContext().traceId).toBe(spans[1]!.spanContext().traceId);
    expect(spans[2]!.spanContext().traceId).not.toBe(spans[1]!.spanContext().traceId);
  });

  test("keeps sessions written to one sink apart", async () => {
    const p = providers();
    const sink = createOtelSink({ tracerProvider: p.tracerProvider, meterProvider: p.meterProvider });
    for (const id of ["a", "b"]) {
      sink.write(id, { v: 1, seq: 1, ts: T0, type: "session_start", sessionId: id, startedAt: T0 });
      sink.write(id, {
        v: 1,
        seq: 2,
        ts: T0 + 5,
        type: "tool_call",
        name: "Read",
        success: true,
        durationMs: 1,
      });
    }
    await sink.close();
    const roots = p.spans.getFinishedSpans().filter((s) => s.name === "invoke_workflow");
    expect(roots.map((s) => s.attributes["gen_ai.conversation.id"])).toEqual(["a", "b"]);
    expect(roots[0]!.spanContext().traceId).not.toBe(roots[1]!.spanContext().traceId);
  });
});
