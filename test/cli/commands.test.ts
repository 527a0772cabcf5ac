import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { runCli } from "../../src/cli/commands.ts";
import { corruptJournal, recordSession, tempDir } from "./helpers.ts";

let dir: string;
let remove: () => void;
beforeAll(async () => {
  ({ dir, remove } = tempDir("cli"));
  await recordSession(dir, "a1", "2026-11-22T01:00:00.000Z");
  await recordSession(dir, "b2", "2026-11-23T01:00:00.000Z");
  mkdirSync(join(dir, "node_modules")); // not a session
  mkdirSync(join(dir, "empty-folder"));
});
afterAll(() => remove());

const cli = (...argv: string[]) => runCli([...argv, "--dir", dir], { env: {} });

describe("help, version and usage errors", () => {
  test("--help and -h print the usage on stdout with code 0, for the tool and for each command", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const r = await runCli(argv, { env: {} });
      expect(r.code).toBe(0);
      expect(r.err).toBe("");
      expect(r.out).toStartWith("usage: session-metrics <command> [options]");
      expect(r.out).toContain("  serve ");
    }
    for (const argv of [
      ["show", "--help"],
      ["help", "show"],
      ["show", "-h"],
    ]) {
      const r = await runCli(argv, { env: {} });
      expect(r).toMatchObject({ code: 0, err: "" });
      expect(r.out).toStartWith("usage: session-metrics show <sessionId> [--json]");
    }
  });

  test("--version prints the package version", async () => {
    expect(await runCli(["--version"], { env: {} })).toEqual({ code: 0, out: pkg.version, err: "" });
  });

  test("no command: the usage on stderr and code 2", async () => {
    const r = await runCli([], { env: {} });
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toStartWith("usage: session-metrics");
  });

  test("an unknown command or option is code 2 with the message on stderr and stdout empty", async () => {
    expect(await runCli(["frobnicate"], { env: {} })).toEqual({
      code: 2,
      out: "",
      err: '[session-metrics] [cli] unknown command "frobnicate"; commands: list, show, turns, aggregate, verify, report, ingest, export, prices, serve, demo; see `session-metrics --help`',
    });
    const r = await cli("show", "a1", "--verbose");
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      "[session-metrics] [cli] Unknown option '--verbose'; see `session-metrics show --help`",
    );
    expect((await cli("list", "--limit", "zero")).err).toBe(
      '[session-metrics] [cli] --limit must be a whole number from 1 to 9007199254740991, got "zero"',
    );
    expect((await cli("list", "--json", "--csv")).code).toBe(2);
  });

  test("an invalid session id is a usage error (2); a missing session a data problem (3)", async () => {
    const bad = await cli("turns", "../etc");
    expect(bad.code).toBe(2);
    expect(bad.err).toStartWith('[session-metrics] invalid session id "../etc"');
    const missing = await cli("turns", "nope");
    expect(missing).toEqual({
      code: 3,
      out: "",
      err: `[session-metrics] [read] there is no session "nope" in ${dir} (no METRICS.json or journal.jsonl)`,
    });
    expect((await cli("show", "nope")).code).toBe(3);
    expect((await cli("verify", "nope")).code).toBe(3);
  });
});

