/**
 * The collector's operations under faults: flush() (the first and a later one), journal append
 * with group commit, sync(), recovery on open, taking and reclaiming the lock, and release
 * (stop()). Each trial is set up without faults, then `act` runs under the plan, and `check`
 * runs once the faults are cleared.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { encodeMetrics } from "../../../src/core/go-document.ts";
import {
  bytesOf,
  checkAcknowledged,
  checkMetricsFile,
  DEFAULT_SHAPE,
  leftovers,
  must,
  Probe,
  type Shape,
  sessionDir,
  trialDir,
  unknownLeftovers,
} from "./world.ts";

export interface Trial {
  /** The operation swept, run under the fault plan. */
  act(): Promise<void>;
  /** The invariants, once the faults are cleared: the violations found. */
  check(thrown: unknown): Promise<string[]>;
  /** Releases whatever is still open (after a violation). */
  dispose(): Promise<void>;
}

export interface Scenario {
  area: string;
  /** Sets one trial up in `sessionsDir`, without faults. */
  prepare(sessionsDir: string, shape: Shape): Promise<Trial>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collector, then `.lock` released, no leftovers, and a resumed open that replays `expected`. */
async function checkStopAndReopen(sessionsDir: string, probe: Probe, expected: string[]): Promise<string[]> {
  const v = await must("stop()", () => probe.collector.stop());
  if (existsSync(join(sessionDir(sessionsDir), ".lock"))) v.push(".lock still there after stop()");
  const left = leftovers(sessionsDir);
  if (left.length > 0) v.push(`left behind: ${left.join(", ")}`);
  let reopened: Probe | undefined;
  v.push(
    ...(await must("reopening with resume", async () => {
      reopened = await Probe.open(sessionsDir, DEFAULT_SHAPE, true);
    })),
  );
  if (reopened === undefined) return v;
  const got = reopened.collector.snapshot().tools.map((t) => `${t.name}×${t.callCount}`);
  const want = expected.map((n) => `${n}×1`);
  if (got.join(" ") !== want.join(" ")) v.push(`reopened session replays [${got}], expected [${want}]`);
  v.push(...(await must("stop() of the reopened session", () => reopened?.collector.stop())));
  return v;
}

/**
 * The invariants for a live collector after a fault: acknowledged records on disk, METRICS.json
 * old or complete, no temp file; then, without a restart, it records, flushes and syncs, its
 * METRICS.json is its snapshot, and it stops and reopens with every record.
 */
async function checkLive(
  sessionsDir: string,
  probe: Probe,
  before: Uint8Array | null,
  expected: string[],
): Promise<string[]> {
  const v = [...checkAcknowledged(sessionsDir, probe), ...checkMetricsFile(sessionsDir, before)];
  const left = unknownLeftovers(sessionsDir);
  if (left.length > 0) v.push(`left behind after the fault: ${left.join(", ")}`);
  const c = probe.collector;
  c.recordToolCall("after", true, 1);
  v.push(...(await must("flush()", () => c.flush())));
  v.push(...(await must("sync()", () => c.sync())));
  const written = bytesOf(join(sessionDir(sessionsDir), "METRICS.json"));
  if (v.length === 0 && new TextDecoder().decode(written ?? new Uint8Array()) !== encodeMetrics(c.snapshot()))
    v.push("METRICS.json after a successful flush() is not the snapshot");
  v.push(...(await checkStopAndReopen(sessionsDir, probe, [...expected, "after"])));
  return v;
}

/** A trial on an open collector: `setup` without faults, `act` under them. */
function liveTrial(
  area: string,
  setup: (probe: Probe, shape: Shape) => Promise<void>,
  act: (probe: Probe, shape: Shape) => Promise<void>,
): Scenario {
  return {
    area,
    async prepare(sessionsDir, shape) {
      const probe = await Probe.open(sessionsDir, shape);
      await setup(probe, shape);
      const before = bytesOf(join(sessionDir(sessionsDir), "METRICS.json"));
      return {
        act: () => act(probe, shape),
        check: () => checkLive(sessionsDir, probe, before, probe.names()),
        dispose: () => probe.stopQuietly(),
      };
    },
  };
}

/** A trial whose act is an open: `setup` lays the folder out; `expected` is what it replays to. */
function openTrial(
  area: string,
  setup: (sessionsDir: string) => void,
  expected: string[],
  resume: boolean,
): Scenario {
  return {
    area,
    async prepare(sessionsDir, shape) {
      setup(sessionsDir);
      const before = bytesOf(join(sessionDir(sessionsDir), "METRICS.json"));
      let probe: Probe | undefined;
      return {
        act: async () => {
          probe = await Probe.open(sessionsDir, shape, resume);
        },
        check: async () => {
          // A failed open must leave the session openable: lock released or reclaimable.
          const v = probe === undefined ? [...checkMetricsFile(sessionsDir, before)] : [];
          if (probe === undefined)
            v.push(
              ...(await must("opening again", async () => {
                probe = await Probe.open(sessionsDir, shape, resume);
              })),
            );
          if (probe === undefined) return v;
          return [...v, ...(await checkLive(sessionsDir, probe, before, expected))];
        },
        dispose: async () => probe?.stopQuietly(),
      };
    },
  };
}

/** A journal with a corrupt line (t4's) and a torn tail, and no METRICS.json: what a crash and a bad sector leave. */
let damagedJournal: Buffer | undefined;
async function damaged(): Promise<Buffer> {
  if (damagedJournal !== undefined) return damagedJournal;
  const { dir, remove } = trialDir();
  try {
    const probe = await Probe.open(dir, DEFAULT_SHAPE);
    probe.record(10);
    await probe.collector.stop();
    const text = readFileSync(join(sessionDir(dir), "journal.jsonl"), "utf8");
    if (!text.includes('"t4"')) throw new Error("the template journal does not name t4");
    damagedJournal = Buffer.from(`${text.replace('"t4"', '"x4"')}{"v":1,"seq":12,"ts":`);
    return damagedJournal;
  } finally {
    remove();
  }
}

/** A pid that is certainly dead: a child that ran and was reaped. */
let deadPid: number | undefined;
function dead(): number {
  deadPid ??= Bun.spawnSync(["true"]).pid;
  return deadPid;
}

export async function collectorScenarios(): Promise<Scenario[]> {
  const journal = await damaged();
  const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
  return [
    liveTrial(
      "faults: first flush()",
      async (p, shape) => p.record(shape.records),
      (p) => p.flush(),
    ),
    liveTrial(
      "faults: later flush()",
      async (p, shape) => {
        p.record(shape.records);
        await p.flush();
        p.record(2);
      },
      (p) => p.flush(),
    ),
    liveTrial(
      "faults: journal append + group commit",
      async () => {},
      async (p, shape) => {
        p.record(shape.records);
        await sleep(8); // the group timer (5 ms) writes and fsyncs on its own
        p.record(shape.records);
        await p.sync();
        p.record(shape.records);
        await sleep(8);
      },
    ),
    liveTrial(
      "faults: sync()",
      async (p, shape) => p.record(shape.records),
      async (p) => {
        await p.sync();
        p.record(2);
        await p.sync();
      },
    ),
    openTrial(
      "faults: recovery on open",
      (dir) => {
        mkdirSync(sessionDir(dir), { recursive: true });
        writeFileSync(join(sessionDir(dir), "journal.jsonl"), journal);
      },
      names.filter((n) => n !== "t4"),
      true,
    ),
    openTrial("faults: lock take", () => {}, [], false),
    openTrial(
      "faults: lock reclaim (dead pid)",
      (dir) => {
        mkdirSync(sessionDir(dir), { recursive: true });
        const info = { pid: dead(), host: hostname(), startedAt: "2026-01-01T00:00:00.000Z" };
        writeFileSync(join(sessionDir(dir), ".lock"), JSON.stringify(info));
      },
      [],
      false,
    ),
    releaseScenario(),
  ];
}

/** stop(): flush, close the journal, release the lock; a failed stop() can be called again. */
function releaseScenario(): Scenario {
  return {
    area: "faults: lock release (stop())",
    async prepare(sessionsDir, shape) {
      const probe = await Probe.open(sessionsDir, shape);
      probe.record(shape.records);
      await probe.flush();
      probe.record(2);
      const before = bytesOf(join(sessionDir(sessionsDir), "METRICS.json"));
      return {
        act: async () => {
          const upto = probe.next;
          await probe.collector.stop();
          probe.acked = upto;
        },
        check: async () => {
          const v = [...checkAcknowledged(sessionsDir, probe), ...checkMetricsFile(sessionsDir, before)];
          return [...v, ...(await checkStopAndReopen(sessionsDir, probe, probe.names()))];
        },
        dispose: () => probe.stopQuietly(),
      };
    },
  };
}
