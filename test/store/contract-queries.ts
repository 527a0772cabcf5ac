/** Contract, queries: exact report rows for every groupBy, filters, listing pages, session documents. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { reduce } from "../../src/core/events.ts";
import { decodeMetrics, parseJson } from "../../src/core/go-document.ts";
import { createState, snapshotState } from "../../src/core/state.ts";
import type { SessionMetrics } from "../../src/core/types.ts";
import { ValidationError } from "../../src/errors.ts";
import { getSession, listSessions, report } from "../../src/store/report.ts";
import type { MetricsStore } from "../../src/store/types.ts";
import type { OpenedStore, StoreHarness } from "./contract.ts";
import { betaEvents, EXPECTED, GO_SESSION, loadDataset, row, T0, T1 } from "./dataset.ts";
import { FIXTURES, type TempDirs } from "./helpers.ts";

export function testQueries(harness: StoreHarness, dirs: TempDirs): void {
  describe("queries over the data set", () => {
    let opened: OpenedStore | undefined;
    let store: MetricsStore;
    let alpha: SessionMetrics;
    beforeAll(async () => {
      opened = await harness.open();
      store = opened.store;
      ({ alpha } = await loadDataset(store, dirs.make("collector"), dirs.make("go")));
    });
    afterAll(() => opened?.cleanup());

    test("report without groupBy is one total row", async () => {
      expect(await report(store)).toEqual([...EXPECTED.total]);
    });

    for (const key of ["agent", "model", "phase", "tool", "day"] as const)
      test(`report grouped by ${key} gives the exact rows`, async () => {
        expect(await report(store, { groupBy: [key] })).toEqual([...EXPECTED[key]]);
      });

    test("report rows use the Usage token names; inputTokens/outputTokens are deprecated hidden aliases", async () => {
      const [total] = await report(store);
      expect(Object.keys(total!)).toEqual([
        ...["sessions", "calls", "toolCalls", "llmCalls", "failures", "promptTokens", "completionTokens"],
        ...["cacheReadTokens", "cacheWriteTokens", "reasoningTokens", "cost", "durationP50", "durationP90"],
        "durationP99",
      ]);
      const old = total as unknown as { inputTokens: number; outputTokens: number };
      expect([old.inputTokens, old.outputTokens]).toEqual([total!.promptTokens, total!.completionTokens]);
      expect(JSON.stringify(total)).not.toContain("inputTokens");
    });

    test("report grouped by two keys, with extra percentiles", async () => {
      const rows = await report(store, { groupBy: ["agent", "tool"], percentiles: [95, 7] });
      expect(rows.map((r) => [r.agent, r.tool, r.calls])).toEqual([
        ["coder", "Bash", 1],
        ["coder", "Read", 1],
        ["coder", null, 3],
        ["planner", "Read", 2],
        ["planner", null, 1],
        [null, "Read", 3],
        [null, null, 4],
      ]);
      expect(rows[2]?.durationPercentiles).toEqual({ p95: 1000, p7: 1000 });
      expect(rows[3]).toMatchObject({
        durationP50: 10,
        durationP90: 30,
        durationPercentiles: { p95: 30, p7: 10 },
      });
    });

    test("report filters: time range, keys (null matches absent), sessions and hosts", async () => {
      const day1 = await report(store, { since: new Date(T0), until: "2026-03-02T00:00:00Z" });
      expect(day1).toEqual([{ ...EXPECTED.day[0], day: undefined }].map(({ day: _d, ...r }) => r));
      const big = await report(store, { where: { model: "m-big" }, groupBy: ["tool"] });
      expect(big.map((r) => [r.tool, r.calls, r.failures])).toEqual([
        ["Bash", 1, 1],
        ["Read", 1, 0],
        [null, 3, 1],
      ]);
      const noPhase = await report(store, { where: { phase: null }, groupBy: ["phase"] });
      expect(noPhase).toEqual([EXPECTED.phase[3]]);
      const either = await report(store, { where: { phase: ["plan", "2"] } });
      expect(either[0]).toMatchObject({ calls: 2, promptTokens: 1600, cost: 0.013 });
      const hosts = await report(store, { where: { host: ["host-b", "host-go"] }, groupBy: ["day"] });
      expect(hosts).toEqual([EXPECTED.day[1], EXPECTED.day[2]]);
      const one = await report(store, { where: { sessionId: "alpha", tool: "Read" } });
      expect(one).toEqual([row({}, [1, 2, 0, 0, 0, null, null, 0, 10, 30, 30], [2, 0])]);
    });

    test("report counts tool calls and LLM calls apart, and kind selects one of them", async () => {
      const tools = await report(store, { kind: "tool", groupBy: ["agent"] });
      expect(tools.map((r) => [r.agent, r.calls, r.toolCalls, r.llmCalls, r.failures])).toEqual([
        ["coder", 2, 2, 0, 1],
        ["planner", 2, 2, 0, 0],
        [null, 3, 3, 0, 0],
      ]);
      const llms = await report(store, { kind: "llm" });
      expect(llms.map((r) => [r.calls, r.toolCalls, r.llmCalls, r.failures, r.promptTokens])).toEqual([
        [7, 0, 7, 1, 20_600],
      ]);
      await expect(report(store, { kind: "invocation" as never })).rejects.toThrow(/kind/);
      expect(await report(store, { since: T1 + 10_000, until: T1 + 20_000 })).toEqual([]);
    });

    test("report options are validated, naming the bad one", async () => {
      const bad: [unknown, RegExp][] = [
        [{ groupBy: ["host"] }, /^\[session-metrics\] \[report\] groupBy\[0\]: /],
        [{ groupBy: ["tool", "tool"] }, /groupBy: lists a key twice/],
        [{ since: "yesterday" }, /since: is not a valid time/],
        [{ until: Number.NaN }, /until: /],
        [{ since: T1, until: T0 }, /since: is after until/],
        [{ where: { tool: "a\0b" } }, /where\.tool: /],
        [{ where: { colour: "red" } }, /where: /],
        [{ percentiles: [0] }, /percentiles\[0\]: /],
        [{ percentiles: [99.5] }, /percentiles\[0\]: /],
        [{ bogus: 1 }, /\[report\] .*bogus/],
      ];
      for (const [options, message] of bad) {
        const error = await report(store, options as never).catch((e: unknown) => e);
        expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
        expect((error as Error).message).toMatch(message);
      }
    });

    test("getSession returns each session's document, however it was written", async () => {
      expect(await getSession(store, "alpha")).toEqual(alpha);
      const beta = createState("beta", T1);
      for (const event of betaEvents()) reduce(beta, event);
      expect(await getSession(store, "beta")).toEqual(snapshotState(beta));
      const goPath = join(FIXTURES, "go-metrics.json");
      expect(await getSession(store, GO_SESSION)).toEqual(
        decodeMetrics(parseJson(readFileSync(goPath, "utf8"), goPath), goPath),
      );
      expect(await getSession(store, "nobody")).toBeNull();
      await expect(getSession(store, "../x")).rejects.toThrow(/invalid session id/);
    });

    test("listSessions pages newest first with a stable cursor", async () => {
      const all = await listSessions(store);
      expect(all.sessions.map((s) => [s.sessionId, s.host, s.lastSeq])).toEqual([
        [GO_SESSION, "host-go", 1],
        ["beta", "host-b", 5],
        ["alpha", "host-a", 6],
      ]);
      expect(all.sessions[2]).toMatchObject({
        startedAt: "2026-03-01T10:00:00.000Z",
        updatedAt: "2026-03-01T10:00:05.000Z",
      });
      expect(all.nextCursor).toBeNull();
    });
  });

  test("listSessions: keyset pages over ties, filters, and validated options", async () => {
    const { store, cleanup } = await harness.open();
    try {
      // 25 sessions over 5 start times: ties are ordered by id in byte order (B before a).
      const ids = Array.from({ length: 25 }, (_, i) => (i % 2 === 0 ? `s-${i}` : `S_${i}`));
      for (const [i, id] of ids.entries())
        await store.upsertSession({
          sessionId: id,
          startedAt: 1000 * (i % 5),
          updatedAt: 9999,
          lastSeq: i,
          host: i < 10 ? "h1" : "h2",
        });
      const expected = [...ids].sort((a, b) => {
        const ta = 1000 * (ids.indexOf(a) % 5);
        const tb = 1000 * (ids.indexOf(b) % 5);
        return ta !== tb ? tb - ta : a < b ? 1 : -1;
      });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await listSessions(store, { limit: 10, cursor });
        seen.push(...page.sessions.map((s) => s.sessionId));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual(expected);
      const h1 = await listSessions(store, { filter: { host: "h1", since: 1000, until: 3000 } });
      expect(h1.sessions.map((s) => s.sessionId).sort()).toEqual(["S_1", "S_7", "s-2", "s-6"].sort());
      for (const [options, message] of [
        [{ limit: 0 }, /limit: /],
        [{ limit: 1001 }, /limit: /],
        [{ cursor: "not-a-cursor" }, /cursor: is not a cursor/],
        [{ filter: { host: 5 } }, /filter\.host: /],
      ] as const)
        await expect(listSessions(store, options as never)).rejects.toThrow(message);
    } finally {
      await cleanup();
    }
  });
}
