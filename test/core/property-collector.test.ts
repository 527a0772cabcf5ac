/** Property test: any sequence of valid records gives what a line-by-line model of the Go collector gives. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { SessionMetrics } from "../../src/core/types.ts";
import type { Collector } from "../../src/session/collector.ts";
import { cleanup, makeCollector, tempDir, ZERO_PHASE } from "./helpers.ts";

type Op =
  | { k: "tool"; name: string; success: boolean; ms: number }
  | {
      k: "llm";
      phase: string;
      p: number;
      c: number;
      total?: number;
      cost: number;
      hash: string;
      trunc: boolean;
    }
  | { k: "nullUsage"; phase: string }
  | { k: "count"; method: (typeof COUNTS)[number]; phase: string }
  | { k: "duration"; phase: string; ms: number; success: boolean }
  | { k: "heal"; phase: string; ms: number }
  | { k: "edit"; strategy: string };

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
const FIELD: Record<(typeof COUNTS)[number], keyof typeof ZERO_PHASE> = {
  recordPhaseTransition: "transitionCount",
  recordHealTrigger: "healTriggerCount",
  recordHealLoop: "healLoopCount",
  recordBisectTrigger: "bisectTriggerCount",
  healOk: "healSuccessCount",
  healFail: "healFailCount",
  bisectOk: "bisectSuccessCount",
  bisectFail: "bisectFailCount",
};

const key = fc.constantFrom("a", "b", "é😀", "<&>");
const ms = fc.oneof(
  fc.nat({ max: 10_000 }),
  fc.double({ min: 0, max: 10_000, noNaN: true }),
  fc.constant(-0),
);
const tokens = fc.nat({ max: 100_000 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("tool"), name: key, success: fc.boolean(), ms }),
  fc.record(
    {
      k: fc.constant("llm"),
      phase: key,
      p: tokens,
      c: tokens,
      total: tokens,
      cost: fc.oneof(fc.double({ min: 0, max: 10, noNaN: true }), fc.constant(-0)),
      hash: fc.constantFrom("", "h1", "h2"),
      trunc: fc.boolean(),
    },
    { requiredKeys: ["k", "phase", "p", "c", "cost", "hash", "trunc"] },
  ),
  fc.record({ k: fc.constant("nullUsage"), phase: key }),
  fc.record({ k: fc.constant("count"), method: fc.constantFrom(...COUNTS), phase: key }),
  fc.record({ k: fc.constant("duration"), phase: key, ms, success: fc.boolean() }),
  fc.record({ k: fc.constant("heal"), phase: key, ms }),
  fc.record({ k: fc.constant("edit"), strategy: fc.constantFrom("", "exact", "fuzzy") }),
) as fc.Arbitrary<Op>;

function model(ops: Op[]): Omit<SessionMetrics, "sessionId" | "startedAt" | "updatedAt"> {
  const m: Omit<SessionMetrics, "sessionId" | "startedAt" | "updatedAt"> = {
    tools: [],
    editStrategies: [],
    llms: [],
    phases: [],
  };
  const phaseOf = (name: string) => {
    const found = m.phases.find((x) => x.phase === name);
    if (found) return found;
    const p = { phase: name, ...ZERO_PHASE };
    m.phases.push(p);
    return p;
  };
  for (const o of ops) {
    if (o.k === "tool") {
      let t = m.tools.find((x) => x.name === o.name);
      if (!t) {
        t = {
          name: o.name,
          callCount: 0,
          successCount: 0,
          failCount: 0,
          totalDurationMs: 0,
          avgDurationMs: 0,
        };
        m.tools.push(t);
      }
      t.callCount++;
      if (o.success) t.successCount++;
      else t.failCount++;
      t.totalDurationMs += Math.round(o.ms) + 0;
      t.avgDurationMs = t.totalDurationMs / t.callCount;
    } else if (o.k === "llm") {
      let l = m.llms.find((x) => x.phase === o.phase);
      if (!l) {
        // Go starts a new entry from the first cost (so -0 stays -0), then adds.
        l = {
          phase: o.phase,
          promptTokens: 0,
          completionTokens: 0,
          totalTokens: 0,
          cost: o.cost,
          interactionCount: 0,
        };
        m.llms.push(l);
      } else l.cost += o.cost;
      l.promptTokens += o.p;
      l.completionTokens += o.c;
      l.totalTokens += o.total ?? o.p + o.c;
      l.interactionCount++;
      if (l.promptHash === undefined && o.hash !== "") l.promptHash = o.hash;
      if (o.trunc) l.truncatedInput = true;
    } else if (o.k === "count") phaseOf(o.phase)[FIELD[o.method]]++;
    else if (o.k === "duration")
      Object.assign(phaseOf(o.phase), { durationMs: Math.round(o.ms) + 0, success: o.success });
    else if (o.k === "heal") phaseOf(o.phase).healDurationMs += Math.round(o.ms) + 0;
    else if (o.k === "edit" && o.strategy !== "") {
      const s = m.editStrategies.find((x) => x.strategy === o.strategy);
      if (s) s.count++;
      else m.editStrategies.push({ strategy: o.strategy, count: 1 });
    }
  }
  return m;
}

function drive(c: Collector, o: Op): void {
  if (o.k === "tool") c.recordToolCall(o.name, o.success, o.ms);
  else if (o.k === "llm") {
    const usage = {
      promptTokens: o.p,
      completionTokens: o.c,
      ...(o.total === undefined ? {} : { totalTokens: o.total }),
    };
    c.recordLLMInteractionWithPrompt(o.phase, usage, o.cost, o.hash, o.trunc);
  } else if (o.k === "nullUsage") c.recordLLMInteraction(o.phase, null, 1);
  else if (o.k === "count") {
    if (o.method === "healOk" || o.method === "healFail") c.recordHealOutcome(o.phase, o.method === "healOk");
    else if (o.method === "bisectOk" || o.method === "bisectFail")
      c.recordBisectOutcome(o.phase, o.method === "bisectOk");
    else c[o.method](o.phase);
  } else if (o.k === "duration") c.recordPhaseDuration(o.phase, o.ms, o.success);
  else if (o.k === "heal") c.recordHealDuration(o.phase, o.ms);
  else c.recordEditStrategy(o.strategy);
}

describe("collector", () => {
  test("any sequence of valid records gives what the Go model gives, with nothing dropped", async () => {
    const dir = await tempDir();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
          const { collector: c } = makeCollector({ sessionsDir: dir });
          try {
            for (const o of ops) drive(c, o);
            const { sessionId: _s, startedAt: _a, updatedAt: _u, ...rest } = c.snapshot();
            expect(rest).toEqual(model(ops));
          } finally {
            await c.stop();
          }
        }),
        { numRuns: 200 },
      );
    } finally {
      await cleanup(dir);
    }
  });
});
