/**
 * Integration: a real `prometheus` server (Debian package `prometheus`) on a loopback port, with
 * a temp data dir and a 1 s scrape interval, scrapes a Bun.serve endpoint serving
 * createPrometheusHandler; its query API must give back what the collector recorded.
 */
import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPrometheusHandler } from "../../src/export/prometheus.ts";
import { Collector } from "../../src/session/collector.ts";
import { quiet, tempDir } from "./helpers.ts";
import { needing, PROMETHEUS, required } from "./promtool.ts";

const test = needing(PROMETHEUS, "prometheus");

/** A port nobody listens on right now (the OS picks it; prometheus binds it a moment later). */
function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  void probe.stop(true);
  return port;
}

async function query(base: string, promql: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
    if (!response.ok) return undefined;
    const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
    const value = body.data?.result?.[0]?.value[1];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined; // not up yet
  }
}

test("a real prometheus scrapes the handler and sums the tool calls recorded", async () => {
  const prometheus = required(PROMETHEUS, "prometheus");
  using tmp = tempDir("sm-prometheus-");
  const c = new Collector({ sessionId: "scraped", sessionsDir: tmp.dir, journal: false, logger: quiet });
  for (let i = 0; i < 7; i++) c.recordToolCall("Read", true, 3);
  for (let i = 0; i < 3; i++) c.recordToolCall("Bash", false, 9);
  const target = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: createPrometheusHandler({ collectors: [c] }),
  });
  const port = freePort();
  const config = join(tmp.dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      "scrape_configs:",
      "  - job_name: session-metrics",
      "    metrics_path: /metrics",
      "    static_configs:",
      `      - targets: ["127.0.0.1:${target.port}"]`,
      "",
    ].join("\n"),
  );
  const server = Bun.spawn(
    [
      prometheus,
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(tmp.dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  try {
    const base = `http://127.0.0.1:${port}`;
    let total: number | undefined;
    const deadline = Date.now() + 45_000;
    while (total === undefined && Date.now() < deadline && server.exitCode === null) {
      await Bun.sleep(250);
      total = await query(base, "sum(session_metrics_tool_calls_total)");
    }
    if (total === undefined) {
      server.kill();
      throw new Error(`prometheus gave no result: ${await new Response(server.stderr).text()}`);
    }
    expect(total).toBe(10);
    expect(await query(base, 'sum(session_metrics_tool_calls_total{outcome="failure"})')).toBe(3);
    expect(await query(base, 'session_metrics_tool_duration_seconds_total{tool="Bash"}')).toBe(0.027);
  } finally {
    server.kill();
    await server.exited;
    await target.stop(true);
    await c.stop();
  }
}, 60_000);
