/** load(): missing files, size limit, malformed JSON, schema errors with JSON paths, prototype safety. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { MetricsError, ParseError, SchemaError } from "../../src/errors.ts";
import { load } from "../../src/fs/metrics-file.ts";
import { cleanup, DESIGN_EXAMPLE, type Loose, tempDir } from "./helpers.ts";

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => cleanup(dir));

const ID = DESIGN_EXAMPLE.sessionId;

async function plant(text: string, id = ID): Promise<string> {
  await mkdir(join(dir, id), { recursive: true });
  const path = join(dir, id, "METRICS.json");
  await writeFile(path, text);
  return path;
}

/** The DESIGN.md document as a plain JSON value, to mutate. */
function goDoc(): Loose {
  return JSON.parse(encodeMetrics(DESIGN_EXAMPLE));
}

async function loadError(text: string): Promise<unknown> {
  await plant(text);
  return load(dir, ID).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("missing", () => {
  test("a missing file resolves null", async () => {
    await mkdir(join(dir, ID));
    expect(await load(dir, ID)).toBeNull();
  });

  test("a missing sessions folder resolves null and creates nothing", async () => {
    expect(await load(join(dir, "nope"), ID)).toBeNull();
    expect(await Bun.file(join(dir, "nope")).exists()).toBe(false);
  });
});

describe("ParseError", () => {
  test("a file over 16 MiB is refused before parsing, naming the path", async () => {
    const path = await plant("{}");
    await truncate(path, 16 * 1024 * 1024 + 1); // sparse: cheap to make, too big to read
    const error = await load(dir, ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParseError);
    expect(error).toBeInstanceOf(MetricsError);
    expect((error as ParseError).path).toBe(path);
    expect((error as Error).message).toStartWith(`[session-metrics] [load] ${path}: `);
    expect((error as Error).message).toContain("16777217 bytes");
  });

  test.each([
    ["truncated", '{"session_id": "5f3a9c21",'],
    ["empty", ""],
    ["trailing garbage", `${encodeMetrics(DESIGN_EXAMPLE)}x`],
    ["single quotes", "{'a': 1}"],
  ])("malformed JSON (%s) is a ParseError naming the path", async (_name, text) => {
    const error = await loadError(text);
    const path = join(dir, ID, "METRICS.json");
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).path).toBe(path);
    expect((error as Error).message).toStartWith(`[session-metrics] [load] ${path}: malformed JSON`);
  });
});

