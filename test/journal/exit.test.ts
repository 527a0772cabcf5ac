/**
 * A process that records and exits without awaiting anything loses nothing: the exit hook writes
 * what the journal still has queued, synchronously.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { checkLines, fixture, JOURNAL, readBytes, seqsAreGapFree, TempDirs, track } from "./helpers.ts";

setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

/** Runs a fixture in a child process to its end. */
async function runFixture(name: string, args: string[]): Promise<{ out: string; err: string; code: number }> {
  const child = track(
    Bun.spawn([process.execPath, fixture(name), ...args], { stdout: "pipe", stderr: "pipe" }),
  );
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { out, err, code };
}

for (const how of ["exit", "end"] as const)
  test(`a process that records and then ${how === "exit" ? "calls process.exit()" : "just ends"} leaves every event in the journal`, async () => {
    const sessionsDir = temps.make(`exit-${how}`);
    const { out, err, code } = await runFixture("exit-writer.ts", [sessionsDir, "x", "50000", how]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toBe("");
    const lines = checkLines(readBytes(join(sessionsDir, "x", JOURNAL)));
    expect(lines.bad).toEqual([]);
    expect(lines.tail.length).toBe(0);
    expect(lines.events).toHaveLength(1 + 50_000 + 50);
    expect(seqsAreGapFree(lines.events)).toBe(true);
  });
