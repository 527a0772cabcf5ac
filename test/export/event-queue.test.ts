/**
 * The OpenTelemetry sink's queue keeps bare tool calls as numbers and rebuilds them when taken:
 * every event taken must equal, field for field and key for key, the one written, in order, across
 * chunk boundaries, reused chunks, several sessions and batches of any size.
 */
import { describe, expect, test } from "bun:test";
import type { MetricEvent } from "../../src/core/events.ts";
import { EventQueue } from "../../src/export/otel/event-queue.ts";
import { seededRandom } from "../journal/helpers.ts";

const MAX = Number.MAX_SAFE_INTEGER;

/** A mix of what a session writes: bare tool calls (most), ones with details or a phase, and other events. */
function eventsOf(n: number, random: () => number, firstSeq = 1): MetricEvent[] {
  const names = ["Read", "Write", "Bash", "", "ünïcode ✓", "__proto__"];
  const events: MetricEvent[] = [];
  for (let i = 0; i < n; i++) {
    const seq = firstSeq + i;
    const ts = 1_764_000_000_000 + Math.floor(random() * 1e6);
    const r = random();
    if (r < 0.7) {
      const event: MetricEvent = {
        v: 1,
        seq,
        ts,
        type: "tool_call",
        name: names[Math.floor(random() * names.length)]!,
        success: random() < 0.8,
        durationMs: Math.floor(random() * 100_000),
      };
      if (random() < 0.5) event.phase = random() < 0.5 ? "execute" : "plan";
      if (random() < 0.1) event.details = { agent: "coder", attributes: { k: 1 } };
      events.push(event);
    } else if (r < 0.85) {
      events.push({
        v: 1,
        seq,
        ts,
        type: "llm",
        phase: "execute",
        usage: {
          promptTokens: 10,
          completionTokens: 2,
          totalTokens: 12,
          cacheReadTokens: undefined,
          cacheWriteTokens: undefined,
          reasoningTokens: undefined,
        },
        cost: 0.001,
      });
    } else events.push({ v: 1, seq, ts, type: "heal_trigger", phase: "execute" });
  }
  return events;
}

function takeAll(queue: EventQueue, batch = 512): { id: string; event: MetricEvent }[] {
  const out: { id: string; event: MetricEvent }[] = [];
  while (queue.size > 0) queue.take(batch, (id, event) => out.push({ id, event }));
  return out;
}

describe("EventQueue", () => {
  test("gives back every event in order, key for key, across chunk boundaries", () => {
    const queue = new EventQueue();
    const events = eventsOf(10_000, seededRandom(7));
    for (const e of events) queue.push("s1", e);
    expect(queue.size).toBe(10_000);
    const taken = takeAll(queue, 777);
    expect(queue.size).toBe(0);
    expect(taken.map((t) => t.id)).toEqual(events.map(() => "s1"));
    // Same keys in the same order (JSON), and the same values (toStrictEqual: no undefined `phase`).
    expect(taken.map((t) => JSON.stringify(t.event))).toEqual(events.map((e) => JSON.stringify(e)));
    taken.forEach((t, i) => {
      expect(t.event).toStrictEqual(events[i]!);
    });
  });

  test("events other than a bare tool call are handed back as the very objects written", () => {
    const queue = new EventQueue();
    const events = eventsOf(5_000, seededRandom(8));
    for (const e of events) queue.push("s1", e);
    const taken = takeAll(queue);
    let kept = 0;
    events.forEach((e, i) => {
      const bare = e.type === "tool_call" && e.details === undefined;
      if (!bare) {
        kept++;
        expect(taken[i]!.event).toBe(e);
      } else expect(taken[i]!.event).not.toBe(e);
    });
    expect(kept).toBeGreaterThan(1_000);
  });

  test("keeps the session of each event when sessions interleave", () => {
    const queue = new EventQueue();
    const random = seededRandom(9);
    const events = eventsOf(9_000, random);
    const ids = events.map(() => ["a", "b", "c"][Math.floor(random() * 3)]!);
    for (const [i, e] of events.entries()) queue.push(ids[i]!, e);
    const taken = takeAll(queue, 1000);
    expect(taken.map((t) => t.id)).toEqual(ids);
    expect(taken.map((t) => t.event)).toStrictEqual(events);
  });

  test("writes and takes interleaved in any batch size lose, repeat or reorder nothing", () => {
    const queue = new EventQueue();
    const random = seededRandom(10);
    const events = eventsOf(30_000, random);
    const taken: MetricEvent[] = [];
    let written = 0;
    while (taken.length < events.length) {
      const burst = Math.min(events.length - written, Math.floor(random() * 6_000));
      for (let i = 0; i < burst; i++) queue.push("s", events[written++]!);
      expect(queue.size).toBe(written - taken.length);
      queue.take(Math.floor(random() * 5_000) + 1, (_, e) => taken.push(e));
    }
    expect(taken).toStrictEqual(events);
  });

  test("reused chunks hand back the new events, not what an earlier burst kept in them", () => {
    const queue = new EventQueue();
    const random = seededRandom(11);
    for (let round = 0; round < 4; round++) {
      const events = eventsOf(12_000, random, round * 12_000 + 1);
      for (const e of events) queue.push(`s${round}`, e);
      const taken = takeAll(queue, 3_000);
      expect(taken.map((t) => t.event)).toStrictEqual(events);
      expect(new Set(taken.map((t) => t.id))).toEqual(new Set([`s${round}`]));
    }
  });

  test("numbers at the edge of exactness come back exact", () => {
    const queue = new EventQueue();
    const event: MetricEvent = {
      v: 1,
      seq: MAX,
      ts: 253_402_300_799_999, // 9999-12-31T23:59:59.999Z
      type: "tool_call",
      name: "Read",
      success: false,
      durationMs: MAX,
      phase: "execute",
    };
    const zero: MetricEvent = {
      v: 1,
      seq: 1,
      ts: 0,
      type: "tool_call",
      name: "Read",
      success: true,
      durationMs: 0,
    };
    queue.push("s", event);
    queue.push("s", zero);
    const taken = takeAll(queue);
    expect(taken.map((t) => t.event)).toStrictEqual([event, zero]);
    expect(Object.is((taken[1]!.event as { durationMs: number }).durationMs, 0)).toBe(true);
  });

  test("release() forgets what is queued; the queue works on afterwards", () => {
    const queue = new EventQueue();
    for (const e of eventsOf(9_000, seededRandom(12))) queue.push("s", e);
    queue.release();
    expect(queue.size).toBe(0);
    expect(takeAll(queue)).toEqual([]);
    const events = eventsOf(5_000, seededRandom(13));
    for (const e of events) queue.push("t", e);
    expect(takeAll(queue).map((t) => t.event)).toStrictEqual(events);
  });
});
