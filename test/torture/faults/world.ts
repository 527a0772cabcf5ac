/**
 * What every fault scenario shares: a fresh sessions directory per trial (on /dev/shm when there
 * is one), a collector probe that knows which records a resolved `sync()` acknowledged, and the
 * invariant checks of issue #12 §1, each returning the violations it found as sentences.
 *
 * The checks read the disk with Node's `fs` directly, never through the fault layer, and the
 * replay ones use the library's own reader once the faults are cleared: "replayed after
 * reopening" is exactly what that reader does.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { decodeMetrics, encodeMetrics, parseJson } from "../../../src/core/go-document.ts";
import { MetricsError } from "../../../src/errors.ts";
import { pendingRemovals } from "../../../src/fs/leftovers.ts";
import { replaySession } from "../../../src/journal/replay.ts";
import type { Durability } from "../../../src/journal/writer.ts";
import { Collector } from "../../../src/session/collector.ts";
import { MemoryLogger } from "../../journal/helpers.ts";

export const SESSION = "fault-sweep";

/** A scenario's variable part: how many records, which durability. */
export interface Shape {
  records: number;
  durability: Durability;
}

export const DEFAULT_SHAPE: Shape = { records: 4, durability: "group" };

/** A fresh directory for one trial; `remove()` deletes it. */
export function trialDir(): { dir: string; remove: () => void } {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "sm-faults-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sessionDir(sessionsDir: string): string {
  return join(sessionsDir, SESSION);
}

/** A file's bytes, `null` when it is missing. */
export function bytesOf(path: string): Uint8Array | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/** How an error reads in a violation: class, code and message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.constructor.name}${code === undefined ? "" : ` ${String(code)}`}: ${error.message}`;
}

/** A collector and the records it was given: `t0`, `t1`, …; `acked` of them confirmed by a resolved sync(). */
export class Probe {
  next = 0;
  acked = 0;
  constructor(
    readonly collector: Collector,
    readonly logger: MemoryLogger,
  ) {}

  static async open(sessionsDir: string, shape: Shape, resume = false): Promise<Probe> {
    const logger = new MemoryLogger();
    const collector = await Collector.open({
      sessionId: SESSION,
      sessionsDir,
      durability: shape.durability,
      logger,
      resume,
    });
    return new Probe(collector, logger);
  }

  record(count: number): void {
    for (let i = 0; i < count; i++) this.collector.recordToolCall(`t${this.next++}`, true, 1);
  }

  async sync(): Promise<void> {
    const upto = this.next;
    await this.collector.sync();
    this.acked = Math.max(this.acked, upto);
  }

  async flush(): Promise<void> {
    const upto = this.next;
    await this.collector.flush();
    this.acked = Math.max(this.acked, upto);
  }

  /** `t0` … `t(next−1)`: every record given, in order. */
  names(): string[] {
    return Array.from({ length: this.next }, (_, i) => `t${i}`);
  }

  /** Stops the collector, ignoring a failure (cleanup after a violation). */
  async stopQuietly(): Promise<void> {
    try {
      await this.collector.stop();
    } catch {
      // the violation, if any, was recorded by the check
    }
  }
}

/** Files a failed operation must not leave: temp files of METRICS.json and of the lock, the reclaim marker. */
export function leftovers(sessionsDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(sessionDir(sessionsDir));
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith(".tmp") || /^\.lock\.(\d+\.[0-9a-f]+|reclaim)$/.test(n));
}

/**
 * Leftovers the library does not know of. Right after a persistent fault the disk refuses the
 * unlink too; such files must be remembered (`pendingRemovals`) and go at the next operation.
 */
export function unknownLeftovers(sessionsDir: string): string[] {
  const known = new Set(pendingRemovals().map((p) => resolve(p)));
  return leftovers(sessionsDir).filter((n) => !known.has(resolve(sessionDir(sessionsDir), n)));
}

/** The previous METRICS.json byte-identical, or a new one that is complete (decodes and re-encodes to itself). */
export function checkMetricsFile(sessionsDir: string, before: Uint8Array | null): string[] {
  const path = join(sessionDir(sessionsDir), "METRICS.json");
  const now = bytesOf(path);
  if (now === null) return before === null ? [] : ["METRICS.json disappeared"];
  if (before !== null && Buffer.compare(Buffer.from(now), Buffer.from(before)) === 0) return [];
  const text = new TextDecoder().decode(now);
  try {
    const again = encodeMetrics(decodeMetrics(parseJson(text, path), path));
    return again === text ? [] : ["METRICS.json changed but does not re-encode to itself"];
  } catch (error) {
    return [`METRICS.json is neither the previous one nor complete: ${describeError(error)}`];
  }
}

/** Tool names the journal on disk replays to, right now (as a crash here would leave it). */
export function replayedNames(sessionsDir: string): string[] {
  const replayed = replaySession(sessionsDir, SESSION, undefined, { logger: new MemoryLogger() });
  return replayed === null ? [] : [...replayed.state.tools.keys()];
}

/** Every record acknowledged by a resolved sync() is in the journal on disk. */
export function checkAcknowledged(sessionsDir: string, probe: Probe): string[] {
  const names = new Set(replayedNames(sessionsDir));
  const missing = probe
    .names()
    .slice(0, probe.acked)
    .filter((n) => !names.has(n));
  return missing.length === 0 ? [] : [`acknowledged records missing from the journal: ${missing.join(", ")}`];
}

/** Runs `step`; a failure becomes a violation naming it. */
export async function must(what: string, step: () => Promise<unknown> | unknown): Promise<string[]> {
  try {
    await step();
    return [];
  } catch (error) {
    return [`${what} failed after the fault cleared: ${describeError(error)}`];
  }
}

/** An error that escaped must be a MetricsError. */
export function checkThrown(error: unknown): string[] {
  if (error === undefined || error instanceof MetricsError) return [];
  const at =
    error instanceof Error
      ? (error.stack ?? "").split("\n").slice(1, 5).join(" ← ").replace(/\s+/g, " ")
      : "";
  return [`a non-MetricsError escaped: ${describeError(error)}${at === "" ? "" : ` at ${at}`}`];
}

export { Collector };
