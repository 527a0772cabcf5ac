/**
 * Turn and step handles returned by `collector.startTurn()`. They measure time with the
 * monotonic `performance.now()` and report to the collector through a narrow `TurnSink`, so the
 * timing logic stays out of the collector. A handle whose turn was refused (bad or duplicate id)
 * is inert: its methods do nothing.
 */
import type { StepRecord } from "../core/turns.ts";
import { addUsage } from "../core/turns.ts";
import type { StepRecorder, StreamStats, TurnRecorder, Usage } from "../core/types.ts";

/** What the collector provides to its turn handles. */
export interface TurnSink {
  /** The collector's clock (epoch ms). */
  now(): number;
  /** Validates a usage report; returns the normalised usage, or undefined when it was dropped. */
  usage(method: string, usage: unknown): Usage | undefined;
  /** A name-like value (model, error class); false when it was dropped. */
  name(method: string, value: unknown, what: string): boolean;
  stepEnd(record: StepRecord, phase: string, startedAt: number, cost: number | undefined): void;
  turnEnd(turnId: string, durationMs: number): void;
}

/** Milliseconds with microsecond precision: enough for TTFT, short in JSON. */
function ms(from: number, to: number): number {
  return Math.round((to - from) * 1000) / 1000;
}

export class StepHandle implements StepRecorder {
  readonly stepId: string;
  readonly #start = performance.now();
  /** Wall-clock start (the collector's clock), for analytics and pricing dates. */
  readonly #startedAt: number;
  #firstToken: number | undefined;
  #generationEnd: number | undefined;
  #usage: Usage | undefined;
  #model: string | undefined;
  #errorClass: string | undefined;
  #stream: StreamStats | undefined;
  /** Usage the stream reported: counts when the step ends without a report of its own. */
  #streamUsage: Usage | undefined;
  #ended = false;

  constructor(
    private readonly sink: TurnSink | undefined,
    private readonly turnId: string,
    private readonly phase: string,
    private readonly index: number,
    /** Told when the step ends (its turn closes the steps still open when it ends). */
    private readonly onEnd?: (step: StepHandle) => void,
  ) {
    this.stepId = `${turnId}#${index}`;
    this.#startedAt = sink?.now() ?? Date.now();
  }

  firstToken(): void {
    if (this.#firstToken === undefined && !this.#ended) this.#firstToken = performance.now();
  }

  generationEnd(): void {
    if (this.#generationEnd === undefined && !this.#ended) this.#generationEnd = performance.now();
  }

  reportUsage(usage: Usage): void {
    if (this.#ended || this.sink === undefined) return;
    const valid = this.sink.usage("step.reportUsage", usage);
    if (valid !== undefined) this.#usage = addUsage(this.#usage, valid);
  }

  setModel(model: string): void {
    if (!this.#ended && this.sink?.name("step.setModel", model, "model")) this.#model = model;
  }

  fail(errorClass: string): void {
    if (!this.#ended && this.sink?.name("step.fail", errorClass, "errorClass")) this.#errorClass = errorClass;
  }

  recordStream(stats: StreamStats, usage?: Usage): void {
    if (this.#ended) return;
    this.#stream = { ...stats };
    if (usage !== undefined && usage !== null) this.#streamUsage = usage;
  }

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  end(usage?: Usage | null, options?: { cost?: number }): void {
    if (this.#ended) return;
    if (usage !== undefined && usage !== null) this.reportUsage(usage);
    else if (this.#usage === undefined && this.#streamUsage !== undefined)
      this.reportUsage(this.#streamUsage);
    this.#ended = true;
    this.onEnd?.(this);
    if (this.sink === undefined) return;
    const end = this.#generationEnd ?? performance.now();
    const record: StepRecord = {
      turnId: this.turnId,
      stepIndex: this.index,
      genTotalMs: ms(this.#start, end),
    };
    if (this.#usage !== undefined) record.usage = this.#usage;
    if (this.#firstToken !== undefined) {
      record.ttftMs = ms(this.#start, this.#firstToken);
      record.decodeMs = ms(this.#firstToken, end);
    }
    if (this.#model !== undefined) record.model = this.#model;
    if (this.#errorClass !== undefined) record.errorClass = this.#errorClass;
    if (this.#stream !== undefined) record.stream = this.#stream;
    this.sink.stepEnd(record, this.phase, this.#startedAt, options?.cost);
  }
}

export class TurnHandle implements TurnRecorder {
  readonly #start = performance.now();
  #steps = 0;
  #ended = false;
  /** Steps started and not ended: `end()` closes them with what they have. */
  readonly #open = new Set<StepHandle>();

  /** `sink` is undefined for an inert turn (its start was refused). */
  constructor(
    private readonly sink: TurnSink | undefined,
    readonly turnId: string,
    readonly phase: string,
  ) {}

  startStep(): StepHandle {
    const live = this.#ended ? undefined : this.sink;
    const step = new StepHandle(live, this.turnId, this.phase, this.#steps++, (s) => this.#open.delete(s));
    if (live !== undefined) this.#open.add(step);
    return step;
  }

  /** Ends the turn; steps still open are ended first, with what they have (their usage is kept). */
  end(): void {
    if (this.#ended) return;
    for (const step of [...this.#open]) step.end();
    this.#ended = true;
    this.sink?.turnEnd(this.turnId, ms(this.#start, performance.now()));
  }
}
