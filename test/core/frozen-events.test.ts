/**
 * Events handed to code outside the library are frozen, nested objects included, so a listener or
 * sink cannot change what the journal and the other listeners see. The recorder freezes the
 * objects each event type carries by name (no generic walk): recording one event of every type
 * with sub-objects here is what catches a type it would miss.
 */
import { describe, expect, test } from "bun:test";
import type { MetricEvent } from "../../src/core/events.ts";
import type { SessionMetrics } from "../../src/core/types.ts";
import { Collector } from "../../src/session/collector.ts";
import { Recorder } from "../../src/session/recorder.ts";
import type { EventSink } from "../../src/session/sink.ts";

const quiet = { warn() {}, error() {} };

/** The paths of every object reachable from `value` that is not frozen ("" is `value` itself). */
function unfrozen(value: unknown, path = ""): string[] {
  if (typeof value !== "object" || value === null) return [];
  const own = Object.isFrozen(value) ? [] : [path === "" ? "(event)" : path];
  return own.concat(Object.entries(value).flatMap(([key, inner]) => unfrozen(inner, `${path}.${key}`)));
}

const DOC: SessionMetrics = {
  sessionId: "s",
  startedAt: "2026-03-01T10:00:00.000Z",
  updatedAt: "2026-03-01T10:00:01.000Z",
  tools: [
    { name: "Read", callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 5, avgDurationMs: 5 },
  ],
  editStrategies: [],
  llms: [],
  phases: [],
  droppedRecords: 0,
};

/** One record of every event type that carries a sub-object, and a few flat ones. */
function recordEveryKind(r: Recorder): void {
  r.recordPhaseTransition("plan");
  r.recordToolCall("Read", true, 3, { agent: "coder", attributes: { "k.one": "v", n: 1 } });
  r.recordLLMInteraction("plan", { promptTokens: 10, completionTokens: 2, cacheReadTokens: 4 }, 0.01, {
    model: "m",
    attributes: { tier: "fast" },
  });
  const turn = r.startTurn({ turnId: "t1" });
  const step = turn.startStep();
  step.recordStream({ chunks: 3, outcome: "completed" });
  step.end({ promptTokens: 5, completionTokens: 1 }, { cost: 0.001 });
  turn.end();
  r.recordInvocation({
    invocationId: "inv-1",
    agent: "coder",
    phase: 1,
    durationMs: 10,
    tokens: 12,
    cost: 0.01,
    exitCode: 0,
    success: true,
    attempt: 1,
    outputParsed: true,
    timestamp: "2026-03-01T10:00:00.000Z",
  });
  r.recordToolCall("", true, 1); // a drop
}

