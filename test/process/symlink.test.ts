/**
 * A flush replaces METRICS.json; it never writes through a symlink planted in its place (the
 * rename replaces the link itself), and never follows one planted at its temp path (exclusive
 * create), so a file outside the session folder cannot be clobbered.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { Collector, load } from "../../src/index.ts";
import { fixture, killStragglers, TempDirs, tempFilesIn, track } from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(async () => {
  await killStragglers();
  temps.removeAll();
});

const OUTSIDE = "precious data outside the session folder\n";

/** A session folder whose METRICS.json is a symlink to `target` (outside it). */
function plant(sessionId: string, target: string): { sessionsDir: string; path: string } {
  const sessionsDir = temps.make("symlink");
  mkdirSync(join(sessionsDir, sessionId));
  const path = join(sessionsDir, sessionId, "METRICS.json");
  symlinkSync(target, path);
  return { sessionsDir, path };
}

function record(collector: Collector): void {
  collector.recordToolCall("Read", true, 4);
  collector.recordPhaseTransition("execute");
}

describe("METRICS.json replaced by a symlink", () => {
  for (const mode of ["flush", "flushSync", "stop"] as const) {
    test(`${mode}() replaces the link and leaves its target alone`, async () => {
      const outsideDir = temps.make("outside");
      const target = join(outsideDir, "target.json");
      writeFileSync(target, OUTSIDE);
      const sessionId = `symlink-${mode}`;
      const { sessionsDir, path } = plant(sessionId, target);

      const collector = new Collector({ sessionId, sessionsDir });
      record(collector);
      if (mode === "flush") await collector.flush();
      else if (mode === "flushSync") collector.flushSync();
      else await collector.stop();

      expect(readFileSync(target, "utf8")).toBe(OUTSIDE);
      const stat = lstatSync(path);
      expect(stat.isSymbolicLink()).toBe(false);
      expect(stat.isFile()).toBe(true);
      expect(readFileSync(path, "utf8")).toBe(encodeMetrics(collector.snapshot()));
      expect((await load(sessionsDir, sessionId))!.tools[0]!.name).toBe("Read");
      expect(tempFilesIn(join(sessionsDir, sessionId))).toEqual([]);
      await collector.stop();
    });
  }

  test("a dangling link does not make the flush create its target", async () => {
    const outsideDir = temps.make("outside");
    const target = join(outsideDir, "created-by-mistake.json");
    const sessionId = "symlink-dangling";
    const { sessionsDir, path } = plant(sessionId, target);

    const collector = new Collector({ sessionId, sessionsDir });
    record(collector);
    await collector.flush();

    expect(existsSync(target)).toBe(false);
    expect(lstatSync(path).isFile()).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(encodeMetrics(collector.snapshot()));
    await collector.stop();
  });
});

describe("a symlink planted at the temp path", () => {
  for (const mode of ["flush", "flushSync"] as const) {
    test(`${mode}() never writes through it; the next ${mode}() succeeds`, async () => {
      const outsideDir = temps.make("outside");
      const target = join(outsideDir, "target.json");
      writeFileSync(target, OUTSIDE);
      const sessionsDir = temps.make("planted");
      const sessionId = `planted-${mode}`;
      // The child makes the temp name predictable (a mocked randomBytes) and plants the links.
      const child = track(
        Bun.spawn(["bun", fixture("planted-temp-child.ts"), sessionsDir, sessionId, target, mode], {
          stdout: "pipe",
          stderr: "pipe",
        }),
      );
      const [out, err, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      expect({ code, err }).toEqual({ code: 0, err: "" });
      const report = JSON.parse(out) as {
        first: { ok: boolean; name?: string; code?: string };
        second: { ok: boolean };
        planted: string[];
        predictableCalls: number;
      };
      expect(report.predictableCalls).toBeGreaterThanOrEqual(1); // the planted name was really used

      // Whatever the first attempt did, nothing went through the link...
      expect(readFileSync(target, "utf8")).toBe(OUTSIDE);
      // ...and if it refused, it said so with a typed error (exclusive create: EEXIST).
      if (!report.first.ok) expect(report.first).toEqual({ ok: false, name: "StorageError", code: "EEXIST" });
      for (const name of report.planted) {
        // A planted link may be removed, but never replaced by a file or re-pointed.
        const link = join(sessionsDir, sessionId, name);
        const stat = lstatSync(link, { throwIfNoEntry: false });
        if (stat !== undefined) {
          expect(stat.isSymbolicLink()).toBe(true);
          expect(readlinkSync(link)).toBe(target);
        }
      }

      // With a fresh random name the next attempt writes a regular METRICS.json.
      expect(report.second).toEqual({ ok: true });
      const path = join(sessionsDir, sessionId, "METRICS.json");
      expect(lstatSync(path).isFile()).toBe(true);
      expect((await load(sessionsDir, sessionId))!.tools[0]!.name).toBe("Read");
      expect(readFileSync(target, "utf8")).toBe(OUTSIDE);
    });
  }
});
