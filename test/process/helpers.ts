/**
 * Shared plumbing for the real-process tests: temp dirs that are always removed, fixture paths,
 * line-oriented reading of a child's stdout, and a look at what an atomic write left behind.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
export const SRC_INDEX = join(REPO_ROOT, "src", "index.ts");
export const IN_CI = process.env.CI === "true";

/** Absolute path of a script in test/process/fixtures/. */
export function fixture(name: string): string {
  return join(import.meta.dir, "fixtures", name);
}

/** Temp directories made by one test file; `removeAll()` in its afterAll. */
export class TempDirs {
  readonly #dirs: string[] = [];

  make(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `sm-process-${prefix}-`));
    this.#dirs.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Temp files an atomic write of METRICS.json may leave: `.METRICS.json.<hex>.tmp`. */
export const TEMP_FILE = /^\.METRICS\.json\.[0-9a-f]+\.tmp$/;

export function tempFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => TEMP_FILE.test(name));
}

/** Reads a child's stdout line by line. */
export class LineReader {
  readonly #reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next line (without its newline), or `null` at the end of the stream. */
  async next(): Promise<string | null> {
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      if (this.#done) {
        if (this.#buffer === "") return null;
        const rest = this.#buffer;
        this.#buffer = "";
        return rest;
      }
      const { value, done } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Skips lines until one equals `expected`; throws with what was seen if the stream ends first. */
  async waitFor(expected: string): Promise<void> {
    const seen: string[] = [];
    for (;;) {
      const line = await this.next();
      if (line === null) throw new Error(`child ended before printing ${expected}; it printed ${seen}`);
      if (line === expected) return;
      seen.push(line);
    }
  }

  /** Reads what is left, so a child never blocks on a full pipe. */
  async drain(): Promise<void> {
    while ((await this.next()) !== null) {}
  }
}

export { inBatches, killStragglers, track } from "../support/children.ts";
