/** Shared helpers for the core tests: temp dirs, a hand-driven clock, sample documents. */

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionMetrics } from "../../src/core/types.ts";
import { Collector, type CollectorOptions } from "../../src/session/collector.ts";
import { MemoryLogger } from "../journal/helpers.ts";

/** A parsed JSON document that a test mutates freely. */
// biome-ignore lint/suspicious/noExplicitAny: tests poke at raw JSON of any shape
export type Loose = any;

export const FIXTURES = join(import.meta.dir, "..", "fixtures");

/** A fresh temp dir per test; remove it with {@link cleanup}. */
export async function tempDir(prefix = "sm-core-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function cleanup(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}

/** Everything under `dir`, recursively, as relative paths (empty when nothing was created). */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

export async function readText(path: string): Promise<string> {
  return readFile(path, "utf8");
}

/** A clock that only moves when told to. */
export class ManualClock {
  ms: number;
  constructor(iso = "2026-11-22T01:42:24.140Z") {
    this.ms = Date.parse(iso);
  }
  readonly now = (): Date => new Date(this.ms);
  advance(ms = 1): void {
    this.ms += ms;
  }
  get iso(): string {
    return new Date(this.ms).toISOString();
  }
}

export const T0 = "2026-11-22T01:42:24.140Z";

/** A collector with a fixed clock in a throwaway sessions dir (nothing is written until flush). */
export function makeCollector(options: Partial<CollectorOptions> & { sessionsDir: string }): {
  collector: Collector;
  clock: ManualClock;
  /** What the collector reported (drops, fresh runs over earlier ones), kept off the console. */
  logger: MemoryLogger;
} {
  const clock = new ManualClock();
  const logger = new MemoryLogger();
  const collector = new Collector({ sessionId: "s1", now: clock.now, logger, ...options });
  return { collector, clock, logger };
}

/** The empty document a fresh collector with {@link ManualClock} reports. */
export function emptyMetrics(sessionId = "s1", at = T0): SessionMetrics {
  return {
    sessionId,
    startedAt: at,
    updatedAt: at,
    tools: [],
    editStrategies: [],
    llms: [],
    phases: [],
  };
}

export const ZERO_PHASE = {
  durationMs: 0,
  transitionCount: 0,
  healTriggerCount: 0,
  healSuccessCount: 0,
  healFailCount: 0,
  healDurationMs: 0,
  healLoopCount: 0,
  bisectTriggerCount: 0,
  bisectSuccessCount: 0,
  bisectFailCount: 0,
  success: false,
} as const;

/** The document of DESIGN.md "On disk", in the camelCase shape. */
export const DESIGN_EXAMPLE: SessionMetrics = {
  sessionId: "5f3a9c21",
  startedAt: "2026-11-22T01:42:24.140125935Z",
  updatedAt: "2026-11-22T01:42:24.140191088Z",
  tools: [
    {
      name: "Read",
      callCount: 3,
      successCount: 3,
      failCount: 0,
      totalDurationMs: 35,
      avgDurationMs: 11.666666666666666,
    },
  ],
  editStrategies: [{ strategy: "exact_match", count: 2 }],
  llms: [
    {
      phase: "execute",
      promptTokens: 17100,
      completionTokens: 3200,
      totalTokens: 20300,
      cost: 0.30000000000000004,
      interactionCount: 4,
      promptHash: "9c7898597b84f182",
      truncatedInput: true,
    },
  ],
  phases: [
    {
      phase: "execute",
      durationMs: 184532,
      transitionCount: 1,
      healTriggerCount: 1,
      healSuccessCount: 1,
      healFailCount: 0,
      healDurationMs: 8123,
      healLoopCount: 2,
      bisectTriggerCount: 0,
      bisectSuccessCount: 0,
      bisectFailCount: 0,
      success: true,
    },
  ],
};
