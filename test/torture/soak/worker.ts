/**
 * One soak worker, started (and SIGKILLed, and started again) by test/torture/areas/soak.ts.
 *
 * argv[2] is its plan as JSON (see `WorkerPlan`). Two lanes loop concurrently, each on its own
 * session: open it with `resume: true` (a killed predecessor's lock must be reclaimed), record a
 * small batch, await `sync()` (sometimes `flush()` or `stop()`), and only then acknowledge it on
 * stdout; now and then stop and move on to another session. Most sessions are its own ("home"); one
 * open in ten picks one of a neighbour's, so sessions also change hands between processes (a live
 * neighbour refuses with `SessionLockedError`, a dead one's lock is reclaimed). "stop" on stdin, or
 * stdin closing, ends the loop: each lane finishes its batch and stops its collector.
 *
 * Every stdout line is one `writeSync` (see `SoakLine`), so a SIGKILL leaves it whole or absent.
 */
import { existsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE } from "../../../src/core/session-layout.ts";
import { Collector, SessionLockedError } from "../../../src/index.ts";
import type { Logger } from "../../../src/logger.ts";
import { rng } from "../harness.ts";
import { type Batch, batchLine, SOAK_COST, soakRecord } from "./records.ts";

export interface WorkerPlan {
  sessionsDir: string;
  incarnation: number;
  seed: number;
  /** This worker's sessions, opened in turn. */
  home: string[];
  /** A neighbour's sessions, opened now and then. */
  borrow: string[];
}

const LANES = 2;
const MAX_BATCH = 8;

function say(line: string): void {
  writeSync(1, line.endsWith("\n") ? line : `${line}\n`);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ");
}

function lineLogger(sessionId: string): Logger {
  return {
    warn: (message) => say(`warn ${sessionId} ${oneLine(message)}`),
    error: (message) => say(`warn ${sessionId} error: ${oneLine(message)}`),
  };
}

class Worker {
  readonly #plan: WorkerPlan;
  readonly #random: () => number;
  #next = 0;
  #cursor: number;
  stopping = false;

  constructor(plan: WorkerPlan) {
    this.#plan = plan;
    this.#random = rng(plan.seed);
    // Each incarnation starts its round at a different home session.
    this.#cursor = Math.floor(this.#random() * plan.home.length);
  }

  #pick(): string {
    const { home, borrow } = this.#plan;
    if (borrow.length > 0 && this.#random() < 0.1) return borrow[Math.floor(this.#random() * borrow.length)]!;
    return home[this.#cursor++ % home.length]!;
  }

  async #open(): Promise<Collector | undefined> {
    const sessionId = this.#pick();
    const { sessionsDir } = this.#plan;
    const staleLock = existsSync(join(sessionsDir, sessionId, LOCK_FILE));
    try {
      const collector = await Collector.open({
        sessionsDir,
        sessionId,
        resume: true,
        logger: lineLogger(sessionId),
      });
      say(`open ${sessionId} ${staleLock ? "stale-lock" : "fresh"}`);
      return collector;
    } catch (error) {
      if (!(error instanceof SessionLockedError)) throw error;
      say(`locked ${sessionId}`);
      return undefined;
    }
  }

  /**
   * Records one batch and acknowledges it once it is on disk: after `sync()`, or `flush()` or
   * `stop()` (both sync the journal first). Resolves true when it stopped the collector.
   */
  async #batch(collector: Collector): Promise<boolean> {
    const size = 1 + Math.floor(this.#random() * MAX_BATCH);
    const batch: Batch = {
      sessionId: collector.sessionId,
      incarnation: this.#plan.incarnation,
      from: this.#next,
      to: this.#next + size - 1,
    };
    this.#next += size;
    say(batchLine("try", batch));
    for (let n = batch.from; n <= batch.to; n++) {
      const r = soakRecord(batch.incarnation, n);
      const details = { attributes: { rid: r.rid } };
      if (r.kind === "tool") collector.recordToolCall(r.name, r.success, r.durationMs, details);
      else
        collector.recordLLMInteraction(
          r.phase,
          { promptTokens: r.promptTokens, completionTokens: r.completionTokens },
          SOAK_COST,
          details,
        );
    }
    const roll = this.#random();
    if (roll < 0.1) await collector.stop();
    else if (roll < 0.3) await collector.flush();
    else await collector.sync();
    say(batchLine("ack", batch));
    return roll < 0.1;
  }

  async lane(): Promise<void> {
    let collector: Collector | undefined;
    while (!this.stopping) {
      collector ??= await this.#open();
      if (collector === undefined) {
        await Bun.sleep(1);
        continue;
      }
      if (await this.#batch(collector)) collector = undefined;
      else if (this.#random() < 0.2) {
        await collector.stop();
        collector = undefined;
      }
    }
    await collector?.stop();
  }
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? "") as WorkerPlan;
  const worker = new Worker(plan);
  const stop = () => {
    worker.stopping = true;
  };
  process.stdin.on("data", (chunk: Buffer) => {
    if (chunk.toString().includes("stop")) stop();
  });
  // A supervisor that died closes our stdin: stop rather than run on as an orphan.
  process.stdin.on("end", stop);
  await Promise.all(Array.from({ length: LANES }, () => worker.lane()));
  say("done");
  process.exit(0);
}

main().catch((error: unknown) => {
  say(`error ${oneLine(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}`);
  process.exit(1);
});
