/**
 * The `phase {phase}` spans of one session: a phase's span opens at its transition and closes at
 * its duration record (or when the next phase is entered, or at the session's end). A duration
 * with no transition before it still gives its span, placed by the duration, with no children.
 */
import { type Context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { hrTime } from "./attributes.ts";
import type { MetricRecorder } from "./metrics.ts";
import { ATTR, PHASE_SPAN } from "./names.ts";

export interface Open {
  span: Span;
  ctx: Context;
}

export class PhaseSpans {
  /** Open phase spans by phase name. */
  readonly #open = new Map<string, Open>();
  #current: Open | undefined;

  constructor(
    private readonly tracer: Tracer,
    private readonly metrics: MetricRecorder,
    /** Ends a span (and counts it). */
    private readonly close: (span: Span, at: number) => void,
  ) {}

  /** The phase entered last and not ended yet. */
  get current(): Open | undefined {
    return this.#current;
  }

  /** The open span of `phase`, else the current phase's. */
  target(phase: string | undefined): Open | undefined {
    return (phase === undefined ? undefined : this.#open.get(phase)) ?? this.#current;
  }

  enter(phase: string, ts: number, root: Open): void {
    if (this.#current !== undefined && this.#current === this.#open.get(phase)) return;
    // Entering a phase leaves the current one.
    for (const [name, open] of this.#open)
      if (open === this.#current) {
        this.close(open.span, ts);
        this.#open.delete(name);
      }
    const previous = this.#open.get(phase);
    if (previous !== undefined) this.close(previous.span, ts);
    const span = this.#start(phase, ts, root);
    this.#current = { span, ctx: trace.setSpan(root.ctx, span) };
    this.#open.set(phase, this.#current);
  }

  end(phase: string, ts: number, durationMs: number, success: boolean, root: Open): void {
    const open = this.#open.get(phase) ?? { span: this.#start(phase, ts - durationMs, root), ctx: root.ctx };
    open.span.setAttribute(ATTR.phaseSuccess, success);
    if (!success) open.span.setStatus({ code: SpanStatusCode.ERROR, message: `phase ${phase} failed` });
    this.close(open.span, ts);
    this.#open.delete(phase);
    if (this.#current === open) this.#current = undefined;
    this.metrics.phaseDuration(phase, durationMs, success);
  }

  closeAll(at: number): void {
    for (const open of this.#open.values()) this.close(open.span, at);
    this.#open.clear();
    this.#current = undefined;
  }

  #start(phase: string, at: number, root: Open): Span {
    const span = this.tracer.startSpan(
      `${PHASE_SPAN} ${phase}`,
      { kind: SpanKind.INTERNAL, startTime: hrTime(at) },
      root.ctx,
    );
    span.setAttribute(ATTR.phase, phase);
    return span;
  }
}