describe("reading sessions", () => {
  test("list: a table of the folders that hold a session, newest first", async () => {
    const r = await cli("list");
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        "id  started (UTC)        duration  tool calls  failures  LLM calls  tokens   cost  models",
        "b2  2026-11-23 01:00:00     2.5 s           3         1          2   1,507  $0.01  gpt-4o",
        "a1  2026-11-22 01:00:00     2.5 s           3         1          2   1,507  $0.01  gpt-4o",
      ].join("\n"),
    );
  });

  test("list --json, --csv, --sort, --reverse and --limit", async () => {
    const json = JSON.parse((await cli("list", "--json")).out);
    expect(json.map((s: { sessionId: string }) => s.sessionId)).toEqual(["b2", "a1"]);
    expect(json[0]).toEqual({
      sessionId: "b2",
      startedAt: "2026-11-23T01:00:00.000Z",
      updatedAt: "2026-11-23T01:00:02.500Z",
      durationMs: 2500,
      toolCalls: 3,
      failures: 1,
      // The turn's step is an LLM interaction of its own (5 + 2 tokens, no model: unpriced).
      llmCalls: 2,
      tokens: 1507,
      cost: 0.0125,
      models: ["gpt-4o"],
      agents: ["coder", "reviewer"],
    });
    expect((await cli("list", "--csv", "--sort", "id", "--limit", "1")).out).toBe(
      "id,started (UTC),duration,tool calls,failures,LLM calls,tokens,cost,models\n" +
        "a1,2026-11-22T01:00:00.000Z,2500,3,1,2,1507,0.0125,gpt-4o",
    );
    const reversed = JSON.parse((await cli("list", "--json", "--reverse")).out);
    expect(reversed.map((s: { sessionId: string }) => s.sessionId)).toEqual(["a1", "b2"]);
    expect((await cli("list", "--sort", "nope")).code).toBe(2);
  });

  test("list of a missing directory is empty, not an error", async () => {
    expect(await runCli(["list", "--dir", join(dir, "none")], { env: {} })).toEqual({
      code: 0,
      out: `no sessions in ${join(dir, "none")}`,
      err: "",
    });
  });

  test("--dir defaults to SESSION_METRICS_DIR", async () => {
    const r = await runCli(["list", "--json"], { env: { SESSION_METRICS_DIR: dir } });
    expect(JSON.parse(r.out)).toHaveLength(2);
  });

  test("show --json prints METRICS.json byte for byte; show prints readable tables", async () => {
    const r = await cli("show", "a1", "--json");
    expect(r).toEqual({ code: 0, out: readFileSync(join(dir, "a1", "METRICS.json"), "utf8"), err: "" });
    const tables = (await cli("show", "a1")).out;
    expect(tables).toContain(
      "tool  calls  ok  fail    avg  total\nRead      2   1     1  21 ms  42 ms\nEdit      1   1     0  40 ms  40 ms",
    );
    expect(tables).toContain(
      "phase  calls  prompt  cache read  output  total   cost\nplan       2   1,205         200     302  1,507  $0.01",
    );
    expect(tables).toContain(
      "turns\nstep  phase  model  ttft  decode  tokens  error\nt1#0  plan   —         —       —       7",
    );
    expect(tables).toEndWith("unpriced models: (no model)");
    expect((await cli("show", "a1", "--csv")).code).toBe(2);
  });

  test("turns and aggregate, as tables and JSON", async () => {
    expect((await cli("turns", "a1")).out).toBe(
      "step  phase  model  ttft  decode  tokens  error\nt1#0  plan   —         —       —       7",
    );
    const turns = JSON.parse((await cli("turns", "a1", "--json")).out);
    expect(turns[0].usage).toEqual({ promptTokens: 5, completionTokens: 2, totalTokens: 7 });
    const aggregate = JSON.parse((await cli("aggregate", "a1", "--json")).out);
    expect(aggregate.invocationsByAgent).toEqual({ coder: 3, reviewer: 1, unknown: 1 });
    expect((await cli("aggregate", "a1", "--csv")).out.split("\n")[0]).toBe(
      "agent,invocations,retries,tokens,cost,avg,p50,p99",
    );
  });

  test("verify: ok is code 0; a corrupt line is code 3, the table on stdout, a note on stderr", async () => {
    expect(await cli("verify", "a1")).toEqual({
      code: 0,
      out: "journal of a1: ok (13 valid events, last seq 13, 0 problem(s))",
      err: "",
    });
    const { dir: other, remove: done } = tempDir("cli-bad");
    try {
      await recordSession(other, "c3");
      corruptJournal(other, "c3");
      const r = await runCli(["verify", "c3", "--dir", other, "--json"], { env: {} });
      expect(r.code).toBe(3);
      expect(JSON.parse(r.out)).toEqual({
        events: 13,
        lastSeq: 13,
        problems: [
          { line: 14, offset: expect.any(Number), seqBefore: 13, seqAfter: 0, reason: "checksum mismatch" },
        ],
      });
      expect(r.err).toBe("[session-metrics] [verify] the journal of c3 has 1 problem(s)");
      // Reading commands still print what the valid lines hold, and exit 3 with a warning.
      const show = await runCli(["turns", "c3", "--dir", other, "--json"], { env: {} });
      expect(show.code).toBe(3);
      expect(JSON.parse(show.out)).toHaveLength(1);
      expect(show.err).toContain("1 bad line(s) or gap(s) skipped (line 14: checksum mismatch)");
    } finally {
      done();
    }
  });

  test("a METRICS.json that does not parse is a data problem (3)", async () => {
    const { dir: other, remove: done } = tempDir("cli-parse");
    try {
      mkdirSync(join(other, "g1"));
      writeFileSync(join(other, "g1", "METRICS.json"), "{ not json");
      const r = await runCli(["show", "g1", "--dir", other], { env: {} });
      expect(r.code).toBe(3);
      expect(r.out).toBe("");
      expect(r.err).toStartWith("[session-metrics] [load]");
    } finally {
      done();
    }
  });
});

describe("terminals", () => {
  test("colour only when stdout is a terminal, and never with NO_COLOR", async () => {
    const tty = await runCli(["list", "--dir", dir], { env: {}, stdoutIsTTY: true });
    expect(tty.out).toStartWith("\x1b[1mid  started (UTC)");
    expect(tty.out).toContain("\x1b[31m");
    const noColor = await runCli(["list", "--dir", dir], { env: { NO_COLOR: "1" }, stdoutIsTTY: true });
    expect(noColor.out).not.toContain("\x1b[");
    expect((await runCli(["list", "--dir", dir], { env: {} })).out).not.toContain("\x1b[");
    expect(
      (await runCli(["list", "--dir", dir, "--json"], { env: {}, stdoutIsTTY: true })).out,
    ).not.toContain("\x1b[");
  });

  test("progress goes to the live stderr only when it is a terminal", async () => {
    const written: string[] = [];
    const io = { env: {}, stderrIsTTY: true, writeErr: (t: string) => written.push(t) };
    const r = await runCli(["report", "--by", "tool", "--dir", dir], io);
    expect(r.code).toBe(0);
    expect(written.some((t) => /^\r\x1b\[2Kingest \d\/4 sessions · [\d,]+\/s · ETA/.test(t))).toBe(true);
    expect(written.at(-1)).toBe("\r\x1b[2K"); // the line is cleared before the result is printed
    const piped: string[] = [];
    await runCli(["report", "--by", "tool", "--dir", dir], { env: {}, writeErr: (t) => piped.push(t) });
    // Only the import's notes about folders that hold no session, no progress line.
    expect(piped.filter((t) => t.includes("\r"))).toEqual([]);
    expect(piped.map((t) => t.replace(/ \/.*\//, " …/"))).toEqual([
      "[session-metrics] [ingest] skipped …/empty-folder: no journal events and no METRICS.json\n",
      "[session-metrics] [ingest] skipped …/node_modules: no journal events and no METRICS.json\n",
    ]);
  });
});
