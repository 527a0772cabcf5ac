/**
 * One writer per session across processes: many processes writing their own sessions in one
 * sessions directory never interfere; two processes racing for one session id get exactly one
 * winner, and the loser a SessionLockedError naming the winner's pid; a lock left by a SIGKILLed
 * process on this host is reclaimed; a lock naming a live process is not.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
// The library loads node:fs lazily through require (start-up cost); spies go on that object.
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { SessionLockedError } from "../../src/errors.ts";
import { nodeFileIO, useFileIO } from "../../src/fs/io.ts";
import { load } from "../../src/fs/metrics-file.ts";
import { replayMetrics } from "../../src/journal/replay.ts";
import { Collector } from "../../src/session/collector.ts";
import {
  bundleFixture,
  checkLines,
  corruptFiles,
  JOURNAL,
  killStragglers,
  LineReader,
  MemoryLogger,
  readBytes,
  seqsAreGapFree,
  TempDirs,
  track,
} from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(async () => {
  await killStragglers();
  temps.removeAll();
});

const bundles = temps.make("locks-bundle");
const fleetWriter = bundleFixture("fleet-writer.ts", bundles);
const lockHolder = bundleFixture("lock-holder.ts", bundles);
const tryOpen = bundleFixture("try-open.ts", bundles);

type HolderMessage = {
  loaded?: number;
  won?: number;
  lost?: { name: string; message: string };
  released?: boolean;
};

/** A lock-holder child, started and loaded, waiting to be told to open its session. */
async function startHolder(sessionsDir: string, sessionId: string) {
  const child = track(
    Bun.spawn(["bun", await lockHolder, sessionsDir, sessionId], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const lines = new LineReader(child.stdout);
  const next = async (): Promise<HolderMessage> => {
    const line = await lines.next();
    if (line === null)
      throw new Error(`lock holder ${child.pid} ended early: ${await new Response(child.stderr).text()}`);
    return JSON.parse(line) as HolderMessage;
  };
  const tell = async () => {
    child.stdin.write("go\n");
    await child.stdin.flush();
  };
  expect((await next()).loaded).toBe(child.pid);
  return { child, next, tell };
}

/** The .lock of a session, as written by the library. */
function lockOf(sessionsDir: string, sessionId: string): { pid: number; host: string; procStart?: string } {
  return JSON.parse(readFileSync(join(sessionsDir, sessionId, ".lock"), "utf8"));
}

/** Start time of a process from /proc (field 22), as the lock records it. */
function procStartOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

function plantLock(sessionsDir: string, sessionId: string, lock: object): string {
  const dir = join(sessionsDir, sessionId);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, ".lock");
  writeFileSync(path, JSON.stringify(lock));
  return path;
}

describe("one writer per session", () => {
  test("4 processes × 25 sessions in one sessions directory all succeed with valid journals", async () => {
    const sessionsDir = temps.make("fleet", { fast: true });
    const PROCESSES = 4;
    const SESSIONS = 25;
    const RECORDS = 200;
    const writer = await fleetWriter;
    const children = Array.from({ length: PROCESSES }, (_, p) =>
      track(
        Bun.spawn(["bun", writer, sessionsDir, `w${p}`, `${SESSIONS}`, `${RECORDS}`], {
          stdout: "pipe",
          stderr: "pipe",
        }),
      ),
    );
    const outputs = await Promise.all(
      children.map(async (child) => {
        const [stdout, stderr, code] = await Promise.all([
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
          child.exited,
        ]);
        return { stdout: stdout.trim(), stderr, code };
      }),
    );
    for (const out of outputs) {
      expect(out.stdout, out.stderr).toBe(JSON.stringify({ done: SESSIONS }));
      expect(out.code).toBe(0);
    }

    for (let p = 0; p < PROCESSES; p++) {
      for (let i = 0; i < SESSIONS; i++) {
        const sessionId = `w${p}-${i}`;
        const dir = join(sessionsDir, sessionId);
        const lines = checkLines(readBytes(join(dir, JOURNAL)));
        expect(lines.bad).toEqual([]);
        expect(lines.tail.length).toBe(0);
        expect(lines.events).toHaveLength(1 + 2 * RECORDS);
        expect(seqsAreGapFree(lines.events)).toBe(true);
        const m = await load(sessionsDir, sessionId);
        expect(m!.tools.reduce((n, t) => n + t.callCount, 0)).toBe(RECORDS);
        expect(m!.llms.reduce((n, l) => n + l.interactionCount, 0)).toBe(RECORDS);
        expect(readFileSync(join(dir, "METRICS.json"), "utf8")).toBe(
          encodeMetrics((await replayMetrics(sessionsDir, sessionId))!),
        );
        expect(existsSync(join(dir, ".lock"))).toBe(false);
        expect(corruptFiles(dir)).toEqual([]);
      }
    }
  });

  test("2 processes racing for the same id: exactly one wins, the other is told who holds it", async () => {
    const sessionsDir = temps.make("race", { fast: true });
    const ROUNDS = 6;
    let unreadable = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const sessionId = `race-${round}`;
      const holders = await Promise.all([
        startHolder(sessionsDir, sessionId),
        startHolder(sessionsDir, sessionId),
      ]);
      await Promise.all(holders.map((h) => h.tell()));
      const outcomes = await Promise.all(holders.map((h) => h.next()));
      const winners = outcomes.flatMap((o, i) => (o.won !== undefined ? [i] : []));
      expect(winners).toHaveLength(1);
      const winner = holders[winners[0]!]!;
      const loser = outcomes[1 - winners[0]!]!;
      expect(outcomes[winners[0]!]!.won).toBe(winner.child.pid);
      expect(loser.lost?.name).toBe("SessionLockedError");
      expect(loser.lost?.message).toContain(join(sessionsDir, sessionId, ".lock"));
      // The loser may read the lock between its creation and its write (a bug, shown
      // deterministically by the test "... while the holder is writing its lock ..." below).
      if (loser.lost?.message.includes("lock file unreadable")) unreadable++;
      else expect(loser.lost?.message).toContain(`pid ${winner.child.pid} on ${hostname()}`);
      expect(lockOf(sessionsDir, sessionId).pid).toBe(winner.child.pid);

      await winner.tell();
      expect((await winner.next()).released).toBe(true);
      await Promise.all(holders.map((h) => h.child.exited));
      expect(existsSync(join(sessionsDir, sessionId, ".lock"))).toBe(false);
      const lines = checkLines(readBytes(join(sessionsDir, sessionId, JOURNAL)));
      expect(lines.bad).toEqual([]);
      expect(lines.events.map((e) => e.type)).toEqual(["session_start", "tool_call"]);
    }
    if (unreadable > 0)
      console.warn(`[locks] in ${unreadable} of ${ROUNDS} races the loser could not tell who held the lock`);
  });

  test("a process that opens the session while the holder is writing its lock is told the holder's pid", async () => {
    // Stops this process right after it created .lock (O_EXCL) and before it wrote its content,
    // and lets a second process open the session in that instant: the window a real race hits.
    const sessionsDir = temps.make("lock-window", { fast: true });
    const opener = await tryOpen;
    let other: HolderMessage | undefined;
    const restore = useFileIO({
      ...nodeFileIO,
      writeSync: (fd, data, ...rest) => {
        if (other === undefined && Buffer.from(data).toString().includes(`"pid":${process.pid}`)) {
          const run = Bun.spawnSync(["bun", opener, sessionsDir, "window"], { stderr: "pipe" });
          other = JSON.parse(
            run.stdout.toString() ||
              JSON.stringify({ lost: { name: "none", message: run.stderr.toString() } }),
          );
        }
        return nodeFileIO.writeSync(fd, data, ...rest);
      },
    });
    let c: Collector | undefined;
    try {
      c = await Collector.open({ sessionId: "window", sessionsDir });
    } catch (error) {
      expect(error).toBeInstanceOf(SessionLockedError); // fine if the other process won
    } finally {
      restore();
      await c?.stop();
    }
    expect(other).toBeDefined();
    if (other!.lost !== undefined) {
      expect(other!.lost.name).toBe("SessionLockedError");
      expect(other!.lost.message).not.toContain("lock file unreadable");
      expect(other!.lost.message).toContain(`pid ${process.pid} on ${hostname()}`);
    }
  });

  test("a lock left by a SIGKILLed process on this host is reclaimed by the next opener", async () => {
    const sessionsDir = temps.make("reclaim", { fast: true });
    const holder = await startHolder(sessionsDir, "orphan");
    await holder.tell();
    expect((await holder.next()).won).toBe(holder.child.pid);
    holder.child.kill("SIGKILL");
    await holder.child.exited;
    expect(lockOf(sessionsDir, "orphan").pid).toBe(holder.child.pid);

    const logger = new MemoryLogger();
    const c = await Collector.open({ sessionId: "orphan", sessionsDir, resume: true, logger });
    expect(lockOf(sessionsDir, "orphan").pid).toBe(process.pid);
    expect(c.snapshot().tools).toEqual([
      expect.objectContaining({ name: "held-by", callCount: 1, totalDurationMs: holder.child.pid }),
    ]);
    await c.stop();
    expect(existsSync(join(sessionsDir, "orphan", ".lock"))).toBe(false);

    // And by another process, too: a second holder takes the session over from the killed one.
    const first = await startHolder(sessionsDir, "orphan-2");
    await first.tell();
    expect((await first.next()).won).toBe(first.child.pid);
    first.child.kill("SIGKILL");
    await first.child.exited;
    const second = await startHolder(sessionsDir, "orphan-2");
    await second.tell();
    expect((await second.next()).won).toBe(second.child.pid);
    await second.tell();
    expect((await second.next()).released).toBe(true);
    await second.child.exited;
    expect((await load(sessionsDir, "orphan-2"))!.tools[0]!.callCount).toBe(2);
  });

  test("a lock naming this (live) process is not reclaimed", async () => {
    const sessionsDir = temps.make("live", { fast: true });
    const lock = {
      pid: process.pid,
      host: hostname(),
      startedAt: "2026-11-22T01:42:24.140Z",
      procStart: procStartOf(process.pid),
    };
    const path = plantLock(sessionsDir, "held", lock);
    const before = readFileSync(path);
    const error = await Collector.open({ sessionId: "held", sessionsDir, resume: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SessionLockedError);
    expect((error as Error).message).toContain(`pid ${process.pid} on ${hostname()} since ${lock.startedAt}`);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(join(sessionsDir, "held", JOURNAL))).toBe(false);

    // Without a recorded start time, a live pid is still a holder.
    plantLock(sessionsDir, "held-2", { pid: process.pid, host: hostname(), startedAt: lock.startedAt });
    await expect(Collector.open({ sessionId: "held-2", sessionsDir })).rejects.toBeInstanceOf(
      SessionLockedError,
    );
  });

  test("a lock naming another live process is not reclaimed", async () => {
    const sessionsDir = temps.make("live-other", { fast: true });
    const sleeper = track(Bun.spawn(["sleep", "60"]));
    try {
      const lock = {
        pid: sleeper.pid,
        host: hostname(),
        startedAt: new Date().toISOString(),
        procStart: procStartOf(sleeper.pid),
      };
      plantLock(sessionsDir, "held", lock);
      const error = await Collector.open({ sessionId: "held", sessionsDir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SessionLockedError);
      expect((error as Error).message).toContain(`pid ${sleeper.pid}`);
    } finally {
      sleeper.kill("SIGKILL");
      await sleeper.exited;
    }
    // Now that it is gone, the same lock is reclaimed.
    const c = await Collector.open({ sessionId: "held", sessionsDir });
    expect(lockOf(sessionsDir, "held").pid).toBe(process.pid);
    await c.stop();
  });

  test("a live pid that belongs to a later process (pid reuse) does not keep a dead writer's lock", async () => {
    const sessionsDir = temps.make("reuse", { fast: true });
    const lock = {
      pid: process.pid,
      host: hostname(),
      startedAt: "2020-01-01T00:00:00.000Z",
      procStart: "1", // this pid's process started at another time: not the lock's writer
    };
    plantLock(sessionsDir, "reused", lock);
    const c = await Collector.open({ sessionId: "reused", sessionsDir });
    expect(lockOf(sessionsDir, "reused").procStart).toBe(procStartOf(process.pid));
    await c.stop();
  });

  test("a lock from another host is never reclaimed, whatever its pid", async () => {
    const sessionsDir = temps.make("other-host", { fast: true });
    const dead = track(Bun.spawn(["true"]));
    await dead.exited;
    plantLock(sessionsDir, "remote", {
      pid: dead.pid,
      host: `not-${hostname()}`,
      startedAt: "2026-11-22T01:42:24.140Z",
    });
    const error = await Collector.open({ sessionId: "remote", sessionsDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SessionLockedError);
    expect((error as Error).message).toContain(`pid ${dead.pid} on not-${hostname()}`);
  });

  test("a lock file left empty or unreadable for long (writer died creating it) does not lock the session forever", async () => {
    const sessionsDir = temps.make("empty-lock", { fast: true });
    const path = plantLock(sessionsDir, "empty", {});
    writeFileSync(path, "");
    const longAgo = new Date(Date.now() - 10 * 60_000);
    utimesSync(path, longAgo, longAgo);
    const c = await Collector.open({ sessionId: "empty", sessionsDir });
    await c.stop();
  });
});
