/**
 * What the strict consumer of the packed package writes, one module per `exports` subpath. These
 * are strings, not modules of this repo: inside the repo `session-metrics/…` would resolve to
 * `dist/`, which a fresh checkout has not built, and the repo's own compiler options would apply.
 * pack.test.ts writes the snippets of the subpaths that `exports` has, and a plain namespace
 * import for a subpath without a snippet (it says which), so a new export is type-checked at once;
 * give it a snippet that calls its functions here.
 *
 * Nothing here runs: the code only has to type-check, against real SDK clients where a subpath
 * instruments one.
 */

export const USAGE: Readonly<Record<string, string>> = {
  ".": `
import {
  aggregateJournal,
  Collector,
  computeAggregate,
  connectCollector,
  createPriceTable,
  estimateCost,
  InvocationMetricsCollector,
  load,
  type MetricsAggregate,
  MetricsError,
  parseInvocationMetric,
  percentiles,
  replayMetrics,
  type SessionMetrics,
  save,
  timeStream,
  type ToolMetrics,
  type TurnMetrics,
  type Usage,
  ValidationError,
} from "session-metrics";

const usage: Usage = { promptTokens: 1200, completionTokens: 300, cacheReadTokens: 100 };
const collector = await Collector.open({
  sessionId: "5f3a9c21",
  sessionsDir: "sessions",
  durability: "group",
  resume: true,
  onDropped: (error: ValidationError) => console.warn(error.message),
});
collector.recordToolCall("Read", true, 12, { agent: "coder", attempt: 1, attributes: { file: "a.ts", bytes: 3 } });
collector.recordLLMInteraction("execute", usage, undefined, { model: "gpt-4o" });
collector.recordLLMInteractionWithPrompt("execute", usage, 0.01, "9c7898597b84f182", false);
collector.recordPhaseTransition("execute");
collector.recordPhaseDuration("execute", 1500, true);
collector.recordHealTrigger("execute");
collector.recordHealOutcome("execute", true);
collector.recordEditStrategy("exact_match");

const turn = collector.startTurn({ phase: "execute" });
const step = turn.startStep();
async function* chunks(): AsyncGenerator<string> {
  yield "hello";
}
for await (const chunk of timeStream(chunks(), step, { isContent: (c) => c.length > 0 })) chunk satisfies string;
step.end(usage);
turn.end();

const snapshot: SessionMetrics = collector.snapshot();
const first: ToolMetrics | undefined = snapshot.tools[0];
const turns: TurnMetrics[] = collector.turns();
const aggregate: MetricsAggregate = collector.computeAggregate();
const coderCalls: number | undefined = aggregate.invocationsByAgent["coder"];
const cost: number | undefined = estimateCost("gpt-4o", usage);
const p50: number | undefined = percentiles([1, 2, 3])?.p50;
const prices = createPriceTable([{ model: "my-model", input: 1, output: 2 }], { builtin: true });
const unsubscribe = collector.subscribe((event) => console.log(event.seq, event.type));
try {
  await collector.flush();
} catch (error) {
  if (error instanceof MetricsError) console.error(error.message);
}
unsubscribe();
const port = collector.workerPort();
await collector.stop();

const remote = connectCollector(port);
remote.recordToolCall("Bash", false, 40, { errorClass: "timeout" });

const invocations = new InvocationMetricsCollector("metrics");
await invocations.record(
  parseInvocationMetric({
    invocationId: "i1", agent: "coder", phase: "execute", durationMs: 10, tokens: 5, cost: 0,
    exitCode: 0, success: true, attempt: 1, outputParsed: true, timestamp: "2026-01-02T03:04:05.678Z",
  }),
);
const loaded: SessionMetrics | null = await load("sessions", "5f3a9c21");
if (loaded !== null) await save("sessions", "5f3a9c21", loaded);
console.log(first?.callCount, turns.length, coderCalls, cost, p50, prices.entries.length);
console.log((await replayMetrics("sessions", "5f3a9c21"))?.sessionId, aggregateJournal("sessions", "5f3a9c21"));
console.log(computeAggregate([]).successRate);
`,

  "./llm/openai": `
import OpenAI from "openai";
import { Collector } from "session-metrics";
import { instrumentOpenAI, type OpenAIInstrumentOptions } from "session-metrics/llm/openai";

const collector = new Collector({ sessionId: "5f3a9c21", journal: false });
const options: OpenAIInstrumentOptions = { phase: () => "execute", includeUsage: true };
const client: OpenAI = instrumentOpenAI(new OpenAI({ apiKey: "test" }), collector, options);
const completion = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
console.log(completion.choices[0]?.message.content);
`,

  "./llm/anthropic": `
import Anthropic from "@anthropic-ai/sdk";
import { Collector } from "session-metrics";
import { instrumentAnthropic } from "session-metrics/llm/anthropic";

const collector = new Collector({ sessionId: "5f3a9c21", journal: false });
const turn = collector.startTurn({ phase: "plan" });
const client: Anthropic = instrumentAnthropic(new Anthropic({ apiKey: "test" }), collector, {
  turn: () => turn,
  onRecordError: (error) => console.warn(error),
});
const message = await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
console.log(message.usage.input_tokens);
turn.end();
`,

  "./llm/ai-sdk": `
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, wrapLanguageModel } from "ai";
import { Collector } from "session-metrics";
import { sessionMetricsMiddleware } from "session-metrics/llm/ai-sdk";

const collector = new Collector({ sessionId: "5f3a9c21", journal: false });
const model = wrapLanguageModel({
  model: createOpenAI({ apiKey: "test" }).chat("gpt-4o"),
  middleware: sessionMetricsMiddleware(collector, { phase: "execute" }),
});
const { text } = await generateText({ model, prompt: "hi" });
console.log(text);
`,

  "./store": `
import { Collector } from "session-metrics";
import {
  createStoreSink,
  getSession,
  ingest,
  listSessions,
  type MetricsStore,
  type ReportRow,
  report,
} from "session-metrics/store";

export async function useStore(store: MetricsStore): Promise<void> {
  const sink = createStoreSink(store, { batchSize: 100, closeStore: false });
  const collector = new Collector({ sessionId: "5f3a9c21", journal: false, sinks: [sink] });
  collector.recordToolCall("Read", true, 12);
  await collector.stop();
  const imported = await ingest(store, "sessions", { onProgress: (p) => console.log(p.sessions) });
  const rows: ReportRow[] = await report(store, { groupBy: ["tool", "day"], where: { tool: ["Read", null] } });
  const page = await listSessions(store, { limit: 10, filter: { since: "2026-01-01T00:00:00Z" } });
  const doc = await getSession(store, "5f3a9c21");
  console.log(store.dialect, imported.inserted, rows[0]?.calls, page.nextCursor, doc?.tools.length, sink.stats().written);
}
`,

  "./store/sqlite": `
import { Database } from "bun:sqlite";
import { createSqliteStore, SQLITE_MIGRATIONS, type SqliteStore } from "session-metrics/store/sqlite";

await using store: SqliteStore = await createSqliteStore({ path: ":memory:", busyTimeoutMs: 100 });
const shared = await createSqliteStore({ client: new Database(":memory:") });
await shared.close();
console.log(store.dialect, SQLITE_MIGRATIONS);
`,

  "./store/postgres": `
import { createPostgresStore, POSTGRES_MIGRATIONS, type PostgresStore } from "session-metrics/store/postgres";

export async function openPostgres(url: string): Promise<PostgresStore> {
  const store = await createPostgresStore({ url, schema: "metrics", max: 2, connectTimeoutSeconds: 5 });
  console.log(store.dialect, POSTGRES_MIGRATIONS);
  return store;
}
`,

  "./package.json": `
import manifest from "session-metrics/package.json" with { type: "json" };

console.log(manifest.name, manifest.version);
`,
};

/** Packages the snippets import besides session-metrics and its dependencies. */
export const SNIPPET_PACKAGES = ["@types/bun", "openai", "@anthropic-ai/sdk", "ai", "@ai-sdk/openai"];
