/**
 * A fake collector side: records every TurnRecorder/StepRecorder call with a `performance.now()`
 * timestamp. Only the collector is faked in these tests; HTTP and the SDKs are real.
 */
import type { StepRecorder, StreamStats, TurnRecorder, Usage } from "../../src/core/types.ts";

export interface Call {
  method: string;
  args: unknown[];
  at: number;
}

export class FakeStep implements StepRecorder {
  readonly stepId: string;
  readonly startedAt = performance.now();
  readonly calls: Call[] = [];
  constructor(stepId: string) {
    this.stepId = stepId;
  }
  #record(method: string, args: unknown[]) {
    this.calls.push({ method, args, at: performance.now() });
  }
  firstToken() {
    this.#record("firstToken", []);
  }
  generationEnd() {
    this.#record("generationEnd", []);
  }
  reportUsage(usage: Usage) {
    this.#record("reportUsage", [usage]);
  }
  setModel(model: string) {
    this.#record("setModel", [model]);
  }
  fail(errorClass: string) {
    this.#record("fail", [errorClass]);
  }
  recordStream(stats: StreamStats) {
    this.#record("recordStream", [stats]);
  }
  end(usage?: Usage | null, options?: { cost?: number }) {
    this.#record("end", options === undefined ? [usage] : [usage, options]);
  }

  /** Methods in call order. */
  get methods(): string[] {
    return this.calls.map((c) => c.method);
  }
  call(method: string): Call | undefined {
    return this.calls.find((c) => c.method === method);
  }
  /** Time from step start to the first `firstToken()` call, in ms. */
  get ttftMs(): number | undefined {
    const c = this.call("firstToken");
    return c === undefined ? undefined : c.at - this.startedAt;
  }
  get models(): string[] {
    return this.calls.filter((c) => c.method === "setModel").map((c) => c.args[0] as string);
  }
  get failures(): string[] {
    return this.calls.filter((c) => c.method === "fail").map((c) => c.args[0] as string);
  }
  /** Usage passed to `end()` plus every `reportUsage()`, in order. */
  get usages(): Usage[] {
    return this.calls
      .filter((c) => (c.method === "end" || c.method === "reportUsage") && c.args[0] != null)
      .map((c) => c.args[0] as Usage);
  }
  get stream(): StreamStats | undefined {
    return this.call("recordStream")?.args[0] as StreamStats | undefined;
  }
  get ended(): boolean {
    return this.calls.some((c) => c.method === "end");
  }
}

export class FakeTurn implements TurnRecorder {
  readonly turnId: string;
  readonly phase: string | undefined;
  readonly steps: FakeStep[] = [];
  endCalls = 0;
  constructor(turnId: string, phase: string | undefined) {
    this.turnId = turnId;
    this.phase = phase;
  }
  startStep(): FakeStep {
    const step = new FakeStep(`${this.turnId}#${this.steps.length}`);
    this.steps.push(step);
    return step;
  }
  end() {
    this.endCalls++;
  }
}

export class FakeTarget {
  readonly turns: FakeTurn[] = [];
  startTurn(options?: { turnId?: string; phase?: string }): FakeTurn {
    const turn = new FakeTurn(options?.turnId ?? `t${this.turns.length}`, options?.phase);
    this.turns.push(turn);
    return turn;
  }
  /** The only step of the only turn (fails the test otherwise). */
  get onlyStep(): FakeStep {
    if (this.turns.length !== 1 || this.turns[0]!.steps.length !== 1)
      throw new Error(`expected 1 turn with 1 step, got ${this.turns.map((t) => t.steps.length).join(",")}`);
    return this.turns[0]!.steps[0]!;
  }
}

/** Waits until `check()` is true (for ends recorded on a side chain after the caller's await). */
export async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(1);
  }
}
