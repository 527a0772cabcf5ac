/** Shared helpers for the aggregate tests: a metric factory with exact timestamps, temp dirs. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AnalyticsRecord } from "../../src/aggregate/aggregate.ts";

/** 2026-03-01T10:00:00.000Z: a whole second, and a multiple of 2.5 s since the epoch. */
export const T = Date.parse("2026-03-01T10:00:00.000Z");

/** ISO timestamp `offsetMs` after {@link T}. */
export const at = (offsetMs: number): string => new Date(T + offsetMs).toISOString();

/** A valid first-try success of 0 ms at T; override what the test is about. */
export function metric(overrides: Partial<AnalyticsRecord> = {}): AnalyticsRecord {
  return {
    invocationId: "inv",
    agent: "agent",
    phase: 1,
    durationMs: 0,
    tokens: 0,
    cost: 0,
    exitCode: 0,
    success: true,
    attempt: 1,
    outputParsed: true,
    timestamp: at(0),
    ...overrides,
  };
}

export async function tempDir(prefix = "sm-aggregate-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function cleanup(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}
