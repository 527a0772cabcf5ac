/**
 * Temp files a crash left in a session folder (a METRICS.json write cut off mid-way, a lock's
 * private temp file) are removed by the next open that takes the lock, once they are old enough
 * not to belong to a write in progress. Found by the power-loss model: ~20% of its crash points
 * left one that no later open removed.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeStaleTemps, STALE_TEMP_MS } from "../../src/fs/leftovers.ts";
import { Collector } from "../../src/session/collector.ts";
import { MemoryLogger, TempDirs } from "../journal/helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

function plant(dir: string, name: string, ageMs: number): void {
  writeFileSync(join(dir, name), "half a write");
  const at = (Date.now() - ageMs) / 1000;
  utimesSync(join(dir, name), at, at);
}

test("opening a session removes old temp files of atomic writes and of the lock, and nothing else", async () => {
  const sessionsDir = temps.make("stale-temps", { fast: true });
  const dir = join(sessionsDir, "s1");
  mkdirSync(dir, { recursive: true });
  const old = STALE_TEMP_MS + 5_000;
  plant(dir, ".METRICS.json.0123456789ab.tmp", old);
  plant(dir, ".lock.4242.deadbeef", old);
  plant(dir, ".METRICS.json.ba9876543210.tmp", 1_000); // young: a save() in progress elsewhere
  plant(dir, "notes.tmp", old); // not a name of ours
  plant(dir, ".METRICS.json.xyz.tmp", old); // not a name of ours either
  mkdirSync(join(dir, ".lock.7.0badf00d")); // a directory is never removed
  const target = join(sessionsDir, "outside.txt");
  writeFileSync(target, "keep me");
  symlinkSync(target, join(dir, ".journal.jsonl.aaaaaaaaaaaa.tmp"));
  utimesSync(dir, Date.now() / 1000, Date.now() / 1000);

  const c = await Collector.open({ sessionsDir, sessionId: "s1", logger: new MemoryLogger() });
  c.recordToolCall("t", true, 1);
  await c.stop();

  expect(readdirSync(dir).sort()).toEqual(
    [
      ".METRICS.json.ba9876543210.tmp",
      ".METRICS.json.xyz.tmp",
      ".journal.jsonl.aaaaaaaaaaaa.tmp", // a fresh link (lstat's age is the link's own): kept
      ".lock.7.0badf00d",
      "METRICS.json",
      "journal.jsonl",
      "notes.tmp",
    ].sort(),
  );
  expect(readdirSync(sessionsDir).includes("outside.txt")).toBe(true);
});

test("removeStaleTemps removes an old link itself, never its target, and reports what it removed", () => {
  const dir = temps.make("stale-link", { fast: true });
  const target = join(dir, "target");
  writeFileSync(target, "keep me");
  const link = join(dir, ".METRICS.json.0123456789ab.tmp");
  symlinkSync(target, link);
  const later = Date.now() + STALE_TEMP_MS + 1_000;
  expect(removeStaleTemps(dir, later)).toEqual([".METRICS.json.0123456789ab.tmp"]);
  expect(readdirSync(dir)).toEqual(["target"]);
  expect(removeStaleTemps(join(dir, "missing"), later)).toEqual([]);
});
