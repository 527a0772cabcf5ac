/**
 * The OpenTelemetry sink declares `readsOnly`, so the collector hands it events unfrozen: this
 * proves the declaration. Events of every kind, frozen to the last nested object, go through the
 * sink; a write anywhere in it (or in the span building) would throw, which it counts as failed.
 */
import { expect, test } from "bun:test";
import type { MetricEvent } from "../../src/core/events.ts";
import { createOtelSink } from "../../src/export/otel/index.ts";
import { Recorder } from "../../src/session/recorder.ts";
import { providers, quiet, T0 } from "./helpers.ts";

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** A session with every span kind: phases, tools with details, a turn with a streamed step, an LLM call. */
function sessionEvents(): MetricEvent[] {
  const events: MetricEvent[] = [];
  let t = T0;
  const r = new Recorder(
    { sessionId: "s1", logger: quiet },
    { clock: () => (t += 10), journal: { append: (e) => events.push(e) } },
  );
  r.recordPhaseTransition("plan");
  r.recordToolCall("Read", true, 5, { agent: "coder", attributes: { "app.k": "v" } });
  r.recordToolCall("Bash", false, 3, { errorClass: "exit_1" });
  const turn = r.startTurn({ turnId: "t1", phase: "plan" });
  const step = turn.startStep();
  step.setModel("claude-sonnet-4-5");
  step.recordStream({ chunks: 4, outcome: "completed" });
  step.end({ promptTokens: 100, completionTokens: 20, cacheReadTokens: 50 }, { cost: 0.01 });
  turn.end();
  r.recordLLMInteraction("plan", { promptTokens: 10, completionTokens: 2 }, 0.001, { model: "gpt-4o" });
  r.recordPhaseDuration("plan", 100, true);
  r.stop();
  return events;
}

async function exportAll(events: MetricEvent[]) {
  const p = providers();
  const sink = createOtelSink({
    tracerProvider: p.tracerProvider,
    meterProvider: p.meterProvider,
    logger: quiet,
  });
  for (const event of events) sink.write("s1", event);
  await sink.close();
  return {
    stats: sink.stats(),
    spans: p.spans
      .getFinishedSpans()
      .map((s) => s.name)
      .sort(),
  };
}

test("the OpenTelemetry sink writes to no event it is given, nor to anything inside one", async () => {
  expect(createOtelSink().readsOnly).toBe(true);
  const events = sessionEvents();
  const copy = structuredClone(events);
  const frozen = await exportAll(events.map((e) => deepFreeze(e)));
  expect(frozen.stats.failed).toBe(0);
  expect(events).toEqual(copy);
  // The frozen run built everything an unfrozen one builds (so the code that reads events ran).
  const plain = await exportAll(structuredClone(copy));
  expect(frozen).toEqual(plain);
  expect(frozen.stats.events).toBe(events.length);
  expect(frozen.spans).toContain("execute_tool Read");
  expect(frozen.spans).toContain("chat claude-sonnet-4-5");
});
