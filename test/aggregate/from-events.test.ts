/** Journal events → analytics records, and the aggregate of a Collector-style event stream. */
import { describe, expect, test } from "bun:test";
import { aggregateEvents, eventsToRecords, eventToRecord } from "../../src/aggregate/from-events.ts";
import type { EventBody, MetricEvent } from "../../src/core/events.ts";
import { parseInvocationMetric } from "../../src/core/invocation.ts";
import type { NormalizedUsage } from "../../src/core/state.ts";
import { at, metric, T } from "./helpers.ts";

let seq = 0;
const event = (body: EventBody, ts = T): MetricEvent => ({ v: 1, seq: ++seq, ts, ...body }) as MetricEvent;

const usage = (prompt: number, completion: number, cacheRead?: number): NormalizedUsage => ({
  promptTokens: prompt,
  completionTokens: completion,
  totalTokens: prompt + completion,
  cacheReadTokens: cacheRead,
  cacheWriteTokens: undefined,
  reasoningTokens: undefined,
});

describe("eventToRecord", () => {
  test("passes an invocation's metric through", () => {
    const m = metric({ invocationId: "inv-1", tier: "large" });
    expect(eventToRecord(event({ type: "invocation", metric: m }))).toBe(m);
  });

  test("turns a bare tool call (before any phase) into an unknown-phase record that started durationMs before it was recorded", () => {
    const e = {
      v: 1,
      seq: 7,
      ts: T + 5_000,
      type: "tool_call",
      name: "Read",
      success: false,
      durationMs: 1_200,
    } as const;
    expect(eventToRecord(e)).toStrictEqual({
      invocationId: "tool:7",
      agent: "unknown",
      phase: "unknown",
      durationMs: 1_200,
      tokens: 0,
      cost: 0,
      exitCode: 1,
      success: false,
      attempt: 1,
      outputParsed: false,
      timestamp: at(3_800),
      tool: "Read",
    });
  });

  test("takes a tool call's agent, task, attempt, start, model and error class from its details", () => {
    const details = {
      agent: "coder",
      taskId: "task-3",
      attempt: 2,
      startedAt: T + 100,
      errorClass: "EPIPE",
      model: "m",
    };
    const record = eventToRecord(
      event({ type: "tool_call", name: "Bash", success: true, durationMs: 50, details }),
    );
    expect(record).toMatchObject({
      invocationId: "task-3",
      taskId: "task-3",
      agent: "coder",
      attempt: 2,
      timestamp: at(100),
      durationMs: 50,
      errorClass: "EPIPE",
      model: "m",
      tool: "Bash",
      exitCode: 0,
      success: true,
    });
  });

  test("turns an LLM interaction into a record with its usage and cost, lasting from startedAt to ts", () => {
    const details = { agent: "planner", model: "gpt-x", startedAt: T + 1_000, taskId: "t1", attempt: 3 };
    const e = {
      v: 1,
      seq: 4,
      ts: T + 3_500,
      type: "llm",
      phase: "plan",
      usage: usage(900, 100, 400),
      cost: 0.02,
      details,
    } as const;
    expect(eventToRecord(e)).toStrictEqual({
      invocationId: "t1",
      taskId: "t1",
      agent: "planner",
      phase: "plan",
      durationMs: 2_500,
      tokens: 1_000,
      inputTokens: 900,
      outputTokens: 100,
      cachedTokens: 400,
      cost: 0.02,
      exitCode: 0,
      success: true,
      attempt: 3,
      outputParsed: true,
      model: "gpt-x",
      timestamp: at(1_000),
    });
  });

  test("gives an LLM interaction without details an instant at ts and no cached tokens", () => {
    const e = {
      v: 1,
      seq: 9,
      ts: T + 42,
      type: "llm",
      phase: "execute",
      usage: usage(10, 5),
      cost: 0,
    } as const;
    expect(eventToRecord(e)).toStrictEqual({
      invocationId: "llm:9",
      agent: "unknown",
      phase: "execute",
      durationMs: 0,
      tokens: 15,
      inputTokens: 10,
      outputTokens: 5,
      cost: 0,
      exitCode: 0,
      success: true,
      attempt: 1,
      outputParsed: true,
      timestamp: at(42),
    });
  });

  test("marks an LLM interaction with an errorClass as failed", () => {
    const body: EventBody = {
      type: "llm",
      phase: "p",
      usage: usage(1, 1),
      cost: 0,
      details: { errorClass: "429" },
    };
    expect(eventToRecord(event(body))).toMatchObject({ success: false, exitCode: 1, errorClass: "429" });
  });

  test("clamps a startedAt after the event to zero duration", () => {
    const body: EventBody = {
      type: "llm",
      phase: "p",
      usage: usage(1, 1),
      cost: 0,
      details: { startedAt: T + 10 },
    };
    expect(eventToRecord(event(body, T))).toMatchObject({ durationMs: 0, timestamp: at(10) });
  });

  test("ignores every other event", () => {
    const others: EventBody[] = [
      { type: "session_start", sessionId: "s", startedAt: T },
      { type: "phase_transition", phase: "p" },
      { type: "phase_duration", phase: "p", durationMs: 5, success: true },
      { type: "heal_duration", phase: "p", durationMs: 5 },
      { type: "edit_strategy", strategy: "exact" },
      { type: "dropped", method: "recordToolCall", reason: "bad" },
    ];
    for (const body of others) expect(eventToRecord(event(body))).toBeUndefined();
  });

  test("produces records that pass the InvocationMetric schema", () => {
    const bodies: EventBody[] = [
      { type: "tool_call", name: "Read", success: true, durationMs: 3 },
      {
        type: "llm",
        phase: "p",
        usage: usage(1, 2, 0),
        cost: 0.5,
        details: { agent: "a", startedAt: T - 5 },
      },
    ];
    for (const body of bodies) {
      const record = eventToRecord(event(body))!;
      const { tool, ...rest } = record;
      expect(parseInvocationMetric(record)).toStrictEqual(rest);
    }
  });
});

