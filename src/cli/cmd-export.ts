/**
 * `export <id> --prom` (Prometheus text on stdout) and `export <id> --otlp <url>` (spans and
 * metrics to an OTLP/HTTP receiver, protobuf). The exporters live in `src/export/`; the
 * OpenTelemetry one and its SDK are loaded only here, so no other command pays for them.
 */

import { MetricsError } from "../errors.ts";
import { toPrometheusText } from "../export/prometheus.ts";
import { readSession } from "../http/session-read.ts";
import { sessionIdArg, UsageError } from "./args.ts";
import type { Command, Context } from "./context.ts";

async function exportOtlp(ctx: Context, sessionId: string, url: string, workflowName: string | undefined) {
  let endpoint: URL;
  try {
    endpoint = new URL(url);
  } catch {
    throw new UsageError(`[cli] --otlp: ${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:4318)`);
  }
  if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:")
    throw new UsageError(`[cli] --otlp: use an http:// or https:// URL, got ${JSON.stringify(url)}`);
  await readSession(ctx.dir, sessionId); // a missing session fails before anything is sent
  // Loaded here only: no other command pays for OpenTelemetry.
  const otel = await import("../export/otel/index.ts");
  const sdkTrace = await import("@opentelemetry/sdk-trace");
  const sdkMetrics = await import("@opentelemetry/sdk-metrics");
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
  const { OTLPMetricExporter } = await import("@opentelemetry/exporter-metrics-otlp-proto");
  const base = endpoint.href.replace(/\/$/, "");
  const traces = new OTLPTraceExporter({ url: `${base}/v1/traces` });
  const progress = ctx.progress("export", "spans");
  let spans = 0;
  // Counts what leaves, for the progress line.
  const counting: typeof traces = Object.assign(Object.create(traces), {
    export(batch: Parameters<typeof traces.export>[0], done: Parameters<typeof traces.export>[1]) {
      spans += batch.length;
      progress.update(spans);
      traces.export(batch, done);
    },
  });
  const tracerProvider = new sdkTrace.TracerProvider({
    spanProcessors: [new sdkTrace.BatchSpanProcessor({ exporter: counting, maxExportBatchSize: 512 })],
  });
  const reader = new sdkMetrics.PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
    exportIntervalMillis: 60_000,
  });
  const meterProvider = new sdkMetrics.MeterProvider({ readers: [reader] });
  try {
    const result = await otel.exportSession(ctx.dir, sessionId, {
      tracerProvider,
      meterProvider,
      workflowName,
      logger: ctx.logger,
    });
    await tracerProvider.forceFlush();
    await meterProvider.forceFlush();
    if (result.failed > 0)
      throw new MetricsError(
        `[export] ${result.failed} span or metric export(s) to ${base} failed (see above)`,
      );
    return `exported session ${sessionId} to ${base}: ${result.spans} spans from ${result.events} events (${result.source})`;
  } finally {
    progress.end();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  }
}

export const exportCommand: Command = {
  name: "export",
  summary: "a session as Prometheus text (--prom) or to an OTLP receiver (--otlp <url>)",
  usage: "export <sessionId> (--prom | --otlp <url>) [--workflow <name>]",
  details:
    "--otlp takes the receiver's base URL (http://127.0.0.1:4318); /v1/traces and /v1/metrics are added.",
  options: {
    prom: { type: "boolean", description: "print the session in the Prometheus text format" },
    otlp: {
      type: "string",
      value: "<url>",
      description: "send spans and metrics to this OTLP/HTTP receiver",
    },
    workflow: { type: "string", value: "<name>", description: "workflow name on the exported spans" },
  },
  async run(ctx, args) {
    const id = sessionIdArg(args, "export");
    const prom = args.values.prom === true;
    const otlp = args.values.otlp as string | undefined;
    if (prom === (otlp !== undefined))
      throw new UsageError(
        "[cli] export needs exactly one of --prom or --otlp <url>; see `session-metrics export --help`",
      );
    if (otlp !== undefined) return exportOtlp(ctx, id, otlp, args.values.workflow as string | undefined);
    const read = await readSession(ctx.dir, id);
    return toPrometheusText(read.metrics).replace(/\n$/, "");
  },
};
