/**
 * The package root: the names it exports (a contract: the README names them), and that importing
 * it loads no optional dependency (drizzle, OpenTelemetry, provider SDKs).
 */
import { expect, test } from "bun:test";
import * as root from "../../src/index.ts";

test("the root exports exactly these runtime names", () => {
  expect(Object.keys(root).sort()).toEqual(
    [
      "BUILTIN_PRICES",
      "Collector",
      "INVOCATIONS_FILE",
      "InvalidSessionIdError",
      "InvocationMetricsCollector",
      "JOURNAL_FILE",
      "METRICS_FILE",
      "MetricsError",
      "ParseError",
      "PriceTable",
      "Recorder",
      "RemoteCollector",
      "SchemaError",
      "SessionLockedError",
      "StepHandle",
      "StorageError",
      "TurnHandle",
      "ValidationError",
      "aggregateEvents",
      "aggregateJournal",
      "aggregateJournalSync",
      "builtinTable",
      "classifyError",
      "computeAggregate",
      "connectCollector",
      "createAggregator",
      "createPriceTable",
      "encodeMetrics",
      "estimateCost",
      "eventToRecord",
      "fromAISDKUsage",
      "fromAnthropicUsage",
      "fromOpenAIChatUsage",
      "fromOpenAIResponsesUsage",
      "hashPrompt",
      "invocationMetricSchema",
      "journalPath",
      "load",
      "loadPriceTable",
      "loadTurns",
      "metricsPath",
      "parseInvocationMetric",
      "percentiles",
      "reduce",
      "replayMetrics",
      "replaySession",
      "save",
      "sessionRuns",
      "streamSession",
      "timeStream",
      "verifyJournal",
    ].sort(),
  );
});

test("importing the root in a fresh process loads no optional dependency", () => {
  const script = `
    await import(${JSON.stringify(`${import.meta.dir}/../../src/index.ts`)});
    const loaded = Object.keys(require.cache).filter((p) => p.includes("node_modules"));
    console.log(JSON.stringify(loaded));
  `;
  const result = Bun.spawnSync([process.execPath, "-e", script], { stderr: "pipe" });
  expect(result.stderr.toString()).toBe("");
  const loaded = JSON.parse(result.stdout.toString()) as string[];
  for (const optional of ["drizzle-orm", "@opentelemetry", "openai", "@anthropic-ai", "/ai/", "pg"])
    expect(loaded.filter((p) => p.includes(`node_modules/${optional}`))).toEqual([]);
});
