/**
 * Crash safety: a child process records and flushes in a loop and is SIGKILLed at 100 random
 * moments. Whatever the moment, METRICS.json is absent or a whole, valid snapshot.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../src/core/go-document.ts";
import { load } from "../../src/index.ts";
import { fixture, inBatches, killStragglers, LineReader, TempDirs, tempFilesIn, track } from "./helpers.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(async () => {
  await killStragglers();
  temps.removeAll();
});

const KILLS = 100;
const PARALLEL = 4;
const MAX_DELAY_MS = 30;

type Outcome = { present: boolean; rounds: number; leftoverTemps: number };

/** Spawns one writer, kills it `delayMs` after it says "ready", and inspects what it left. */
async function killOnce(sessionsDir: string, index: number, delayMs: number): Promise<Outcome> {
  const sessionId = `kill-${index}`;
  // Even children say "ready" only after their first flush, so their file must exist when killed.
  const readyAfterFirstFlush = index % 2 === 0;
  const child = track(
    Bun.spawn(["bun", fixture("flush-loop.ts"), sessionsDir, sessionId, readyAfterFirstFlush ? "1" : "0"], {
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const lines = new LineReader(child.stdout);
  try {
    await lines.waitFor("ready");
  } catch (error) {
    child.kill("SIGKILL");
    await child.exited;
    throw new Error(`${error}; stderr: ${await new Response(child.stderr).text()}`);
  }
  await Bun.sleep(delayMs);
  child.kill("SIGKILL");
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  await lines.drain();

  const dir = join(sessionsDir, sessionId);
  const leftoverTemps = tempFilesIn(dir).length;
  const path = join(dir, "METRICS.json");
  if (!existsSync(path)) {
    expect(readyAfterFirstFlush).toBe(false);
    return { present: false, rounds: 0, leftoverTemps };
  }
  const text = readFileSync(path, "utf8");
  const m = await load(sessionsDir, sessionId);
  expect(m).not.toBeNull();
  // A whole snapshot, byte for byte what the codec writes for what it loads...
  expect(encodeMetrics(m!)).toBe(text);
  // ...taken between two rounds of the child's loop (each round: 5 new tools × 10 calls,
  // 50 LLM calls, 50 transitions, then phase-0's duration := round).
  const rounds = m!.tools.length / 5;
  expect(Number.isInteger(rounds) && rounds >= 1).toBe(true);
  const calls = m!.tools.reduce((n, t) => n + t.callCount, 0);
  expect(calls).toBe(50 * rounds);
  for (const t of m!.tools) {
    expect(t.callCount).toBe(10);
    expect(t.successCount + t.failCount).toBe(t.callCount);
  }
  expect(m!.llms.reduce((n, l) => n + l.interactionCount, 0)).toBe(50 * rounds);
  expect(m!.llms.reduce((n, l) => n + l.cost, 0)).toBe(50 * rounds * 0.125);
  expect(m!.phases.reduce((n, p) => n + p.transitionCount, 0)).toBe(50 * rounds);
  expect(m!.phases.find((p) => p.phase === "phase-0")!.durationMs).toBe(rounds - 1);
  return { present: true, rounds, leftoverTemps };
}

describe("SIGKILL during a record/flush loop", () => {
  test(`${KILLS} kills at random moments leave METRICS.json absent or valid`, async () => {
    const sessionsDir = temps.make("sigkill");
    const delays = Array.from({ length: KILLS }, () => Math.random() * MAX_DELAY_MS);
    const outcomes = await inBatches(delays, PARALLEL, (delay, index) => killOnce(sessionsDir, index, delay));

    const present = outcomes.filter((o) => o.present);
    const withTemps = outcomes.filter((o) => o.leftoverTemps > 0);
    console.log(
      `[sigkill] ${KILLS} kills: METRICS.json valid in ${present.length}, absent in ${KILLS - present.length}; ` +
        `up to ${Math.max(...present.map((o) => o.rounds))} rounds written; ` +
        `a temp file was left behind by ${withTemps.length} kills (acceptable after SIGKILL, the target was valid)`,
    );
    expect(outcomes).toHaveLength(KILLS);
    // The children that were killed only after a successful flush always left a file.
    expect(present.length).toBeGreaterThanOrEqual(KILLS / 2);
    // A temp file never replaces the target: at most one write was in flight when killed.
    for (const o of outcomes) expect(o.leftoverTemps).toBeLessThanOrEqual(1);
  });
});
