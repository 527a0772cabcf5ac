/**
 * The power-loss model (crash-io.ts) and its quick tier (areas/power-loss.ts): the model keeps
 * exactly what fsyncs made durable and loses, tears or garbles the rest as asked; the area loses
 * power at over 1,000 points of real collector runs and finds no broken invariant.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryLogger, TempDirs } from "../journal/helpers.ts";
import { CRASH_POINTS, QUICK_TOTAL_WORKLOADS, runWithCoverage, STEPS } from "./areas/power-loss.ts";
import { CrashIO } from "./crash-io.ts";
import { describeViolations, rng, tortureContext } from "./harness.ts";
import { SECTOR } from "./power-loss/materialise.ts";
import { runTrial, type TrialOptions } from "./power-loss/trial.ts";

// A hang guard for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(300_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const NOTHING_KEPT = { keepWrite: 0, keepEntry: 0 } as const;
const ALL_KEPT = { keepWrite: 1, keepEntry: 1, tear: 0, garble: 0 } as const;

/** A modelled folder (with a durable file `old` holding "old") and its FileIO. */
function modelled() {
  const root = temps.make("crash-io", { fast: true });
  writeFileSync(join(root, "old"), "old");
  const crash = new CrashIO(root);
  const io = crash.fileIO();
  const write = (name: string, text: string | Buffer, options: { sync?: boolean; at?: number } = {}) => {
    const fd = io.openSync(join(root, name), "a");
    io.writeSync(fd, Buffer.from(text), 0, Buffer.byteLength(text), options.at ?? null);
    if (options.sync) io.fsyncSync(fd);
    io.closeSync(fd);
  };
  const syncDir = () => {
    const fd = io.openSync(root, "r");
    io.fsyncSync(fd);
    io.closeSync(fd);
  };
  const reboot = (options: Parameters<CrashIO["powerLoss"]>[2], seed = 1) => {
    const out = temps.make("reboot", { fast: true });
    crash.powerLoss(rng(seed), out, options);
    return out;
  };
  return { root, crash, io, write, syncDir, reboot };
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), "utf8");

