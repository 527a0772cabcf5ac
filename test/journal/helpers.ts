/**
 * Shared plumbing for the journal tests: temp dirs that are always removed, fixture paths, a
 * logger that remembers what it was told, an independent line-by-line check of a journal file,
 * child processes read line by line, and a small seeded random source.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricEvent } from "../../src/core/events.ts";
import { decodeEventLine } from "../../src/journal/line-codec.ts";
import type { Logger } from "../../src/logger.ts";

export const IN_CI = process.env.CI === "true";
export const JOURNAL = "journal.jsonl";
export const CORRUPT_FILE = /^journal\.corrupt-/;

/** Absolute path of a script in test/journal/fixtures/. */
export function fixture(name: string): string {
  return join(import.meta.dir, "fixtures", name);
}

/**
 * Bundles a fixture (and the src modules it imports) into one file in `outdir`: a child started
 * from the bundle skips resolving and transpiling ~100 modules, which matters when a test starts
 * hundreds of them on a small machine.
 */
export async function bundleFixture(name: string, outdir: string): Promise<string> {
  const result = await Bun.build({ entrypoints: [fixture(name)], target: "bun", outdir });
  if (!result.success) throw new AggregateError(result.logs, `could not bundle ${name}`);
  return result.outputs[0]!.path;
}

/**
 * Temp directories made by one test file; `removeAll()` in its afterAll. `fast` ones live on
 * /dev/shm when it exists, for tests that open and close many sessions and do not care whether
 * fsync reaches a disk.
 */
export class TempDirs {
  readonly #dirs: string[] = [];

  make(prefix: string, options: { fast?: boolean } = {}): string {
    const base = options.fast && existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
    const dir = mkdtempSync(join(base, `sm-journal-${prefix}-`));
    this.#dirs.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** A logger that keeps every message, for assertions. */
export class MemoryLogger implements Logger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  warn(message: string): void {
    this.warnings.push(message);
  }
  error(message: string): void {
    this.errors.push(message);
  }
}

export interface LineCheck {
  /** Every newline-terminated line, decoded (all of them must be valid). */
  events: MetricEvent[];
  /** Byte offset just after each line's newline. */
  ends: number[];
  /** The bytes after the last newline (a torn last line), possibly empty. */
  tail: Uint8Array;
  /** Lines that did not decode: `{ line (1-based), reason }`. */
  bad: { line: number; reason: string }[];
}

/**
 * Checks a journal line by line without the library's scanner: every newline-terminated line
 * must decode on its own (checksum and shape); whatever follows the last newline is the tail.
 */
export function checkLines(bytes: Uint8Array): LineCheck {
  const out: LineCheck = { events: [], ends: [], tail: new Uint8Array(0), bad: [] };
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0) break;
    const result = decodeEventLine(bytes.subarray(start, end));
    if (result.ok) out.events.push(result.event);
    else out.bad.push({ line: out.ends.length + 1, reason: result.reason });
    out.ends.push(end + 1);
    start = end + 1;
  }
  out.tail = bytes.subarray(start);
  return out;
}

/** The seqs of `events` are exactly 1..n in order (gap-free, no duplicate). */
/** seq runs 1, 2, 3, …; a `lost` marker (seq s, count n) stands for seqs s … s + n − 1. */
export function seqsAreGapFree(events: readonly MetricEvent[]): boolean {
  let next = 1;
  for (const event of events) {
    if (event.seq !== next) return false;
    next = event.type === "lost" ? event.seq + event.count : event.seq + 1;
  }
  return true;
}

export function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return new Uint8Array(0);
    throw error;
  }
}

/** `journal.corrupt-*` files in a session folder, sorted by name. */
export function corruptFiles(sessionDir: string): string[] {
  try {
    return readdirSync(sessionDir)
      .filter((name) => CORRUPT_FILE.test(name))
      .sort();
  } catch {
    return [];
  }
}

/** mulberry32: a small seeded PRNG, so a failing random run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Reads a child's stdout line by line. Only newline-terminated lines count: what a killed child
 * was still writing (no newline yet) is left in `unterminated`.
 */
export class LineReader {
  readonly #reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next complete line (without its newline), or `null` at the end of the stream. */
  async next(): Promise<string | null> {
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      if (this.#done) return null;
      const { value, done } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** After `next()` returned null: the bytes after the last newline, if any. */
  get unterminated(): string {
    return this.#done ? this.#buffer : "";
  }
}

export { inBatches, killStragglers, track } from "../support/children.ts";

/** Waits until `condition()` holds, checking every few ms; throws `message` after `limitMs`. */
export async function eventually(condition: () => boolean, message: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${message}`);
    await Bun.sleep(2);
  }
}
