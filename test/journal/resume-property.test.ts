/**
 * Resume equals an uninterrupted run (property test): any sequence of records, split at random
 * points into 1–4 runs (each `Collector.open({ resume: true })` … `stop()`), with the same
 * deterministic clock, writes the same METRICS.json bytes — and the same journal bytes — as one
 * run of the same records. A session that starts without a journal (`journal: false`, the Go
 * behaviour) and is resumed with the journal on continues from its METRICS.json.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { MetricEvent } from "../../src/core/events.ts";
import { load } from "../../src/fs/metrics-file.ts";
import { loadTurns, replayMetrics } from "../../src/journal/replay.ts";
import { Collector } from "../../src/session/collector.ts";
import { checkLines, JOURNAL, MemoryLogger, readBytes, seqsAreGapFree, TempDirs } from "./helpers.ts";

setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const SESSION = "resume";
const T0 = Date.parse("2026-11-22T01:42:24.140Z");

type Op =
  | { k: "tool"; name: string; success: boolean; ms: number; agent?: string }
  | { k: "llm"; phase: string; p: number; c: number; cost?: number; model?: string; cacheRead?: number }
  | { k: "prompt"; phase: string; p: number; c: number; cost: number; hash: string; truncated: boolean }
  | { k: "count"; method: (typeof COUNTS)[number]; phase: string }
  | { k: "duration"; phase: string; ms: number; success: boolean }
  | { k: "heal"; phase: string; ms: number }
  | { k: "edit"; strategy: string }
  | { k: "turn"; phase: string; steps: { p: number; c: number }[] }
  | { k: "bad"; ms: number };

const COUNTS = [
  "recordPhaseTransition",
  "recordHealTrigger",
  "recordHealLoop",
  "recordBisectTrigger",
  "healOk",
  "healFail",
  "bisectOk",
  "bisectFail",
] as const;

const name = fc.constantFrom("Read", "Edit", "é😀", "<&>");
const phase = fc.constantFrom("plan", "execute", "vérifier");
const ms = fc.oneof(fc.nat({ max: 10_000 }), fc.double({ min: 0, max: 10_000, noNaN: true }));
const tokens = fc.nat({ max: 50_000 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant("tool"),
    name,
    success: fc.boolean(),
    ms,
    agent: fc.option(name, { nil: undefined }),
  }),
  fc.record(
    {
      k: fc.constant("llm"),
      phase,
      p: tokens,
      c: tokens,
      cost: fc.option(fc.double({ min: 0, max: 5, noNaN: true }), { nil: undefined }),
      model: fc.constantFrom("gpt-4o", "unknown-model"),
      cacheRead: fc.nat({ max: 100 }),
    },
    { requiredKeys: ["k", "phase", "p", "c"] },
  ),
  fc.record({
    k: fc.constant("prompt"),
    phase,
    p: tokens,
    c: tokens,
    cost: fc.double({ min: 0, max: 5, noNaN: true }),
    hash: fc.constantFrom("", "9c7898597b84f182", "0123456789abcdef"),
    truncated: fc.boolean(),
  }),
  fc.record({ k: fc.constant("count"), method: fc.constantFrom(...COUNTS), phase }),
  fc.record({ k: fc.constant("duration"), phase, ms, success: fc.boolean() }),
  fc.record({ k: fc.constant("heal"), phase, ms }),
  fc.record({ k: fc.constant("edit"), strategy: fc.constantFrom("", "exact_match", "fuzzy", "ünïcode") }),
  fc.record({
    k: fc.constant("turn"),
    phase,
    steps: fc.array(fc.record({ p: tokens, c: tokens }), { maxLength: 3 }),
  }),
  fc.record({ k: fc.constant("bad"), ms: fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY) }),
);

/** Records and the clock time (ms after T0) each one happens at. */
const script = fc.array(fc.tuple(op, fc.nat({ max: 5_000 })), { maxLength: 40 }).map((steps) => {
  let at = 0;
  return steps.map(([o, delta]) => {
    at += delta;
    return { op: o, at };
  });
});
type Script = { op: Op; at: number }[];

/** A clock the test moves: every collector reads the time set for the record being made. */
class SharedClock {
  ms = T0;
  readonly now = (): Date => new Date(this.ms);
}

