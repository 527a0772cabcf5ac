/** Property test: the METRICS.json codec round-trips any valid document, in memory and through save/load. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { decodeMetrics, encodeMetrics, parseJson } from "../../src/core/go-document.ts";
import { assertSessionId } from "../../src/core/session-id.ts";
import type { SessionMetrics } from "../../src/core/types.ts";
import { load, save } from "../../src/fs/metrics-file.ts";
import { cleanup, tempDir } from "./helpers.ts";

const MAX = Number.MAX_SAFE_INTEGER;

const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom(
      "<",
      ">",
      "&",
      "\u2028",
      "\u2029",
      "\u0000",
      "\u001f",
      "\u007f",
      '"',
      "\\",
      "\b",
      "😀",
      "a",
    ),
    maxLength: 8,
  }),
);
const int = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat(), fc.maxSafeInteger());
const float = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 0.30000000000000004, 123456789012345680000, -4611686018427388000, 5e-324, 1e21, 1e-7),
);
const isoMs = fc
  .date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })
  .map((d) => d.toISOString());
const goTime = fc
  .tuple(isoMs, fc.stringMatching(/^\d{1,9}$/), fc.constantFrom("Z", "+05:30", "-08:00"))
  .map(([iso, frac, zone]) => `${iso.slice(0, 19)}.${frac}${zone}`);
const timestamp = fc.oneof(isoMs, goTime);
const sessionId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/).filter((id) => {
  try {
    assertSessionId(id);
    return true;
  } catch {
    return false;
  }
});

const tool = fc.record({
  name: text,
  callCount: int,
  successCount: int,
  failCount: int,
  totalDurationMs: int,
  avgDurationMs: float,
});
const llm = fc.record(
  {
    phase: text,
    promptTokens: int,
    completionTokens: int,
    totalTokens: int,
    cost: float,
    interactionCount: int,
    promptHash: fc.string({ unit: "binary", minLength: 1, maxLength: 16 }),
    truncatedInput: fc.constant(true),
    cacheReadTokens: int,
    cacheWriteTokens: int,
    reasoningTokens: int,
  },
  { requiredKeys: ["phase", "promptTokens", "completionTokens", "totalTokens", "cost", "interactionCount"] },
);
const phase = fc.record({
  phase: text,
  durationMs: int,
  transitionCount: int,
  healTriggerCount: int,
  healSuccessCount: int,
  healFailCount: int,
  healDurationMs: fc.oneof(fc.constant(0), int),
  healLoopCount: fc.oneof(fc.constant(0), int),
  bisectTriggerCount: int,
  bisectSuccessCount: int,
  bisectFailCount: int,
  success: fc.boolean(),
});
const metrics: fc.Arbitrary<SessionMetrics> = fc.record(
  {
    sessionId,
    startedAt: timestamp,
    updatedAt: timestamp,
    tools: fc.array(tool, { maxLength: 4 }),
    editStrategies: fc.array(fc.record({ strategy: text, count: int }), { maxLength: 3 }),
    llms: fc.array(llm, { maxLength: 3 }),
    phases: fc.array(phase, { maxLength: 3 }),
    droppedRecords: fc.integer({ min: 1, max: MAX }),
  },
  { requiredKeys: ["sessionId", "startedAt", "updatedAt", "tools", "editStrategies", "llms", "phases"] },
);

describe("codec", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => cleanup(dir));

  test("decode(encode(x)) deep-equals x, -0 included", () => {
    fc.assert(
      fc.property(metrics, (m) => {
        const text = encodeMetrics(m);
        const back = decodeMetrics(parseJson(text, "mem"), "mem");
        expect(back).toEqual(m);
        expect(encodeMetrics(back)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  test("load(save(x)) deep-equals x and re-encodes to the file's bytes", async () => {
    await fc.assert(
      fc.asyncProperty(metrics, async (m) => {
        await save(dir, m.sessionId, m);
        const bytes = await readFile(join(dir, m.sessionId, "METRICS.json"), "utf8");
        expect(bytes).toBe(encodeMetrics(m));
        const back = await load(dir, m.sessionId);
        expect(back).toEqual(m);
        expect(encodeMetrics(back!)).toBe(bytes);
      }),
      { numRuns: 150 },
    );
  });
});
