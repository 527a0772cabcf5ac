/**
 * METRICS.json: mutants of the Go fixtures and of a collector's document, and generated
 * documents, through the decoder (and, for one case in eight, `load` from a file). A document
 * that loads must be one `save` accepts and must survive encode → decode unchanged.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { decodeMetrics, encodeMetrics, parseJson } from "../../../src/core/go-document.ts";
import { assertWritableMetrics } from "../../../src/core/metrics-schema.ts";
import type { SessionMetrics } from "../../../src/core/types.ts";
import { load } from "../../../src/index.ts";
import type { TortureContext } from "../harness.ts";
import { AreaTally } from "../harness.ts";
import { caseSeed, type FuzzCase, runCases, split, type TargetRun } from "./common.ts";
import type { Corpus } from "./corpus.ts";
import {
  countLiteral,
  jsonValue,
  listText,
  numberLiteral,
  objectText,
  samples,
  stringLiteral,
} from "./generators.ts";
import { mutate } from "./mutators.ts";

const FILE = "METRICS.json";
const decoder = new TextDecoder();

const validTimestamp = fc
  .date({ noInvalidDate: true, min: new Date("0000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z") })
  .map((d) => JSON.stringify(d.toISOString()));
const timestamp = fc.oneof(
  { weight: 6, arbitrary: validTimestamp },
  fc.constantFrom(
    '"2026-11-22T01:42:24.140125935Z"',
    '"0001-01-01T00:00:00Z"',
    '"2026-11-22T09:12:00.5+05:30"',
    '"9999-12-31T23:59:59.999999999Z"',
    '"2026-02-30T00:00:00Z"',
    '"2026-11-22T24:00:00Z"',
    '"2026-11-22"',
  ),
  stringLiteral,
);
/** Well-typed values only (`typed`) or with any JSON value now and then. */
function documentOf(typed: boolean): fc.Arbitrary<string> {
  const noise = typed ? 0 : 40;
  const int = typed
    ? fc.oneof(
        { weight: 20, arbitrary: fc.nat().map(String) },
        fc.constantFrom("9007199254740991", "-0", "-5", "9007199254740993"),
      )
    : countLiteral;
  const float = typed
    ? fc.oneof(
        { weight: 5, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(String) },
        numberLiteral,
      )
    : numberLiteral;
  const bool = typed
    ? fc.constantFrom("true", "false")
    : fc.oneof({ weight: 8, arbitrary: fc.constantFrom("true", "false") }, fc.constantFrom("null", "0"));
  const tool = objectText(
    {
      name: stringLiteral,
      call_count: int,
      success_count: int,
      fail_count: int,
      total_duration_ms: int,
      avg_duration_ms: float,
    },
    { noise },
  );
  const llm = objectText(
    {
      phase: stringLiteral,
      prompt_tokens: int,
      completion_tokens: int,
      total_tokens: int,
      cost: float,
      interaction_count: int,
      prompt_hash: stringLiteral,
      truncated_input: bool,
      cache_read_tokens: int,
      reasoning_tokens: int,
      unpriced_count: int,
    },
    { noise },
  );
  const phase = objectText(
    {
      phase: stringLiteral,
      duration_ms: int,
      transition_count: int,
      heal_trigger_count: int,
      heal_duration_ms: int,
      heal_loop_count: int,
      bisect_fail_count: int,
      success: bool,
    },
    { noise },
  );
  return objectText(
    {
      session_id: fc.oneof(fc.constant('"fz"'), stringLiteral),
      started_at: typed ? validTimestamp : timestamp,
      updated_at: typed ? validTimestamp : timestamp,
      tools: listText(tool),
      edit_strategies: listText(objectText({ strategy: stringLiteral, count: int }, { noise })),
      llms: listText(llm),
      phases: listText(phase),
      dropped_records: int,
      unpriced_models: listText(stringLiteral),
    },
    {
      required: ["session_id", "started_at", "updated_at", "tools", "llms", "phases"],
      noise: typed ? 0 : 30,
    },
  );
}

/** Documents close to the real shape: half well-typed, the rest noisier or any JSON at all. */
export const documentText: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: documentOf(true) },
  { weight: 9, arbitrary: documentOf(false) },
  { weight: 1, arbitrary: jsonValue },
);

/** What is wrong with a loaded document, if anything. */
export function checkLoaded(m: SessionMetrics): string | undefined {
  try {
    assertWritableMetrics(m, m.sessionId);
  } catch (error) {
    return `loaded a document save refuses: ${(error as Error).message}`;
  }
  const text = encodeMetrics(m);
  const again = encodeMetrics(decodeMetrics(parseJson(text, FILE), FILE));
  if (again !== text) return "encode → decode → encode changed the document";
  if (Object.getPrototypeOf(m) !== Object.prototype)
    return "the document's prototype is not Object.prototype";
  return undefined;
}

function decodeBytes(bytes: Uint8Array): SessionMetrics {
  return decodeMetrics(parseJson(decoder.decode(bytes), FILE), FILE);
}

export async function fuzzMetricsJson(ctx: TortureContext, corpus: Corpus): Promise<TargetRun> {
  const tally = new AreaTally("fuzz: METRICS.json");
  const { mutations, generated } = split(1_000 * ctx.factor);
  const folder = corpus.scratch("metrics");
  const generatedSeed = caseSeed(ctx.seed, 1, 0);
  const texts = samples(documentText, generatedSeed, generated);
  function* cases(): Generator<FuzzCase<SessionMetrics | null>> {
    for (let i = 0; i < mutations; i++) {
      const seed = caseSeed(ctx.seed, 1, i + 1);
      const bytes = mutate(seed, corpus.documents, i % 2 === 0);
      const viaFile = i % 8 === 0;
      if (viaFile) {
        mkdirSync(join(folder, `m${i}`), { recursive: true });
        writeFileSync(join(folder, `m${i}`, FILE), bytes);
      }
      yield {
        seed: `mut:${seed}`,
        run: () => (viaFile ? load(folder, `m${i}`) : decodeBytes(bytes)),
        oracle: (m) => (m === null ? "load found no file it was given" : checkLoaded(m)),
      };
    }
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!;
      yield {
        seed: `fc:${generatedSeed}#${i}`,
        run: () => decodeMetrics(parseJson(text, FILE), FILE),
        oracle: (m) => (m === null ? "decoded to null" : checkLoaded(m)),
      };
    }
  }
  const outcomes = await runCases(tally, cases());
  return { tally, outcomes };
}