describe("crash model", () => {
  test("a failed fsync drops the file's unsynced writes for good; a later fsync makes durable only what follows", () => {
    const m = modelled();
    const fd = m.io.openSync(join(m.root, "f"), "a");
    const append = (text: string) => m.io.writeSync(fd, Buffer.from(text), 0, text.length, null);
    append("one");
    m.io.fsyncSync(fd);
    append("two");
    let failures = 0;
    m.crash.failFsyncs({ rate: 1, random: () => 0, match: (path) => path.endsWith("/f") });
    try {
      m.io.fsyncSync(fd);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe("EIO");
      failures++;
    }
    m.crash.failFsyncs(undefined);
    expect(failures).toBe(1);
    expect(m.crash.failedFsyncs).toBe(1);
    append("three");
    m.io.fsyncSync(fd);
    m.syncDir();
    expect(read(m.reboot(ALL_KEPT), "f")).toBe("one\0\0\0three"); // "two" is gone: a hole
    expect(m.crash.divergences()).toEqual([]); // the process still reads it
    // Written again after the failure (as the journal does), it is durable with the next fsync.
    m.io.ftruncateSync(fd, 3);
    append("twothree");
    m.io.fsyncSync(fd);
    m.io.closeSync(fd);
    expect(read(m.reboot(NOTHING_KEPT), "f")).toBe("onetwothree");
    expect(m.crash.divergences()).toEqual([]);
  });

  test("an unsynced write is lost and a synced one kept; files of before count as durable", () => {
    const m = modelled();
    m.write("a", "synced", { sync: true });
    m.write("a", "+unsynced");
    m.syncDir();
    const out = m.reboot(NOTHING_KEPT);
    expect(read(out, "a")).toBe("synced");
    expect(read(out, "old")).toBe("old");
    expect(read(m.reboot(ALL_KEPT), "a")).toBe("synced+unsynced");
  });

  test("a file whose creation no directory fsync made durable vanishes", () => {
    const m = modelled();
    m.write("new", "data", { sync: true });
    expect(readdirSync(m.reboot(NOTHING_KEPT)).sort()).toEqual(["old"]);
    m.syncDir();
    expect(read(m.reboot(NOTHING_KEPT), "new")).toBe("data");
  });

  test("a rename without a directory fsync may revert to the old name and content", () => {
    const m = modelled();
    m.write("old.tmp", "new", { sync: true });
    m.syncDir();
    m.io.renameSync(join(m.root, "old.tmp"), join(m.root, "old"));
    const reverted = m.reboot(NOTHING_KEPT);
    expect(readdirSync(reverted).sort()).toEqual(["old", "old.tmp"]);
    expect(read(reverted, "old")).toBe("old");
    const renamed = m.reboot(ALL_KEPT);
    expect(readdirSync(renamed)).toEqual(["old"]);
    expect(read(renamed, "old")).toBe("new");
    m.syncDir();
    expect(read(m.reboot(NOTHING_KEPT), "old")).toBe("new");
  });

  test("a file keeps its identity across a rename and a hard link: an fsync through either name counts", () => {
    const m = modelled();
    m.write("a", "x");
    m.io.linkSync(join(m.root, "a"), join(m.root, "b"));
    m.io.renameSync(join(m.root, "a"), join(m.root, "c"));
    m.syncDir();
    m.write("b", "y", { sync: true });
    const out = m.reboot(NOTHING_KEPT);
    expect([read(out, "b"), read(out, "c")]).toEqual(["xy", "xy"]);
  });

  test("a torn write keeps a sector-aligned prefix of itself, nothing else", () => {
    const m = modelled();
    const data = Buffer.alloc(3000, "z");
    m.write("t", "h".repeat(100), { sync: true });
    m.write("t", data);
    m.syncDir();
    const lengths = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const bytes = readFileSync(join(m.reboot({ keepWrite: 1, keepEntry: 1, tear: 1 }, seed), "t"));
      expect(bytes.length % SECTOR).toBe(0);
      expect(bytes.length).toBeGreaterThan(100);
      expect(bytes.length).toBeLessThan(3100);
      expect(bytes.toString()).toBe("h".repeat(100) + "z".repeat(bytes.length - 100));
      lengths.add(bytes.length);
    }
    // Every sector boundary inside the write is possible: 512, 1024, …, 3072.
    expect([...lengths].sort((a, b) => a - b)).toEqual([512, 1024, 1536, 2048, 2560, 3072]);
  });

  test("a garbled write has random bytes in one sector of its own range only", () => {
    const m = modelled();
    m.write("g", "h".repeat(100), { sync: true });
    m.write("g", "z".repeat(1500));
    m.syncDir();
    for (let seed = 1; seed <= 20; seed++) {
      const bytes = readFileSync(
        join(m.reboot({ keepWrite: 1, keepEntry: 1, tear: 0, garble: 1 }, seed), "g"),
      );
      expect(bytes.length).toBe(1600);
      const changed = [...bytes.keys()].filter((i) => bytes[i] !== (i < 100 ? 0x68 : 0x7a));
      expect(changed.length).toBeGreaterThan(0);
      const sector = Math.floor(changed[0]! / SECTOR);
      expect(changed.every((i) => i >= 100 && Math.floor(i / SECTOR) === sector)).toBe(true);
    }
  });

  test("a write not kept before a later kept one leaves a hole of zeros", () => {
    const m = modelled();
    const fd = m.io.openSync(join(m.root, "h"), "w");
    m.io.writeSync(fd, Buffer.from("aaaa"), 0, 4, 0);
    m.io.writeSync(fd, Buffer.from("bb"), 0, 2, 4);
    m.io.closeSync(fd);
    m.syncDir();
    const contents = new Set<string>();
    for (let seed = 1; seed <= 60; seed++)
      contents.add(read(m.reboot({ keepWrite: 0.5, keepEntry: 1, tear: 0, garble: 0 }, seed), "h"));
    expect([...contents].sort()).toEqual(["", "\0\0\0\0bb", "aaaa", "aaaabb"]);
  });

  test("the same seed gives the same after-reboot state; another seed another", () => {
    const m = modelled();
    for (let i = 0; i < 20; i++) m.write(`f${i % 4}`, `line ${i} ${"p".repeat(i * 97)}\n`);
    const options = { keepWrite: 0.5, keepEntry: 0.5, tear: 0.3, garble: 0.2 };
    const snapshot = (dir: string) =>
      readdirSync(dir)
        .sort()
        .map((name) => `${name}=${readFileSync(join(dir, name)).toString("hex")}`)
        .join(";");
    expect(snapshot(m.reboot(options, 7))).toBe(snapshot(m.reboot(options, 7)));
    expect(snapshot(m.reboot(options, 7))).not.toBe(snapshot(m.reboot(options, 8)));
  });

  test("a state from the log is the disk at that point; the model agrees with the real files", () => {
    const m = modelled();
    m.write("a", "one", { sync: true });
    const at = m.crash.opCount;
    m.write("a", "two", { sync: true });
    mkdirSync(join(m.root, "unmodelled-but-harmless"), { recursive: true });
    m.io.mkdirSync(join(m.root, "d", "e"), { recursive: true, mode: 0o755 });
    m.syncDir();
    const out = temps.make("state", { fast: true });
    m.crash.stateAt(at).powerLoss(rng(1), out, NOTHING_KEPT);
    expect(readdirSync(out).sort()).toEqual(["old"]); // "a" was never made durable in the folder then
    const later = m.reboot(NOTHING_KEPT);
    expect(read(later, "a")).toBe("onetwo");
    expect(existsSync(join(later, "d"))).toBe(true);
    expect(existsSync(join(later, "d", "e"))).toBe(false); // "d" itself was never fsync'd
    expect(m.crash.divergences()).toEqual([".: real [a,d,old,unmodelled-but-harmless] vs model [a,d,old]"]);
  });
});

