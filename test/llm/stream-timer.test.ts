/** timeStream: timing, outcomes, closing the source, and chunks passed through unchanged. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { nearestRank } from "../../src/core/percentiles.ts";
import { rankOf, selectRank, timeStream } from "../../src/llm/stream-timer.ts";
import { FakeStep } from "./fake-target.ts";

/** Yields `chunks`, waiting `gaps[i]` ms before chunk i; records whether its `finally` ran. */
function source<T>(chunks: T[], gaps: number[] = [], fail?: { after: number; error: unknown }) {
  const state = { closed: false, yielded: 0 };
  async function* gen() {
    try {
      for (let i = 0; i < chunks.length; i++) {
        if (fail !== undefined && i === fail.after) throw fail.error;
        if ((gaps[i] ?? 0) > 0) await Bun.sleep(gaps[i]!);
        state.yielded++;
        yield chunks[i]!;
      }
    } finally {
      state.closed = true;
    }
  }
  return { stream: gen(), state };
}

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("completed streams", () => {
  test("yields the same chunks, marks the first token, then the end, then the stats", async () => {
    const chunks = [{ n: 1 }, { n: 2 }, { n: 3 }];
    const step = new FakeStep("t#0");
    const { stream } = source(chunks, [30, 20, 20]);
    const got = await drain(timeStream(stream, step));
    expect(got).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(got[i]).toBe(chunks[i]!); // same objects
    expect(step.methods).toEqual(["firstToken", "generationEnd", "recordStream"]);
    expect(step.ttftMs!).toBeGreaterThanOrEqual(29);
    const stats = step.stream!;
    expect(stats.outcome).toBe("completed");
    expect(stats.chunks).toBe(3);
    expect(stats.interChunkP50Ms!).toBeGreaterThanOrEqual(19);
    expect(stats.interChunkP90Ms!).toBeGreaterThanOrEqual(stats.interChunkP50Ms!);
    expect(stats.outputTokensPerSecond).toBeUndefined(); // no token counts given
  });

  test("the first token is the first chunk isContent accepts", async () => {
    const step = new FakeStep("t#0");
    const { stream } = source(["role", "meta", "text"], [0, 0, 40]);
    let yieldedTextAt = 0;
    for await (const c of timeStream(stream, step, { isContent: (c) => c === "text" })) {
      if (c === "text") yieldedTextAt = performance.now();
    }
    expect(step.calls.filter((c) => c.method === "firstToken")).toHaveLength(1);
    expect(step.ttftMs!).toBeGreaterThanOrEqual(39);
    expect(step.call("firstToken")!.at).toBeLessThanOrEqual(yieldedTextAt);
  });

  test("no content at all: no first token, still an end and stats", async () => {
    const step = new FakeStep("t#0");
    await drain(timeStream(source([1, 2]).stream, step, { isContent: () => false }));
    expect(step.methods).toEqual(["generationEnd", "recordStream"]);
  });

  test("an empty stream has 0 chunks and no percentiles; one chunk has no percentiles", async () => {
    const empty = new FakeStep("t#0");
    await drain(timeStream(source([]).stream, empty));
    expect(empty.stream).toEqual({ chunks: 0, outcome: "completed" });
    const one = new FakeStep("t#1");
    await drain(timeStream(source(["x"]).stream, one));
    expect(one.stream).toEqual({ chunks: 1, outcome: "completed" });
  });

  test("tokens/s from usage at the end, over decode time (first token → end)", async () => {
    const step = new FakeStep("t#0");
    const { stream } = source(["a", "b", "c"], [0, 50, 50]);
    await drain(timeStream(stream, step, { usage: () => ({ promptTokens: 1, completionTokens: 100 }) }));
    const tps = step.stream!.outputTokensPerSecond!;
    // decode ≈ 100 ms (≥ 98 ms of sleeps), so ≤ ~1,020 tokens/s; generous lower bound for a loaded machine.
    expect(tps).toBeLessThanOrEqual(100 / 0.098);
    expect(tps).toBeGreaterThan(100);
  });

  test("tokens/s from per-chunk token counts, which add up", async () => {
    const step = new FakeStep("t#0");
    const { stream } = source([2, 3, 5], [0, 50, 50]);
    await drain(timeStream(stream, step, { outputTokens: (n) => n }));
    expect(step.stream!.outputTokensPerSecond!).toBeLessThanOrEqual(10 / 0.098);
  });

  test("endStep closes the step with the usage, after the stats", async () => {
    const step = new FakeStep("t#0");
    const usage = { promptTokens: 3, completionTokens: 4 };
    await drain(timeStream(source([1]).stream, step, { endStep: true, usage: () => usage }));
    expect(step.methods).toEqual(["firstToken", "generationEnd", "recordStream", "end"]);
    expect(step.call("end")!.args[0]).toBe(usage);
  });

  test("works on any AsyncIterable (a ReadableStream)", async () => {
    const step = new FakeStep("t#0");
    const rs = new ReadableStream<string>({
      start(c) {
        c.enqueue("a");
        c.enqueue("b");
        c.close();
      },
    });
    expect(await drain(timeStream(rs, step))).toEqual(["a", "b"]);
    expect(step.stream!.chunks).toBe(2);
  });
});

