/**
 * Real disk faults, no mocks: a full tmpfs (ENOSPC) and a directory the writer may not write to
 * (EACCES, by running the writer as an unprivileged user). A failed flush rejects with
 * StorageError carrying the errno, leaves the previous METRICS.json byte-identical and no temp
 * file, keeps the in-memory state; once the fault clears, the next flush succeeds.
 *
 * Needs root (to mount tmpfs and to switch users). Outside CI the tests skip with a message when
 * that is not possible; under CI (CI=true) they fail instead.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { Collector, load, StorageError } from "../../src/index.ts";
import {
  fixture,
  IN_CI,
  killStragglers,
  LineReader,
  REPO_ROOT,
  TempDirs,
  tempFilesIn,
  track,
} from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();

// ---------------------------------------------------------------------------------------------
// ENOSPC on a real, small tmpfs

const mountPoint = temps.make("enospc");
const mountResult = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint]);
const mounted = mountResult.exitCode === 0;
const mountFailure = mounted ? "" : `mount -t tmpfs failed: ${mountResult.stderr.toString().trim()}`;
if (!mounted && !IN_CI)
  console.warn(`[disk-faults] skipping the ENOSPC test (${mountFailure}); it runs as root and under CI`);

afterAll(async () => {
  await killStragglers();
  // A lazy unmount as a fallback, should a failed test leave a file open on the tmpfs.
  if (mounted && Bun.spawnSync(["umount", mountPoint]).exitCode !== 0)
    Bun.spawnSync(["umount", "-l", mountPoint]);
  temps.removeAll();
});

/** Fills the filesystem holding `path` until a 1-byte write fails with ENOSPC. */
function fillUp(path: string): void {
  const fd = openSync(path, "w");
  try {
    let chunk = 64 * 1024;
    const buffer = Buffer.alloc(chunk, 0x61);
    for (;;) {
      try {
        if (writeSync(fd, buffer, 0, chunk) > 0) continue;
        if (chunk === 1) return;
        chunk = Math.max(1, chunk >> 2);
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOSPC") throw error;
        if (chunk === 1) return;
        chunk = Math.max(1, chunk >> 2);
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe("ENOSPC (full tmpfs)", () => {
  test.skipIf(!mounted && !IN_CI)(
    "a flush on a full disk fails cleanly, and the next one after space frees up succeeds",
    async () => {
      if (!mounted) throw new Error(`${mountFailure} (CI=true: this test must run)`);
      const sessionId = "enospc";
      const dir = join(mountPoint, sessionId);
      const path = join(dir, "METRICS.json");
      const filler = join(mountPoint, "filler");
      const collector = new Collector({ sessionId, sessionsDir: mountPoint });
      collector.recordToolCall("Read", true, 3);
      collector.recordLLMInteraction("plan", { promptTokens: 10, completionTokens: 2 }, 0.5);
      await collector.flush();
      const before = readFileSync(path);

      fillUp(filler);
      for (let i = 0; i < 400; i++) collector.recordToolCall(`tool-${i}`, i % 2 === 0, i);
      const expectedTools = collector.snapshot().tools.length;
      expect(expectedTools).toBe(401); // about 80 KiB of JSON: fits once the filler is gone

      // flush(): rejects with the errno, changes nothing on disk, keeps the state.
      const error = await collector.flush().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe("ENOSPC");
      expect((error as StorageError).cause).toBeDefined();
      expect((error as StorageError).message).toStartWith("[session-metrics]");
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(tempFilesIn(dir)).toEqual([]);
      expect(collector.snapshot().tools).toHaveLength(expectedTools);

      // The synchronous exit-path flush fails the same way.
      let syncError: unknown;
      try {
        collector.flushSync();
      } catch (e) {
        syncError = e;
      }
      expect(syncError).toBeInstanceOf(StorageError);
      expect((syncError as StorageError).code).toBe("ENOSPC");
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(tempFilesIn(dir)).toEqual([]);

      // stop() fails too, and may be retried.
      // (`.then`, not `expect().rejects`: bun:test waits for that promise without delivering a
      // worker's messages, so the journal thread's answer would never arrive.)
      expect(
        await collector.stop().then(
          () => "resolved",
          (e: unknown) => e,
        ),
      ).toBeInstanceOf(StorageError);
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(tempFilesIn(dir)).toEqual([]);

      // The fault clears: the next attempt writes the newest state.
      rmSync(filler);
      await collector.stop();
      const text = readFileSync(path, "utf8");
      expect(text).toBe(encodeMetrics(collector.snapshot()));
      expect((await load(mountPoint, sessionId))!.tools).toHaveLength(expectedTools);
      expect(tempFilesIn(dir)).toEqual([]);
    },
  );

  /** Starts a collector on the full tmpfs and flushes once; returns what was thrown, if anything. */
  async function startOnFullDisk(sessionId: string): Promise<unknown> {
    const filler = join(mountPoint, `filler-${sessionId}`);
    fillUp(filler);
    let early: Collector | undefined;
    try {
      early = new Collector({ sessionId, sessionsDir: mountPoint });
      early.recordToolCall("Read", true, 1);
      await early.flush();
      return undefined;
    } catch (error) {
      return error;
    } finally {
      // Space first: a collector whose stop() failed keeps its session until a stop() succeeds.
      rmSync(filler);
      await early?.stop().catch(() => {});
    }
  }

  test.skipIf(!mounted && !IN_CI)(
    "a collector started on a full disk fails with StorageError ENOSPC",
    async () => {
      if (!mounted) throw new Error(`${mountFailure} (CI=true: this test must run)`);
      // Whether the collector refuses at creation or at its first flush, the error is typed.
      const failure = await startOnFullDisk("enospc-start");
      expect(failure).toBeInstanceOf(StorageError);
      expect((failure as StorageError).code).toBe("ENOSPC");
    },
  );

  test.skipIf(!mounted && !IN_CI)(
    "a start that failed on a full disk leaves nothing behind that blocks the session later",
    async () => {
      if (!mounted) throw new Error(`${mountFailure} (CI=true: this test must run)`);
      const sessionId = "enospc-restart";
      expect(await startOnFullDisk(sessionId)).toBeDefined();
      // Space is back: the same session starts, records and writes.
      const collector = new Collector({ sessionId, sessionsDir: mountPoint });
      collector.recordToolCall("Edit", true, 2);
      await collector.stop();
      expect((await load(mountPoint, sessionId))!.tools.map((t) => t.name)).toContain("Edit");
      expect(tempFilesIn(join(mountPoint, sessionId))).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// EACCES: root ignores permissions, so the writer runs as `nobody` when we are root.

const isRoot = process.getuid?.() === 0;

function lookUpNobody(): { uid: number; gid: number } | string {
  const uid = Bun.spawnSync(["id", "-u", "nobody"]);
  const gid = Bun.spawnSync(["id", "-g", "nobody"]);
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return "there is no user nobody";
  return { uid: Number(uid.stdout.toString().trim()), gid: Number(gid.stdout.toString().trim()) };
}

/** Who the writer runs as, or why it cannot run; checks that user can load the sources. */
function writerIdentity(home: string): { uid?: number; gid?: number } | string {
  if (!isRoot) return {}; // permissions already apply to us
  const nobody = lookUpNobody();
  if (typeof nobody === "string") return nobody;
  chownSync(home, nobody.uid, nobody.gid);
  const probe = Bun.spawnSync(["bun", "-e", `await import(${JSON.stringify(MIRROR_INDEX)})`], {
    ...nobody,
    env: { ...process.env, HOME: home },
  });
  if (probe.exitCode !== 0)
    return `user nobody cannot load ${MIRROR_INDEX}: ${probe.stderr.toString().trim()}`;
  return nobody;
}

const eaccesBase = temps.make("eacces");
chmodSync(eaccesBase, 0o755); // mkdtemp makes 0700; the writer must be able to get in
const writerHome = join(eaccesBase, "home");
mkdirSync(writerHome);
// The checkout itself may sit under a folder only root can enter (a clone in `mktemp -d`): the
// unprivileged writer runs a copy of the sources and of its script from this readable folder.
const mirror = join(eaccesBase, "repo");
cpSync(join(REPO_ROOT, "src"), join(mirror, "src"), { recursive: true });
const MIRROR_CHILD = join(mirror, "test", "process", "fixtures", "flush-fault-child.ts");
mkdirSync(join(mirror, "test", "process", "fixtures"), { recursive: true, mode: 0o755 });
cpSync(fixture("flush-fault-child.ts"), MIRROR_CHILD);
const MIRROR_INDEX = join(mirror, "src", "index.ts");
const writer = writerIdentity(writerHome);
const writerProblem = typeof writer === "string" ? writer : "";
if (writerProblem !== "" && !IN_CI)
  console.warn(`[disk-faults] skipping the EACCES tests (${writerProblem}); they run as root and under CI`);

type Outcome = {
  ok: boolean;
  stage: "open" | "flush";
  name?: string;
  isStorageError?: boolean;
  code?: string;
  message?: string;
  tools: number;
  document?: string;
};

/** The fault-injection child (fixtures/flush-fault-child.ts), as the unprivileged writer. */
function startWriter(sessionsDir: string, sessionId: string) {
  const identity = typeof writer === "string" ? {} : writer;
  const child = track(
    Bun.spawn(["bun", MIRROR_CHILD, sessionsDir, sessionId], {
      ...identity,
      env: { ...process.env, HOME: writerHome },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const lines = new LineReader(child.stdout);
  return {
    child,
    /** Asks the child to flush and returns what happened. */
    async flush(): Promise<Outcome> {
      child.stdin.write("flush\n");
      await child.stdin.flush();
      const line = await lines.next();
      if (line === null) throw new Error(`writer ended early: ${await new Response(child.stderr).text()}`);
      return JSON.parse(line) as Outcome;
    },
    async stop(): Promise<number> {
      child.stdin.write("stop\n");
      await child.stdin.flush();
      await lines.drain();
      return child.exited;
    },
  };
}

/** Makes `dir` writable by the writer (whoever it runs as). */
function allowWriter(dir: string): void {
  chmodSync(dir, 0o777);
}

/** Makes `dir` read-only for the writer: owned by root with mode 0755 (or ours, 0555, when not root). */
function denyWriter(dir: string): void {
  if (isRoot) chownSync(dir, 0, 0);
  chmodSync(dir, isRoot ? 0o755 : 0o555);
}

describe("EACCES (unwritable directory, writer without privileges)", () => {
  const runs = writerProblem === "" || IN_CI;

  test.skipIf(!runs)(
    "the session folder turns read-only: StorageError EACCES, file unchanged, then success once writable",
    async () => {
      if (writerProblem !== "") throw new Error(`${writerProblem} (CI=true: this test must run)`);
      const sessionId = "eacces-dir";
      const sessionsDir = join(eaccesBase, "sessions-a");
      const dir = join(sessionsDir, sessionId);
      const path = join(dir, "METRICS.json");
      mkdirSync(sessionsDir);
      allowWriter(sessionsDir);

      const w = startWriter(sessionsDir, sessionId);
      expect(await w.flush()).toMatchObject({ ok: true, tools: 4 });
      const before = readFileSync(path);

      denyWriter(dir);
      const failed = await w.flush();
      expect(failed).toMatchObject({
        ok: false,
        stage: "flush",
        name: "StorageError",
        isStorageError: true,
        code: "EACCES",
        tools: 5,
      });
      expect(failed.message).toStartWith("[session-metrics]");
      expect(failed.message).toContain(path);
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(tempFilesIn(dir)).toEqual([]);

      // A second attempt while the fault persists fails the same way and keeps the state.
      expect(await w.flush()).toMatchObject({ ok: false, code: "EACCES", tools: 6 });
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(tempFilesIn(dir)).toEqual([]);

      allowWriter(dir); // the fault clears
      const succeeded = await w.flush();
      expect(succeeded).toMatchObject({ ok: true, tools: 7 });
      expect(readFileSync(path, "utf8")).toBe(succeeded.document!);
      expect(tempFilesIn(dir)).toEqual([]);
      expect(await w.stop()).toBe(0);
    },
  );

  test.skipIf(!runs)(
    "the sessions folder is read-only from the start: StorageError EACCES and nothing on disk",
    async () => {
      if (writerProblem !== "") throw new Error(`${writerProblem} (CI=true: this test must run)`);
      const sessionId = "eacces-mkdir";
      const sessionsDir = join(eaccesBase, "sessions-b");
      mkdirSync(sessionsDir);
      denyWriter(sessionsDir);

      const w = startWriter(sessionsDir, sessionId);
      // Whether the collector refuses at creation or at its first flush, the error is typed.
      const failed = await w.flush();
      expect(failed).toMatchObject({ ok: false, name: "StorageError", isStorageError: true, code: "EACCES" });
      expect(readdirSync(sessionsDir)).toEqual([]);

      allowWriter(sessionsDir);
      const succeeded = await w.flush();
      expect(succeeded.ok).toBe(true);
      const sessionDir = join(sessionsDir, sessionId);
      expect(readFileSync(join(sessionDir, "METRICS.json"), "utf8")).toBe(succeeded.document!);
      // Created with Go's modes (0755 folder, 0644 file), less the umask.
      const umask = process.umask();
      expect(statSync(sessionDir).mode & 0o777).toBe(0o755 & ~umask);
      expect(statSync(join(sessionDir, "METRICS.json")).mode & 0o777).toBe(0o644 & ~umask);
      expect(await w.stop()).toBe(0);
    },
  );
});
