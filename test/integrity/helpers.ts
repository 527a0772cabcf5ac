/**
 * Shared plumbing for the integrity tests (issue 14, "Nothing lost, nothing hidden"): temp dirs
 * that are always removed, a logger that remembers what it was told, hand-made journals whose
 * lines carry a valid checksum (so only the recorder's bounds can refuse them), and child
 * processes that a failing test never leaves running.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../../src/index.ts";
import { encodeEventLine } from "../../src/journal/line-codec.ts";

export const JOURNAL = "journal.jsonl";
export const METRICS = "METRICS.json";
export const CORRUPT_FILE = /^journal\.corrupt-/;
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** 2026-11-22T01:42:24.140Z */
export const T0 = Date.parse("2026-11-22T01:42:24.140Z");

/** Absolute path of a script in test/integrity/fixtures/. */
export function fixture(name: string): string {
  return join(import.meta.dir, "fixtures", name);
}

// Shared with the journal tests rather than written again.
export { MemoryLogger, TempDirs } from "../journal/helpers.ts";

/** Any event-like object: the journal codec frames it with a valid crc whatever it holds. */
// biome-ignore lint/suspicious/noExplicitAny: hand-made journal lines hold deliberately bad values
export type RawEvent = Record<string, any>;

/** One journal line (crc and newline included) for any event-like object. */
export function line(event: RawEvent): string {
  return encodeEventLine({ v: 1, ...event } as MetricEvent);
}

/** A `session_start` event (seq 1 unless told). */
export function sessionStart(sessionId: string, ts = T0, seq = 1): RawEvent {
  return { seq, ts, type: "session_start", sessionId, startedAt: ts };
}

export function toolCall(seq: number, name: string, durationMs = 1, ts = T0, success = true): RawEvent {
  return { seq, ts, type: "tool_call", name, success, durationMs };
}

export function llm(seq: number, phase: string, cost: number, ts = T0): RawEvent {
  const usage = { promptTokens: 10, completionTokens: 5, totalTokens: 15 };
  return { seq, ts, type: "llm", phase, usage, cost };
}

/** Writes `<sessionsDir>/<sessionId>/journal.jsonl` from `events` (each a checksum-valid line). */
export function writeJournal(sessionsDir: string, sessionId: string, events: readonly RawEvent[]): string {
  const dir = join(sessionsDir, sessionId);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, JOURNAL);
  writeFileSync(path, events.map(line).join(""));
  return path;
}

/** Byte offset of each line of `bytes` (1-based line n starts at `offsets[n - 1]`). */
export function lineOffsets(bytes: Uint8Array): number[] {
  const offsets = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a && i + 1 < bytes.length) offsets.push(i + 1);
  return offsets;
}

type Child = {
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | number | null;
  kill(signal?: number | NodeJS.Signals): void;
};
const children = new Set<Child>();

/** Remembers a spawned child so that `killStragglers()` can end it if a test fails midway. */
export function track<T extends Child>(child: T): T {
  children.add(child);
  return child;
}

/** SIGKILLs every tracked child still running (call in afterAll). */
export function killStragglers(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  children.clear();
}

/**
 * Reads a child's stdout until a line equal to `expected` arrives; returns every line seen. Throws
 * with what the child printed if it ends first or `limitMs` passes.
 */
export async function waitForLine(
  stdout: ReadableStream<Uint8Array>,
  expected: string,
  limitMs = 20_000,
): Promise<string[]> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  const seen: string[] = [];
  let buffer = "";
  const timeout = Bun.sleep(limitMs).then(() => "timeout" as const);
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === "timeout")
        throw new Error(`no line ${JSON.stringify(expected)} within ${limitMs} ms: ${seen}`);
      if (next.done) throw new Error(`child ended before printing ${JSON.stringify(expected)}: ${seen}`);
      buffer += decoder.decode(next.value, { stream: true });
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        seen.push(text);
        if (text === expected) return seen;
        newline = buffer.indexOf("\n");
      }
    }
  } finally {
    reader.releaseLock();
  }
}
