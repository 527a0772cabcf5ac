/**
 * Bulk writes: batches large enough for a backend's bulk path (PostgreSQL's COPY) must store
 * exactly what small ones do — awkward text included, each (session, seq) once whether the rows
 * were stored before or repeat within the batch — and events that the document written with
 * them reflects must still fold into exact documents.
 */
import { expect, test } from "bun:test";
import { type MetricEvent, reduce } from "../../src/core/events.ts";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { nearestRank } from "../../src/core/percentiles.ts";
import { createState, snapshotState } from "../../src/core/state.ts";
import { concatEncoded, encodeEvents } from "../../src/store/encode.ts";
import { getSession, report } from "../../src/store/report.ts";
import type { StoreHarness } from "./contract.ts";
import { T1 } from "./dataset.ts";

type LLMEvent = Extract<MetricEvent, { type: "llm" }>;

const NAMES = ["Read", "tab\there", "new\nline", "cr\rhere", "back\\slash", '"quoted"', "\\N", "ü😀"];

const call = (seq: number): MetricEvent => ({
  ...{ v: 1, seq, ts: T1 + seq, type: "tool_call", name: NAMES[seq % NAMES.length]!, success: seq % 7 !== 0 },
  ...{ durationMs: seq, details: { agent: "a\tb", model: "m\\n" } },
});
const calls = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => call(from + i));

async function open(
  harness: StoreHarness,
  body: (
    store: Awaited<ReturnType<StoreHarness["open"]>>["store"],
    query: (statement: string) => Promise<Record<string, unknown>[]>,
  ) => Promise<void>,
) {
  const opened = await harness.open();
  try {
    await body(opened.store, (statement) => opened.query(statement));
  } finally {
    await opened.cleanup();
  }
}

