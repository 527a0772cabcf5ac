/**
 * METRICS.json that cannot be read. A corrupt document must not block a session whose journal is
 * intact (the collector resumes from the journal and says so); without a journal the load error
 * is thrown and nothing is left held. And `load()` refuses a float literal it cannot represent
 * (which would load as Infinity and make every later flush fail), while the 21-digit literals Go
 * writes still load and re-save byte for byte.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Collector, load, ParseError, SchemaError, save } from "../../src/index.ts";
import { METRICS, MemoryLogger, T0, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const GO_EDGE = join(import.meta.dir, "..", "fixtures", "go-edge.json");

const CORRUPT = [
  { kind: "invalid JSON", text: "{not json", error: ParseError, message: "malformed JSON" },
  {
    kind: "a schema error",
    text: '{"session_id": "doc"}',
    error: SchemaError,
    message: "$.tools: missing",
  },
] as const;

async function journaledSession(sessionsDir: string, sessionId: string): Promise<void> {
  const c = await Collector.open({ sessionId, sessionsDir, resume: true, now: () => new Date(T0) });
  for (let i = 1; i <= 3; i++) c.recordToolCall("Read", true, i);
  await c.stop();
}

describe("a corrupt METRICS.json", () => {
  for (const { kind, text, error, message } of CORRUPT) {
    test(`(${kind}) with an intact journal: the collector resumes from the journal and warns`, async () => {
      const sessionsDir = temps.make("corrupt-journal");
      const id = "doc";
      await journaledSession(sessionsDir, id);
      const path = join(sessionsDir, id, METRICS);
      writeFileSync(path, text);
      let loadError: unknown;
      await load(sessionsDir, id).catch((e) => {
        loadError = e;
      });
      expect(loadError).toBeInstanceOf(error);
      expect((loadError as Error).message).toContain(message);

      const logger = new MemoryLogger();
      const c = await Collector.open({ sessionId: id, sessionsDir, resume: true, logger });
      expect(c.snapshot().tools.map((t) => [t.name, t.callCount, t.totalDurationMs])).toEqual([
        ["Read", 3, 6],
      ]);
      expect(logger.warnings).toEqual([
        `${(loadError as Error).message}; resumed session ${id} from its journal (4 events) instead`,
      ]);
      c.recordToolCall("Read", true, 4);
      await c.stop();
      expect((await load(sessionsDir, id))!.tools[0]).toMatchObject({ callCount: 4, totalDurationMs: 10 });
    });

    test(`(${kind}) without a journal: open throws ${error.name} and leaves nothing held`, async () => {
      const sessionsDir = temps.make("corrupt-alone");
      const id = "doc";
      mkdirSync(join(sessionsDir, id));
      const path = join(sessionsDir, id, METRICS);
      writeFileSync(path, text);

      for (let attempt = 0; attempt < 2; attempt++) {
        let thrown: unknown;
        try {
          await Collector.open({ sessionId: id, sessionsDir, resume: true, logger: new MemoryLogger() });
        } catch (e) {
          thrown = e;
        }
        // The same error both times: the first attempt left no claim or lock that would make
        // the second one a SessionLockedError.
        expect(thrown).toBeInstanceOf(error);
        expect((thrown as Error).message).toStartWith(`[session-metrics] [load] ${path}: `);
        expect((thrown as Error).message).toContain(message);
        expect(existsSync(join(sessionsDir, id, ".lock"))).toBe(false);
        expect(readFileSync(path, "utf8")).toBe(text);
      }

      // With the file fixed, the session opens (and resumes from it).
      await save(sessionsDir, id, {
        sessionId: id,
        startedAt: "2026-11-22T01:42:24.140Z",
        updatedAt: "2026-11-22T01:42:25.140Z",
        tools: [
          { name: "Go", callCount: 2, successCount: 2, failCount: 0, totalDurationMs: 8, avgDurationMs: 4 },
        ],
        editStrategies: [],
        llms: [],
        phases: [],
      });
      const c = await Collector.open({
        sessionId: id,
        sessionsDir,
        resume: true,
        logger: new MemoryLogger(),
      });
      expect(c.snapshot().tools.map((t) => [t.name, t.callCount])).toEqual([["Go", 2]]);
      await c.stop();
    });
  }
});

describe("load() and float literals", () => {
  const DIGITS_400 = `1${"0".repeat(399)}`;

  /** go-edge.json as session `id`, with `edit` applied to its text. */
  function plantGoEdge(id: string, edit: (text: string) => string): string {
    const sessionsDir = temps.make("float");
    mkdirSync(join(sessionsDir, id));
    const text = edit(readFileSync(GO_EDGE, "utf8"));
    writeFileSync(join(sessionsDir, id, METRICS), text);
    return sessionsDir;
  }

  for (const { field, from, to, jsonPath } of [
    { field: "cost", from: "123456789012345680000", to: DIGITS_400, jsonPath: "$.llms[0].cost" },
    {
      field: "negative cost",
      from: "123456789012345680000",
      to: `-${DIGITS_400}`,
      jsonPath: "$.llms[0].cost",
    },
    {
      field: "avg_duration_ms",
      from: "-4611686018427388000",
      to: DIGITS_400,
      jsonPath: "$.tools[1].avg_duration_ms",
    },
  ]) {
    test(`refuses a 400-digit integer literal in ${field}: SchemaError at ${jsonPath}, out of float64 range`, async () => {
      const sessionsDir = plantGoEdge("go-edge", (t) => {
        expect(t).toContain(from);
        return t.replace(from, to);
      });
      let thrown: unknown;
      try {
        await load(sessionsDir, "go-edge");
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(SchemaError);
      const e = thrown as SchemaError;
      expect(e.jsonPath).toBe(jsonPath);
      expect(e.message).toContain(`${jsonPath}: `);
      expect(e.message).toContain("is out of float64 range");
      expect(e.message).toContain(to.slice(0, 20)); // quotes the literal, not Infinity
      expect(e.message).not.toContain("Infinity");
    });
  }

  test("a 21-digit literal (123456789012345680000) still loads and re-saves byte for byte", async () => {
    const golden = readFileSync(GO_EDGE);
    const sessionsDir = plantGoEdge("go-edge", (t) => t);
    const m = (await load(sessionsDir, "go-edge"))!;
    expect(m.llms[0]!.cost).toBe(123456789012345680000);
    expect(m.tools[1]!.avgDurationMs).toBe(-4611686018427388000);
    const out = temps.make("float-out");
    await save(out, "go-edge", m);
    expect(readFileSync(join(out, "go-edge", METRICS)).equals(golden)).toBe(true);
  });
});
