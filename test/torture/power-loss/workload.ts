/**
 * One power-loss trial's workload: a collector on a `CrashIO`-modelled folder records a seeded mix
 * of tool calls (some with kilobytes of attributes, so lines span sectors), LLM calls, phase
 * events and turns, with `sync()`, `flush()` and pauses for group commit in between, and stops.
 * It keeps every event recorded (through a sink, which sees the first event too) and what the
 * library acknowledged, with the log position of each acknowledgement:
 *
 * - a `sync()`, `flush()` or `stop()` that resolved acknowledges every event recorded before the
 *   call (README, Reliability: "every record whose `await sync()` (or `flush()`) resolved is
 *   replayed"); a `flush()`/`stop()` also makes its METRICS.json durable;
 * - under `group`, every group is fsync'd as it is written (writer.ts), with no sync() asked: once
 *   the queue is empty (`journalStats().pendingBytes === 0`, every recorded event written) and two
 *   more journal fsyncs have completed (`journalStats().fsyncs`; the first may have started before
 *   the write), those events are durable too.
 *
 * With `fsyncFailRate` (the failed-fsync mode) that share of the journal's fsyncs fail and drop
 * their pages (crash-io.ts). A rejected `sync()`, `flush()` or `stop()` acknowledges nothing: the
 * workload calls it again until it resolves (the next fsync may succeed), and only then
 * acknowledges. Sometimes it asks `flushSync()` (an fsyncSync, which may throw) instead of a
 * `sync()`: returning acknowledges the events recorded before it, throwing nothing.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { MetricEvent } from "../../../src/core/events.ts";
import { JOURNAL_FILE } from "../../../src/core/session-layout.ts";
import { StorageError } from "../../../src/errors.ts";
import { useFileIO } from "../../../src/fs/io.ts";
import type { Durability } from "../../../src/journal/writer.ts";
import { Collector } from "../../../src/session/collector.ts";
import type { EventSink } from "../../../src/session/sink.ts";
import { MemoryLogger } from "../../journal/helpers.ts";
import { CrashIO } from "../crash-io.ts";
import { rng } from "../harness.ts";

/** Every event with `seq ≤ seq` is durable from log position `at` on. */
export interface Ack {
  seq: number;
  at: number;
}

export interface Workload {
  sessionId: string;
  durability: Durability;
  /** Every event recorded, earlier runs included: `events[seq - 1]`. */
  events: MetricEvent[];
  acks: Ack[];
  /** Log positions at which a flush() or stop() resolved (METRICS.json durable). */
  flushAcks: number[];
  crash: CrashIO;
  /** METRICS.json as it was on disk before the modelled run (an earlier run's), if any. */
  initialMetrics: Buffer | null;
  /** What the collector logged (a trial with an error here is suspect, unless fsyncs failed). */
  logger: MemoryLogger;
  /** sync()/flush()/stop()/flushSync() calls that failed (and were called again). */
  rejections: number;
}

export interface WorkloadOptions {
  root: string;
  sessionId: string;
  durability: Durability;
  seed: number;
  /** Run and stop a first, unmodelled run of the session, so the modelled run resumes it. */
  earlierRun: boolean;
  /** Steps of the modelled run. */
  steps: number;
  /** Chance that a step ends with a flush() (a sync() follows with 0.12, a pause with 0.12). */
  flushRate: number;
  /** Share of the journal's fsyncs that fail, dropping their pages (the failed-fsync mode). Default 0. */
  fsyncFailRate?: number;
}

/** A call made again until it resolves; how many times it rejected. */
async function untilResolved(first: Promise<unknown>, again: () => Promise<unknown>): Promise<number> {
  let rejections = 0;
  for (let attempt: Promise<unknown> = first; ; attempt = again()) {
    try {
      await attempt;
      return rejections;
    } catch (error) {
      if (!(error instanceof StorageError) || ++rejections >= 100) throw error;
    }
  }
}

const TOOLS = ["Read", "Edit", "Bash", "Grep", "Write"] as const;
const PHASES = ["plan", "execute", "verify"] as const;
const CLOCK_BASE = Date.UTC(2026, 0, 1);

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function int(random: () => number, below: number): number {
  return Math.floor(random() * below);
}

function recordingSink(events: MetricEvent[]): EventSink {
  return {
    write(_sessionId, event) {
      if (event.seq !== events.length + 1)
        throw new Error(`sink saw seq ${event.seq} after ${events.length}`);
      events.push(event);
    },
    flush: async () => {},
    close: async () => {},
  };
}

