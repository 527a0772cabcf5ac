/** save(): validation before writing, session id match, bytes, modes. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import type { SessionMetrics } from "../../src/core/types.ts";
import { MetricsError, ValidationError } from "../../src/errors.ts";
import { load, save } from "../../src/fs/metrics-file.ts";
import { Collector } from "../../src/session/collector.ts";
import { cleanup, DESIGN_EXAMPLE, type Loose, listTree, ManualClock, readText, tempDir } from "./helpers.ts";

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => cleanup(dir));

const ID = DESIGN_EXAMPLE.sessionId;

function variant(mutate: (m: Loose) => void): SessionMetrics {
  const m = structuredClone(DESIGN_EXAMPLE) as Loose;
  mutate(m);
  return m;
}

describe("writing", () => {
  test("writes exactly encodeMetrics' bytes and nothing else, creating missing folders", async () => {
    const nested = join(dir, "a", "b");
    await save(nested, ID, DESIGN_EXAMPLE);
    expect(await readText(join(nested, ID, "METRICS.json"))).toBe(encodeMetrics(DESIGN_EXAMPLE));
    expect(await listTree(nested)).toEqual([ID, `${ID}/METRICS.json`]);
    expect(await load(nested, ID)).toEqual(DESIGN_EXAMPLE);
  });

  test("replaces a previous file", async () => {
    await save(dir, ID, DESIGN_EXAMPLE);
    const next = variant((m) => (m.tools[0].callCount = 4));
    await save(dir, ID, next);
    expect(await load(dir, ID)).toEqual(next);
    expect(await listTree(dir)).toEqual([ID, `${ID}/METRICS.json`]);
  });
});

describe("ValidationError", () => {
  test("metrics.sessionId other than the id is refused and nothing is written", async () => {
    const error = await save(dir, "other", DESIGN_EXAMPLE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(MetricsError);
    expect((error as Error).message).toStartWith("[session-metrics] [save] metrics.sessionId is");
    expect((error as Error).message).toContain('"5f3a9c21"');
    expect((error as Error).message).toContain('"other"');
    expect(await listTree(dir)).toEqual([]);
  });

  const invalid: [string, (m: Loose) => void, string][] = [
    ["NaN cost", (m) => (m.llms[0].cost = Number.NaN), "llms[0].cost"],
    ["Infinity cost", (m) => (m.llms[0].cost = Number.POSITIVE_INFINITY), "llms[0].cost"],
    ["NaN average", (m) => (m.tools[0].avgDurationMs = Number.NaN), "tools[0].avgDurationMs"],
    ["fractional count", (m) => (m.tools[0].callCount = 1.5), "tools[0].callCount"],
    ["unsafe integer", (m) => (m.phases[0].durationMs = 2 ** 53), "phases[0].durationMs"],
    ["string token count", (m) => (m.llms[0].promptTokens = "1"), "llms[0].promptTokens"],
    ["non-boolean success", (m) => (m.phases[0].success = 1), "phases[0].success"],
    ["missing field", (m) => delete m.tools[0].failCount, "tools[0].failCount"],
    ["unknown field", (m) => (m.tools[0].extra = 1), "tools[0]"],
    ["null list", (m) => (m.llms = null), "llms"],
    ["bad timestamp", (m) => (m.updatedAt = "now"), "updatedAt"],
    ["negative droppedRecords", (m) => (m.droppedRecords = -1), "droppedRecords"],
    ["fractional droppedRecords", (m) => (m.droppedRecords = 0.5), "droppedRecords"],
  ];

  test.each(invalid)("%s is refused naming %s and nothing is written", async (_name, mutate, where) => {
    const error = await save(dir, ID, variant(mutate)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toStartWith(
      `[session-metrics] [save] metrics for session ${ID} are invalid: ${where}`,
    );
    expect(await listTree(dir)).toEqual([]);
  });

  test("an invalid document leaves the previous file byte-identical", async () => {
    await save(dir, ID, DESIGN_EXAMPLE);
    const before = await readText(join(dir, ID, "METRICS.json"));
    await expect(
      save(
        dir,
        ID,
        variant((m) => (m.llms[0].cost = Number.NaN)),
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await readText(join(dir, ID, "METRICS.json"))).toBe(before);
    expect(await listTree(dir)).toEqual([ID, `${ID}/METRICS.json`]);
  });

  test("non-object metrics are refused", async () => {
    for (const bad of [null, undefined, [], "x"])
      await expect(save(dir, ID, bad as unknown as SessionMetrics)).rejects.toBeInstanceOf(ValidationError);
    expect(await listTree(dir)).toEqual([]);
  });
});

describe("modes (umask 022)", () => {
  let previous: number;
  beforeAll(() => {
    previous = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(previous);
  });

  test("save writes the file 0644 in a 0755 folder", async () => {
    await save(join(dir, "sessions"), ID, DESIGN_EXAMPLE);
    expect((await stat(join(dir, "sessions", ID, "METRICS.json"))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, "sessions", ID))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, "sessions"))).mode & 0o777).toBe(0o755);
  });

  test("a collector's flush writes the file 0644 in a 0755 folder", async () => {
    const c = new Collector({
      sessionId: "m",
      sessionsDir: join(dir, "sessions"),
      now: new ManualClock().now,
    });
    c.recordToolCall("t", true, 1);
    await c.stop();
    expect((await stat(join(dir, "sessions", "m", "METRICS.json"))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, "sessions", "m"))).mode & 0o777).toBe(0o755);
  });
});
