/**
 * The journal thread (the default writer): the same bytes as the event-loop writer, synchronous
 * visibility for writeQueued()/flushSync(), every event on disk when a process exits without
 * awaiting anything, and the event-loop fallback for a bundle shipped without the thread module.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Collector } from "../../src/collector.ts";
import {
  bundleFixture,
  checkLines,
  fixture,
  JOURNAL,
  MemoryLogger,
  readBytes,
  seqsAreGapFree,
  TempDirs,
  track,
} from "./helpers.ts";

setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

/** A fixed clock that moves 1 ms per reading, so both writers see the same timestamps. */
function steppingClock(): () => Date {
  let t = Date.UTC(2026, 10, 22, 5, 0, 0, 0);
  return () => new Date(t++);
}

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

/** Every kind of event, names that need escaping included. */
function recordMix(c: Collector): void {
  const names = ["Read", "naïve-tool", 'quote"and\\slash', "tab\there", "<html>&", "\u2028line", "日本語"];
  for (let i = 0; i < 3000; i++) {
    const name = names[i % names.length]!;
    if (i % 11 === 0) c.recordToolCall(name, i % 3 === 0, i / 7, { agent: "coder", attempt: 2 });
    else c.recordToolCall(name, i % 4 !== 0, i % 50);
    if (i % 97 === 0) c.recordPhaseTransition(names[(i / 97) % names.length]!);
    if (i % 101 === 0) c.recordHealTrigger("heal");
    if (i % 103 === 0) c.recordBisectOutcome("bisect", i % 2 === 0);
    if (i % 89 === 0) c.recordLLMInteraction("plan", { promptTokens: i, completionTokens: 3 }, 0.25);
    if (i % 500 === 0) c.recordToolCall("", true, 1); // dropped: a `dropped` event
  }
  c.recordPhaseDuration("plan", 1234, true);
  c.recordEditStrategy("diff");
}

