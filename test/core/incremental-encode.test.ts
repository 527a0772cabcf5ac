/**
 * Incremental encoding: each session state keeps a memo of its encoded tool and phase entries,
 * lent to its newest snapshot, and a flush re-encodes only the entries whose values changed.
 * Whatever happened in between, the bytes must equal a from-scratch encode (of a copy of the
 * snapshot, to which no memo is lent).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { Collector } from "../../src/collector.ts";
import { type EventBody, type MetricEvent, reduce } from "../../src/core/events.ts";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { createState, type SessionState, snapshotState } from "../../src/core/state.ts";
import type { SessionMetrics } from "../../src/core/types.ts";
import { Recorder } from "../../src/recorder.ts";
import { cleanup, makeCollector, tempDir } from "./helpers.ts";

/** The document encoded without any memo. */
function fromScratch(m: SessionMetrics): string {
  return encodeMetrics({ ...m });
}

/** How many tool entries the session's memo holds (what its last memo-backed encode saw). */
function memoTools(owner: Recorder): number | undefined {
  return (owner as unknown as { state: SessionState }).state.encodeMemo?.tools.length;
}

let dir: string;
beforeEach(async () => {
  dir = await tempDir("sm-incremental-");
});
afterEach(() => cleanup(dir));

/** 300 tools: five blocks of encoded fragments, the last one partial. */
function populated(): { collector: Collector; file: string } {
  const { collector } = makeCollector({ sessionsDir: dir, journal: false });
  for (let i = 0; i < 300; i++) collector.recordToolCall(`tool_${i}`, i % 5 !== 0, i * 3);
  for (const phase of ["plan", "build", "test"]) {
    collector.recordPhaseTransition(phase);
    collector.recordPhaseDuration(phase, 1000, true);
  }
  return { collector, file: join(dir, "s1", "METRICS.json") };
}

