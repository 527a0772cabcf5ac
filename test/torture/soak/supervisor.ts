/**
 * The soak's supervisor side: worker processes (one `Slot` each, restarted under a new
 * incarnation after every SIGKILL) and the `Ledger` of what they said. A batch counts as
 * acknowledged only when its whole `ack` line arrived; bytes a killed worker left without a
 * newline are never read as a line (LineReader), so a torn line cannot be counted.
 */
import type { Subprocess } from "bun";
import { LineReader } from "../../journal/helpers.ts";
import { track } from "../../support/children.ts";
import { type Batch, batchRids, parseLine } from "./records.ts";
import type { WorkerPlan } from "./worker.ts";

/** What the workers said about one session. */
export interface SessionLedger {
  /** rids of records whose batch was acknowledged. */
  acked: Set<string>;
  /** rids of every record a worker announced (acknowledged or in flight at a kill). */
  tried: Set<string>;
}

export class Ledger {
  readonly sessions = new Map<string, SessionLedger>();
  opens = 0;
  staleLocks = 0;
  lockedRefusals = 0;
  tornTailRecoveries = 0;
  /** Records in flight (announced, never acknowledged) when their worker was killed. */
  inFlightAtKills = 0;
  /** Protocol or worker failures: each one is an invariant violation. */
  readonly problems: string[] = [];

  session(sessionId: string): SessionLedger {
    let entry = this.sessions.get(sessionId);
    if (entry === undefined) {
      entry = { acked: new Set(), tried: new Set() };
      this.sessions.set(sessionId, entry);
    }
    return entry;
  }
}

/** A worker position: the same sessions, one process after another. */
export class Slot {
  readonly #plan: Omit<WorkerPlan, "incarnation" | "seed">;
  readonly #bundle: string;
  readonly #ledger: Ledger;
  #child: Subprocess<"pipe", "pipe", "pipe"> | undefined;
  #reading: Promise<void> = Promise.resolve();
  #incarnation = -1;
  /** Batches announced by the current incarnation and not yet acknowledged, by first record. */
  #pending = new Map<number, Batch>();
  #done = false;
  #stderr = "";

  constructor(bundle: string, plan: Omit<WorkerPlan, "incarnation" | "seed">, ledger: Ledger) {
    this.#bundle = bundle;
    this.#plan = plan;
    this.#ledger = ledger;
  }

  start(incarnation: number, seed: number): void {
    const plan: WorkerPlan = { ...this.#plan, incarnation, seed };
    this.#incarnation = incarnation;
    this.#pending = new Map();
    this.#done = false;
    this.#stderr = "";
    const child = track(
      Bun.spawn(["bun", this.#bundle, JSON.stringify(plan)], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      }),
    );
    this.#child = child;
    this.#reading = Promise.all([this.#read(child, incarnation), this.#readStderr(child)]).then(() => {});
  }

  /** SIGKILLs the current process and waits until all it wrote has been read. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const exitedBefore = child.exitCode;
    child.kill("SIGKILL");
    await child.exited;
    await this.#reading;
    if (exitedBefore !== null) this.#problem(`exited by itself (code ${exitedBefore})`);
    this.#ledger.inFlightAtKills += [...this.#pending.values()].reduce((n, b) => n + b.to - b.from + 1, 0);
    this.#child = undefined;
  }

  /** SIGKILLs the current process, if any, without looking at it (cleanup after a failure). */
  async abort(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await child.exited;
  }

  /** Asks the process to stop; it must finish its batches, stop its collectors and exit 0. */
  async stop(limitMs: number): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (child.exitCode !== null) {
      await this.#reading;
      this.#problem(`exited by itself (code ${child.exitCode}) before "stop"`);
      this.#child = undefined;
      return;
    }
    child.stdin.write("stop\n");
    await child.stdin.end();
    // A hang guard, not a timing assertion: a worker that never ends is a failure either way.
    const ended = await Promise.race([child.exited.then(() => true), Bun.sleep(limitMs).then(() => false)]);
    if (!ended) {
      child.kill("SIGKILL");
      await child.exited;
      this.#problem(`did not stop within ${limitMs} ms of "stop"`);
    }
    await this.#reading;
    if (child.exitCode !== 0 || !this.#done) this.#problem(`graceful stop ended with code ${child.exitCode}`);
    if (this.#pending.size > 0) this.#problem(`stopped with ${this.#pending.size} unacknowledged batch(es)`);
    this.#child = undefined;
  }

  async #readStderr(child: Subprocess<"pipe", "pipe", "pipe">): Promise<void> {
    const text = await new Response(child.stderr).text();
    this.#stderr = text.slice(0, 2000);
  }

  async #read(child: Subprocess<"pipe", "pipe", "pipe">, incarnation: number): Promise<void> {
    const lines = new LineReader(child.stdout);
    for (let line = await lines.next(); line !== null; line = await lines.next())
      this.#apply(line, incarnation);
  }

  #apply(text: string, incarnation: number): void {
    const line = parseLine(text);
    const ledger = this.#ledger;
    if (line === undefined)
      return this.#problem(`printed a line outside the protocol: ${JSON.stringify(text)}`);
    switch (line.kind) {
      case "try": {
        if (line.batch.incarnation !== incarnation)
          return this.#problem(`announced ${text} as another incarnation`);
        this.#pending.set(line.batch.from, line.batch);
        const tried = ledger.session(line.batch.sessionId).tried;
        for (const r of batchRids(line.batch)) tried.add(r);
        return;
      }
      case "ack": {
        const announced = this.#pending.get(line.batch.from);
        if (
          announced === undefined ||
          announced.to !== line.batch.to ||
          announced.sessionId !== line.batch.sessionId
        )
          return this.#problem(`acknowledged ${text} without announcing it`);
        this.#pending.delete(line.batch.from);
        const acked = ledger.session(line.batch.sessionId).acked;
        for (const r of batchRids(line.batch)) acked.add(r);
        return;
      }
      case "open":
        ledger.opens++;
        if (line.staleLock) ledger.staleLocks++;
        return;
      case "locked":
        ledger.lockedRefusals++;
        return;
      case "warn":
        // Recovery cutting what a killed predecessor was writing is expected; nothing else is.
        if (/torn last line/.test(line.text)) ledger.tornTailRecoveries++;
        else this.#problem(`warned about ${line.sessionId}: ${line.text}`);
        return;
      case "error":
        return this.#problem(`failed: ${line.text}`);
      case "done":
        this.#done = true;
        return;
    }
  }

  #problem(what: string): void {
    const stderr = this.#stderr === "" ? "" : `; stderr: ${this.#stderr}`;
    this.#ledger.problems.push(`worker incarnation ${this.#incarnation} ${what}${stderr}`);
  }
}
