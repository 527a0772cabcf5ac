/**
 * Benchmark baseline: the same tool-call workload through `@opentelemetry/sdk-metrics`, as an
 * application instrumented with OpenTelemetry would record it: a Counter and a Histogram with a
 * `tool` attribute, on a MeterProvider with a pull reader attached (as the Prometheus exporter is).
 */
import type { Counter, Histogram } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";

/** A reader that only collects on demand, like the Prometheus exporter. */
class PullReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export class OtelToolRecorder {
  readonly reader = new PullReader();
  readonly provider = new MeterProvider({ readers: [this.reader] });
  readonly #calls: Counter;
  readonly #duration: Histogram;

  constructor() {
    const meter = this.provider.getMeter("session-metrics-bench");
    this.#calls = meter.createCounter("tool_calls", { description: "Tool calls" });
    this.#duration = meter.createHistogram("tool_duration", {
      unit: "ms",
      description: "Tool call duration",
    });
  }

  recordToolCall(name: string, _success: boolean, durationMs: number): void {
    const attributes = { tool: name };
    this.#calls.add(1, attributes);
    this.#duration.record(durationMs, attributes);
  }

  /** Collects once (proves the data is there) and shuts the provider down. */
  async close(): Promise<number> {
    const { resourceMetrics } = await this.reader.collect();
    let points = 0;
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics) points += metric.dataPoints.length;
    await this.provider.shutdown();
    return points;
  }
}
