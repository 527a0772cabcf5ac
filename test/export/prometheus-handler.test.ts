/**
 * `createPrometheusHandler`, called without a socket: live collectors, a sessions folder (METRICS.json,
 * journal-only and unreadable sessions), methods and headers.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPrometheusHandler } from "../../src/export/prometheus.ts";
import { Collector } from "../../src/session/collector.ts";
import { clock, quiet, tempDir } from "./helpers.ts";
import { promtoolCheck } from "./promtool.ts";

const get = (path = "/metrics", method = "GET") => new Request(`http://localhost${path}`, { method });

function toolLines(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("session_metrics_tool_calls_total{"));
}

describe("createPrometheusHandler", () => {
  test("serves live collectors in the text format, with its content type", async () => {
    using tmp = tempDir();
    const c = new Collector({
      sessionId: "live",
      sessionsDir: tmp.dir,
      journal: false,
      now: clock().now,
      logger: quiet,
    });
    c.recordToolCall("Read", true, 10);
    c.recordToolCall("Read", false, 10);
    const handler = createPrometheusHandler({ collectors: [c] });
    const response = await handler(get());
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const text = await response.text();
    expect(toolLines(text)).toEqual([
      'session_metrics_tool_calls_total{session_id="live",tool="Read",outcome="success"} 1',
      'session_metrics_tool_calls_total{session_id="live",tool="Read",outcome="failure"} 1',
    ]);
    const check = promtoolCheck(text);
    if (check !== "skipped") expect(check.code).toBe(0);
    await c.stop();
  });

  test("serves a folder: METRICS.json, else the journal; skips and reports an unreadable session", async () => {
    using tmp = tempDir();
    const flushed = new Collector({ sessionId: "a-flushed", sessionsDir: tmp.dir, logger: quiet });
    flushed.recordToolCall("Edit", true, 5);
    await flushed.stop();
    const journalOnly = new Collector({ sessionId: "b-journal", sessionsDir: tmp.dir, logger: quiet });
    journalOnly.recordToolCall("Bash", true, 5);
    await journalOnly.sync(); // in the journal, no METRICS.json yet
    mkdirSync(join(tmp.dir, "c-broken"));
    writeFileSync(join(tmp.dir, "c-broken", "METRICS.json"), "{ not json");
    mkdirSync(join(tmp.dir, ".not-a-session"));
    const warnings: string[] = [];
    const handler = createPrometheusHandler({
      sessionsDir: tmp.dir,
      logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    const text = await (await handler(get())).text();
    expect(toolLines(text)).toEqual([
      'session_metrics_tool_calls_total{session_id="a-flushed",tool="Edit",outcome="success"} 1',
      'session_metrics_tool_calls_total{session_id="a-flushed",tool="Edit",outcome="failure"} 0',
      'session_metrics_tool_calls_total{session_id="b-journal",tool="Bash",outcome="success"} 1',
      'session_metrics_tool_calls_total{session_id="b-journal",tool="Bash",outcome="failure"} 0',
    ]);
    await handler(get()); // reported once per session, not per scrape
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toStartWith(
      "[session-metrics] [prometheus] session c-broken is left out of /metrics: ",
    );
    await journalOnly.stop();
  });

  test("prefers a live collector over the folder's copy of the same session, and can sum sessions", async () => {
    using tmp = tempDir();
    const c = new Collector({ sessionId: "s1", sessionsDir: tmp.dir, logger: quiet });
    c.recordToolCall("Read", true, 1);
    await c.flush();
    c.recordToolCall("Read", true, 1);
    const handler = createPrometheusHandler({
      sessionsDir: tmp.dir,
      collectors: () => [c],
      includeSessionId: false,
    });
    expect(toolLines(await (await handler(get())).text())).toEqual([
      'session_metrics_tool_calls_total{tool="Read",outcome="success"} 2',
      'session_metrics_tool_calls_total{tool="Read",outcome="failure"} 0',
    ]);
    await c.stop();
  });

  test("answers HEAD without a body, refuses other methods, and serves a missing folder as empty", async () => {
    using tmp = tempDir();
    const handler = createPrometheusHandler({ sessionsDir: join(tmp.dir, "nowhere") });
    const head = await handler(get("/metrics", "HEAD"));
    expect([head.status, await head.text()]).toEqual([200, ""]);
    const post = await handler(get("/metrics", "POST"));
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    expect(await (await handler(get())).text()).toContain("session_metrics_sessions 0\n");
  });

  test("needs a source", () => {
    expect(() => createPrometheusHandler({})).toThrow(
      "[session-metrics] [prometheus] createPrometheusHandler needs sessionsDir or collectors",
    );
  });
});
