/**
 * Store inputs: mutated session folders (METRICS.json, journal, or both) ingested into one
 * in-memory SQLite store, and generated `report` / `listSessions` / `getSession` arguments
 * against what it then holds. Every stored session must read back as a document `save` accepts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { encodeMetrics } from "../../../src/core/go-document.ts";
import { assertWritableMetrics } from "../../../src/core/metrics-schema.ts";
import { ingest } from "../../../src/store/ingest.ts";
import { getSession, listSessions, report } from "../../../src/store/report.ts";
import { createSqliteStore } from "../../../src/store/sqlite/index.ts";
import type { MetricsStore } from "../../../src/store/types.ts";
import type { TortureContext } from "../harness.ts";
import { AreaTally, rng } from "../harness.ts";
import { caseSeed, type FuzzCase, runCases, split, type TargetRun } from "./common.ts";
import type { Corpus } from "./corpus.ts";
import { hostileString, samples } from "./generators.ts";
import { rechecksum } from "./journal-lines.ts";
import { int, mutate } from "./mutators.ts";

const QUIET = { warn() {}, error() {} };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A session folder's files: one of them mutated, sometimes both, sometimes one left out. */
function mutatedFolder(seed: number, corpus: Corpus): { metrics?: Uint8Array; journal?: Uint8Array } {
  const random = rng(seed ^ 0x5703);
  const [goDoc, , ownDoc] = corpus.documents;
  switch (int(random, 4)) {
    case 0:
      return { metrics: mutate(seed, corpus.documents, random() < 0.5) };
    case 1: {
      // A line re-checksummed, so it reaches the store's own checks.
      const lines = corpus.journalLines.map((l) => decoder.decode(l));
      const at = int(random, lines.length);
      lines[at] = decoder.decode(rechecksum(mutate(seed, [corpus.journalLines[at]!], true)));
      return { metrics: ownDoc, journal: encoder.encode(`${lines.join("\n")}\n`) };
    }
    case 2:
      return { journal: mutate(seed, [corpus.journal]) };
    default:
      return {
        metrics: mutate(seed, [goDoc!, ownDoc!], true),
        journal: mutate(seed + 1, [corpus.journal], true),
      };
  }
}

const instant = fc.oneof(
  fc.integer({ min: -1, max: 4_102_444_800_000 }),
  fc.date({ noInvalidDate: true }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(Number.NaN, Number.MAX_VALUE, -0, 8.64e15 + 1, "2026-11-22", "yesterday", ""),
  hostileString,
);
const value = fc.oneof(
  fc.constantFrom("Read", "Edit", "plan", "coder", "gpt-4o", null),
  hostileString,
  fc.array(fc.oneof(hostileString, fc.constant(null)), { maxLength: 3 }),
);
const groupKey = fc.constantFrom("agent", "phase", "model", "tool", "day", "host", "__proto__");
const reportOptions = fc.record(
  {
    since: instant,
    until: instant,
    groupBy: fc.array(groupKey, { maxLength: 3 }),
    where: fc.record(
      {
        agent: value,
        phase: value,
        model: value,
        tool: value,
        errorClass: value,
        sessionId: value,
        host: value,
      },
      { requiredKeys: [] },
    ),
    percentiles: fc.array(fc.oneof(fc.integer({ min: -1, max: 101 }), fc.double()), { maxLength: 3 }),
    kind: fc.constantFrom("tool", "llm", "both"),
  },
  { requiredKeys: [] },
);
const listOptions = fc.record(
  {
    filter: fc.record({ host: hostileString, since: instant, until: instant }, { requiredKeys: [] }),
    limit: fc.oneof(fc.integer({ min: -1, max: 1_001 }), fc.double()),
    cursor: fc.oneof(
      hostileString,
      fc.tuple(fc.integer(), hostileString).map((t) => Buffer.from(JSON.stringify(t)).toString("base64url")),
    ),
  },
  { requiredKeys: [] },
);
const query = fc.oneof(
  { weight: 3, arbitrary: reportOptions.map((o) => ({ kind: "report" as const, o })) },
  { weight: 1, arbitrary: listOptions.map((o) => ({ kind: "list" as const, o })) },
  { weight: 1, arbitrary: hostileString.map((o) => ({ kind: "get" as const, o })) },
);

async function checkStored(store: MetricsStore, id: string): Promise<string | undefined> {
  const metrics = await getSession(store, id);
  if (metrics === null) return undefined;
  assertWritableMetrics(metrics, metrics.sessionId);
  encodeMetrics(metrics);
  return undefined;
}

export async function fuzzStoreIngest(ctx: TortureContext, corpus: Corpus): Promise<TargetRun> {
  const tally = new AreaTally("fuzz: store ingest");
  const { mutations, generated } = split(1_000 * ctx.factor);
  const generatedSeed = caseSeed(ctx.seed, 4, 0);
  const queries = samples(query, generatedSeed, generated);
  const store = await createSqliteStore({ path: ":memory:" });
  const accepted = { count: 0 };
  try {
    async function* cases(): AsyncGenerator<FuzzCase<string | undefined>> {
      for (let i = 0; i < mutations; i++) {
        const seed = caseSeed(ctx.seed, 4, i + 1);
        const dir = corpus.scratch("store");
        const id = `s${i}`;
        const files = mutatedFolder(seed, corpus);
        mkdirSync(join(dir, id));
        if (files.metrics !== undefined) writeFileSync(join(dir, id, "METRICS.json"), files.metrics);
        if (files.journal !== undefined) writeFileSync(join(dir, id, "journal.jsonl"), files.journal);
        yield {
          seed: `mut:${seed}`,
          run: async () => {
            const result = await ingest(store, dir, { logger: QUIET, host: "fuzz" });
            accepted.count += result.sessions;
            return checkStored(store, id);
          },
          oracle: (problem) => problem,
        };
      }
      for (let i = 0; i < queries.length; i++) {
        const q = queries[i]!;
        yield {
          seed: `fc:${generatedSeed}#${i}`,
          run: async () => {
            // Arguments as untyped callers (JavaScript, JSON from a request) hand them over.
            if (q.kind === "report") await report(store, q.o as Parameters<typeof report>[1]);
            else if (q.kind === "list") await listSessions(store, q.o as Parameters<typeof listSessions>[1]);
            else return checkStored(store, q.o);
            return undefined;
          },
          oracle: (problem) => problem,
        };
      }
    }
    const outcomes = await runCases(tally, cases());
    return { tally, outcomes, accepted: accepted.count };
  } finally {
    await store.close();
  }
}
