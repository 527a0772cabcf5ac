/**
 * One async queue for one file: writes never interleave, a write requested while another is in
 * progress waits for it and then writes the data current at *its* start, and every caller waiting
 * at that moment shares that one write (steno's coalescing writer). After all returned promises
 * settle, the file holds the newest data.
 */
export class CoalescingWriter {
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  /**
   * @param produce called synchronously when a write starts; its result is what gets written.
   * @param write   persists the produced data.
   */
  constructor(
    private readonly produce: () => string,
    private readonly write: (data: string) => Promise<void>,
  ) {}

  /** Resolves once data at least as new as the state at call time is on disk. */
  request(): Promise<void> {
    // Everyone who asks while a write is queued shares it: its data is produced when it starts,
    // which is after their call.
    if (this.#queued !== undefined) return this.#queued;
    const running = this.#running;
    if (running === undefined) return this.#start();
    // A write is in progress and may predate the caller's latest records: queue the next one.
    const queued = running.then(() => {
      this.#queued = undefined;
      return this.#start();
    });
    this.#queued = queued;
    return queued;
  }

  /** True while a write is running or queued. */
  get busy(): boolean {
    return this.#running !== undefined || this.#queued !== undefined;
  }

  #start(): Promise<void> {
    let written: Promise<void>;
    try {
      written = this.write(this.produce());
    } catch (error) {
      written = Promise.reject(error);
    }
    // `#running` settles (never rejects) when the write does; the caller gets the outcome.
    const running: Promise<void> = written.then(
      () => this.#settle(running),
      () => this.#settle(running),
    );
    this.#running = running;
    return written;
  }

  #settle(running: Promise<void>): void {
    if (this.#running === running) this.#running = undefined;
  }
}
