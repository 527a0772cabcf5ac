/**
 * Regressions found by the fault sweep (test/torture/areas/faults.ts) in the lock and the
 * journal's close: each failure is a typed StorageError, nothing stays held or left behind, and
 * once the disk is back the same collector finishes without a restart.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { StorageError } from "../../src/errors.ts";
import { replaySession } from "../../src/journal/replay.ts";
import { Collector } from "../../src/session/collector.ts";
import { failuresUndoneAfterEach } from "../support/failing-io.ts";
import { MemoryLogger, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const fail = failuresUndoneAfterEach();

const pathArg = (test: (path: string) => boolean) => (args: unknown[]) => test(String(args[0]));

function open(sessionsDir: string, id: string): Promise<Collector> {
  return Collector.open({ sessionId: id, sessionsDir, logger: new MemoryLogger() });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

function lockFiles(sessionDir: string): string[] {
  return readdirSync(sessionDir)
    .filter((n) => n.startsWith(".lock"))
    .sort();
}

describe("the lock when the disk refuses", () => {
  test("a lock whose temp file cannot be removed is still taken, and the temp file goes with the release", async () => {
    const sessionsDir = temps.make("lock-tmp", { fast: true });
    const unlink = fail(
      "unlinkSync",
      "EIO",
      pathArg((p) => /\.lock\.\d+\.[0-9a-f]+$/.test(p)),
    );
    const c = await open(sessionsDir, "s");
    expect(unlink.failures).toBe(1);
    expect(lockFiles(join(sessionsDir, "s"))).toHaveLength(2); // .lock and its temp file
    unlink.clear();
    await c.stop();
    expect(lockFiles(join(sessionsDir, "s"))).toEqual([]);
  });

  test("stop() that cannot remove the lock rejects with StorageError, and stop() again releases it", async () => {
    const sessionsDir = temps.make("lock-release", { fast: true });
    const c = await open(sessionsDir, "s");
    c.recordToolCall("Read", true, 1);
    const path = join(sessionsDir, "s", ".lock");
    const unlink = fail(
      "unlinkSync",
      "EIO",
      pathArg((p) => p === path),
    );
    const error = await rejection(c.stop());
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toBe(
      `[session-metrics] [lock] could not release ${path}: EIO: injected, unlinkSync; stop() again, or the next open of the session in this process, removes it`,
    );
    expect(existsSync(path)).toBe(true);
    unlink.clear();
    await c.stop();
    expect(existsSync(path)).toBe(false);
    expect(replaySession(sessionsDir, "s")?.state.tools.get("Read")?.callCount).toBe(1);
  });

  test("the next open in this process removes our own lock that a failed release left", async () => {
    const sessionsDir = temps.make("lock-reopen", { fast: true });
    const first = await open(sessionsDir, "s");
    const unlink = fail(
      "unlinkSync",
      "EIO",
      pathArg((p) => p.endsWith("/.lock")),
    );
    expect(await rejection(first.stop())).toBeInstanceOf(StorageError);
    unlink.clear();
    const second = await open(sessionsDir, "s"); // not "being written by pid <this process>"
    await second.stop();
    expect(lockFiles(join(sessionsDir, "s"))).toEqual([]);
  });

  test("a reclaim whose marker cannot be removed takes the lock, and the marker goes once the disk is back", async () => {
    const sessionsDir = temps.make("reclaim-marker", { fast: true });
    mkdirSync(join(sessionsDir, "s"));
    const dead = Bun.spawnSync(["true"]).pid;
    const lock = { pid: dead, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z" };
    writeFileSync(join(sessionsDir, "s", ".lock"), JSON.stringify(lock));
    const unlink = fail(
      "unlinkSync",
      "EIO",
      pathArg((p) => p.endsWith(".lock.reclaim")),
    );
    const c = await open(sessionsDir, "s");
    expect(unlink.failures).toBe(1);
    unlink.clear();
    await c.stop();
    expect(lockFiles(join(sessionsDir, "s"))).toEqual([]);
  });
});

describe("closing the journal when the disk refuses", () => {
  // stop() fsyncs the journal (flush), the METRICS.json temp file and its folder, then the
  // journal again (close): whichever of them fails, a second stop() completes.
  for (const k of [1, 2, 3, 4])
    test(`a stop() whose fsync #${k} fails rejects, and stop() again writes every record`, async () => {
      const sessionsDir = temps.make(`close-${k}`, { fast: true });
      const c = await open(sessionsDir, "s");
      c.recordToolCall("Read", true, 1);
      await c.flush();
      c.recordToolCall("Edit", true, 2);
      let n = 0;
      const fsync = fail("fsync", "EIO", () => ++n === k);
      const error = await rejection(c.stop());
      expect(fsync.failures).toBe(1);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).message).toContain("EIO: injected, fsync");
      await c.stop();
      const tools = replaySession(sessionsDir, "s")?.state.tools;
      expect([...(tools?.keys() ?? [])]).toEqual(["Read", "Edit"]);
      expect(existsSync(join(sessionsDir, "s", ".lock"))).toBe(false);
    });

  /** A collector with one record, whose flushSync() runs while `op` fails with `code`. */
  async function flushSyncFailing(dir: string, op: "fsyncSync" | "writeSync", code: string) {
    const sessionsDir = temps.make(dir, { fast: true });
    const c = await open(sessionsDir, "s");
    c.recordToolCall("Read", true, 1);
    const failing = fail(op, code);
    let error: unknown;
    try {
      c.flushSync();
    } catch (e) {
      error = e;
    }
    failing.clear();
    return { sessionsDir, c, error };
  }

  test("flushSync() reports a failed fsync as a StorageError naming the journal", async () => {
    const { sessionsDir, c, error } = await flushSyncFailing("flush-sync", "fsyncSync", "EIO");
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toBe(
      `[session-metrics] [journal] fsync of ${join(sessionsDir, "s", "journal.jsonl")} failed: EIO: injected, fsyncSync`,
    );
    await c.stop();
  });

  test("flushSync() reports a refused write as a StorageError, keeps the lines, and stop() writes them", async () => {
    const { sessionsDir, c, error } = await flushSyncFailing("flush-sync-write", "writeSync", "ENOSPC");
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toContain("could not append");
    expect((error as StorageError).message).toContain("ENOSPC: injected, writeSync");
    await c.stop();
    expect([...(replaySession(sessionsDir, "s")?.state.tools.keys() ?? [])]).toEqual(["Read"]);
  });
});
