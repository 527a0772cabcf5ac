/**
 * Regressions found by the fault sweep (test/torture/areas/faults.ts) in the file layer: a temp
 * file the disk refused to remove is removed by the next write, a failed close of a file only
 * read loses nothing, and a recovery that cannot write its set-aside copy leaves no partial copy.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { StorageError } from "../../src/errors.ts";
import { pendingRemovals } from "../../src/fs/leftovers.ts";
import { load, save } from "../../src/fs/metrics-file.ts";
import { Collector } from "../../src/session/collector.ts";
import { MemoryLogger, TempDirs } from "../journal/helpers.ts";
import { failuresUndoneAfterEach } from "../support/failing-io.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const fail = failuresUndoneAfterEach();

async function document(sessionsDir: string, records: number) {
  const c = await Collector.open({
    sessionId: "doc",
    sessionsDir,
    journal: false,
    logger: new MemoryLogger(),
  });
  for (let i = 0; i < records; i++) c.recordToolCall(`t${i}`, true, 1);
  const snapshot = c.snapshot();
  await c.stop();
  return snapshot;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("the file layer when the disk refuses", () => {
  test("a temp file the disk refuses to remove after a failed save() goes with the next write", async () => {
    const sessionsDir = temps.make("temp-left", { fast: true });
    const first = await document(temps.make("doc-a", { fast: true }), 1);
    const second = await document(temps.make("doc-b", { fast: true }), 2);
    await save(sessionsDir, "doc", first);
    const rename = fail("rename", "EIO");
    const unlink = fail("unlinkSync", "EIO");
    const error = await rejection(save(sessionsDir, "doc", second));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toEndWith(
      "EIO: injected, rename; the previous file is unchanged",
    );
    const dir = join(sessionsDir, "doc");
    const temp = readdirSync(dir).filter((n) => n.endsWith(".tmp"));
    expect(temp).toHaveLength(1);
    expect(pendingRemovals()).toEqual([join(dir, temp[0]!)]);
    expect(readFileSync(join(dir, "METRICS.json"), "utf8")).toBe(encodeMetrics(first));
    rename.clear();
    unlink.clear();
    await save(sessionsDir, "doc", second);
    expect(readdirSync(dir)).toEqual(["METRICS.json"]);
    expect(pendingRemovals()).toEqual([]);
  });

  test("load() of a METRICS.json whose close fails still returns the document", async () => {
    const sessionsDir = temps.make("close-read", { fast: true });
    const doc = await document(temps.make("doc-c", { fast: true }), 3);
    await save(sessionsDir, "doc", doc);
    const close = fail("closeSync", "EIO");
    const loaded = await load(sessionsDir, "doc");
    expect(close.failures).toBe(1);
    expect(loaded === null ? null : encodeMetrics(loaded)).toBe(encodeMetrics(doc));
  });

  test("a recovery that cannot write the set-aside copy fails with StorageError and leaves no partial copy", async () => {
    const sessionsDir = temps.make("aside", { fast: true });
    const c = await Collector.open({ sessionId: "s", sessionsDir, logger: new MemoryLogger() });
    c.recordToolCall("Read", true, 1);
    await c.stop();
    const path = join(sessionsDir, "s", "journal.jsonl");
    writeFileSync(path, `${readFileSync(path, "utf8")}{"v":1,"seq":9,"torn-marker`);
    const write = fail("writeSync", "ENOSPC", (args) =>
      Buffer.from(args[1] as Uint8Array).includes("torn-marker"),
    );
    const error = await rejection(
      Collector.open({ sessionId: "s", sessionsDir, resume: true, logger: new MemoryLogger() }),
    );
    expect(write.failures).toBe(1);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toBe(
      `[session-metrics] [journal] could not set aside the bad bytes of ${path}: ENOSPC: injected, writeSync`,
    );
    expect(readdirSync(join(sessionsDir, "s")).filter((n) => n.startsWith("journal.corrupt-"))).toEqual([]);
    write.clear();
    const again = await Collector.open({
      sessionId: "s",
      sessionsDir,
      resume: true,
      logger: new MemoryLogger(),
    });
    expect(again.snapshot().tools.map((t) => t.name)).toEqual(["Read"]);
    await again.stop();
  });
});

test("a failed fsync of the folder after the rename says the new file is in place", async () => {
  const sessionsDir = temps.make("dir-fsync", { fast: true });
  const doc = await document(temps.make("doc-d", { fast: true }), 1);
  await save(sessionsDir, "doc", doc);
  let n = 0;
  fail("fsync", "EIO", () => ++n === 2); // 1: the temp file, 2: the folder
  const error = await rejection(save(sessionsDir, "doc", doc));
  const path = join(sessionsDir, "doc", "METRICS.json");
  expect((error as StorageError).message).toBe(
    `[session-metrics] [write] could not fsync the directory of ${path}: EIO: injected, fsync; the new file is in place but may not survive a power loss`,
  );
  expect(readFileSync(path, "utf8")).toBe(encodeMetrics(doc));
});
