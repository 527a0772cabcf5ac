/**
 * Journal lines: mutants of a collector's lines (half of them re-checksummed, so they pass the
 * CRC and reach the parser and the bounds), whole mutated journals through `verifyJournal` and
 * `replayMetrics`, and generated checksum-valid lines with hostile content. An accepted line must
 * decode the same from bytes and from text, fold without throwing, and re-encode to a line that
 * decodes to the same event; a replayed journal must fold to a document `save` accepts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { MetricEvent } from "../../../src/core/events.ts";
import { reduce } from "../../../src/core/events.ts";
import { encodeMetrics } from "../../../src/core/go-document.ts";
import { assertWritableMetrics } from "../../../src/core/metrics-schema.ts";
import { createState, snapshotState } from "../../../src/core/state.ts";
import { replayMetrics, verifyJournal } from "../../../src/index.ts";
import {
  decodeEventLine,
  decodeEventText,
  encodeEventLine,
  frameLine,
} from "../../../src/journal/line-codec.ts";
import type { TortureContext } from "../harness.ts";
import { AreaTally, rng } from "../harness.ts";
import { caseSeed, type FuzzCase, runCases, split, type TargetRun } from "./common.ts";
import type { Corpus } from "./corpus.ts";
import { countLiteral, jsonValue, numberLiteral, objectText, samples, stringLiteral } from "./generators.ts";
import { int, mutate, pick } from "./mutators.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const QUIET = { warn() {}, error() {} };
const CRC_MEMBER = ',"crc":"';

/** The line with a checksum that matches its (mutated) fields: what a buggy writer could produce. */
export function rechecksum(line: Uint8Array): Uint8Array {
  const text = decoder.decode(line);
  const at = text.lastIndexOf(CRC_MEMBER);
  const fields = at >= 0 ? text.slice(0, at) : text.endsWith("}") ? text.slice(0, -1) : text;
  return encoder.encode(frameLine(`${fields}}`));
}

const EVENT_TYPES = [
  "session_start",
  "restore",
  "tool_call",
  "llm",
  "phase_transition",
  "heal_trigger",
  "heal_success",
  "bisect_fail",
  "phase_duration",
  "heal_duration",
  "edit_strategy",
  "invocation",
  "turn_start",
  "step_end",
  "turn_end",
  "lost",
  "dropped",
  "unknown",
];

const name = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('"Read"', '"plan"', '"t1"') }, stringLiteral);
const usage = objectText(
  {
    promptTokens: countLiteral,
    completionTokens: countLiteral,
    totalTokens: countLiteral,
    cacheReadTokens: countLiteral,
    reasoningTokens: countLiteral,
  },
  { required: ["promptTokens", "completionTokens", "totalTokens"], noise: 20 },
);
const details = objectText(
  {
    agent: name,
    model: name,
    taskId: name,
    errorClass: name,
    provider: name,
    attempt: countLiteral,
    startedAt: numberLiteral,
    attributes: objectText({ file: stringLiteral, n: numberLiteral, ok: fc.constant("true") }),
  },
  { noise: 10 },
);
const ts = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 253402300799999 }).map(String) },
  numberLiteral,
);

/** Event-shaped objects: the envelope, a type, and the fields any type may have. */
const eventText = objectText(
  {
    v: fc.oneof({ weight: 9, arbitrary: fc.constant("1") }, numberLiteral),
    seq: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 1000 }).map(String) }, numberLiteral),
    ts,
    type: fc.constantFrom(...EVENT_TYPES).map((t) => JSON.stringify(t)),
    name,
    phase: name,
    strategy: name,
    turnId: name,
    success: fc.constantFrom("true", "false"),
    durationMs: countLiteral,
    usage,
    cost: numberLiteral,
    promptHash: stringLiteral,
    truncated: fc.constantFrom("true", "false"),
    unpriced: name,
    details,
    sessionId: name,
    startedAt: ts,
    count: countLiteral,
    method: stringLiteral,
    reason: stringLiteral,
    step: objectText({ turnId: name, stepIndex: countLiteral, usage, ttftMs: numberLiteral }, { noise: 10 }),
    metrics: jsonValue,
  },
  { required: ["v", "seq", "ts", "type"], noise: 25 },
);

