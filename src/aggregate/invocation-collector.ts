/**
 * `InvocationMetricsCollector`: the multi-agent proposal's drop-in collector. Each metric is
 * validated, appended to `<metricsDir>/invocations.jsonl` at once (one JSON object per line), kept in
 * memory, and announced with a `metric-recorded` event.
 *
 * Writes go through one queue: records waiting while a write is in flight are appended together by
 * the next write (group commit), in call order, so lines never interleave and a burst of records
 * costs a few writes rather than one per record.
 */
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { type InvocationMetric, parseInvocationMetric } from "../core/invocation.ts";
import { INVOCATIONS_FILE } from "../core/session-layout.ts";
import { errnoCode, StorageError } from "../errors.ts";
import { closeQuietly, fsyncAsync, io, readTextFile, writeAll } from "../fs/io.ts";
import { type AggregateOptions, computeAggregate, type MetricsAggregate } from "./aggregate.ts";

/** Where the collector reports skipped lines and failing `metric-recorded` listeners. */
export interface InvocationLogger {
  info?(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export interface InvocationCollectorOptions {
  /**
   * fsync the file after every append before `record()` resolves: survives a power cut, at the
   * price of a disk flush per write (group commit keeps that to one per burst). Default false:
   * the OS writes the data out on its own, which already survives a crash of this process.
   */
  fsync?: boolean;
}

/** Events of {@link InvocationMetricsCollector}, for typed `on`/`once`. */
export interface InvocationCollectorEvents {
  "metric-recorded": [metric: InvocationMetric];
}

interface PendingRecord {
  metric: InvocationMetric;
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects invocation metrics into `<metricsDir>/invocations.jsonl` (created 0644, directory 0755,
 * both subject to the umask).
 *
 * Events: `metric-recorded` (metric) after each record is on disk. A listener that throws is
 * reported to the logger; the record still succeeds and the other listeners still run.
 */
export class InvocationMetricsCollector extends EventEmitter<InvocationCollectorEvents> {
  /** Path of the JSONL file. */
  readonly filePath: string;
  private readonly metricsDir: string;
  private readonly logger: InvocationLogger;
  private readonly fsync: boolean;
  private readonly metrics: InvocationMetric[] = [];
  private pending: PendingRecord[] = [];
  private flushQueued = false;
  private tail: Promise<void> = Promise.resolve();
  private dirReady = false;

  /** @param logger defaults to `console`: skipped lines are data loss and should be seen. */
  constructor(
    metricsDir: string,
    logger: InvocationLogger = console,
    options: InvocationCollectorOptions = {},
  ) {
    super();
    this.metricsDir = metricsDir;
    this.filePath = join(metricsDir, INVOCATIONS_FILE);
    this.logger = logger;
    this.fsync = options.fsync === true;
  }

  /**
   * Validates `metric` and appends it as one line. Resolves once the line is written (and fsync'd
   * with `fsync: true`) and the metric is in memory; concurrent calls are written in call order.
   * Rejects with `ValidationError` (nothing written) or `StorageError` (nothing kept in memory).
   */
  record(metric: InvocationMetric): Promise<void> {
    let parsed: InvocationMetric;
    try {
      parsed = parseInvocationMetric(metric);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ metric: parsed, line: `${JSON.stringify(parsed)}\n`, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        void this.enqueue(() => this.writePending());
      }
    });
  }

  /** Copies of every metric held in memory, in record order. */
  getAll(): InvocationMetric[] {
    return this.metrics.map((m) => ({ ...m }));
  }

  /** How many metrics are held in memory — the offset to pass to `loadFromDisk` after a restart. */
  getCount(): number {
    return this.metrics.length;
  }

  /**
   * Reads the JSONL file and adds its metrics to memory, after skipping the first `skipCount`
   * valid ones (those already accounted for, e.g. a checkpoint's `getCount()`). Malformed lines —
   * bad JSON, an invalid metric, a torn last line — are skipped with a warning and not counted.
   * A missing file loads nothing. Runs after the writes already queued.
   * @returns how many metrics were loaded.
   */
  loadFromDisk(skipCount = 0): Promise<number> {
    if (!Number.isSafeInteger(skipCount) || skipCount < 0)
      return Promise.reject(
        new RangeError(`[session-metrics] skipCount must be a whole number ≥ 0, got ${skipCount}`),
      );
    return this.enqueue(async () => {
      let text: string;
      try {
        text = await readTextFile(this.filePath);
      } catch (error) {
        if (errnoCode(error) === "ENOENT") return 0;
        throw new StorageError(`[invocations] cannot read ${this.filePath}`, {
          cause: error,
          path: this.filePath,
        });
      }
      let valid = 0;
      let loaded = 0;
      const lines = text.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.trim() === "") continue;
        const metric = this.parseLine(line, i + 1);
        if (metric === undefined || ++valid <= skipCount) continue;
        this.metrics.push(metric);
        loaded++;
      }
      return loaded;
    });
  }

  /** The aggregate of the metrics in memory (see `computeAggregate`). */
  computeAggregate(options?: AggregateOptions): MetricsAggregate {
    return computeAggregate(this.metrics, options);
  }

  /** Resolves once every record and load queued before the call has settled. */
  flush(): Promise<void> {
    return this.enqueue(async () => {});
  }

  private parseLine(line: string, lineNumber: number): InvocationMetric | undefined {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.logger.warn(
        `[session-metrics] [invocations] line ${lineNumber} of ${this.filePath} is not valid JSON; skipped it`,
      );
      return undefined;
    }
    try {
      return parseInvocationMetric(value);
    } catch (error) {
      this.logger.warn(
        `[session-metrics] [invocations] line ${lineNumber} of ${this.filePath}: ${(error as Error).message.replace("[session-metrics] [invocation] ", "")}; skipped it`,
      );
      return undefined;
    }
  }

  /** Runs `task` after everything queued before it; a failure does not stop later tasks. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private async writePending(): Promise<void> {
    // Records arriving from here on wait for the next write, which they queue themselves.
    this.flushQueued = false;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.append(batch.map((p) => p.line).join(""));
    } catch (error) {
      const failure = new StorageError(
        `[invocations] could not append ${batch.length} metric${batch.length === 1 ? "" : "s"} to ${this.filePath}`,
        { cause: error, path: this.filePath },
      );
      for (const p of batch) p.reject(failure);
      return;
    }
    for (const p of batch) {
      this.metrics.push(p.metric);
      this.announce(p.metric);
      p.resolve();
    }
  }

  /** `emit`, but each listener isolated: one that throws neither fails the record nor silences the rest. */
  private announce(metric: InvocationMetric): void {
    // rawListeners keeps `once` wrappers, which remove themselves when called.
    for (const listener of this.rawListeners("metric-recorded")) {
      try {
        (listener as (m: InvocationMetric) => void).call(this, metric);
      } catch (error) {
        this.logger.error("[session-metrics] [invocations] a metric-recorded listener threw", error);
      }
    }
  }

  /**
   * O_APPEND write of whole lines. If the write fails part-way, the file is cut back to its old
   * length so a torn line never sits in front of the next append.
   */
  private async append(text: string): Promise<void> {
    if (!this.dirReady) {
      // A failure leaves it false: a later record tries again (the disk may come back).
      io.mkdirSync(this.metricsDir, { recursive: true, mode: 0o755 });
      this.dirReady = true;
    }
    const fd = io.openSync(this.filePath, "a", 0o644);
    try {
      const before = io.fstatSync(fd).size;
      const data = Buffer.from(text, "utf8");
      try {
        await writeAll(fd, data);
        if (this.fsync) await fsyncAsync(fd);
      } catch (error) {
        try {
          io.ftruncateSync(fd, before);
        } catch {
          // the write's error is the one to report
        }
        throw error;
      }
    } catch (error) {
      closeQuietly(fd);
      throw error;
    }
    io.closeSync(fd);
  }
}
