/**
 * Benchmark baseline: the same tool-call workload through `prom-client`: a Counter and a Histogram
 * labelled by `tool`, in their own Registry (not the global one).
 */
import { Counter, Histogram, Registry } from "prom-client";

export class PromToolRecorder {
  readonly registry = new Registry();
  readonly #calls: Counter<"tool">;
  readonly #duration: Histogram<"tool">;

  constructor() {
    this.#calls = new Counter({
      name: "tool_calls_total",
      help: "Tool calls",
      labelNames: ["tool"],
      registers: [this.registry],
    });
    this.#duration = new Histogram({
      name: "tool_duration_ms",
      help: "Tool call duration in milliseconds",
      labelNames: ["tool"],
      registers: [this.registry],
    });
  }

  recordToolCall(name: string, _success: boolean, durationMs: number): void {
    const labels = { tool: name };
    this.#calls.inc(labels);
    this.#duration.observe(labels, durationMs);
  }

  /** Renders once (proves the data is there) and clears the registry. */
  async close(): Promise<number> {
    const text = await this.registry.metrics();
    this.registry.clear();
    return text.length;
  }
}
