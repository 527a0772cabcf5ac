/**
 * The real `session-metrics` process: every command once through a child (streams, exit codes,
 * signals), and the progress line on a real terminal (tmux) versus a pipe (nothing at all).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../src/index.ts";
import { CLI, IN_CI, needProgram, recordSession, tempDir } from "./helpers.ts";

let dir: string;
let remove: () => void;
beforeAll(async () => {
  ({ dir, remove } = tempDir("cli-proc"));
  await recordSession(dir, "p1");
});
afterAll(() => remove());

async function run(argv: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn([process.execPath, CLI, ...argv], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { out, err, code };
}

describe("the real process", () => {
  test("reading commands: stdout, stderr and the exit code", async () => {
    const list = await run(["list", "--dir", dir, "--csv"]);
    expect(list).toEqual({
      out: "id,started (UTC),duration,tool calls,failures,LLM calls,tokens,cost,models\np1,2026-11-22T01:00:00.000Z,2500,3,1,2,1507,0.0125,gpt-4o\n",
      err: "",
      code: 0,
    });
    const show = await run(["show", "p1", "--json"], { SESSION_METRICS_DIR: dir });
    expect(show.out).toBe(`${readFileSync(join(dir, "p1", "METRICS.json"), "utf8")}\n`);
    expect((await run(["turns", "p1", "--dir", dir, "--json"])).code).toBe(0);
    expect(JSON.parse((await run(["aggregate", "p1", "--dir", dir, "--json"])).out).totalInvocations).toBe(5);
    expect(await run(["verify", "p1", "--dir", dir])).toEqual({
      out: "journal of p1: ok (13 valid events, last seq 13, 0 problem(s))\n",
      err: "",
      code: 0,
    });
    const missing = await run(["show", "nope", "--dir", dir]);
    expect(missing).toEqual({
      out: "",
      err: `[session-metrics] [read] there is no session "nope" in ${dir} (no METRICS.json or journal.jsonl)\n`,
      code: 3,
    });
    expect((await run(["frobnicate"])).code).toBe(2);
    expect((await run(["--version"])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  test("ingest, report and export", async () => {
    const store = join(dir, "store.db");
    const ingest = await run(["ingest", "--dir", dir, "--store", store]);
    expect(ingest).toEqual({
      out: `ingested 1 sessions (13 events, 13 new) into ${store}; skipped 0 folders\n`,
      err: "",
      code: 0,
    });
    const report = await run(["report", "--by", "model", "--dir", dir, "--store", store, "--json"]);
    expect(report.code).toBe(0);
    expect(
      JSON.parse(report.out).map((r: { model: string | null; calls: number }) => [r.model, r.calls]),
    ).toEqual([
      ["gpt-4o", 1],
      [null, 4],
    ]);
    // An OTLP/HTTP receiver that keeps what it is sent.
    const received: string[] = [];
    const receiver = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        received.push(
          `${new URL(request.url).pathname} ${request.headers.get("content-type")} ${(await request.arrayBuffer()).byteLength > 0}`,
        );
        return new Response(null, { status: 200 });
      },
    });
    try {
      const otlp = await run(["export", "p1", "--dir", dir, "--otlp", `http://127.0.0.1:${receiver.port}`]);
      expect(otlp.err).toBe("");
      expect(otlp.out).toMatch(
        new RegExp(
          `^exported session p1 to http://127.0.0.1:${receiver.port}: \\d+ spans from 13 events \\(journal\\)\n$`,
        ),
      );
      expect(otlp.code).toBe(0);
      expect(received).toContain("/v1/traces application/x-protobuf true");
      expect(received).toContain("/v1/metrics application/x-protobuf true");
    } finally {
      await receiver.stop(true);
    }
    const exported = await run(["export", "p1", "--dir", dir]);
    expect(exported.code).toBe(2);
    expect(exported.err).toBe(
      "[session-metrics] [cli] export needs exactly one of --prom or --otlp <url>; see `session-metrics export --help`\n",
    );
  });

  test("serve answers until SIGINT, then exits 0; demo records a session", async () => {
    const child = Bun.spawn([process.execPath, CLI, "serve", "--port", "0", "--dir", dir], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = child.stderr.getReader();
    let banner = "";
    while (!banner.includes("\n")) banner += new TextDecoder().decode((await reader.read()).value);
    const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(banner)![1]!;
    const body = await (await fetch(`${url}api/sessions/p1`)).text();
    expect(body).toBe(readFileSync(join(dir, "p1", "METRICS.json"), "utf8"));
    child.kill("SIGINT");
    expect(await child.exited).toBe(0);
    const demo = await run(["demo", "--dir", dir, "--id", "demo-proc"]);
    expect(demo.code).toBe(0);
    expect(demo.out).toContain("session demo-proc\n");
    expect((await run(["verify", "demo-proc", "--dir", dir])).code).toBe(0);
  }, 20_000);

  test("serve refuses a non-loopback address without a token (usage error)", async () => {
    const r = await run(["serve", "--host", "0.0.0.0", "--port", "0", "--dir", dir]);
    expect(r.code).toBe(2);
    expect(r.err).toStartWith("[session-metrics] [serve] refusing to listen on 0.0.0.0 without a token");
  });
});

describe("progress on stderr", () => {
  let many: string;
  beforeAll(() => {
    many = join(dir, "many");
    mkdirSync(many);
    for (let i = 0; i < 1500; i++) {
      const id = `s${String(i).padStart(5, "0")}`;
      mkdirSync(join(many, id));
      const at = new Date(Date.UTC(2026, 10, 22, 0, 0, i)).toISOString();
      const metrics = {
        sessionId: id,
        startedAt: at,
        updatedAt: at,
        tools: [],
        editStrategies: [],
        llms: [],
        phases: [],
      };
      writeFileSync(join(many, id, "METRICS.json"), encodeMetrics(metrics));
    }
  });

  test("is not written when stderr is not a terminal", async () => {
    const r = await run(["ingest", "--dir", many, "--store", join(dir, "pipe.db")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });

  const hasTmux = needProgram("tmux", "tmux");
  test.skipIf(!hasTmux)(
    "is drawn in place on a terminal: count, rate and ETA (tmux)",
    async () => {
      const name = `sm-progress-${process.pid}`;
      const log = join(dir, "tty.log");
      const script = join(dir, "run.sh");
      writeFileSync(
        script,
        `sleep 0.3; ${process.execPath} ${CLI} ingest --dir ${many} --store ${join(dir, "tty.db")}; echo "exit=$?"; sleep 30\n`,
      );
      const tmux = (...args: string[]) =>
        Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
      expect(tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "20", `sh ${script}`).exitCode).toBe(0);
      try {
        tmux("pipe-pane", "-o", "-t", name, `cat >> ${log}`);
        const deadline = Date.now() + 30_000;
        let screen = "";
        while (!screen.includes("exit=") && Date.now() < deadline) {
          await Bun.sleep(100);
          screen = tmux("capture-pane", "-p", "-t", name).stdout.toString();
        }
        expect(screen).toContain("ingested 1,500 sessions (1,500 events, 1,500 new)");
        expect(screen).toContain("exit=0");
        const raw = readFileSync(log, "utf8");
        // Redrawn in place (carriage return, erase line), then cleared before the result.
        expect(raw).toMatch(/\r\x1b\[2Kingest [\d,]+\/1,500 sessions · [\d,]+\/s · ETA (\d+ s|—)/);
        expect(raw).toContain("\r\x1b[2Kingest 1,500/1,500 sessions");
      } finally {
        tmux("kill-session", "-t", name);
      }
    },
    40_000,
  );
  if (!hasTmux && !IN_CI) test.skip("progress on a terminal (needs tmux)", () => {});
});