describe("events handed out are frozen", () => {
  test("every event a listener gets is frozen, with every object inside it", () => {
    const seen: MetricEvent[] = [];
    const r = new Recorder(
      { sessionId: "s", logger: quiet },
      { listeners: [(e) => seen.push(e)], from: { metrics: structuredClone(DOC) } },
    );
    recordEveryKind(r);
    expect(seen.map((e) => e.type)).toEqual([
      "restore",
      "phase_transition",
      "tool_call",
      "llm",
      "turn_start",
      "step_end",
      "llm",
      "turn_end",
      "invocation",
      "dropped",
    ]);
    // The sub-objects this relies on are there (else the check below proves nothing).
    const step = seen.find((e) => e.type === "step_end");
    expect(step?.type === "step_end" && step.step.stream?.chunks).toBe(3);
    expect(step?.type === "step_end" && step.step.usage?.promptTokens).toBe(5);
    expect(seen.flatMap((e) => unfrozen(e))).toEqual([]);
  });

  test("a sink that writes to events, nested objects included, changes nothing the journal or a later sink sees", () => {
    const journaled: MetricEvent[] = [];
    const later: string[] = [];
    const thrown: unknown[] = [];
    const vandal = (e: MetricEvent) => {
      const tries = [
        () => Object.assign(e, { seq: 0 }),
        () => e.type === "tool_call" && Object.assign(e.details!.attributes!, { "k.one": "changed" }),
        () => e.type === "tool_call" && Object.assign(e.details!, { agent: "changed" }),
        () => e.type === "llm" && Object.assign(e.usage, { promptTokens: 0 }),
        () => e.type === "step_end" && Object.assign(e.step.stream!, { chunks: 0 }),
        () => e.type === "invocation" && Object.assign(e.metric, { cost: 99 }),
        () => e.type === "restore" && Object.assign(e.metrics.tools[0]!, { callCount: 0 }),
      ];
      for (const attempt of tries)
        try {
          attempt();
        } catch (error) {
          thrown.push(error);
        }
    };
    const r = new Recorder(
      { sessionId: "s", logger: quiet },
      {
        journal: { append: (e) => journaled.push(e) },
        listeners: [vandal, (e) => later.push(JSON.stringify(e))],
        from: { metrics: structuredClone(DOC) },
      },
    );
    recordEveryKind(r);
    // One TypeError per event for the envelope, one per nested object tried.
    expect(thrown).toHaveLength(10 + 2 + 2 + 1 + 1 + 1);
    expect(thrown.every((e) => e instanceof TypeError)).toBe(true);
    // The journal encodes later: what it holds is what the later sink saw, as recorded.
    expect(journaled.map((e) => JSON.stringify(e))).toEqual(later);
    const tool = journaled.find((e) => e.type === "tool_call");
    expect(tool?.type === "tool_call" && tool.details).toEqual({
      agent: "coder",
      attributes: { "k.one": "v", n: 1 },
    });
    const llm = journaled.find((e) => e.type === "llm");
    expect(llm?.type === "llm" && llm.usage.promptTokens).toBe(10);
    const step = journaled.find((e) => e.type === "step_end");
    expect(step?.type === "step_end" && step.step.stream?.chunks).toBe(3);
    const invocation = journaled.find((e) => e.type === "invocation");
    expect(invocation?.type === "invocation" && invocation.metric.cost).toBe(0.01);
    const restore = journaled.find((e) => e.type === "restore");
    expect(restore?.type === "restore" && restore.metrics.tools[0]!.callCount).toBe(1);
    expect(journaled.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.snapshot().tools.map((t) => [t.name, t.callCount])).toEqual([["Read", 2]]);
  });

  test("without listeners nothing is frozen (the journal is the library's own)", () => {
    const journaled: MetricEvent[] = [];
    const r = new Recorder(
      { sessionId: "s", logger: quiet },
      { journal: { append: (e) => journaled.push(e) } },
    );
    r.recordToolCall("Read", true, 3, { attributes: { k: "v" } });
    expect(journaled.map((e) => Object.isFrozen(e))).toEqual([false, false]);
  });
});

describe("sinks that only read", () => {
  const sink = (readsOnly: boolean | undefined, seen: MetricEvent[]): EventSink => ({
    ...(readsOnly === undefined ? {} : { readsOnly }),
    write: (_id, e) => seen.push(e),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  });
  const frozenTypes = (seen: MetricEvent[]) => seen.map((e) => [e.type, Object.isFrozen(e)]);

  test("get events unfrozen when every sink declares readsOnly", async () => {
    const seen: MetricEvent[] = [];
    const c = new Collector({ sessionId: "s", journal: false, logger: quiet, sinks: [sink(true, seen)] });
    c.recordToolCall("Read", true, 3);
    await c.stop();
    expect(frozenTypes(seen)).toEqual([
      ["session_start", false],
      ["tool_call", false],
    ]);
  });

  test("get frozen events as soon as another sink does not declare it, or a subscriber joins", async () => {
    const mixed: MetricEvent[] = [];
    const c = new Collector({
      sessionId: "s",
      journal: false,
      logger: quiet,
      sinks: [sink(true, mixed), sink(undefined, [])],
    });
    c.recordToolCall("Read", true, 3);
    await c.stop();
    expect(frozenTypes(mixed)).toEqual([
      ["session_start", true],
      ["tool_call", true],
    ]);

    const seen: MetricEvent[] = [];
    const d = new Collector({ sessionId: "t", journal: false, logger: quiet, sinks: [sink(true, seen)] });
    d.recordToolCall("Read", true, 3);
    d.subscribe(() => {});
    d.recordToolCall("Read", true, 4);
    await d.stop();
    expect(frozenTypes(seen)).toEqual([
      ["session_start", false],
      ["tool_call", false],
      ["tool_call", true],
    ]);
  });
});
