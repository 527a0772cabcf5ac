/** InvocationMetricsCollector: ordered appends, events, loading with skips, validation, file modes. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type InvocationLogger,
  InvocationMetricsCollector,
} from "../../src/aggregate/invocation-collector.ts";
import type { InvocationMetric } from "../../src/core/invocation.ts";
import { StorageError, ValidationError } from "../../src/errors.ts";
import { at, cleanup, metric, tempDir } from "./helpers.ts";

class MemoryLogger implements InvocationLogger {
  warnings: string[] = [];
  errors: unknown[][] = [];
  warn(message: string): void {
    this.warnings.push(message);
  }
  error(...args: unknown[]): void {
    this.errors.push(args);
  }
}

const nth = (i: number): InvocationMetric =>
  metric({ invocationId: `inv-${i}`, timestamp: at(i), durationMs: i });
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

let dir: string;
let logger: MemoryLogger;
beforeEach(async () => {
  dir = await tempDir();
  logger = new MemoryLogger();
});
afterEach(() => cleanup(dir));

describe("record", () => {
  test("1,000 concurrent records give 1,000 complete lines in call order", async () => {
    const collector = new InvocationMetricsCollector(join(dir, "metrics"), logger);
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => collector.record(nth(i))));
    const written = lines(await readFile(collector.filePath, "utf8"));
    expect(written).toHaveLength(1_000);
    expect(written.map((l) => JSON.parse(l).invocationId)).toEqual(
      Array.from({ length: 1_000 }, (_, i) => `inv-${i}`),
    );
    expect(collector.getCount()).toBe(1_000);
    expect(collector.getAll().map((m) => m.durationMs)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });

  test("keeps call order across many write batches from interleaved async callers", async () => {
    const collector = new InvocationMetricsCollector(dir, logger);
    const called: string[] = [];
    let next = 0;
    // 20 callers, each recording 50 metrics with random pauses, so writes overlap new records.
    const caller = async () => {
      for (let k = 0; k < 50; k++) {
        await Bun.sleep(Math.random() * 2);
        const m = nth(next++);
        called.push(m.invocationId);
        await collector.record(m);
      }
    };
    await Promise.all(Array.from({ length: 20 }, caller));
    const written = lines(await readFile(collector.filePath, "utf8")).map((l) => JSON.parse(l).invocationId);
    expect(written).toHaveLength(1_000);
    expect(written).toEqual(called);
    expect(collector.getAll().map((m) => m.invocationId)).toEqual(called);
  });

  test("writes one JSON line per metric, immediately", async () => {
    const collector = new InvocationMetricsCollector(dir, logger);
    await collector.record(nth(1));
    expect(await readFile(join(dir, "invocations.jsonl"), "utf8")).toBe(`${JSON.stringify(nth(1))}\n`);
  });

  test("emits metric-recorded after the line is on disk, once per record, in order", async () => {
    const collector = new InvocationMetricsCollector(dir, logger);
    const seen: string[] = [];
    collector.on("metric-recorded", (m) => {
      expect(readFileSync(collector.filePath, "utf8")).toContain(`"invocationId":"${m.invocationId}"`);
      seen.push(m.invocationId);
    });
    await Promise.all([collector.record(nth(1)), collector.record(nth(2))]);
    await collector.record(nth(3));
    expect(seen).toEqual(["inv-1", "inv-2", "inv-3"]);
  });

  test("isolates a listener that throws: the record succeeds and other listeners still run", async () => {
    const collector = new InvocationMetricsCollector(dir, logger);
    const seen: string[] = [];
    collector.on("metric-recorded", () => {
      throw new Error("listener bug");
    });
    collector.on("metric-recorded", (m) => seen.push(m.invocationId));
    await collector.record(nth(1));
    expect(seen).toEqual(["inv-1"]);
    expect(collector.getCount()).toBe(1);
    expect(logger.errors).toHaveLength(1);
    expect(String(logger.errors[0]![0])).toContain("metric-recorded listener threw");
  });

  test("rejects an invalid metric with a ValidationError naming the field, writing nothing", async () => {
    const collector = new InvocationMetricsCollector(join(dir, "m"), logger);
    let events = 0;
    collector.on("metric-recorded", () => events++);
    const bad = { ...nth(1), cost: -1 };
    const error = await collector.record(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain("cost must be a finite number ≥ 0 (got -1)");
    await collector.flush();
    expect(await stat(join(dir, "m")).catch((e) => e.code)).toBe("ENOENT");
    expect(collector.getCount()).toBe(0);
    expect(events).toBe(0);
  });

  test("an invalid record among valid ones leaves the others written, in order", async () => {
    const collector = new InvocationMetricsCollector(dir, logger);
    const results = await Promise.allSettled([
      collector.record(nth(1)),
      collector.record({ ...nth(2), attempt: 0 }),
      collector.record(nth(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(lines(await readFile(collector.filePath, "utf8")).map((l) => JSON.parse(l).invocationId)).toEqual([
      "inv-1",
      "inv-3",
    ]);
  });

  test("keeps its own copy: changing the metric after record, or getAll's result, changes nothing", async () => {
    const collector = new InvocationMetricsCollector(dir, logger);
    const m = nth(1);
    await collector.record(m);
    m.agent = "changed";
    const all = collector.getAll();
    all[0]!.agent = "changed too";
    expect(collector.getAll()[0]!.agent).toBe("agent");
  });

  test("creates the directory 0755 and the file 0644 (under the umask)", async () => {
    const nested = join(dir, "a", "b");
    const collector = new InvocationMetricsCollector(nested, logger);
    await collector.record(nth(1));
    const umask = process.umask();
    expect((await stat(nested)).mode & 0o777).toBe(0o755 & ~umask);
    expect((await stat(collector.filePath)).mode & 0o777).toBe(0o644 & ~umask);
  });

  test("appends to an existing file, with fsync on request", async () => {
    await writeFile(join(dir, "invocations.jsonl"), `${JSON.stringify(nth(0))}\n`);
    const collector = new InvocationMetricsCollector(dir, logger, { fsync: true });
    await collector.record(nth(1));
    expect(lines(await readFile(collector.filePath, "utf8"))).toHaveLength(2);
  });

  test("rejects with a StorageError when the directory cannot be created, keeping nothing", async () => {
    const blocker = join(dir, "not-a-dir");
    await writeFile(blocker, "");
    const collector = new InvocationMetricsCollector(blocker, logger);
    const error = await collector.record(nth(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain("could not append 1 metric to");
    expect(collector.getCount()).toBe(0);
  });
});

describe("loadFromDisk", () => {
  const GOOD = [nth(0), nth(1), nth(2), nth(3)].map((m) => JSON.stringify(m));
  const FILE = [
    GOOD[0],
    "{not json",
    GOOD[1],
    "",
    JSON.stringify({ ...nth(99), durationMs: -5 }),
    GOOD[2],
    "   ",
    GOOD[3],
    '{"invocationId":"torn","agent"', // a torn last line
  ].join("\n");

  test("loads every valid line and warns about each malformed one, with its line number", async () => {
    await writeFile(join(dir, "invocations.jsonl"), FILE);
    const collector = new InvocationMetricsCollector(dir, logger);
    expect(await collector.loadFromDisk()).toBe(4);
    expect(collector.getAll().map((m) => m.invocationId)).toEqual(["inv-0", "inv-1", "inv-2", "inv-3"]);
    expect(collector.getCount()).toBe(4);
    expect(logger.warnings).toHaveLength(3);
    expect(logger.warnings[0]).toContain("line 2 of");
    expect(logger.warnings[0]).toContain("is not valid JSON");
    expect(logger.warnings[1]).toContain("line 5 of");
    expect(logger.warnings[1]).toContain("durationMs must be a whole number");
    expect(logger.warnings[2]).toContain("line 9 of");
  });

  test("skips the first skipCount valid records; malformed lines do not count", async () => {
    await writeFile(join(dir, "invocations.jsonl"), FILE);
    const collector = new InvocationMetricsCollector(dir, logger);
    expect(await collector.loadFromDisk(2)).toBe(2);
    expect(collector.getAll().map((m) => m.invocationId)).toEqual(["inv-2", "inv-3"]);
    expect(await new InvocationMetricsCollector(dir, logger).loadFromDisk(4)).toBe(0);
    expect(await new InvocationMetricsCollector(dir, logger).loadFromDisk(10)).toBe(0);
  });

  test("resumes from a checkpoint: getCount() then loadFromDisk(count) after a restart", async () => {
    const first = new InvocationMetricsCollector(dir, logger);
    for (let i = 0; i < 3; i++) await first.record(nth(i));
    const checkpoint = first.getCount();
    for (let i = 3; i < 5; i++) await first.record(nth(i));

    const restarted = new InvocationMetricsCollector(dir, logger);
    expect(await restarted.loadFromDisk(checkpoint)).toBe(2);
    expect(restarted.getAll()).toEqual([nth(3), nth(4)]);
  });

  test("round-trips what record wrote", async () => {
    const first = new InvocationMetricsCollector(dir, logger);
    await Promise.all(
      [nth(1), nth(2), metric({ invocationId: "x", phase: "p", tier: "t", cachedTokens: 3 })].map((m) =>
        first.record(m),
      ),
    );
    const second = new InvocationMetricsCollector(dir, logger);
    await second.loadFromDisk();
    expect(second.getAll()).toEqual(first.getAll());
    expect(second.computeAggregate()).toEqual(first.computeAggregate());
    expect(logger.warnings).toEqual([]);
  });

  test("loads nothing from a missing file", async () => {
    expect(await new InvocationMetricsCollector(join(dir, "none"), logger).loadFromDisk()).toBe(0);
  });

  test("refuses a negative or fractional skipCount", async () => {
    const collector = new InvocationMetricsCollector(dir, logger);
    await expect(collector.loadFromDisk(-1)).rejects.toThrow(RangeError);
    await expect(collector.loadFromDisk(1.5)).rejects.toThrow(RangeError);
  });
});

describe("computeAggregate", () => {
  test("aggregates the metrics in memory, with options", async () => {
    const collector = new InvocationMetricsCollector(dir, logger);
    await collector.record(
      metric({ invocationId: "a", agent: "x", durationMs: 1_500, cost: 0.5, tokens: 10 }),
    );
    await collector.record(
      metric({ invocationId: "a", agent: "x", attempt: 2, timestamp: at(1_000), durationMs: 1_000 }),
    );
    const result = collector.computeAggregate({ bucketWidthMs: 500 });
    expect(result).toMatchObject({
      totalInvocations: 2,
      totalRetries: 1,
      totalCost: 0.5,
      totalTokens: 10,
      peakParallelInvocations: 2,
    });
    expect(result.parallelismOverTime.map((b) => b.concurrent)).toEqual([1, 1, 2, 1]);
  });
});
