/** Go-written files load and re-save byte for byte; a real flush writes Go's bytes. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { load, save } from "../../src/fs/metrics-file.ts";
import { Collector } from "../../src/session/collector.ts";
import { cleanup, DESIGN_EXAMPLE, FIXTURES, listTree, ManualClock, readText, tempDir } from "./helpers.ts";

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => cleanup(dir));

async function plantFixture(name: string, id: string): Promise<Buffer> {
  await mkdir(join(dir, "in", id), { recursive: true });
  await copyFile(join(FIXTURES, name), join(dir, "in", id, "METRICS.json"));
  return readFile(join(FIXTURES, name));
}

describe("Go-written files", () => {
  test("the DESIGN.md document loads as the camelCase shape and re-saves byte for byte", async () => {
    const golden = await plantFixture("go-metrics.json", "5f3a9c21");
    const m = await load(join(dir, "in"), "5f3a9c21");
    expect(m).toEqual(DESIGN_EXAMPLE);
    await save(join(dir, "out"), "5f3a9c21", m!);
    const written = await readFile(join(dir, "out", "5f3a9c21", "METRICS.json"));
    expect(written.equals(golden)).toBe(true);
    expect(written.at(-1)).toBe("}".charCodeAt(0));
  });

  test("empty names, zero values, unknown phases, odd floats and escapes round-trip byte for byte", async () => {
    const golden = await plantFixture("go-edge.json", "go-edge");
    const m = (await load(join(dir, "in"), "go-edge"))!;
    expect(m.startedAt).toBe("0001-01-01T00:00:00Z");
    expect(m.updatedAt).toBe("2026-11-22T09:12:00.5+05:30");
    expect(m.tools.map((t) => t.name)).toEqual(["", 'a<b>&c\u2028\u2029\u0000\u001f\b\f\n\r\t"\\\u007f😀é']);
    expect(m.tools[1]!.avgDurationMs).toBe(-4611686018427388000);
    expect(m.tools[1]!.totalDurationMs).toBe(9007199254740991);
    expect(m.llms[0]!.cost).toBe(123456789012345680000);
    expect(m.llms[0]!.phase).toBe("unknown-phase");
    expect(Object.is(m.llms[1]!.cost, -0)).toBe(true);
    expect(m.editStrategies).toEqual([]);
    expect(m.phases[0]!.phase).toBe("");
    expect(m.phases[0]!.healDurationMs).toBe(0);
    await save(join(dir, "out"), "go-edge", m);
    const written = await readFile(join(dir, "out", "go-edge", "METRICS.json"));
    expect(written.toString("utf8")).toBe(golden.toString("utf8"));
    expect(written.equals(golden)).toBe(true);
  });
});

describe("flush", () => {
  test("a session recorded through the Go API flushes the DESIGN.md bytes (ms timestamps)", async () => {
    const clock = new ManualClock("2026-11-22T01:42:24.140Z");
    const c = new Collector({ sessionId: "5f3a9c21", sessionsDir: dir, now: clock.now });
    clock.advance(51);
    for (const ms of [10, 12, 13]) c.recordToolCall("Read", true, ms);
    c.recordEditStrategy("exact_match");
    c.recordEditStrategy("");
    c.recordEditStrategy("exact_match");
    c.recordLLMInteractionWithPrompt(
      "execute",
      { promptTokens: 10000, completionTokens: 2000 },
      0.1,
      "",
      false,
    );
    c.recordLLMInteraction("execute", null, 5);
    const hash = "9c7898597b84f182";
    c.recordLLMInteractionWithPrompt(
      "execute",
      { promptTokens: 7000, completionTokens: 1000 },
      0.2,
      hash,
      false,
    );
    c.recordLLMInteractionWithPrompt(
      "execute",
      { promptTokens: 50, completionTokens: 100 },
      0,
      "other",
      true,
    );
    c.recordLLMInteraction("execute", { promptTokens: 50, completionTokens: 100, totalTokens: 150 }, 0);
    c.recordPhaseTransition("execute");
    c.recordHealTrigger("execute");
    c.recordHealOutcome("execute", true);
    c.recordHealDuration("execute", 8000);
    c.recordHealDuration("execute", 123);
    c.recordHealLoop("execute");
    c.recordHealLoop("execute");
    c.recordPhaseDuration("execute", 1000, false);
    c.recordPhaseDuration("execute", 184532, true);
    await c.stop();
    const golden = (await readText(join(FIXTURES, "go-metrics.json")))
      .replace("2026-11-22T01:42:24.140125935Z", "2026-11-22T01:42:24.140Z")
      .replace("2026-11-22T01:42:24.140191088Z", "2026-11-22T01:42:24.191Z");
    expect(await readText(join(dir, "5f3a9c21", "METRICS.json"))).toBe(golden);
    expect((await listTree(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("writes dropped_records after phases, -0 cost as -0, -0 duration as 0, escaped names", async () => {
    const c = new Collector({ sessionId: "s", sessionsDir: dir, now: new ManualClock().now });
    c.recordToolCall("<a&b>\u2028", true, -0);
    c.recordToolCall("x", true, Number.NaN);
    c.recordLLMInteraction("p", { promptTokens: 1, completionTokens: 2 }, -0);
    c.recordPhaseTransition("");
    await c.flush();
    expect(await readText(join(dir, "s", "METRICS.json"))).toBe(`{
  "session_id": "s",
  "started_at": "2026-11-22T01:42:24.140Z",
  "updated_at": "2026-11-22T01:42:24.140Z",
  "tools": [
    {
      "name": "\\u003ca\\u0026b\\u003e\\u2028",
      "call_count": 1,
      "success_count": 1,
      "fail_count": 0,
      "total_duration_ms": 0,
      "avg_duration_ms": 0
    }
  ],
  "llms": [
    {
      "phase": "p",
      "prompt_tokens": 1,
      "completion_tokens": 2,
      "total_tokens": 3,
      "cost": -0,
      "interaction_count": 1
    }
  ],
  "phases": [],
  "dropped_records": 2
}`);
    await c.stop();
  });

  test("fractional milliseconds are rounded per record in the file", async () => {
    const c = new Collector({ sessionId: "s", sessionsDir: dir, now: new ManualClock().now });
    for (const ms of [0.5, 1.4, 2.5]) c.recordToolCall("t", true, ms);
    c.recordHealDuration("p", 0.5);
    c.recordHealDuration("p", 2.5);
    c.recordPhaseDuration("p", 1.5, true);
    await c.stop();
    const text = await readText(join(dir, "s", "METRICS.json"));
    expect(text).toContain('"total_duration_ms": 5,\n      "avg_duration_ms": 1.6666666666666667\n');
    expect(text).toContain('"duration_ms": 2,\n');
    expect(text).toContain('"heal_duration_ms": 4,\n');
  });

  test("a flushed file loads back equal to the snapshot", async () => {
    const c = new Collector({ sessionId: "s", sessionsDir: dir, now: new ManualClock().now });
    c.recordToolCall("t", false, 3);
    c.recordLLMInteractionWithPrompt(
      "p",
      { promptTokens: 1, completionTokens: 2, cacheWriteTokens: 0 },
      0.25,
      "h",
      true,
    );
    c.recordBisectOutcome("p", true);
    c.recordToolCall("", true, 1);
    await c.flush();
    expect(await load(dir, "s")).toEqual(c.snapshot());
    await c.stop();
  });
});