function apply(c: Collector, o: Op): void {
  switch (o.k) {
    case "tool":
      return c.recordToolCall(
        o.name,
        o.success,
        o.ms,
        o.agent === undefined ? undefined : { agent: o.agent },
      );
    case "llm": {
      const usage = {
        promptTokens: o.p + (o.cacheRead ?? 0),
        completionTokens: o.c,
        cacheReadTokens: o.cacheRead,
      };
      return c.recordLLMInteraction(
        o.phase,
        usage,
        o.cost,
        o.model === undefined ? undefined : { model: o.model },
      );
    }
    case "prompt":
      return c.recordLLMInteractionWithPrompt(
        o.phase,
        { promptTokens: o.p, completionTokens: o.c },
        o.cost,
        o.hash,
        o.truncated,
      );
    case "count":
      if (o.method === "healOk" || o.method === "healFail")
        return c.recordHealOutcome(o.phase, o.method === "healOk");
      if (o.method === "bisectOk" || o.method === "bisectFail")
        return c.recordBisectOutcome(o.phase, o.method === "bisectOk");
      return c[o.method](o.phase);
    case "duration":
      return c.recordPhaseDuration(o.phase, o.ms, o.success);
    case "heal":
      return c.recordHealDuration(o.phase, o.ms);
    case "edit":
      return c.recordEditStrategy(o.strategy);
    case "turn": {
      const turn = c.startTurn({ phase: o.phase });
      for (const s of o.steps) turn.startStep().end({ promptTokens: s.p, completionTokens: s.c });
      return turn.end();
    }
    case "bad":
      return c.recordToolCall("Read", true, o.ms);
  }
}

/** Runs `steps` through collectors opened (with resume) at each of `cuts`; returns the files. */
async function run(
  sessionsDir: string,
  steps: Script,
  cuts: number[],
  options: { firstWithoutJournal?: boolean } = {},
): Promise<{ metrics: string; journal: Uint8Array }> {
  const clock = new SharedClock();
  const bounds = [0, ...cuts, steps.length];
  for (let r = 0; r + 1 < bounds.length; r++) {
    const logger = new MemoryLogger();
    const journal = !(options.firstWithoutJournal && r === 0);
    const c = await Collector.open({
      sessionId: SESSION,
      sessionsDir,
      resume: true,
      now: clock.now,
      journal,
      logger,
    });
    for (const { op: o, at } of steps.slice(bounds[r], bounds[r + 1])) {
      clock.ms = T0 + at;
      apply(c, o);
    }
    await c.stop();
    // Only the first drop of each kind is reported (bad records are part of the mix); nothing else.
    expect(logger.warnings.filter((w) => !w.includes("] dropped a record of session"))).toEqual([]);
    expect(logger.errors).toEqual([]);
  }
  return {
    metrics: readFileSync(join(sessionsDir, SESSION, "METRICS.json"), "utf8"),
    journal: readBytes(join(sessionsDir, SESSION, JOURNAL)),
  };
}

/**
 * Events without what turns measure on the real monotonic clock (not the injected one): turn
 * and step durations, and the start time a step's LLM event carries.
 */
function withoutTimings(events: readonly MetricEvent[]): unknown[] {
  return events.map((event) => {
    const e = structuredClone(event) as MetricEvent & { crc?: string };
    delete e.crc;
    if (e.type === "turn_end") e.durationMs = 0;
    if (e.type === "step_end") {
      delete e.step.ttftMs;
      delete e.step.decodeMs;
      delete e.step.genTotalMs;
    }
    if (e.type === "llm") delete e.details?.startedAt;
    return e;
  });
}

/** 0–3 sorted cut points in [0, n]: 1–4 runs (a run may record nothing). */
const cutsFor = (n: number) =>
  fc.array(fc.nat({ max: n }), { maxLength: 3 }).map((cuts) => cuts.sort((a, b) => a - b));