/** Records one random step. */
function recordStep(c: Collector, random: () => number): void {
  const roll = random();
  if (roll < 0.5) {
    for (let i = 1 + int(random, 8); i > 0; i--) {
      const big = random() < 0.12;
      const details = big ? { attributes: { blob: "x".repeat(200 + int(random, 2800)) } } : undefined;
      c.recordToolCall(pick(random, TOOLS), random() < 0.8, int(random, 500), details);
    }
  } else if (roll < 0.7) {
    const usage = { promptTokens: int(random, 20_000), completionTokens: int(random, 4_000) };
    c.recordLLMInteraction(pick(random, PHASES), usage, int(random, 1000) / 1000);
  } else if (roll < 0.85) {
    const phase = pick(random, PHASES);
    const kind = int(random, 3);
    if (kind === 0) c.recordPhaseTransition(phase);
    else if (kind === 1) c.recordPhaseDuration(phase, int(random, 100_000), random() < 0.7);
    else c.recordHealTrigger(phase);
  } else {
    const turn = c.startTurn({ phase: pick(random, PHASES) });
    for (let s = 1 + int(random, 2); s > 0; s--)
      turn.startStep().end({ promptTokens: int(random, 5_000), completionTokens: int(random, 1_000) });
    turn.end();
  }
}

/** Runs the workload with the crash model installed; the model is uninstalled before it returns. */
export async function runWorkload(options: WorkloadOptions): Promise<Workload> {
  const random = rng(options.seed);
  const { root, sessionId, durability } = options;
  const events: MetricEvent[] = [];
  const logger = new MemoryLogger();
  let tick = 0;
  const base = {
    sessionsDir: root,
    sessionId,
    durability,
    logger,
    // One ms per clock read: the same seed writes the same bytes.
    now: () => new Date(CLOCK_BASE + tick++),
    sinks: [recordingSink(events)],
  };
  if (options.earlierRun) {
    const first = await Collector.open({ ...base, resume: true });
    for (let i = 0; i < 5; i++) recordStep(first, random);
    await first.stop();
  }
  const initialMetrics = readOrNull(join(root, sessionId, "METRICS.json"));
  const crash = new CrashIO(root);
  const restore = useFileIO(crash.fileIO());
  const acks: Ack[] = [];
  const flushAcks: number[] = [];
  const failing = (options.fsyncFailRate ?? 0) > 0;
  let rejections = 0;
  try {
    const c = await Collector.open({ ...base, resume: true });
    // Armed once the session is open (an open whose fsync fails throws: nothing to acknowledge).
    // The failures draw from a stream of their own.
    if (failing)
      crash.failFsyncs({
        rate: options.fsyncFailRate!,
        random: rng(options.seed ^ 0x5bd1_e995),
        match: (path) => basename(path) === JOURNAL_FILE,
      });
    const groupAcks = durability === "group" ? new GroupCommitWatch(c, events, acks, crash) : undefined;
    for (let step = 0; step < options.steps; step++) {
      recordStep(c, random);
      const roll = random();
      const seq = events.length;
      if (roll < 0.12) {
        if (failing && random() < 0.25) {
          try {
            c.flushSync();
          } catch (error) {
            if (!(error instanceof StorageError)) throw error;
            rejections++;
            rejections += await untilResolved(c.sync(), () => c.sync());
          }
        } else rejections += await untilResolved(c.sync(), () => c.sync());
        acks.push({ seq, at: crash.opCount });
      } else if (roll < 0.12 + options.flushRate) {
        // Sometimes two flushes at once (they share the queue and coalesce), sometimes records
        // made while one runs: its METRICS.json then holds events no fsync has covered yet.
        const flushing = random() < 0.3 ? Promise.all([c.flush(), c.flush()]) : c.flush();
        if (random() < 0.4) recordStep(c, random);
        rejections += await untilResolved(flushing, () => c.flush());
        acks.push({ seq, at: crash.opCount });
        flushAcks.push(crash.opCount);
      } else if (roll < 0.24 + options.flushRate) await Bun.sleep(7); // a group's timer (5 ms) fires, its fsync runs
      groupAcks?.check();
    }
    const seq = events.length;
    rejections += await untilResolved(c.stop(), () => c.stop());
    acks.push({ seq, at: crash.opCount });
    flushAcks.push(crash.opCount);
  } finally {
    crash.failFsyncs(undefined);
    restore();
  }
  return { sessionId, durability, events, acks, flushAcks, crash, initialMetrics, logger, rejections };
}

/** Under `group`: events become durable without sync() (see the module comment). */
class GroupCommitWatch {
  readonly #waiting: { seq: number; fsyncs: number }[] = [];

  constructor(
    readonly collector: Collector,
    readonly events: readonly MetricEvent[],
    readonly acks: Ack[],
    readonly crash: CrashIO,
  ) {}

  check(): void {
    const stats = this.collector.journalStats();
    if (stats === undefined || this.collector.stopped) return;
    while (this.#waiting.length > 0 && stats.fsyncs >= this.#waiting[0]!.fsyncs + 2) {
      this.acks.push({ seq: this.#waiting.shift()!.seq, at: this.crash.opCount });
    }
    const seq = this.events.length;
    if (stats.pendingBytes === 0 && seq > (this.#waiting.at(-1)?.seq ?? 0))
      this.#waiting.push({ seq, fsyncs: stats.fsyncs });
  }
}

function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}
