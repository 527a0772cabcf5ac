/**
 * NUL characters (which neither store can hold) are refused where records come in: in a tool
 * name, a phase, a details.agent, an attribute value and a prompt hash the record is dropped and
 * counted (strict mode: ValidationError naming the field). A journal line that holds one is a
 * problem for verifyJournal, and `ingest` leaves out only the event a store cannot take.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Collector, ValidationError, verifyJournal } from "../../src/index.ts";
import { ingest, report } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/index.ts";
import { line, MemoryLogger, sessionStart, T0, TempDirs, toolCall, writeJournal } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const USAGE = { promptTokens: 10, completionTokens: 5 };

const CASES: { what: string; record: (c: Collector) => void; method: string; reason: string }[] = [
  {
    what: "a tool name",
    record: (c) => c.recordToolCall("a\0b", true, 1),
    method: "recordToolCall",
    reason: "tool name contains a NUL character",
  },
  {
    what: "a phase",
    record: (c) => c.recordPhaseTransition("plan\0"),
    method: "recordPhaseTransition",
    reason: "phase contains a NUL character",
  },
  {
    what: "an LLM phase",
    record: (c) => c.recordLLMInteraction("plan\0", USAGE, 0.1),
    method: "recordLLMInteraction",
    reason: "phase contains a NUL character",
  },
  {
    what: "details.agent",
    record: (c) => c.recordToolCall("Read", true, 1, { agent: "agent\0" }),
    method: "recordToolCall",
    reason: "details.agent contains a NUL character",
  },
  {
    what: "an attribute value",
    record: (c) => c.recordToolCall("Read", true, 1, { attributes: { k: "v\0" } }),
    method: "recordToolCall",
    reason: "details.attributes.k must be well-formed text without NUL characters",
  },
  {
    what: "a prompt hash",
    record: (c) => c.recordLLMInteractionWithPrompt("plan", USAGE, 0.1, "9c78\0", false),
    method: "recordLLMInteractionWithPrompt",
    reason: "promptHash contains a NUL character",
  },
];

describe("a NUL character in a record", () => {
  for (const { what, record, method, reason } of CASES) {
    test(`in ${what}: dropped and counted; strict mode throws ValidationError`, async () => {
      const sessionsDir = temps.make("nul");
      const logger = new MemoryLogger();
      const c = new Collector({ sessionId: "nul-char", sessionsDir, now: () => new Date(T0), logger });
      expect(() => record(c)).not.toThrow();
      const snap = c.snapshot();
      expect(snap.droppedRecords).toBe(1);
      expect(snap.tools).toEqual([]);
      expect(snap.llms).toEqual([]);
      expect(snap.phases).toEqual([]);
      expect(logger.warnings).toEqual([
        `[session-metrics] [${method}] dropped a record of session nul-char: ${reason}; further drops of this kind are only counted (dropped_records)`,
      ]);
      await c.stop();

      const strict = new Collector({
        sessionId: "nul-char-strict",
        sessionsDir,
        strict: true,
        now: () => new Date(T0),
        logger: new MemoryLogger(),
      });
      let thrown: unknown;
      try {
        record(strict);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as Error).message).toBe(`[session-metrics] [${method}] ${reason}`);
      expect(strict.snapshot().droppedRecords).toBeUndefined();
      expect(strict.snapshot().tools).toEqual([]);
      await strict.stop();
    });
  }
});

describe("ingest and a NUL in the journal", () => {
  test("a journal line with a NUL in a tool name is a verifyJournal problem; ingest stores the other 6 of 7", async () => {
    const sessionsDir = temps.make("ingest-nul-line");
    const id = "nul-line";
    const events = [
      sessionStart(id),
      toolCall(2, "Read", 1),
      toolCall(3, "Read", 2),
      toolCall(4, "a\0b", 3),
      toolCall(5, "Edit", 4),
      toolCall(6, "Edit", 5),
      toolCall(7, "Read", 6),
    ];
    writeJournal(sessionsDir, id, events);
    const store = await createSqliteStore({ path: ":memory:" });
    try {
      const logger = new MemoryLogger();
      const result = await ingest(store, sessionsDir, { logger });
      expect(result).toEqual({ sessions: 1, events: 6, skipped: 0, inserted: 6 });
      const rows = await report(store, { groupBy: ["tool"] });
      expect(rows.map((r) => [r.tool, r.calls])).toEqual([
        ["Edit", 2],
        ["Read", 3],
      ]);
      expect(logger.warnings.join("\n")).toContain("line 4");
      expect(logger.warnings.join("\n")).toContain("name contains a NUL character");
    } finally {
      await store.close();
    }
    const offset = events.slice(0, 3).reduce((n, e) => n + Buffer.byteLength(line(e)), 0);
    expect(await verifyJournal(sessionsDir, id)).toEqual({
      events: 6,
      lastSeq: 7,
      problems: [
        {
          line: 4,
          offset,
          seqBefore: 3,
          seqAfter: 5,
          reason: "bad tool_call: name contains a NUL character",
        },
      ],
    });
  });

  test("a drop whose reason quotes a NUL key is journaled without the NUL, so every event reaches a store (7 of 7)", async () => {
    // The recorder drops a record whose attribute key holds a NUL; the drop's reason quotes the
    // key escaped, so the `dropped` event holds no NUL and a store takes it like any other.
    const sessionsDir = temps.make("ingest-store-invalid");
    const id = "store-invalid";
    const c = new Collector({
      sessionId: id,
      sessionsDir,
      now: () => new Date(T0),
      logger: new MemoryLogger(),
    });
    c.recordToolCall("Read", true, 1);
    c.recordToolCall("Read", true, 2);
    c.recordToolCall("Read", true, 3, { attributes: { "k\0": "v" } }); // dropped
    c.recordToolCall("Edit", true, 4);
    c.recordToolCall("Edit", false, 5);
    c.recordToolCall("Read", true, 6);
    await c.stop();
    const journal = readFileSync(join(sessionsDir, id, "journal.jsonl"), "utf8");
    expect(journal.includes("\0")).toBe(false);
    expect(journal).toContain("key details.attributes.k\\\\u0000 contains a NUL character");
    const store = await createSqliteStore({ path: ":memory:" });
    try {
      const logger = new MemoryLogger();
      const result = await ingest(store, sessionsDir, { logger });
      expect(result).toEqual({ sessions: 1, events: 7, skipped: 0, inserted: 7 });
      const rows = await report(store, { groupBy: ["tool"] });
      expect(rows.filter((r) => r.tool !== null).map((r) => [r.tool, r.calls, r.failures])).toEqual([
        ["Edit", 2, 1],
        ["Read", 3, 0],
      ]);
      expect(logger.warnings).toEqual([]);
    } finally {
      await store.close();
    }
    expect(c.snapshot().droppedRecords).toBe(1);
    expect(await verifyJournal(sessionsDir, id)).toEqual({ events: 7, lastSeq: 7, problems: [] });
  });
});