/** A generated line: checksum-valid nine times in ten. */
export const lineText = fc
  .tuple(eventText, fc.integer({ min: 0, max: 9 }))
  .map(([body, n]) => (n === 0 ? `${body.slice(0, -1)},"crc":"00000000"}` : frameLine(body)));

/** What is wrong with an accepted line's event, if anything. */
function checkEvent(event: MetricEvent, text: string): string | undefined {
  const again = decodeEventText(text);
  if (!again.ok) return `decodeEventLine accepted what decodeEventText refuses (${again.reason})`;
  if (!Bun.deepEquals(again.event, event, true)) return "decodeEventLine and decodeEventText disagree";
  const state = createState("fuzz", 0);
  reduce(state, event);
  const metrics = snapshotState(state);
  assertWritableMetrics(metrics, "fuzz");
  encodeMetrics(metrics);
  const line = encodeEventLine(event);
  const decoded = decodeEventLine(encoder.encode(line.slice(0, -1)));
  if (!decoded.ok) return `re-encoded line is refused: ${decoded.reason}`;
  if (encodeEventLine(decoded.event) !== line) return "re-encoded line decodes to another event";
  return undefined;
}

function lineCase(
  seed: string,
  bytes: Uint8Array,
  accepted: { count: number },
): FuzzCase<string | undefined> {
  return {
    seed,
    run: () => {
      const result = decodeEventLine(bytes);
      if (!result.ok) return undefined;
      accepted.count++;
      return checkEvent(result.event, decoder.decode(bytes));
    },
    oracle: (problem) => problem,
  };
}

/** A whole journal: mutated bytes, sometimes with a line of it re-checksummed or repeated. */
function mutateJournal(seed: number, corpus: Corpus): Uint8Array {
  const random = rng(seed ^ 0x51ed);
  const lines = [...corpus.journalLines];
  const at = int(random, lines.length);
  const choice = int(random, 3);
  if (choice === 0) lines[at] = rechecksum(mutate(seed, [lines[at]!], true));
  else if (choice === 1) lines.splice(at, 0, pick(random, lines));
  const joined = encoder.encode(`${lines.map((l) => decoder.decode(l)).join("\n")}\n`);
  return choice === 2 ? mutate(seed, [joined]) : joined;
}

export async function fuzzJournalLines(ctx: TortureContext, corpus: Corpus): Promise<TargetRun> {
  const tally = new AreaTally("fuzz: journal lines");
  const { mutations, generated } = split(1_000 * ctx.factor);
  const folder = corpus.scratch("journal");
  const generatedSeed = caseSeed(ctx.seed, 2, 0);
  const lines = samples(lineText, generatedSeed, generated);
  const accepted = { count: 0 };
  function* cases(): Generator<FuzzCase<string | undefined>> {
    for (let i = 0; i < mutations; i++) {
      const seed = caseSeed(ctx.seed, 2, i + 1);
      if (i % 4 === 0) {
        const id = `j${i}`;
        mkdirSync(join(folder, id), { recursive: true });
        writeFileSync(join(folder, id, "journal.jsonl"), mutateJournal(seed, corpus));
        yield {
          seed: `mut:${seed}`,
          run: async () => {
            await verifyJournal(folder, id);
            const metrics = await replayMetrics(folder, id, { logger: QUIET });
            if (metrics === null) return undefined;
            assertWritableMetrics(metrics, id);
            encodeMetrics(metrics);
            return undefined;
          },
          oracle: (problem) => problem,
        };
        continue;
      }
      const mutated = mutate(seed, corpus.journalLines, i % 3 === 0);
      yield lineCase(`mut:${seed}`, i % 2 === 0 ? rechecksum(mutated) : mutated, accepted);
    }
    for (let i = 0; i < lines.length; i++)
      yield lineCase(`fc:${generatedSeed}#${i}`, encoder.encode(lines[i]!), accepted);
  }
  const outcomes = await runCases(tally, cases());
  return { tally, outcomes, accepted: accepted.count };
}