describe("the journal thread", () => {
  test("writes byte for byte what the event-loop writer writes", async () => {
    const sessionsDir = temps.make("same-bytes", { fast: true });
    const journals: Uint8Array[] = [];
    for (const journalThread of [true, false]) {
      const sessionId = journalThread ? "thread" : "loop";
      const c = new Collector({ sessionId, sessionsDir, journalThread, now: steppingClock() });
      expect(c.journalStats()?.writtenOn).toBe(journalThread ? "thread" : "event-loop");
      recordMix(c);
      await c.stop();
      journals.push(readBytes(join(sessionsDir, sessionId, JOURNAL)));
    }
    const [thread, loop] = journals.map((bytes) => Buffer.from(bytes).toString("utf8"));
    // The first line names the session; everything after it is the same, byte for byte.
    const body = (text: string) => text.slice(text.indexOf("\n") + 1);
    expect(body(thread!).length).toBeGreaterThan(300_000);
    expect(body(thread!)).toBe(body(loop!));
    const lines = checkLines(journals[0]!);
    expect(lines.bad).toEqual([]);
    expect(seqsAreGapFree(lines.events)).toBe(true);
  });

  test("writeQueued() and flushSync() return with every recorded line in the file", async () => {
    const sessionsDir = temps.make("sync-visibility", { fast: true });
    const path = join(sessionsDir, "v", JOURNAL);
    const c = new Collector({ sessionId: "v", sessionsDir, logger: new MemoryLogger() });
    for (let i = 0; i < 10_000; i++) c.recordToolCall(`t${i % 5}`, true, i % 9);
    // computeAggregate() reads the journal: it must see all 10,000 calls without any await.
    const aggregate = c.computeAggregate();
    expect(aggregate.totalInvocations).toBe(10_000);
    for (let i = 0; i < 777; i++) c.recordPhaseTransition("p");
    c.flushSync();
    const lines = checkLines(readBytes(path));
    expect(lines.events).toHaveLength(1 + 10_000 + 777);
    expect(lines.tail.length).toBe(0);
    expect(c.journalStats()?.fsyncs).toBeGreaterThan(0);
    // Nothing is pending once it is all on disk.
    await c.sync();
    expect(c.journalStats()?.pendingBytes).toBe(0);
    await c.stop();
  });

  for (const how of ["exit", "end"] as const)
    test(`a process that records and then ${how === "exit" ? "calls process.exit()" : "just ends"} leaves every event in the journal`, async () => {
      const sessionsDir = temps.make(`exit-${how}`);
      const { out, err, code } = await runFixture("exit-writer.ts", [sessionsDir, "x", "50000", how]);
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(JSON.parse(out)).toEqual({ writtenOn: "thread" });
      const lines = checkLines(readBytes(join(sessionsDir, "x", JOURNAL)));
      expect(lines.bad).toEqual([]);
      expect(lines.tail.length).toBe(0);
      expect(lines.events).toHaveLength(1 + 50_000 + 50);
      expect(seqsAreGapFree(lines.events)).toBe(true);
    });

  test("a thread that stops mid-run: the event loop takes the journal over and nothing is lost", async () => {
    const sessionsDir = temps.make("takeover");
    const { out, err, code } = await runFixture("takeover-writer.ts", [sessionsDir]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(out) as { before: string; after: string; later: string; errors: string[] };
    expect([report.before, report.after, report.later]).toEqual(["thread", "event-loop", "event-loop"]);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toContain("the journal thread failed (stopped on request)");
    expect(report.errors[0]).toContain("written on the event loop from now on; nothing was lost");
    // Events were still with the event loop or in flight: they were written from the kept copies.
    expect(
      Number(/\((\d+) events it had not written were written here\)/.exec(report.errors[0]!)?.[1]),
    ).toBeGreaterThan(0);
    const a = checkLines(readBytes(join(sessionsDir, "a", JOURNAL)));
    expect(a.bad).toEqual([]);
    expect(a.tail.length).toBe(0);
    expect(a.events).toHaveLength(1 + 40_000);
    expect(a.events.some((e) => e.type === "lost")).toBe(false);
    expect(seqsAreGapFree(a.events)).toBe(true);
    expect(checkLines(readBytes(join(sessionsDir, "b", JOURNAL))).events).toHaveLength(1 + 1000);
  });

  test("a thread module that fails to load: the exit hook takes over and the journal is whole", async () => {
    const outdir = temps.make("bundle-broken-thread");
    const bundle = await bundleFixture("exit-writer.ts", outdir);
    writeFileSync(join(outdir, "journal-thread.js"), 'throw new Error("broken on purpose");\n');
    const sessionsDir = temps.make("broken-thread-sessions");
    const result = Bun.spawnSync([process.execPath, bundle, sessionsDir, "b", "5000", "exit"]);
    expect(JSON.parse(result.stdout.toString())).toEqual({ writtenOn: "thread" });
    expect(result.stderr.toString()).toContain("written on the event loop from now on; nothing was lost");
    const lines = checkLines(readBytes(join(sessionsDir, "b", JOURNAL)));
    expect(lines.bad).toEqual([]);
    expect(lines.events).toHaveLength(1 + 5000 + 5);
    expect(seqsAreGapFree(lines.events)).toBe(true);
  });

  test("a bundle shipped without the thread module journals on the event loop", async () => {
    const outdir = temps.make("bundle-without-thread");
    const bundle = await bundleFixture("exit-writer.ts", outdir);
    const { rmSync } = await import("node:fs");
    for (const file of readdirSync(outdir)) if (file.startsWith("journal-thread")) rmSync(join(outdir, file));
    const sessionsDir = temps.make("bundle-sessions");
    const result = Bun.spawnSync([process.execPath, bundle, sessionsDir, "b", "5000", "exit"]);
    expect(result.stderr.toString()).toBe("");
    expect(JSON.parse(result.stdout.toString())).toEqual({ writtenOn: "event-loop" });
    const lines = checkLines(readBytes(join(sessionsDir, "b", JOURNAL)));
    expect(lines.events).toHaveLength(1 + 5000 + 5);
    expect(seqsAreGapFree(lines.events)).toBe(true);
  });

  test("a bundle shipped with the thread module uses the thread", async () => {
    const outdir = temps.make("bundle-with-thread");
    const bundle = await bundleFixture("exit-writer.ts", outdir);
    expect(readdirSync(outdir).sort()).toEqual(["exit-writer.js", "journal-thread.js"]);
    const sessionsDir = temps.make("bundle-thread-sessions");
    const result = Bun.spawnSync([process.execPath, bundle, sessionsDir, "b", "5000", "exit"]);
    expect(result.stderr.toString()).toBe("");
    expect(JSON.parse(result.stdout.toString())).toEqual({ writtenOn: "thread" });
    expect(checkLines(readBytes(join(sessionsDir, "b", JOURNAL))).events).toHaveLength(1 + 5000 + 5);
  });
});