test("a tool call belongs to the phase current when it was recorded, an LLM call without an agent to the session's default agent", async () => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { Collector, aggregateJournal } = await import("../../src/index.ts");
  const { MemoryLogger } = await import("../journal/helpers.ts");
  const dir = mkdtempSync(join(tmpdir(), "sm-phase-"));
  try {
    const c = new Collector({
      sessionId: "p",
      sessionsDir: dir,
      agent: "planner",
      logger: new MemoryLogger(),
    });
    c.recordToolCall("Read", true, 1);
    c.recordPhaseTransition("plan");
    c.recordToolCall("Read", true, 2);
    c.recordToolCall("Grep", true, 3);
    c.recordPhaseTransition("execute");
    c.recordToolCall("Edit", false, 4);
    c.recordLLMInteraction("execute", { promptTokens: 10, completionTokens: 2 }, 0.5);
    c.recordLLMInteraction("execute", { promptTokens: 1, completionTokens: 1 }, 0.25, { agent: "coder" });
    await c.stop();
    const a = await aggregateJournal(dir, "p");
    expect(a.invocationsByPhase).toEqual({ unknown: 1, plan: 2, execute: 3 });
    expect(a.invocationsByAgent).toEqual({ unknown: 4, planner: 1, coder: 1 });
    expect(a.costByAgent).toEqual({ unknown: 0, planner: 0.5, coder: 0.25 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("aggregateEvents", () => {
  test("aggregates a mixed session: invocations, tool calls and LLM calls, other events skipped", () => {
    const events: MetricEvent[] = [
      event({ type: "session_start", sessionId: "s", startedAt: T }, T),
      // an agent invocation [0, 2000) that failed on the infrastructure...
      event(
        {
          type: "invocation",
          metric: metric({
            invocationId: "task-1",
            agent: "coder",
            durationMs: 2_000,
            success: false,
            exitCode: 1,
            errorClass: "timeout",
            tier: "small",
            cost: 0.5,
          }),
        },
        T + 2_000,
      ),
      // ...its retry's LLM call [2500, 3000) on a bigger tier is not an escalation (LLM records have no tier)
      event(
        {
          type: "llm",
          phase: "execute",
          usage: usage(800, 200, 100),
          cost: 0.25,
          details: { agent: "coder", taskId: "task-1", attempt: 2, startedAt: T + 2_500, model: "big" },
        },
        T + 3_000,
      ),
      // ...and a tool call [2600, 2700) inside it
      event(
        { type: "tool_call", name: "Read", success: true, durationMs: 100, details: { agent: "coder" } },
        T + 2_700,
      ),
      event({ type: "phase_transition", phase: "execute" }, T + 3_000),
    ];
    const result = aggregateEvents(events);
    expect(result).toMatchObject({
      totalInvocations: 3,
      invocationsByAgent: { coder: 3 },
      invocationsByPhase: { "1": 1, execute: 1, unknown: 1 },
      totalRetries: 1,
      infraRetries: 1,
      escalationCount: 0,
      totalTokens: 1_000,
      totalCachedTokens: 100,
      totalCost: 0.75,
      costByModel: { big: 0.25 },
      totalDurationMs: 2_600,
      peakParallelInvocations: 2,
      parallelismOverTime: [
        { bucketStart: "2026-03-01T10:00:00.000Z", concurrent: 1 },
        { bucketStart: "2026-03-01T10:00:01.000Z", concurrent: 1 },
        { bucketStart: "2026-03-01T10:00:02.000Z", concurrent: 2 },
      ],
      successRate: 2 / 3,
      durationPercentilesByTool: { Read: { p50: 100, p90: 100, p99: 100 } },
    });
    expect([...eventsToRecords(events)]).toHaveLength(3);
  });
});