describe("SchemaError", () => {
  const cases: [string, (d: Loose) => unknown, string][] = [
    ["call_count as a string", (d) => (d.tools[0].call_count = "3"), "$.tools[0].call_count"],
    ["fractional call_count", (d) => (d.tools[0].call_count = 1.5), "$.tools[0].call_count"],
    ["name as a number", (d) => (d.tools[0].name = 7), "$.tools[0].name"],
    ["avg as a string", (d) => (d.tools[0].avg_duration_ms = "1"), "$.tools[0].avg_duration_ms"],
    ["cost as a boolean", (d) => (d.llms[0].cost = true), "$.llms[0].cost"],
    ["truncated_input as a string", (d) => (d.llms[0].truncated_input = "yes"), "$.llms[0].truncated_input"],
    ["prompt_hash as a number", (d) => (d.llms[0].prompt_hash = 1), "$.llms[0].prompt_hash"],
    ["success as a number", (d) => (d.phases[0].success = 1), "$.phases[0].success"],
    ["heal_loop_count as null", (d) => (d.phases[0].heal_loop_count = null), "$.phases[0].heal_loop_count"],
    ["strategy count as an array", (d) => (d.edit_strategies[0].count = []), "$.edit_strategies[0].count"],
    ["tools as an object", (d) => (d.tools = {}), "$.tools"],
    ["a tool as null", (d) => (d.tools[0] = null), "$.tools[0]"],
    ["a phase as a string", (d) => (d.phases = ["x"]), "$.phases[0]"],
    ["tools: null", (d) => (d.tools = null), "$.tools"],
    ["llms: null", (d) => (d.llms = null), "$.llms"],
    ["edit_strategies: null", (d) => (d.edit_strategies = null), "$.edit_strategies"],
    ["missing phases", (d) => delete d.phases, "$.phases"],
    ["missing session_id", (d) => delete d.session_id, "$.session_id"],
    ["bad started_at", (d) => (d.started_at = "yesterday"), "$.started_at"],
    ["numeric updated_at", (d) => (d.updated_at = 0), "$.updated_at"],
    ["negative dropped_records", (d) => (d.dropped_records = -1), "$.dropped_records"],
  ];

  test.each(cases)("%s → SchemaError at %s", async (_name, mutate, jsonPath) => {
    const doc = goDoc();
    mutate(doc);
    const error = await loadError(JSON.stringify(doc, null, 2));
    const path = join(dir, ID, "METRICS.json");
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).jsonPath).toBe(jsonPath);
    expect((error as SchemaError).path).toBe(path);
    expect((error as Error).message).toStartWith(`[session-metrics] [load] ${path}: ${jsonPath}: `);
  });

  test.each(["[]", "null", '"text"', "42"])("a root of %s is a SchemaError at $", async (text) => {
    const error = await loadError(text);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).jsonPath).toBe("$");
  });

  test("an integer field beyond 2^53−1 quotes the literal from the file, not the rounded value", async () => {
    const text = encodeMetrics(DESIGN_EXAMPLE).replace('"call_count": 3', '"call_count": 9007199254740993');
    const error = await loadError(text);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).jsonPath).toBe("$.tools[0].call_count");
    expect((error as Error).message).toContain("9007199254740993");
    expect((error as Error).message).not.toContain("9007199254740992");
  });

  test("an integer field of exactly 2^53 is refused; 2^53−1 loads", async () => {
    const big = encodeMetrics(DESIGN_EXAMPLE).replace(
      '"duration_ms": 184532',
      '"duration_ms": 9007199254740992',
    );
    const error = await loadError(big);
    expect((error as SchemaError).jsonPath).toBe("$.phases[0].duration_ms");
    const ok = encodeMetrics(DESIGN_EXAMPLE).replace(
      '"duration_ms": 184532',
      '"duration_ms": 9007199254740991',
    );
    await plant(ok);
    expect((await load(dir, ID))!.phases[0]!.durationMs).toBe(9007199254740991);
  });

  test("a session_id other than the folder's is a SchemaError at $.session_id", async () => {
    await plant(encodeMetrics(DESIGN_EXAMPLE), "other");
    const error = await load(dir, "other").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).jsonPath).toBe("$.session_id");
    expect((error as Error).message).toContain('"5f3a9c21"');
  });
});

describe("prototype safety", () => {
  test("__proto__ and constructor keys pollute neither Object.prototype nor the result", async () => {
    const doc = encodeMetrics(DESIGN_EXAMPLE)
      .replace(
        "{\n",
        '{\n  "__proto__": {"polluted": true},\n  "constructor": {"prototype": {"polluted": true}},\n',
      )
      .replace('"name": "Read"', '"__proto__": {"polluted": true}, "name": "__proto__"');
    await plant(doc);
    const m = (await load(dir, ID))!;
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(m.tools[0])).toBe(Object.prototype);
    expect(Object.hasOwn(m, "__proto__")).toBe(false);
    expect(Object.hasOwn(m, "constructor")).toBe(false);
    expect((m as unknown as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(m.tools[0]!.name).toBe("__proto__");
    expect(m.constructor).toBe(Object);
    expect(m).toEqual({ ...DESIGN_EXAMPLE, tools: [{ ...DESIGN_EXAMPLE.tools[0]!, name: "__proto__" }] });
  });
});

describe("decoding", () => {
  test("missing integer, float and bool fields in entries read as zero values", async () => {
    const doc = goDoc();
    doc.tools[0] = { name: "t" };
    doc.phases[0] = { phase: "p" };
    doc.llms[0] = { phase: "l" };
    await plant(JSON.stringify(doc));
    const m = (await load(dir, ID))!;
    expect(m.tools).toEqual([
      { name: "t", callCount: 0, successCount: 0, failCount: 0, totalDurationMs: 0, avgDurationMs: 0 },
    ]);
    expect(m.llms).toEqual([
      { phase: "l", promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0, interactionCount: 0 },
    ]);
    expect(m.phases[0]!.success).toBe(false);
    expect(m.phases[0]!.healLoopCount).toBe(0);
  });

  test("a file without edit_strategies loads with an empty list", async () => {
    const doc = goDoc();
    delete doc.edit_strategies;
    await plant(JSON.stringify(doc));
    expect((await load(dir, ID))!.editStrategies).toEqual([]);
  });
});
