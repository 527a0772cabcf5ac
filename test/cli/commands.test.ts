import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, runCli } from "../../src/cli/commands.ts";
import { Collector, encodeMetrics, ValidationError } from "../../src/index.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sm-cli-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function session(id: string): Promise<Collector> {
  const c = new Collector({
    sessionId: id,
    sessionsDir: dir,
    now: () => new Date("2026-11-22T01:00:00.000Z"),
  });
  c.recordToolCall("Read", true, 12);
  c.recordInvocation({
    invocationId: "i1",
    agent: "coder",
    phase: 1,
    durationMs: 1000,
    tokens: 10,
    cost: 0.5,
    exitCode: 0,
    success: true,
    attempt: 1,
    outputParsed: true,
    timestamp: "2026-11-22T01:00:00.000Z",
  });
  const turn = c.startTurn({ turnId: "t1" });
  turn.startStep().end({ promptTokens: 5, completionTokens: 2 });
  turn.end();
  return c;
}

describe("session-metrics CLI", () => {
  test("parses --dir in both spellings and refuses unknown options with the usage", () => {
    expect(parseArgs(["show", "--dir", "x", "s1"])).toEqual({ command: "show", dir: "x", sessionId: "s1" });
    expect(parseArgs(["--dir=y", "list"])).toEqual({ command: "list", dir: "y", sessionId: undefined });
    expect(() => parseArgs(["show", "--verbose"])).toThrow(ValidationError);
    expect(() => parseArgs(["show", "--verbose"])).toThrow(
      "[session-metrics] [cli] unknown option --verbose",
    );
    expect(() => parseArgs([])).toThrow("no command given");
    expect(() => parseArgs(["show", "--dir"])).toThrow("--dir needs a folder");
  });

  test("show prints METRICS.json byte for byte, and falls back to the journal before any flush", async () => {
    const c = await session("s1");
    await c.sync(); // what another process can read: the journal on disk
    const live = await runCli(["show", "s1", "--dir", dir]);
    expect(live).toEqual({ code: 0, out: encodeMetrics(c.snapshot()) });
    await c.stop();
    const after = await runCli(["show", "s1", "--dir", dir]);
    expect(after.out).toBe(await Bun.file(join(dir, "s1", "METRICS.json")).text());
  });

  test("list, turns and aggregate read the sessions directory", async () => {
    await (await session("b")).stop();
    await (await session("a")).stop();
    expect(await runCli(["list", "--dir", dir])).toEqual({ code: 0, out: "a\nb" });
    const turns = JSON.parse((await runCli(["turns", "a", "--dir", dir])).out);
    expect(turns[0].turnId).toBe("t1");
    expect(turns[0].usage).toEqual({ promptTokens: 5, completionTokens: 2, totalTokens: 7 });
    const aggregate = JSON.parse((await runCli(["aggregate", "a", "--dir", dir])).out);
    expect(aggregate.invocationsByAgent).toEqual({ coder: 1, unknown: 2 });
    expect(aggregate.costByAgent.coder).toBe(0.5);
  });

  test("a missing session is exit code 1 with a message; a bad id is a typed error", async () => {
    expect(await runCli(["show", "nope", "--dir", dir])).toEqual({
      code: 1,
      out: `[session-metrics] no session "nope" in ${dir}`,
    });
    await expect(runCli(["show", "../etc", "--dir", dir])).rejects.toThrow("invalid session id");
  });

  test("the real process prints and exits with the code", async () => {
    await (await session("p")).stop();
    const proc = Bun.spawn(["bun", join(import.meta.dir, "../../src/cli/main.ts"), "list", "--dir", dir], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await new Response(proc.stdout).text()).toBe("p\n");
    expect(await proc.exited).toBe(0);
    const bad = Bun.spawn(["bun", join(import.meta.dir, "../../src/cli/main.ts"), "frobnicate"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await bad.exited).toBe(1);
    expect(await new Response(bad.stderr).text()).toContain('unknown command "frobnicate"');
  });
});
