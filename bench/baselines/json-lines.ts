/**
 * Benchmark baseline, not a competitor: the simplest journal an application could write —
 * `JSON.stringify` per event, the lines of one event-loop turn in one `write(2)`, one `fsync` when
 * asked. No checksum, no bound on the queue, no retry, no truncation after a failed write.
 */
import { closeSync, fsync, openSync, writeSync } from "node:fs";

export class JsonLinesJournal {
  readonly #fd: number;
  #lines: string[] = [];
  #scheduled = false;

  constructor(path: string) {
    this.#fd = openSync(path, "a");
  }

  append(event: object): void {
    this.#lines.push(JSON.stringify(event));
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#write());
  }

  /** Writes what is queued and fsyncs. */
  async sync(): Promise<void> {
    this.#write();
    await new Promise<void>((resolve, reject) => fsync(this.#fd, (e) => (e ? reject(e) : resolve())));
  }

  close(): void {
    this.#write();
    closeSync(this.#fd);
  }

  #write(): void {
    this.#scheduled = false;
    if (this.#lines.length === 0) return;
    const data = Buffer.from(`${this.#lines.join("\n")}\n`);
    this.#lines = [];
    for (let written = 0; written < data.length; ) written += writeSync(this.#fd, data, written);
  }
}
