/**
 * Lock corner cases: each is either reclaimed safely or refused with a clear StorageError, never
 * a raw errno and never a session locked forever.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { MetricsError, StorageError } from "../../src/errors.ts";
import { Collector } from "../../src/session/collector.ts";
import { MemoryLogger, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

/** A session folder holding `setup`'s planted files; returns the sessions dir. */
function planted(name: string, setup: (sessionDir: string) => void): string {
  const sessionsDir = temps.make(name, { fast: true });
  const sessionDir = join(sessionsDir, "s");
  mkdirSync(sessionDir, { recursive: true });
  setup(sessionDir);
  return sessionsDir;
}

function open(sessionsDir: string): Collector {
  return new Collector({ sessionId: "s", sessionsDir, logger: new MemoryLogger() });
}

/** Sets a file's times `ms` into the past (without following a link). */
function age(path: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  utimesSync(path, then, then);
}

describe("lock corner cases", () => {
  test("a directory named .lock is refused with a StorageError naming it", () => {
    const dir = planted("lock-dir", (d) => mkdirSync(join(d, ".lock")));
    const attempt = () => open(dir);
    expect(attempt).toThrow(StorageError);
    expect(attempt).toThrow(
      `${join(dir, "s", ".lock")} is a directory, not the lock file this library writes`,
    );
    expect(existsSync(join(dir, "s", ".lock"))).toBe(true);
  });

  test("a dangling symlink as .lock is refused, and nothing is created through it", () => {
    const target = join(temps.make("lock-link-target", { fast: true }), "elsewhere");
    const dir = planted("lock-link", (d) => symlinkSync(target, join(d, ".lock")));
    expect(() => open(dir)).toThrow(/\.lock is a symbolic link, not the lock file/);
    expect(existsSync(target)).toBe(false);
  });

  for (const pid of [0, -1, 1.5])
    test(`a lock naming pid ${pid} is not a holder: reclaimed once it is old`, async () => {
      const dir = planted(`lock-pid-${pid}`, (d) => {
        const lock = join(d, ".lock");
        writeFileSync(lock, JSON.stringify({ pid, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z" }));
        age(lock, 60_000);
      });
      const c = open(dir);
      const held = JSON.parse(readFileSync(join(dir, "s", ".lock"), "utf8")) as { pid: number };
      expect(held.pid).toBe(process.pid);
      await c.stop();
      expect(existsSync(join(dir, "s", ".lock"))).toBe(false);
    });

  test("a fresh lock naming pid 0 still counts as held (it may be being written by another tool)", () => {
    const dir = planted("lock-pid-fresh", (d) =>
      writeFileSync(join(d, ".lock"), JSON.stringify({ pid: 0, host: hostname(), startedAt: "x" })),
    );
    expect(() => open(dir)).toThrow(MetricsError);
  });

  test("a stale .lock.reclaim file left by a crash does not block the session", async () => {
    const dir = planted("reclaim-stale", (d) => {
      const lock = join(d, ".lock");
      writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startedAt: "x" }));
      const marker = join(d, ".lock.reclaim");
      writeFileSync(marker, "");
      age(marker, 60_000);
    });
    const c = open(dir);
    await c.stop();
    expect(existsSync(join(dir, "s", ".lock.reclaim"))).toBe(false);
  });

  test("a .lock.reclaim directory is refused with a StorageError naming it", () => {
    const dir = planted("reclaim-dir", (d) => {
      writeFileSync(
        join(d, ".lock"),
        JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startedAt: "x" }),
      );
      mkdirSync(join(d, ".lock.reclaim"));
      age(join(d, ".lock.reclaim"), 60_000);
    });
    expect(() => open(dir)).toThrow(
      `${join(dir, "s", ".lock.reclaim")} is a directory, not the reclaim marker`,
    );
  });
});
