/**
 * ENOSPC in the middle of a journal append, on a real small tmpfs (no mocks of the failure): the
 * group write gets part-way and fails, sync() rejects with StorageError ENOSPC, the file is cut
 * back to its last good offset (no partial line), recording goes on, the logger says so; once
 * space is back the next sync() writes everything exactly once with gap-free seqs.
 *
 * Needs root (to mount tmpfs). Elsewhere the tests skip with a message; under CI=true they fail.
 */
import { afterAll, describe, expect, setDefaultTimeout, spyOn, test } from "bun:test";
// The library loads node:fs lazily through require (start-up cost); spies go on that object.
import * as fs from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../../src/core/events.ts";
import { StorageError } from "../../src/errors.ts";
import { replaySession } from "../../src/journal/replay.ts";
import { Collector } from "../../src/session/collector.ts";
import { checkLines, IN_CI, JOURNAL, MemoryLogger, readBytes, seqsAreGapFree, TempDirs } from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();
const mountPoint = temps.make("enospc");
const mountResult = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]);
const mounted = mountResult.exitCode === 0;
const mountFailure = mounted ? "" : `mount -t tmpfs failed: ${mountResult.stderr.toString().trim()}`;
if (!mounted && !IN_CI)
  console.warn(
    `[journal enospc] skipping the ENOSPC tests (${mountFailure}); they need root, and run under CI`,
  );

afterAll(() => {
  if (mounted && Bun.spawnSync(["umount", mountPoint]).exitCode !== 0)
    Bun.spawnSync(["umount", "-l", mountPoint]);
  temps.removeAll();
});

const runIt = test.skipIf(!mounted && !IN_CI);
function requireMount(): void {
  if (!mounted) throw new Error(`${mountFailure} (CI=true: this test must run)`);
}

