/**
 * What the sink and the replay share: the tracer and instruments, one {@link SessionTrace} per
 * session, and the failure accounting. Nothing here throws to its caller: a span or metric call
 * that throws is counted in `failed` and reported through the logger (the first few, then every
 * 10,000th), and the session goes on with its next event.
 */
import {
  type Attributes,
  type Context,
  type MeterProvider,
  metrics,
  ROOT_CONTEXT,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import type { MetricEvent } from "../../core/events.ts";
import { consoleLogger, type Logger } from "../../logger.ts";
import { providerOf } from "./attributes.ts";
import { createInstruments, MetricRecorder } from "./metrics.ts";
import { ATTR, SCOPE_NAME } from "./names.ts";
import { SessionTrace, type TraceDeps } from "./span-builder.ts";

export interface ExportOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** `gen_ai.workflow.name` of the root span (`invoke_workflow {workflowName}`). */
  workflowName?: string;
  /** `gen_ai.agent.name` of turns none of whose records names an agent (`details.agent`). */
  agentName?: string;
  /**
   * `gen_ai.provider.name` of every `chat` span and GenAI metric (`openai`, `anthropic`, …). Default:
   * a record's own `details.attributes["gen_ai.provider.name"]`, else what its model name implies.
   */
  provider?: string;
  /**
   * Added to every metric data point, e.g. `{ "service.name": … }` or, for per-session series,
   * `{ "gen_ai.conversation.id": sessionId }` (left out by default: one series per session does
   * not scale in a metrics backend; traces carry the session id).
   */
  metricAttributes?: Attributes;
  /** Parent of each session's root span. Default: none (each session is its own trace). */
  context?: Context;
  /** Where export failures are reported. Default: console. */
  logger?: Logger;
}

type Flushable = { forceFlush?: () => Promise<unknown>; getDelegate?: () => unknown };

export class EventExporter {
  events = 0;
  spans = 0;
  failed = 0;
  readonly #o: ExportOptions;
  readonly #deps: Omit<TraceDeps, "sessionId">;
  readonly #logger: Logger;
  readonly #sessions = new Map<string, SessionTrace>();
  readonly #providers = new Map<string | undefined, string | undefined>();

  constructor(options: ExportOptions) {
    this.#o = options;
    this.#logger = options.logger ?? consoleLogger;
    const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE_NAME);
    const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME);
    this.#deps = {
      tracer,
      metrics: new MetricRecorder(createInstruments(meter), options.metricAttributes ?? {}),
      provider: (model, attributes) => this.#provider(model, attributes),
      ended: () => {
        this.spans++;
      },
      workflowName: options.workflowName,
      agentName: options.agentName,
      parent: options.context ?? ROOT_CONTEXT,
    };
  }

  get tracer(): Tracer {
    return this.#deps.tracer;
  }

  get parent(): Context {
    return this.#deps.parent;
  }

  get metrics(): MetricRecorder {
    return this.#deps.metrics;
  }

  /** The span tree of `sessionId` (created on first use). */
  session(sessionId: string): SessionTrace {
    let session = this.#sessions.get(sessionId);
    if (session === undefined) {
      session = new SessionTrace({ ...this.#deps, sessionId });
      this.#sessions.set(sessionId, session);
    }
    return session;
  }

  apply(sessionId: string, event: MetricEvent): void {
    this.events++;
    try {
      this.session(sessionId).apply(event);
    } catch (error) {
      this.fail(`building spans from event ${event.seq} (${event.type}) of session ${sessionId}`, error);
    }
  }

  /** Hands the counter increments summed so far to the SDK (after each batch). */
  flushMetrics(): void {
    try {
      this.#deps.metrics.flush();
    } catch (error) {
      this.fail("recording metrics", error);
    }
  }

  /** Ends the open spans of every session. */
  endAll(): void {
    for (const [id, session] of this.#sessions) {
      try {
        session.end();
      } catch (error) {
        this.fail(`ending the spans of session ${id}`, error);
      }
    }
    this.#sessions.clear();
    this.flushMetrics();
  }

  /** Flushes both providers when they can be (the SDK's can); failures are counted, not thrown. */
  async forceFlush(): Promise<void> {
    this.flushMetrics();
    await Promise.all([
      this.#flushOne(this.#o.tracerProvider ?? trace.getTracerProvider(), "tracer"),
      this.#flushOne(this.#o.meterProvider ?? metrics.getMeterProvider(), "meter"),
    ]);
  }

  /** Flushes the tracer provider only (backpressure during a replay). */
  flushSpans(): Promise<void> {
    return this.#flushOne(this.#o.tracerProvider ?? trace.getTracerProvider(), "tracer");
  }

  fail(what: string, error: unknown): void {
    this.failed++;
    if (this.failed <= 10 || this.failed % 10_000 === 0)
      this.#logger.warn(
        `[session-metrics] [otel] ${what} failed: ${(error as Error)?.message ?? String(error)}; recording goes on (${this.failed} failure${this.failed === 1 ? "" : "s"} so far, see stats().failed)`,
      );
  }

  async #flushOne(provider: unknown, kind: string): Promise<void> {
    let p = provider as Flushable;
    // The global API providers are proxies: flush what they delegate to.
    if (typeof p.forceFlush !== "function" && typeof p.getDelegate === "function")
      p = p.getDelegate() as Flushable;
    if (typeof p?.forceFlush !== "function") return;
    try {
      await p.forceFlush();
    } catch (error) {
      this.fail(`exporting (the ${kind} provider's forceFlush)`, error);
    }
  }

  #provider(model: string | undefined, attributes: Attributes | undefined): string | undefined {
    const own = attributes?.[ATTR.providerName];
    if (typeof own === "string" && own !== "") return own;
    if (this.#o.provider !== undefined) return this.#o.provider;
    if (this.#providers.has(model)) return this.#providers.get(model);
    const inferred = providerOf(model);
    if (this.#providers.size < 10_000) this.#providers.set(model, inferred);
    return inferred;
  }
}
