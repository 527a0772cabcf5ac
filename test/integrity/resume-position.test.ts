/**
 * Which document wins on resume is decided by journal position, never by wall clock: the journal
 * wins when METRICS.json is the fold of one of its prefixes, so a run whose clock was stepped
 * back is never thrown away, and a `journal: false` run (whose document is not such a fold) is
 * never lost either, whatever its clock said.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Collector, load, replayMetrics } from "../../src/index.ts";
import { fixture, killStragglers, MemoryLogger, T0, TempDirs, track, waitForLine } from "./helpers.ts";

setDefaultTimeout(30_000);

const temps = new TempDirs();
afterAll(() => {
  killStragglers();
  temps.removeAll();
});

const SESSION = "stepped";

async function open(sessionsDir: string, ms: number, logger = new MemoryLogger(), journal = true) {
  return Collector.open({
    sessionId: SESSION,
    sessionsDir,
    resume: true,
    journal,
    now: () => new Date(ms),
    logger,
  });
}

describe("resume decided by journal position, not by wall clock", () => {
  test("a run with the clock 2 s earlier that synced and was SIGKILLed is kept by every later resume", async () => {
    const sessionsDir = temps.make("stepped-back");

    // Run A: 5 calls (1..5 ms), stopped: METRICS.json is the fold of the whole journal.
    const a = await open(sessionsDir, T0);
    for (let i = 1; i <= 5; i++) a.recordToolCall("Read", true, i);
    await a.stop();
    expect((await load(sessionsDir, SESSION))!.tools[0]!.callCount).toBe(5);

    // Run B, in a child: the clock 2 s earlier; 7 calls (10..16 ms) synced, then SIGKILL.
    const child = track(
      Bun.spawn(["bun", fixture("sync-then-wait.ts"), sessionsDir, SESSION, "7", String(T0 - 2_000)], {
        stdout: "pipe",
        stderr: "inherit",
      }),
    );
    const printed = await waitForLine(child.stdout, "synced");
    expect(printed).toEqual(["opened 5", "synced"]);
    child.kill("SIGKILL");
    await child.exited;
    expect(child.signalCode).toBe("SIGKILL");
    // B never flushed: METRICS.json still says 5, with A's (later) updated_at.
    expect((await load(sessionsDir, SESSION))!.tools[0]!.callCount).toBe(5);

    const expected = {
      name: "Read",
      callCount: 12,
      successCount: 12,
      failCount: 0,
      totalDurationMs: 15 + 91,
      avgDurationMs: 106 / 12,
    };
    expect((await replayMetrics(sessionsDir, SESSION))!.tools).toEqual([expected]);

    // The next resume (clock back at A's time) continues from the journal: 12 calls.
    const c = await open(sessionsDir, T0);
    expect(c.snapshot().tools).toEqual([expected]);
    await c.stop();
    expect((await load(sessionsDir, SESSION))!.tools).toEqual([expected]);

    // And so does the one after it.
    const d = await open(sessionsDir, T0 + 1_000);
    expect(d.snapshot().tools).toEqual([expected]);
    await d.stop();
    expect((await load(sessionsDir, SESSION))!.tools).toEqual([expected]);
    expect((await replayMetrics(sessionsDir, SESSION))!.tools).toEqual([expected]);
  });

  test("a journal: false run with the clock stepped back 2 s is not lost on the next resume", async () => {
    const sessionsDir = temps.make("stepped-no-journal");
    const first = await open(sessionsDir, T0);
    first.recordToolCall("journaled", true, 1);
    await first.stop();

    // Without the journal and with an earlier clock: its METRICS.json is older by the clock, but
    // it is not the fold of any prefix of the journal, so it came after the journal's last event.
    const second = await open(sessionsDir, T0 - 2_000, new MemoryLogger(), false);
    second.recordToolCall("not-journaled", true, 2);
    await second.stop();
    expect((await load(sessionsDir, SESSION))!.tools.map((t) => t.name)).toEqual([
      "journaled",
      "not-journaled",
    ]);

    const third = await open(sessionsDir, T0 - 1_000);
    expect(third.snapshot().tools.map((t) => [t.name, t.callCount])).toEqual([
      ["journaled", 1],
      ["not-journaled", 1],
    ]);
    third.recordToolCall("journaled", true, 3);
    await third.stop();

    const fourth = await open(sessionsDir, T0 + 5_000);
    expect(fourth.snapshot().tools.map((t) => [t.name, t.callCount, t.totalDurationMs])).toEqual([
      ["journaled", 2, 4],
      ["not-journaled", 1, 2],
    ]);
    await fourth.stop();
  });
});