export function testBulkWrites(harness: StoreHarness): void {
  test("a large batch stores awkward text exactly, and every event once however it repeats", () =>
    open(harness, async (store) => {
      expect(await store.insertEvents("bulk1", calls(1, 300))).toBe(300);
      const byTool = await report(store, { groupBy: ["tool"] });
      expect(byTool.map((r) => [r.tool, r.calls])).toEqual(
        [...NAMES]
          .sort()
          .map((name) => [
            name,
            calls(1, 300).filter((e) => e.type === "tool_call" && e.name === name).length,
          ]),
      );
      const [agent] = await report(store, { groupBy: ["agent", "model"] });
      expect([agent?.agent, agent?.model, agent?.failures]).toEqual(["a\tb", "m\\n", 42]);
      // Stored rows and new ones, and a new session repeated within one batch.
      const again = concatEncoded([
        encodeEvents("bulk1", calls(201, 400)),
        encodeEvents("bulk2", calls(1, 100)),
        encodeEvents("bulk2", calls(51, 150)),
      ]);
      expect(await store.write({ events: again })).toBe(250);
      expect(await store.write({ events: again })).toBe(0);
      const [total] = await report(store);
      expect(total?.calls).toBe(550);
      expect(total?.durationP99).toBe(395); // rank 545 of 1–150 twice, then 151–400
      await store.upsertSession({ sessionId: "bulk2", startedAt: T1, updatedAt: T1, lastSeq: 150 });
      expect((await store.readSession("bulk2"))?.events).toEqual(calls(1, 150));
      // Integers past 2^32 and fractional costs keep every bit.
      const llm = (seq: number) =>
        ({
          ...{ v: 1, seq, ts: T1 + seq, type: "llm", phase: "p", cost: seq / 1000 },
          usage: { promptTokens: 2 ** 40 + seq, completionTokens: 1, totalTokens: 2 ** 40 + seq + 1 },
          details: { startedAt: T1 },
        }) as MetricEvent;
      await store.insertEvents(
        "bulk3",
        Array.from({ length: 100 }, (_, i) => llm(i + 1)),
      );
      const [llms] = await report(store, { where: { sessionId: "bulk3" } });
      expect([llms?.promptTokens, llms?.cost, llms?.durationP50]).toEqual([100 * 2 ** 40 + 5050, 5.05, 50]);
    }));

  test("every integer percentile is the nearest rank of the exact durations, repeats included", () =>
    open(harness, async (store) => {
      // Group "a" holds 1, 2, 2, 3, 3, 3, … (n times n, up to 9); group "b" 0–96 once each; "c" none.
      const durations: Record<string, number[]> = {
        a: Array.from({ length: 9 }, (_, i) => Array<number>(i + 1).fill(i + 1)).flat(),
        b: Array.from({ length: 97 }, (_, i) => i),
      };
      let seq = 0;
      const events: MetricEvent[] = [];
      for (const [tool, list] of Object.entries(durations))
        for (const durationMs of list) events.push({ ...call(++seq), name: tool, durationMs } as MetricEvent);
      events.push({ v: 1, seq: ++seq, ts: T1, type: "llm", phase: "c", cost: 0 } as MetricEvent);
      (events.at(-1) as { usage?: object }).usage = { promptTokens: 1, completionTokens: 1, totalTokens: 2 };
      await store.insertEvents("ranks", events);
      const sorted = Object.fromEntries(
        Object.entries(durations).map(([k, v]) => [k, Float64Array.from(v).sort()]),
      );
      for (let from = 1; from <= 100; from += 16) {
        const percentiles = Array.from({ length: Math.min(16, 101 - from) }, (_, i) => from + i);
        const rows = await report(store, { groupBy: ["tool"], percentiles });
        expect(rows.map((r) => [r.tool, r.durationPercentiles])).toEqual([
          ...["a", "b"].map((tool) => [
            tool,
            Object.fromEntries(percentiles.map((p) => [`p${p}`, nearestRank(sorted[tool]!, p)])),
          ]),
          [null, Object.fromEntries(percentiles.map((p) => [`p${p}`, null]))],
        ]);
      }
      const [total] = await report(store);
      const all = Float64Array.from(Object.values(durations).flat()).sort();
      expect([total?.durationP50, total?.durationP90, total?.durationP99]).toEqual(
        [50, 90, 99].map((p) => nearestRank(all, p)),
      );
    }));

  test("an event's JSON is left out only when the columns hold all of it", () =>
    open(harness, async (store, query) => {
      const at = (seq: number) => ({ v: 1, seq, ts: T1 + seq }) as const;
      const usage = { promptTokens: 5, completionTokens: 2, totalTokens: 7 } as LLMEvent["usage"];
      const events: MetricEvent[] = [
        { ...at(1), type: "session_start", sessionId: "held", startedAt: T1 + 1 },
        { ...at(2), type: "tool_call", name: "Read", success: true, durationMs: 3 },
        {
          ...at(3),
          type: "tool_call",
          name: "Read",
          success: false,
          durationMs: 4,
          details: { agent: "a", model: "m", errorClass: "e" },
        },
        {
          ...at(4),
          type: "tool_call",
          name: "Read",
          success: true,
          durationMs: 5,
          details: { agent: "a", attributes: { keep: "me" } },
        },
        {
          ...at(5),
          type: "tool_call",
          name: "Read",
          success: true,
          durationMs: 6,
          details: { taskId: "t-1" },
        },
        {
          ...at(6),
          type: "llm",
          phase: "plan",
          usage,
          cost: 0.5,
          details: { model: "m", startedAt: T1 + 2 },
        },
        { ...at(7), type: "llm", phase: "plan", usage, cost: 0.5, details: { startedAt: T1 + 8 } },
        { ...at(8), type: "llm", phase: "plan", usage, cost: 0.5, promptHash: "abcd" },
        { ...at(9), type: "phase_transition", phase: "plan" },
        { ...at(10), type: "phase_duration", phase: "plan", durationMs: 9, success: true },
        { ...at(11), type: "edit_strategy", strategy: "diff" },
        { ...at(12), type: "llm", phase: "plan", usage, cost: -0 },
      ];
      const state = createState("held", T1);
      for (const e of events) reduce(state, e);
      const session = {
        ...{ sessionId: "held", startedAt: T1, updatedAt: T1 + 12, lastSeq: 12 },
        ...{ document: encodeMetrics(snapshotState(state)), documentSeq: 12 },
      };
      expect(await store.write({ events: encodeEvents("held", events), sessions: [session] })).toBe(12);
      const rows = await query("SELECT seq, data FROM events WHERE session_id = 'held' ORDER BY seq");
      const kept = rows.filter((r) => r.data !== null).map((r) => Number(r.seq));
      // Left out: a bare tool call, one whose details are all columns, an LLM call whose start is
      // its duration (kept: one that starts after it was recorded), a phase counter and a phase duration.
      expect(kept).toEqual([1, 4, 5, 7, 8, 11, 12]);
      // What is kept is the event itself.
      const attributes = rows.find((r) => Number(r.seq) === 4)!.data as string;
      expect(JSON.parse(attributes)).toEqual(events[3]);
      expect((await getSession(store, "held"))?.tools[0]?.callCount).toBe(4);
    }));

  test("events written with a document that reflects them still fold into exact documents", () =>
    open(harness, async (store) => {
      const events: MetricEvent[] = [
        { v: 1, seq: 1, ts: T1, type: "session_start", sessionId: "doc1", startedAt: T1 },
        ...calls(2, 200),
      ];
      const state = createState("doc1", T1);
      const upsert = (upTo: number) => {
        for (const e of events.slice(0, upTo)) reduce(state, e);
        const document = encodeMetrics(snapshotState(state));
        return {
          sessionId: "doc1",
          startedAt: T1,
          updatedAt: T1 + upTo,
          lastSeq: upTo,
          document,
          documentSeq: upTo,
        };
      };
      // Events 1–120 with the document of 1–120; then 121–200 alone (a later document is not written).
      expect(
        await store.write({ events: encodeEvents("doc1", events.slice(0, 120)), sessions: [upsert(120)] }),
      ).toBe(120);
      expect(await store.insertEvents("doc1", events.slice(100))).toBe(80);
      const full = createState("doc1", T1);
      for (const e of events) reduce(full, e);
      expect(await getSession(store, "doc1")).toEqual(snapshotState(full));
      expect((await store.readSession("doc1"))?.events).toEqual(events.slice(120));
      const [total] = await report(store);
      expect([total?.calls, total?.durationP50]).toEqual([199, 101]);
    }));
}
