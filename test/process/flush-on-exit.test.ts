/**
 * `flushOnExit: true` in a real child process: METRICS.json is written on a normal exit, on
 * process.exit(), on SIGINT and on SIGTERM, and the exit status still tells how the process ended.
 * Without the option, nothing is written.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { load } from "../../src/index.ts";
import { fixture, killStragglers, LineReader, TempDirs, tempFilesIn, track } from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(async () => {
  await killStragglers();
  temps.removeAll();
});

type End = "return" | "exit3" | "wait" | "handler";

/** Runs the exit fixture, optionally signals it once it is ready, and returns how it ended. */
async function runChild(flushOnExit: boolean, end: End, signal?: "SIGINT" | "SIGTERM") {
  const sessionsDir = temps.make("exit");
  const sessionId = "exit-session";
  const child = track(
    Bun.spawn(["bun", fixture("exit-child.ts"), sessionsDir, sessionId, flushOnExit ? "1" : "0", end], {
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const lines = new LineReader(child.stdout);
  await lines.waitFor("ready");
  if (signal !== undefined) child.kill(signal);
  await child.exited;
  await lines.drain();
  const stderr = await new Response(child.stderr).text();
  return {
    exitCode: child.exitCode,
    signalCode: child.signalCode,
    stderr,
    sessionsDir,
    sessionId,
    path: join(sessionsDir, sessionId, "METRICS.json"),
  };
}

/** The child's records, as they must appear in its METRICS.json. */
async function expectChildDocument(sessionsDir: string, sessionId: string): Promise<void> {
  const m = await load(sessionsDir, sessionId);
  expect(m).not.toBeNull();
  expect(m!.tools).toEqual([
    { name: "Read", callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 12, avgDurationMs: 12 },
    { name: "Edit", callCount: 1, successCount: 0, failCount: 1, totalDurationMs: 30, avgDurationMs: 30 },
  ]);
  expect(m!.llms).toEqual([
    {
      phase: "execute",
      promptTokens: 100,
      completionTokens: 20,
      totalTokens: 120,
      cost: 0.25,
      interactionCount: 1,
      promptHash: "9c7898597b84f182",
      truncatedInput: true,
    },
  ]);
  expect(m!.phases).toHaveLength(1);
  expect(m!.phases[0]).toMatchObject({
    phase: "execute",
    durationMs: 1234,
    transitionCount: 1,
    success: true,
  });
  expect(tempFilesIn(join(sessionsDir, sessionId))).toEqual([]);
}

describe("flushOnExit: true", () => {
  test("a normal exit writes METRICS.json (and the process does exit)", async () => {
    const r = await runChild(true, "return");
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("");
    await expectChildDocument(r.sessionsDir, r.sessionId);
  });

  test("process.exit(3) writes METRICS.json and keeps the exit code", async () => {
    const r = await runChild(true, "exit3");
    expect(r.exitCode).toBe(3);
    await expectChildDocument(r.sessionsDir, r.sessionId);
  });

  test("SIGINT writes METRICS.json and the process still dies of SIGINT", async () => {
    const r = await runChild(true, "wait", "SIGINT");
    expect(r.signalCode === "SIGINT" || r.exitCode === 130).toBe(true);
    await expectChildDocument(r.sessionsDir, r.sessionId);
  });

  test("SIGTERM writes METRICS.json and the process still dies of SIGTERM", async () => {
    const r = await runChild(true, "wait", "SIGTERM");
    expect(r.signalCode === "SIGTERM" || r.exitCode === 143).toBe(true);
    await expectChildDocument(r.sessionsDir, r.sessionId);
  });

  test("with the application's own SIGINT handler: written once, and the application decides the exit", async () => {
    const r = await runChild(true, "handler", "SIGINT");
    expect(r.exitCode).toBe(7);
    expect(r.stderr).toBe("");
    await expectChildDocument(r.sessionsDir, r.sessionId);
  });
});

describe("flushOnExit off (the default)", () => {
  test("SIGTERM leaves no file", async () => {
    const r = await runChild(false, "wait", "SIGTERM");
    expect(r.signalCode === "SIGTERM" || r.exitCode === 143).toBe(true);
    expect(existsSync(r.path)).toBe(false);
  });

  test("a normal exit leaves no file either (only flush/stop write, as in Go)", async () => {
    const r = await runChild(false, "return");
    expect(r.exitCode).toBe(0);
    expect(existsSync(r.path)).toBe(false);
  });
});