describe("early exits", () => {
  test("break: outcome break, and the source's return() runs (its finally closes it)", async () => {
    const step = new FakeStep("t#0");
    const { stream, state } = source([1, 2, 3, 4, 5]);
    for await (const n of timeStream(stream, step)) if (n === 2) break;
    expect(state.closed).toBe(true);
    expect(state.yielded).toBe(2);
    expect(step.stream).toEqual(expect.objectContaining({ chunks: 2, outcome: "break" }));
    expect(step.failures).toEqual([]);
    expect(step.ended).toBe(false);
  });

  test("break calls return() on a hand-written iterator too", async () => {
    let returned = 0;
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: 1 }),
        return: async () => {
          returned++;
          return { done: true, value: undefined };
        },
      }),
    };
    const step = new FakeStep("t#0");
    for await (const _ of timeStream(iterable, step)) break;
    expect(returned).toBe(1);
    expect(step.stream!.outcome).toBe("break");
  });

  test("error: recorded, classified as stream_error by default, and rethrown unchanged", async () => {
    const boom = new Error("boom");
    const step = new FakeStep("t#0");
    const { stream } = source([1, 2, 3], [], { after: 2, error: boom });
    const seen: number[] = [];
    let caught: unknown;
    try {
      for await (const n of timeStream(stream, step)) seen.push(n);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBe(boom);
    expect(seen).toEqual([1, 2]);
    expect(step.stream).toEqual(expect.objectContaining({ chunks: 2, outcome: "error" }));
    expect(step.failures).toEqual(["stream_error"]);
  });

  test("error: a classifiable error keeps its class; options.classifyError wins", async () => {
    const rateLimited = Object.assign(new Error("429"), { status: 429 });
    const a = new FakeStep("t#0");
    await expect(drain(timeStream(source([1], [], { after: 0, error: rateLimited }).stream, a))).rejects.toBe(
      rateLimited,
    );
    expect(a.failures).toEqual(["rate_limit"]);
    const b = new FakeStep("t#1");
    const custom = timeStream(source([1], [], { after: 0, error: rateLimited }).stream, b, {
      classifyError: () => "mine",
    });
    await expect(drain(custom)).rejects.toBe(rateLimited);
    expect(b.failures).toEqual(["mine"]);
  });

  test("abort: an AbortError is outcome abort, failed as aborted, and rethrown", async () => {
    const abort = new DOMException("The operation was aborted.", "AbortError");
    const step = new FakeStep("t#0");
    await expect(drain(timeStream(source([1, 2], [], { after: 1, error: abort }).stream, step))).rejects.toBe(
      abort,
    );
    expect(step.stream).toEqual(expect.objectContaining({ chunks: 1, outcome: "abort" }));
    expect(step.failures).toEqual(["aborted"]);
  });

  test("abort: a stream that ends quietly after its signal aborted (as SDK streams do) is an abort", async () => {
    const controller = new AbortController();
    const step = new FakeStep("t#0");
    async function* quiet() {
      yield 1;
      controller.abort();
    }
    await drain(timeStream(quiet(), step, { signal: controller.signal }));
    expect(step.stream!.outcome).toBe("abort");
  });

  test("after the end, next() keeps answering done without touching the source", async () => {
    const step = new FakeStep("t#0");
    const it = timeStream(source([1]).stream, step);
    await drain(it);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(step.calls.filter((c) => c.method === "recordStream")).toHaveLength(1);
  });
});

describe("nearestRank", () => {
  test("is the value at rank ⌈p/100 · n⌉", () => {
    const ten = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(nearestRank(ten, 50)).toBe(5);
    expect(nearestRank(ten, 90)).toBe(9);
    expect(nearestRank([1, 2], 50)).toBe(1);
    expect(nearestRank([1, 2], 90)).toBe(2);
  });
});

describe("inter-chunk percentiles by selection", () => {
  test("selectRank gives the nearest-rank value of the sorted gaps, p90 after p50 included", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1e6, noNaN: true })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 100 }),
        (values, p) => {
          const sorted = Float64Array.from(values).sort();
          const work = Float64Array.from(values);
          const r50 = rankOf(work.length, 50);
          expect(selectRank(work, r50, 0)).toBe(nearestRank(sorted, 50));
          expect(selectRank(work, rankOf(work.length, Math.max(50, p)), r50 - 1)).toBe(
            nearestRank(sorted, Math.max(50, p)),
          );
          expect(selectRank(Float64Array.from(values), rankOf(values.length, p), 0)).toBe(
            nearestRank(sorted, p),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
