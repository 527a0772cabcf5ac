/**
 * Benchmark reference, not a competitor: the least a per-tool aggregate can do on this machine —
 * one `Map` lookup and three additions, no validation, no clock, no rounding. Shows how much of
 * a recordToolCall figure is the machine and how much is the library.
 */
interface Totals {
  calls: number;
  successes: number;
  totalMs: number;
}

export class BareMapFloor {
  readonly #tools = new Map<string, Totals>();

  recordToolCall(name: string, success: boolean, durationMs: number): void {
    let t = this.#tools.get(name);
    if (t === undefined) {
      t = { calls: 0, successes: 0, totalMs: 0 };
      this.#tools.set(name, t);
    }
    t.calls++;
    if (success) t.successes++;
    t.totalMs += durationMs;
  }

  get size(): number {
    return this.#tools.size;
  }
}