describe("resume equals an uninterrupted run", () => {
  test("records split into 1–4 resumed runs give the same METRICS.json and journal bytes", async () => {
    const root = temps.make("resume-property", { fast: true });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        script.chain((steps) => fc.tuple(fc.constant(steps), cutsFor(steps.length))),
        async ([steps, cuts]) => {
          const once = join(root, `once-${n}`);
          const split = join(root, `split-${n++}`);
          try {
            const a = await run(once, steps, []);
            const b = await run(split, steps, cuts);
            expect(b.metrics).toBe(a.metrics);
            const lines = checkLines(b.journal);
            expect(lines.bad).toEqual([]);
            expect(seqsAreGapFree(lines.events)).toBe(true);
            expect(lines.events.filter((e) => e.type === "session_start")).toHaveLength(1);
            // Without turns the journals are byte-identical; turns carry real (monotonic) timings.
            if (!steps.some((s) => s.op.k === "turn"))
              expect(Buffer.from(b.journal).equals(Buffer.from(a.journal))).toBe(true);
            expect(withoutTimings(lines.events)).toEqual(withoutTimings(checkLines(a.journal).events));
            // The journal folds to the document, and the turns read back the same.
            expect(await load(split, SESSION)).toEqual(await replayMetrics(split, SESSION));
            const turns = async (dir: string) =>
              (await loadTurns(dir, SESSION)).map((t) => ({
                ...t,
                durationMs: 0,
                steps: t.steps.map((x) => x.stepId),
              }));
            expect(await turns(split)).toEqual(await turns(once));
          } finally {
            rmSync(once, { recursive: true, force: true });
            rmSync(split, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  test("a session run without a journal, resumed with it, continues from METRICS.json", async () => {
    const root = temps.make("resume-from-document", { fast: true });
    let n = 0;
    // Turns are not part of METRICS.json, so these scripts leave them out.
    const goScript = script.map((steps) => steps.filter((s) => s.op.k !== "turn"));
    await fc.assert(
      fc.asyncProperty(
        goScript.chain((steps) => fc.tuple(fc.constant(steps), cutsFor(steps.length))),
        async ([steps, cuts]) => {
          const once = join(root, `once-${n}`);
          const split = join(root, `split-${n++}`);
          const first = cuts[0] ?? 0;
          try {
            const a = await run(once, steps, []);
            const b = await run(split, steps, cuts.length === 0 ? [first] : cuts, {
              firstWithoutJournal: true,
            });
            expect(b.metrics).toBe(a.metrics);
            // The journal starts where the document left off: one restore event, then the rest.
            const lines = checkLines(b.journal);
            expect(lines.bad).toEqual([]);
            expect(seqsAreGapFree(lines.events)).toBe(true);
            expect(lines.events[0]?.type).toBe("restore");
            expect(lines.events.some((e) => e.type === "session_start")).toBe(false);
            expect(await replayMetrics(split, SESSION)).toEqual(await load(split, SESSION));
          } finally {
            rmSync(once, { recursive: true, force: true });
            rmSync(split, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test("a run without the journal between journaled runs is not lost on the next resume", async () => {
    // Shows a bug: resume prefers the (stale) journal over the newer METRICS.json that the
    // journal-less run wrote, so that run's records vanish and the next stop() overwrites them.
    const sessionsDir = temps.make("resume-mixed", { fast: true });
    const clock = new SharedClock();
    const open = (journal: boolean) =>
      Collector.open({ sessionId: SESSION, sessionsDir, resume: true, now: clock.now, journal });
    const first = await open(true);
    first.recordToolCall("journaled", true, 1);
    await first.stop();
    clock.ms += 1000;
    const second = await open(false);
    second.recordToolCall("not-journaled", true, 2);
    await second.stop();
    expect((await load(sessionsDir, SESSION))!.tools.map((t) => t.name)).toEqual([
      "journaled",
      "not-journaled",
    ]);
    clock.ms += 1000;
    const third = await open(true);
    expect(third.snapshot().tools.map((t) => t.name)).toEqual(["journaled", "not-journaled"]);
    await third.stop();
  });

  test("the resumed collector carries on with the same startedAt and the next seq", async () => {
    const sessionsDir = temps.make("resume-continues", { fast: true });
    const clock = new SharedClock();
    const c1 = await Collector.open({ sessionId: SESSION, sessionsDir, resume: true, now: clock.now });
    c1.recordToolCall("Read", true, 5);
    const startedAt = c1.snapshot().startedAt;
    await c1.stop();
    clock.ms += 60_000;
    const c2 = await Collector.open({ sessionId: SESSION, sessionsDir, resume: true, now: clock.now });
    const seqs: number[] = [];
    c2.subscribe((e) => seqs.push(e.seq));
    c2.recordToolCall("Read", true, 7);
    expect(c2.snapshot().startedAt).toBe(startedAt);
    expect(c2.snapshot().tools[0]).toMatchObject({ callCount: 2, totalDurationMs: 12 });
    expect(seqs).toEqual([3]);
    await c2.stop();
  });
});
