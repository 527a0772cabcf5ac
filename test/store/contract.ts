/**
 * The store contract: one suite, run against every backend with the same expected results
 * (`testStore(name, harness)`, after unstorage's `testDriver`). A backend's test file supplies a
 * harness that opens fresh, empty stores; everything else is here and in `contract-*.ts`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { MetricEvent } from "../../src/core/events.ts";
import { InvalidSessionIdError, StorageError, ValidationError } from "../../src/errors.ts";
import { report } from "../../src/store/report.ts";
import type { MetricsStore } from "../../src/store/types.ts";
import { testBulkWrites } from "./contract-bulk.ts";
import { testQueries } from "./contract-queries.ts";
import { testIngestAndSink } from "./contract-sink.ts";
import { betaEvents, T1 } from "./dataset.ts";
import { TempDirs } from "./helpers.ts";

export interface OpenedStore {
  store: MetricsStore;
  /** Runs raw SQL on the store's database (to break it on purpose). */
  exec(statement: string): Promise<void>;
  /** Runs a raw query on the store's database and returns its rows. */
  query(statement: string): Promise<Record<string, unknown>[]>;
  /** Cuts the store off its database for real (`outage: true` stores only). */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Closes the store and removes what the harness made. */
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  /** A fresh, empty store in its own database or schema. */
  open(options?: { outage?: boolean }): Promise<OpenedStore>;
}

export function testStore(name: string, harness: StoreHarness, additionalTests?: () => void): void {
  describe(`store contract: ${name}`, () => {
    const dirs = new TempDirs();
    afterAll(() => dirs.removeAll());
    testWrites(harness);
    testBulkWrites(harness);
    testQueries(harness, dirs);
    testIngestAndSink(harness, dirs);
    additionalTests?.();
  });
}

async function withStore(harness: StoreHarness, body: (opened: OpenedStore) => Promise<void>): Promise<void> {
  const opened = await harness.open();
  try {
    await body(opened);
  } finally {
    await opened.cleanup();
  }
}

const toolCall = (seq: number, name = "Read"): MetricEvent => ({
  ...{ v: 1, seq, ts: T1 + seq, type: "tool_call", name, success: true, durationMs: seq },
});

async function totalCalls(store: MetricsStore): Promise<number> {
  const [total] = await report(store);
  return total?.calls ?? 0;
}