/** Fills the filesystem holding `path` until a 1-byte write fails with ENOSPC. */
function fillUp(path: string): void {
  const fd = fs.openSync(path, "w");
  try {
    let chunk = 64 * 1024;
    const buffer = Buffer.alloc(chunk, 0x61);
    for (;;) {
      try {
        if (fs.writeSync(fd, buffer, 0, chunk) > 0) continue;
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOSPC") throw error;
      }
      if (chunk === 1) return;
      chunk = Math.max(1, chunk >> 2);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Frees `bytes` of a filler made by {@link fillUp}. */
function free(path: string, bytes: number): void {
  fs.truncateSync(path, fs.statSync(path).size - bytes);
}

function idsOf(events: readonly MetricEvent[]): string[] {
  return events.flatMap((e) => (e.type === "tool_call" ? [String(e.details?.attributes?.id)] : []));
}

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("ENOSPC in the middle of a journal append (full tmpfs)", () => {
  const tag = "loop";
  runIt(
    "the failed group is cut back, sync() rejects, recording goes on, and all of it lands later",
    async () => {
      requireMount();
      const sessionsDir = join(mountPoint, `part-way-${tag}`);
      const filler = join(mountPoint, `filler-part-way-${tag}`);
      const path = join(sessionsDir, "full", JOURNAL);
      const logger = new MemoryLogger();
      const c = await Collector.open({
        sessionId: "full",
        sessionsDir,
        resume: true,
        logger,
      });
      try {
        await partWay(c, logger, path, filler);
      } finally {
        fs.rmSync(filler, { force: true });
        await c.stop().catch(() => {});
      }
      const again = await Collector.open({ sessionId: "full", sessionsDir, resume: true, logger });
      expect(again.snapshot().tools[0]!.callCount).toBe(18);
      await again.stop();
      expect(checkLines(readBytes(path)).events).toHaveLength(19);
    },
  );

  async function partWay(c: Collector, logger: MemoryLogger, path: string, filler: string): Promise<void> {
    const record = (id: string, padBytes: number) =>
      c.recordToolCall("t", true, 1, { attributes: { id, pad: "x".repeat(padBytes) } });

    for (const id of range("a", 5)) record(id, 100);
    await c.sync();
    const good = fs.statSync(path).size;
    expect(checkLines(readBytes(path)).events).toHaveLength(6);

    // The disk is full but for 16 KiB; the next group is ~100 KiB.
    fillUp(filler);
    free(filler, 16 * 1024);
    for (const id of range("b", 10)) record(id, 10_000);
    const spy = spyOn(fs, "writeSync");
    let error: unknown;
    let writes: { asked: number; wrote: number | string }[];
    try {
      error = await c.sync().then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      writes = spy.mock.calls.map((args, i) => {
        const result = spy.mock.results[i]!;
        const asked = (args[1] as unknown as Uint8Array).length - ((args[2] as number | undefined) ?? 0);
        return {
          asked,
          wrote:
            result.type === "return"
              ? (result.value as number)
              : String((result.value as { code?: string } | undefined)?.code),
        };
      });
      spy.mockRestore();
    }
    // The group really was written part-way before the disk said no.
    expect(writes.some((w) => typeof w.wrote === "number" && w.wrote > 0 && w.wrote < w.asked)).toBe(true);
    expect(writes.at(-1)?.wrote).toBe("ENOSPC");

    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("ENOSPC");
    expect((error as StorageError).path).toBe(path);
    expect((error as StorageError).message).toStartWith("[session-metrics] [journal]");
    // Cut back to the last good offset: no partial line stays in the file.
    expect(fs.statSync(path).size).toBe(good);
    const cut = checkLines(readBytes(path));
    expect(cut.bad).toEqual([]);
    expect(cut.tail.length).toBe(0);
    expect(idsOf(cut.events)).toEqual(range("a", 5));
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]).toContain("ENOSPC");
    expect(logger.errors[0]).toContain(`could not append`);
    expect(logger.errors[0]).toContain(path);

    // Recording goes on, synchronously, while the disk is full; a second sync() still refuses.
    for (const id of range("c", 3)) expect(record(id, 100)).toBeUndefined();
    expect(c.snapshot().tools[0]!.callCount).toBe(18);
    expect(
      await c.sync().then(
        () => "resolved",
        (e: unknown) => e,
      ),
    ).toBeInstanceOf(StorageError);
    expect(fs.statSync(path).size).toBe(good);
    expect(logger.errors).toHaveLength(1); // reported once, not once per retry

    // Space is back: everything lands, once, in order.
    fs.rmSync(filler);
    await c.sync();
    const lines = checkLines(readBytes(path));
    expect(lines.bad).toEqual([]);
    expect(lines.tail.length).toBe(0);
    expect(seqsAreGapFree(lines.events)).toBe(true);
    expect(idsOf(lines.events)).toEqual([...range("a", 5), ...range("b", 10), ...range("c", 3)]);
    expect(logger.warnings.some((w) => w.includes("writes succeed again"))).toBe(true);
  }

  // Past `maxPendingBytes` on a refusing disk the writer sheds its queue. The next sync() must
  // report the loss, and the journal must say which seqs are missing (a `lost` marker), so that
  // replay carries on past them.

  /** Records 4 KiB events on a full disk until the bounded queue sheds; returns how many. */
  async function recordUntilShed(record: (id: string) => void, logger: MemoryLogger): Promise<number> {
    for (let i = 0; i < 100; i++) {
      record(`b${i}`);
      await Bun.sleep(2);
      if (logger.errors.some((e) => e.includes("lost from the journal"))) return i + 1;
    }
    throw new Error("the queue never shed");
  }

  /** A session with a small bound (32 KiB) recording 4 KiB events, and its filler's path. */
  async function openShedding(name: string) {
    const sessionsDir = join(mountPoint, `${name}-${tag}`);
    const filler = join(mountPoint, `filler-${name}-${tag}`);
    const logger = new MemoryLogger();
    const c = await Collector.open({
      sessionId: "shed",
      sessionsDir,
      logger,
      maxPendingBytes: 32 * 1024,
    });
    const record = (id: string) =>
      c.recordToolCall("t", true, 1, { attributes: { id, pad: "x".repeat(4096) } });
    return { c, record, logger, filler, sessionsDir };
  }

  runIt("sync() does not resolve for events the bounded queue dropped on a full disk", async () => {
    requireMount();
    const { c, record, logger, filler } = await openShedding("shed-sync");
    try {
      record("a0");
      await c.sync();
      fillUp(filler);
      const shed = await recordUntilShed(record, logger);
      expect(shed).toBeGreaterThan(1);
      // Per its contract sync() resolves only once everything recorded before it is on disk.
      const outcome = await c.sync().then(
        () => "resolved",
        (e: unknown) => e,
      );
      expect(outcome).toBeInstanceOf(StorageError);
    } finally {
      fs.rmSync(filler, { force: true });
      await c.stop().catch(() => {});
    }
  });

  runIt(
    "events acknowledged by sync() after the bounded queue shed on a full disk are replayed",
    async () => {
      requireMount();
      const { c, record, logger, filler, sessionsDir } = await openShedding("shed-gap");
      const path = join(sessionsDir, "shed", JOURNAL);
      try {
        record("a0");
        await c.sync();
        fillUp(filler);
        await recordUntilShed(record, logger);
        fs.rmSync(filler);
        // Space is back: the first sync() reports the loss, once; the next one acknowledges c0–c2.
        for (const id of range("c", 3)) record(id);
        const first = await c.sync().then(
          () => "resolved",
          (e: unknown) => e,
        );
        expect(first).toBeInstanceOf(StorageError);
        expect((first as StorageError).message).toContain("lost from the journal");
        await c.sync();
      } finally {
        fs.rmSync(filler, { force: true });
        await c.stop().catch(() => {});
      }
      // Every line on disk is whole and checksummed...
      const lines = checkLines(readBytes(path));
      expect(lines.bad).toEqual([]);
      expect(idsOf(lines.events)).toEqual(["a0", ...range("c", 3)]);
      // ...a `lost` marker names the shed seqs, so replay goes past them to the events that
      // sync() acknowledged.
      const marker = lines.events.find((e) => e.type === "lost");
      expect(marker?.type === "lost" && marker.count).toBeGreaterThan(1);
      const ids: string[] = [];
      const replayed = replaySession(sessionsDir, "shed", (e) => ids.push(...idsOf([e])));
      expect(ids).toEqual(["a0", ...range("c", 3)]);
      expect(replayed!.scan.validBytes).toBe(replayed!.scan.totalBytes);
      expect(seqsAreGapFree(lines.events)).toBe(true);
    },
  );
});

describe("a session opened on a full disk (full tmpfs)", () => {
  runIt("a lock file that could not be written does not lock the session once space is back", async () => {
    requireMount();
    const sessionsDir = join(mountPoint, "lock-on-full");
    const filler = join(mountPoint, "filler-lock-on-full");
    const first = await Collector.open({ sessionId: "s", sessionsDir, logger: new MemoryLogger() });
    first.recordToolCall("t", true, 1);
    await first.stop();

    fillUp(filler);
    let failure: unknown;
    try {
      const c = await Collector.open({
        sessionId: "s",
        sessionsDir,
        resume: true,
        logger: new MemoryLogger(),
      });
      await c.stop().catch(() => {});
    } catch (error) {
      failure = error;
    } finally {
      fs.rmSync(filler);
    }
    // Opening may or may not succeed on a full disk; if it fails, it says why and leaves no lock.
    if (failure !== undefined) {
      expect(failure).toBeInstanceOf(StorageError);
      expect((failure as StorageError).code).toBe("ENOSPC");
    }
    expect(fs.existsSync(join(sessionsDir, "s", ".lock"))).toBe(false);
    const c = await Collector.open({ sessionId: "s", sessionsDir, resume: true, logger: new MemoryLogger() });
    expect(c.snapshot().tools[0]!.callCount).toBe(1);
    await c.stop();
  });
});
