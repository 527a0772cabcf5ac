/**
 * Turns and steps left open are not lost: `turn.end()` ends its open steps with what they have
 * (their usage counts as an LLM interaction), `stop()` ends open turns, and the usage a stream
 * reported counts exactly once — when the step ends without a usage report of its own.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Collector, loadTurns, type MetricEvent, timeStream } from "../../src/index.ts";
import { JOURNAL, MemoryLogger, T0, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

function collector(sessionId = "turns"): { c: Collector; sessionsDir: string; logger: MemoryLogger } {
  const sessionsDir = temps.make(sessionId);
  const logger = new MemoryLogger();
  const c = new Collector({ sessionId, sessionsDir, now: () => new Date(T0), logger });
  return { c, sessionsDir, logger };
}

async function* chunks(n: number): AsyncGenerator<string> {
  for (let i = 0; i < n; i++) {
    await Bun.sleep(0);
    yield `chunk-${i}`;
  }
}

async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

function journalTypes(sessionsDir: string, id: string): string[] {
  return readFileSync(join(sessionsDir, id, JOURNAL), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (JSON.parse(l) as MetricEvent).type);
}

/** The one LLM entry's counts (cost depends on pricing, not on the turn rules). */
function llmCounts(c: Collector): unknown[] {
  return c
    .snapshot()
    .llms.map((l) => [l.phase, l.interactionCount, l.promptTokens, l.completionTokens, l.totalTokens]);
}

describe("turn.end() with a step still open", () => {
  test("ends the step with its usage: the turn has the step, the session has the interaction", async () => {
    const { c, sessionsDir, logger } = collector();
    const t = c.startTurn();
    const s = t.startStep();
    s.reportUsage({ promptTokens: 10, completionTokens: 5 });
    t.end();
    const turns = c.turns();
    expect(turns).toHaveLength(1);
    expect(turns[0]!.turnId).toBe("turn-1");
    expect(turns[0]!.usage).toEqual({ promptTokens: 10, completionTokens: 5, totalTokens: 15 });
    expect(typeof turns[0]!.durationMs).toBe("number");
    expect(turns[0]!.steps).toHaveLength(1);
    expect(turns[0]!.steps[0]!.stepId).toBe("turn-1#0");
    expect(turns[0]!.steps[0]!.usage).toEqual({ promptTokens: 10, completionTokens: 5, totalTokens: 15 });
    expect(llmCounts(c)).toEqual([["llm", 1, 10, 5, 15]]);
    // Ending the step afterwards does nothing more.
    s.end({ promptTokens: 10, completionTokens: 5 });
    expect(llmCounts(c)).toEqual([["llm", 1, 10, 5, 15]]);
    expect(c.turns()).toEqual(turns);
    await c.stop();
    expect(journalTypes(sessionsDir, "turns")).toEqual([
      "session_start",
      "turn_start",
      "step_end",
      "llm",
      "turn_end",
    ]);
    expect(logger.warnings).toEqual([]);
  });

  test("a timeStream step left open: the stream's usage counts once when the turn ends", async () => {
    const { c } = collector();
    const t = c.startTurn();
    const step = t.startStep();
    const n = await drain(
      timeStream(chunks(4), step, { usage: () => ({ promptTokens: 3, completionTokens: 2 }) }),
    );
    expect(n).toBe(4);
    expect(c.snapshot().llms).toEqual([]); // nothing yet: the step is open
    t.end();
    expect(llmCounts(c)).toEqual([["llm", 1, 3, 2, 5]]);
    const recorded = c.turns()[0]!.steps[0]!;
    expect(recorded.usage).toEqual({ promptTokens: 3, completionTokens: 2, totalTokens: 5 });
    expect(recorded.stream).toMatchObject({ chunks: 4, outcome: "completed" });
    expect(typeof recorded.ttftMs).toBe("number");
    // A late step.end with the same usage changes nothing: the step is already ended.
    step.end({ promptTokens: 3, completionTokens: 2 });
    expect(llmCounts(c)).toEqual([["llm", 1, 3, 2, 5]]);
    await c.stop();
  });

  test("a timeStream step ended with a usage report of its own counts that report only", async () => {
    const { c } = collector();
    const t = c.startTurn();
    const step = t.startStep();
    await drain(timeStream(chunks(2), step, { usage: () => ({ promptTokens: 3, completionTokens: 2 }) }));
    step.end({ promptTokens: 3, completionTokens: 2 });
    t.end();
    expect(llmCounts(c)).toEqual([["llm", 1, 3, 2, 5]]);
    expect(c.turns()[0]!.usage).toEqual({ promptTokens: 3, completionTokens: 2, totalTokens: 5 });
    await c.stop();
  });

  test("a timeStream step ended without usage takes the stream's usage, once", async () => {
    const { c } = collector();
    const t = c.startTurn();
    const step = t.startStep();
    await drain(timeStream(chunks(2), step, { usage: () => ({ promptTokens: 3, completionTokens: 2 }) }));
    step.end();
    t.end();
    expect(llmCounts(c)).toEqual([["llm", 1, 3, 2, 5]]);
    expect(c.turns()[0]!.steps[0]!.usage).toEqual({ promptTokens: 3, completionTokens: 2, totalTokens: 5 });
    await c.stop();
  });
});

describe("stop() with a turn and a step still open", () => {
  test("records them: step_end and turn_end are journaled, loadTurns shows the turn with its duration", async () => {
    const { c, sessionsDir } = collector("open-at-stop");
    const done = c.startTurn({ turnId: "done" });
    done.startStep().end({ promptTokens: 1, completionTokens: 1 });
    done.end();
    const t = c.startTurn({ turnId: "open", phase: "execute" });
    const s = t.startStep();
    s.reportUsage({ promptTokens: 7, completionTokens: 4 });
    await c.stop();

    expect(journalTypes(sessionsDir, "open-at-stop")).toEqual([
      "session_start",
      "turn_start",
      "step_end",
      "llm",
      "turn_end",
      "turn_start",
      "step_end",
      "llm",
      "turn_end",
    ]);
    const turns = await loadTurns(sessionsDir, "open-at-stop", { logger: new MemoryLogger() });
    expect(turns.map((x) => x.turnId)).toEqual(["done", "open"]);
    const open = turns[1]!;
    expect(open.phase).toBe("execute");
    expect(typeof open.durationMs).toBe("number");
    expect(open.durationMs).toBeGreaterThanOrEqual(0);
    expect(open.usage).toEqual({ promptTokens: 7, completionTokens: 4, totalTokens: 11 });
    expect(open.steps).toHaveLength(1);
    expect(open.steps[0]!.stepId).toBe("open#0");
    expect(open.steps[0]!.usage).toEqual({ promptTokens: 7, completionTokens: 4, totalTokens: 11 });
    expect(c.snapshot().llms.map((l) => [l.phase, l.interactionCount, l.totalTokens])).toEqual([
      ["llm", 1, 2],
      ["execute", 1, 11],
    ]);
    expect(c.snapshot().droppedRecords).toBeUndefined();
  });
});