describe("flush after flush", () => {
  test("each change is written exactly as a from-scratch encode would write it", async () => {
    const { collector, file } = populated();
    const steps: (() => void)[] = [
      () => collector.recordToolCall("tool_0", true, 7), // first block
      () => collector.recordToolCall("tool_150", false, 1), // a middle block
      () => collector.recordToolCall("tool_299", true, 2), // the last, partial block
      () => collector.recordToolCall("tool_300", true, 4), // appended to the partial block
      () => {
        for (let i = 301; i < 330; i++) collector.recordToolCall(`tool_${i}`, true, i); // a new block
      },
      () => collector.recordHealTrigger("build"), // a phase
      () => collector.recordPhaseDuration("test", 2000, false),
      () => collector.recordPhaseTransition("ship"), // a new phase
      () => collector.recordEditStrategy("exact_match"),
      () => collector.recordLLMInteraction("plan", { promptTokens: 10, completionTokens: 2 }, 0.25),
      () => {}, // nothing changed
    ];
    await collector.flush();
    expect(readFileSync(file, "utf8")).toBe(fromScratch(collector.snapshot()));
    for (const step of steps) {
      step();
      await collector.flush();
      const snapshot = collector.snapshot();
      expect(memoTools(collector)).toBe(snapshot.tools.length); // the flush used the memo
      expect(readFileSync(file, "utf8")).toBe(fromScratch(snapshot));
    }
    await collector.stop();
  });

  test("a resumed session (METRICS.json loaded, averages kept verbatim) writes what a fresh encode writes", async () => {
    const { collector, file } = populated();
    await collector.stop();
    // A Go-written average that total / count would not reproduce, and a -0 one (tool_0's is 0).
    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.tools[1].avg_duration_ms = 3.3333333333333335;
    await Bun.write(
      file,
      JSON.stringify(doc, null, 2).replace(/"avg_duration_ms": 0\n/, '"avg_duration_ms": -0\n'),
    );

    const resumed = await Collector.open({ sessionId: "s1", sessionsDir: dir, journal: false, resume: true });
    await resumed.flush();
    const first = resumed.snapshot();
    expect(first.tools[1]!.avgDurationMs).toBe(3.3333333333333335);
    expect(Object.is(first.tools[0]!.avgDurationMs, -0)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(fromScratch(first));
    resumed.recordToolCall("tool_1", true, 3); // the verbatim average gives way to total / count
    await resumed.flush();
    expect(readFileSync(file, "utf8")).toBe(fromScratch(resumed.snapshot()));
    await resumed.stop();
  });
});

describe("snapshots the caller changed", () => {
  test("an edited, shrunk or reordered snapshot encodes as it reads, and the next flush is unaffected", async () => {
    const { collector, file } = populated();
    await collector.flush();

    const edited = collector.snapshot();
    edited.tools[70]!.callCount = 1e6;
    edited.tools[71]!.name = "renamed";
    edited.tools[72]!.avgDurationMs = -0; // equal to 0 under ===, but Go writes -0
    edited.phases[0]!.success = false;
    expect(encodeMetrics(edited)).toBe(fromScratch(edited));
    expect(memoTools(collector)).toBe(300);

    const zeroed = collector.snapshot();
    zeroed.tools[72]!.avgDurationMs = 0;
    expect(encodeMetrics(zeroed)).toBe(fromScratch(zeroed));

    const shrunk = collector.snapshot();
    shrunk.tools.splice(100, 150);
    shrunk.phases.pop();
    expect(encodeMetrics(shrunk)).toBe(fromScratch(shrunk));

    const reversed = collector.snapshot();
    reversed.tools.reverse();
    expect(encodeMetrics(reversed)).toBe(fromScratch(reversed));

    const emptied = collector.snapshot();
    emptied.tools.length = 0;
    emptied.phases.length = 0;
    expect(encodeMetrics(emptied)).toBe(fromScratch(emptied));

    collector.recordToolCall("tool_71", true, 1);
    await collector.flush();
    expect(readFileSync(file, "utf8")).toBe(fromScratch(collector.snapshot()));
    await collector.stop();
  });
});

describe("replayed state", () => {
  test("a session_start (reset) and a restore event re-encode everything that changed", () => {
    const state = createState("s1", Date.parse("2026-11-22T01:42:24.140Z"));
    let seq = 0;
    const apply = (body: EventBody) =>
      reduce(state, { ...body, v: 1, seq: ++seq, ts: 1e12 + seq } as MetricEvent);
    for (let i = 0; i < 100; i++) apply({ type: "tool_call", name: `t${i}`, success: true, durationMs: i });
    const before = snapshotState(state);
    expect(encodeMetrics(before)).toBe(fromScratch(before));
    expect(state.encodeMemo?.tools).toHaveLength(100);

    apply({ type: "session_start", sessionId: "s1", startedAt: 1e12 });
    for (let i = 0; i < 10; i++) apply({ type: "tool_call", name: `t${i}`, success: false, durationMs: 1 });
    const reset = snapshotState(state);
    expect(encodeMetrics(reset)).toBe(fromScratch(reset));
    expect(state.encodeMemo?.tools).toHaveLength(10);

    apply({ type: "restore", metrics: before });
    const restored = snapshotState(state);
    expect(encodeMetrics(restored)).toBe(fromScratch(restored));
    expect(restored.tools).toEqual(before.tools);
  });
});

describe("property: any sequence of records and edits", () => {
  const name = fc.constantFrom("a", "b", "c", "é😀", "<&>", ...Array.from({ length: 70 }, (_, i) => `t${i}`));
  const op = fc.oneof(
    fc.record({ k: fc.constant("tool" as const), name, success: fc.boolean(), ms: fc.nat({ max: 1000 }) }),
    fc.record({ k: fc.constant("phase" as const), phase: fc.constantFrom("p", "q", "r") }),
    fc.record({ k: fc.constant("edit" as const), index: fc.nat(), value: fc.constantFrom(0, -0, 1.5, 7) }),
    fc.record({ k: fc.constant("drop" as const), count: fc.nat({ max: 80 }) }),
  );

  test("every encode equals a from-scratch encode", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const recorder = new Recorder({ sessionId: "s1" }, () => 1_700_000_000_000);
        for (const o of ops) {
          if (o.k === "tool") recorder.recordToolCall(o.name, o.success, o.ms);
          if (o.k === "phase") recorder.recordHealTrigger(o.phase);
          const snapshot = recorder.snapshot();
          if (o.k === "edit" && snapshot.tools.length > 0)
            snapshot.tools[o.index % snapshot.tools.length]!.avgDurationMs = o.value;
          if (o.k === "drop") snapshot.tools.splice(0, o.count);
          expect(encodeMetrics(snapshot)).toBe(fromScratch(snapshot));
          expect(memoTools(recorder)).toBe(snapshot.tools.length);
        }
      }),
      { numRuns: 60 },
    );
  });
});