/** A logger that loses every warning: a recovery that sets bytes aside without saying so. */
class DeafLogger extends MemoryLogger {
  override warn(): void {}
}

/** Trials with `options` (seeds 1, 2, …) until one breaks an invariant; its violations. */
async function firstViolations(options: Partial<TrialOptions>): Promise<string[]> {
  const base = temps.make("checks", { fast: true });
  for (let seed = 1; seed <= 10; seed++) {
    const trial = await runTrial({
      base,
      seed,
      sessionId: "s",
      durability: "on-sync",
      earlierRun: false,
      steps: STEPS,
      flushRate: 0.06,
      crashPoints: CRASH_POINTS,
      ...options,
    });
    if (trial.violations.length > 0) return trial.violations.map(([, what]) => what);
  }
  return [];
}

describe("the power-loss checks catch a library that breaks its promises", () => {
  test("sync() resolving before an fsync (durability buffered) loses acknowledged records", async () => {
    const found = await firstViolations({ durability: "buffered" });
    expect(found.length).toBeGreaterThan(0);
    expect(
      found.every((what) => /^acknowledged event seq \d+ \(of \d+ acknowledged\) is lost$/.test(what)),
    ).toBe(true);
  });

  test("a recovery that reports nothing leaves gaps and torn tails unreported", async () => {
    const found = await firstViolations({ logger: () => new DeafLogger() });
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((what) => / was not reported$/.test(what))).toBe(true);
  });
});

describe("power loss, quick tier", () => {
  const ctx = tortureContext();
  test(`${QUICK_TOTAL_WORKLOADS * ctx.factor} workloads × ${CRASH_POINTS} crash points: every acknowledged record survives and recovery reports the rest`, async () => {
    const rows = await runWithCoverage(ctx);
    expect(describeViolations(rows.map((r) => r.result))).toBe("");
    // The failed-fsync row failed fsyncs, and sync()/flush()/stop() rejected and were made again.
    const failing = rows.find((r) => r.result.area === "power loss: failed fsync drops its pages")!;
    expect(failing.failedFsyncs).toBeGreaterThan(0);
    expect(failing.rejections).toBeGreaterThan(0);
    for (const { result, coverage, workloads } of rows) {
      expect(result.trials).toBe(workloads * CRASH_POINTS);
      expect(result.faults).toBeGreaterThan(result.trials);
      // The losses reached every recovery path: torn tails, salvage after a bad line, lost
      // unacknowledged events, a resume from METRICS.json.
      expect(coverage.tornTails).toBeGreaterThan(0);
      expect(coverage.salvaged).toBeGreaterThan(0);
      expect(coverage.withLostEvents).toBeGreaterThan(0);
      expect(coverage.fromDocument).toBeGreaterThan(0);
    }
    expect(rows.reduce((n, r) => n + r.result.trials, 0)).toBeGreaterThanOrEqual(1000 * ctx.factor);
  });
});