function testWrites(harness: StoreHarness): void {
  test("insertEvents stores each (session, seq) once, however often it is sent", () =>
    withStore(harness, async ({ store }) => {
      expect(await store.insertEvents("beta", betaEvents())).toBe(5);
      expect(await store.insertEvents("beta", betaEvents())).toBe(0);
      const more = [...betaEvents().slice(3), toolCall(6), toolCall(7)];
      expect(await store.insertEvents("beta", more)).toBe(2);
      expect(await totalCalls(store)).toBe(6);
      const stored = await store.readSession("beta");
      expect(stored).toBeNull(); // no session row yet: events alone do not make a session
      await store.upsertSession({ sessionId: "beta", startedAt: T1, updatedAt: T1, lastSeq: 7 });
      expect((await store.readSession("beta"))?.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }));

  test("text with quotes, backslashes, braces, NULL and astral characters comes back as written", () =>
    withStore(harness, async ({ store }) => {
      const names = [
        'a"b',
        "c\\d",
        "{e,f}",
        "NULL",
        " spaced ",
        "ü😀",
        "tab\there",
        "new\nline",
        "'; drop table events; --",
      ];
      await store.insertEvents(
        "t1",
        names.map((name, i) => ({ ...toolCall(i + 1), name })),
      );
      const rows = await report(store, { groupBy: ["tool"] });
      expect(rows.map((r) => r.tool)).toEqual([...names].sort());
      const [quoted] = await report(store, { where: { tool: 'a"b' } });
      expect(quoted?.calls).toBe(1);
    }));

  test("upsertSession keeps the newest values: largest seq and time, latest document and host", () =>
    withStore(harness, async ({ store }) => {
      const base = { sessionId: "s1", startedAt: 1000, updatedAt: 2000, lastSeq: 5 };
      await store.upsertSession({ ...base, host: "a", document: "doc-5", documentSeq: 5 });
      await store.upsertSession({
        ...base,
        updatedAt: 1500,
        lastSeq: 3,
        host: null,
        document: "doc-3",
        documentSeq: 3,
      });
      const [listed] = await store.listSessionRows({ limit: 10 });
      expect(listed).toMatchObject({
        sessionId: "s1",
        updatedAt: 2000,
        lastSeq: 5,
        host: "a",
        startedAt: 1000,
      });
      await store.upsertSession({
        ...base,
        startedAt: 900,
        updatedAt: 3000,
        lastSeq: 9,
        host: "b",
        document: "doc-9",
        documentSeq: 9,
      });
      const [after] = await store.listSessionRows({ limit: 10 });
      expect(after).toMatchObject({ startedAt: 900, updatedAt: 3000, lastSeq: 9, host: "b" });
    }));

  test("bad input is refused before it reaches the database", () =>
    withStore(harness, async ({ store }) => {
      const llm = (cost: number, extra: object = {}): MetricEvent =>
        ({
          ...{ v: 1, seq: 1, ts: T1, type: "llm", phase: "p", cost },
          usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2, ...extra },
        }) as MetricEvent;
      const cases: [string, MetricEvent[], RegExp][] = [
        ["NaN cost", [llm(Number.NaN)], /seq 1 .*invalid: bad llm/],
        [
          "NUL in a name",
          [{ ...toolCall(1), name: "Re\0ad" } as MetricEvent],
          /name contains a NUL character/,
        ],
        ["lone surrogate", [{ ...toolCall(1), name: "\ud800" } as MetricEvent], /lone UTF-16 surrogate/],
        ["unsafe integer", [llm(0, { promptTokens: 2 ** 53 })], /invalid: bad llm/],
        ["fractional ts", [{ ...toolCall(1), ts: 1.5 }], /ts must be whole epoch milliseconds/],
        [
          "NaN attribute",
          [{ ...toolCall(1), details: { attributes: { x: Number.NaN } } } as MetricEvent],
          /details\.attributes\.x must be a string, a finite number or a boolean, got NaN/,
        ],
        [
          "NUL in an attribute key",
          [{ ...toolCall(1), details: { attributes: { "a\0": 1 } } } as MetricEvent],
          /key details\.attributes\.a/,
        ],
        ["cost too large to sum", [llm(1e10)], /cost 10000000000 is too large/],
        [
          "good and bad together",
          [toolCall(1), { ...toolCall(2), durationMs: -1 } as MetricEvent],
          /seq 2 .*bad tool_call/,
        ],
      ];
      for (const [what, events, message] of cases) {
        const attempt = store.insertEvents("s1", events);
        await expect(attempt, what).rejects.toBeInstanceOf(ValidationError);
        await expect(store.insertEvents("s1", events), what).rejects.toThrow(message);
      }
      await expect(store.insertEvents("../etc", [toolCall(1)])).rejects.toBeInstanceOf(InvalidSessionIdError);
      const session = { sessionId: "s1", startedAt: 1, updatedAt: 1, lastSeq: 1 };
      await expect(store.upsertSession({ ...session, host: "h\0" })).rejects.toThrow(/host contains a NUL/);
      await expect(store.upsertSession({ ...session, lastSeq: 2 ** 53 })).rejects.toThrow(
        /lastSeq must be a whole number/,
      );
      await expect(store.upsertSession({ ...session, updatedAt: Number.NaN })).rejects.toBeInstanceOf(
        ValidationError,
      );
      expect(await totalCalls(store)).toBe(0);
      expect(await store.listSessionRows({ limit: 10 })).toEqual([]);
    }));

  test("a database error is a StorageError naming the statement, with the driver's error as cause", () =>
    withStore(harness, async ({ store, exec }) => {
      await exec("drop table events");
      const failure = await store.insertEvents("s1", [toolCall(1)]).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StorageError);
      const error = failure as StorageError;
      expect(error.message).toMatch(/^\[session-metrics\] \[store\] writing events failed: .*events/);
      expect(error.message).toContain('insert into "events"');
      expect(error.cause).toBeInstanceOf(Error);
      expect((error.cause as Error).constructor.name).not.toBe("DrizzleQueryError");
      expect(error.code).toBeString();
      const read = await report(store).catch((e: unknown) => e);
      expect(read).toBeInstanceOf(StorageError);
      expect((read as Error).message).toMatch(/computing a report failed: .*statement: select /);
    }));

  test("close() waits for writes in flight, is safe to repeat, and refuses later work", () =>
    withStore(harness, async ({ store }) => {
      const writing = store.insertEvents("s1", [toolCall(1), toolCall(2)]);
      await Promise.all([store.close(), store.close()]);
      expect(await writing).toBe(2);
      await expect(store.insertEvents("s1", [toolCall(3)])).rejects.toThrow(/store is closed/);
      await expect(report(store)).rejects.toBeInstanceOf(StorageError);
      await store[Symbol.asyncDispose]();
    }));
}
