/**
 * Dropped records are not silent: the first drop of each kind is logged through the collector's
 * logger, naming the method and the reason; later drops of that kind are only counted, and
 * dropped_records is the total.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Collector, load } from "../../src/index.ts";
import { MemoryLogger, T0, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const warning = (method: string, reason: string) =>
  `[session-metrics] [${method}] dropped a record of session drops: ${reason}; further drops of this kind are only counted (dropped_records)`;

describe("dropped records", () => {
  test("each kind is warned once (method and reason), every drop is counted", async () => {
    const sessionsDir = temps.make("drops");
    const logger = new MemoryLogger();
    const c = new Collector({ sessionId: "drops", sessionsDir, now: () => new Date(T0), logger });

    c.recordToolCall("Read", true, Number.NaN);
    expect(logger.warnings).toEqual([
      warning("recordToolCall", "durationMs must be a finite number ≥ 0, got NaN"),
    ]);
    c.recordToolCall("Read", true, Number.NaN);
    c.recordToolCall("Edit", false, Number.NaN);

    c.recordToolCall("Read", true, -5);
    c.recordToolCall("Read", true, -1);
    c.recordToolCall("Edit", true, -0.5);

    c.recordLLMInteraction("plan", { promptTokens: 1.5, completionTokens: 1 }, 0.1);
    c.recordLLMInteraction("plan", { promptTokens: 2.5, completionTokens: 1 }, 0.1);
    c.recordLLMInteraction("execute", { promptTokens: 0.1, completionTokens: 1 }, 0.1);

    c.recordToolCall("", true, 1);
    c.recordToolCall("", false, 2);
    c.recordToolCall("", true, 3);

    expect(logger.warnings).toEqual([
      warning("recordToolCall", "durationMs must be a finite number ≥ 0, got NaN"),
      warning("recordToolCall", "durationMs must be a finite number ≥ 0, got -5"),
      warning("recordLLMInteraction", "usage.promptTokens must be a whole number from 0 to 2^53−1, got 1.5"),
      warning("recordToolCall", "tool name must not be empty"),
    ]);
    expect(c.snapshot().droppedRecords).toBe(12);
    expect(c.snapshot().tools).toEqual([]);
    expect(c.snapshot().llms).toEqual([]);

    // Good records are unaffected, and more drops of known kinds stay quiet.
    c.recordToolCall("Read", true, 4);
    c.recordToolCall("Read", true, Number.NaN);
    c.recordToolCall("", true, 1);
    expect(logger.warnings).toHaveLength(4);
    expect(c.snapshot().droppedRecords).toBe(14);
    await c.stop();
    expect((await load(sessionsDir, "drops"))!.droppedRecords).toBe(14);
    expect(logger.errors).toEqual([]);
  });
});
