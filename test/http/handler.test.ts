/** The read API as a fetch handler, without a socket: routes, caching, validation, security. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHandler } from "../../src/http/index.ts";
import { ingest } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/index.ts";
import { corruptJournal, recordSession, tempDir } from "../cli/helpers.ts";

/** The JSON body of a response, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

let dir: string;
let remove: () => void;
const quiet = { warn() {}, error() {} };
beforeAll(async () => {
  ({ dir, remove } = tempDir("http"));
  await recordSession(dir, "a1", "2026-11-22T01:00:00.000Z");
  await recordSession(dir, "b2", "2026-11-23T01:00:00.000Z");
  await recordSession(dir, "c3", "2026-11-24T01:00:00.000Z");
});
afterAll(() => remove());

const get = (
  handler: (r: Request) => Promise<Response>,
  path: string,
  headers: Record<string, string> = {},
) => handler(new Request(`http://127.0.0.1:7070${path}`, { headers }));

describe("documents", () => {
  const handler = () => createHandler({ sessionsDir: dir, logger: quiet });

  test("GET /api/sessions/:id is METRICS.json byte for byte, with a strong ETag and no-cache", async () => {
    const h = handler();
    const r = await get(h, "/api/sessions/a1");
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(readFileSync(join(dir, "a1", "METRICS.json"), "utf8"));
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(r.headers.get("cache-control")).toBe("no-cache");
    expect(r.headers.get("etag")).toMatch(/^"[0-9a-z]+"$/);
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    const again = await get(h, "/api/sessions/a1", { "if-none-match": r.headers.get("etag")! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await get(h, "/api/sessions/a1", { "if-none-match": '"other"' })).status).toBe(200);
  });

  test("turns, aggregate, breakdown and verify", async () => {
    const h = handler();
    const turns = await json(get(h, "/api/sessions/a1/turns"));
    expect(turns).toEqual([
      {
        turnId: "t1",
        phase: "plan",
        usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 },
        durationMs: expect.any(Number), // turn timings come from the monotonic clock
        steps: [
          {
            stepId: "t1#0",
            usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 },
            genTotalMs: expect.any(Number),
          },
        ],
      },
    ]);
    const aggregate = await json(get(h, "/api/sessions/a1/aggregate"));
    expect(aggregate.invocationsByAgent).toEqual({ coder: 3, reviewer: 1, unknown: 1 });
    const breakdown = await json(get(h, "/api/sessions/a1/breakdown"));
    expect(breakdown.phases).toEqual([
      {
        phase: "plan",
        startMs: Date.parse("2026-11-22T01:00:00.000Z"),
        endMs: Date.parse("2026-11-22T01:00:02.000Z"),
        success: true,
      },
      {
        phase: "execute",
        startMs: Date.parse("2026-11-22T01:00:02.000Z"),
        endMs: Date.parse("2026-11-22T01:00:02.500Z"),
        success: true,
      },
    ]);
    expect(breakdown.tools).toEqual([
      { name: "Read", calls: 2, failures: 1, totalMs: 42, p50Ms: 12, p95Ms: 30 },
      { name: "Edit", calls: 1, failures: 0, totalMs: 40, p50Ms: 40, p95Ms: 40 },
    ]);
    expect(breakdown.tokens[0]).toEqual({
      phase: "plan",
      model: "gpt-4o",
      calls: 1,
      input: 1_000,
      cacheRead: 200,
      cacheWrite: 0,
      output: 300,
      reasoning: 0,
      cost: 0.0125,
    });
    expect(await json(get(h, "/api/sessions/a1/verify"))).toEqual({
      events: 13,
      lastSeq: 13,
      problems: [],
    });
  });

  test("a journal with a bad line is still served, and says so in a header", async () => {
    const { dir: other, remove: done } = tempDir("http-bad");
    try {
      await recordSession(other, "x1");
      corruptJournal(other, "x1");
      const h = createHandler({ sessionsDir: other, logger: quiet });
      const r = await get(h, "/api/sessions/x1");
      expect(r.status).toBe(200);
      expect(r.headers.get("x-journal-problems")).toBe("1");
      expect((await json(get(h, "/api/sessions/x1/verify"))).problems[0].reason).toBe("checksum mismatch");
    } finally {
      done();
    }
  });

  test("a missing session is 404; an invalid id 400 before any file is touched", async () => {
    const h = handler();
    const missing = await get(h, "/api/sessions/nope");
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({
      error: "not_found",
      message: `[session-metrics] [read] there is no session "nope" in ${dir} (no METRICS.json or journal.jsonl)`,
    });
    expect(missing.headers.get("cache-control")).toBe("no-store");
    // (`..` and `%2e%2e` never get here: URL parsing resolves dot segments first.)
    for (const id of ["a%2Fb", "con", ".hidden", "x".repeat(129)]) {
      const r = await get(h, `/api/sessions/${id}/turns`);
      expect(r.status).toBe(400);
      expect((await json(r)).error).toBe("invalid_session_id");
    }
    expect((await get(h, "/api/sessions/nope/events")).status).toBe(404);
    expect((await get(h, "/api/nothing")).status).toBe(404);
  });
});

describe("the session list", () => {
  test("newest first, keyset pages with nextCursor, and filters", async () => {
    const h = createHandler({ sessionsDir: dir, logger: quiet });
    const first = await json(get(h, "/api/sessions?limit=2"));
    expect(first.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(["c3", "b2"]);
    expect(first.sessions[0]).toEqual({
      sessionId: "c3",
      startedAt: "2026-11-24T01:00:00.000Z",
      updatedAt: "2026-11-24T01:00:02.500Z",
      durationMs: 2500,
      toolCalls: 3,
      failures: 1,
      llmCalls: 2,
      tokens: 1507,
      cost: 0.0125,
      models: ["gpt-4o"],
      agents: ["coder", "reviewer"],
    });
    const second = await json(get(h, `/api/sessions?limit=2&cursor=${first.nextCursor}`));
    expect(second).toEqual({ sessions: [expect.objectContaining({ sessionId: "a1" })], nextCursor: null });
    const since = await json(get(h, "/api/sessions?since=2026-11-23"));
    expect(since.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(["c3", "b2"]);
    expect((await json(get(h, "/api/sessions?model=gpt-4o&until=2026-11-23"))).sessions).toHaveLength(1);
    expect((await json(get(h, "/api/sessions?agent=nobody"))).sessions).toEqual([]);
  });

  test("with a store, its sessions are listed too (once each) and /api/report answers", async () => {
    const { dir: other, remove: done } = tempDir("http-store");
    await using store = await createSqliteStore({ path: ":memory:" });
    try {
      await recordSession(other, "s-store", "2026-11-20T00:00:00.000Z");
      await ingest(store, other, { logger: quiet });
      await ingest(store, dir, { logger: quiet });
      const h = createHandler({ sessionsDir: dir, store, logger: quiet });
      const list = await json(get(h, "/api/sessions"));
      expect(list.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([
        "c3",
        "b2",
        "a1",
        "s-store",
      ]);
      expect(list.sessions[3].tokens).toBe(1507);
      expect(list.sessions[3].models).toEqual(["gpt-4o"]);
      const doc = await get(h, "/api/sessions/s-store");
      expect(doc.status).toBe(200);
      expect((await json(doc)).session_id).toBe("s-store");
      const report = await json(get(h, "/api/report?groupBy=model&percentiles=95"));
      expect(report.groupBy).toEqual(["model"]);
      expect(
        report.rows.map((r: { model: string | null; sessions: number }) => [r.model, r.sessions]),
      ).toEqual([
        ["gpt-4o", 4],
        [null, 4],
      ]);
      expect(report.rows[1].durationPercentiles).toEqual({ p95: 40 });
    } finally {
      done();
    }
  });

  test("without a store, /api/report is 501 and says how to get one", async () => {
    const r = await get(createHandler({ sessionsDir: dir, logger: quiet }), "/api/report?groupBy=model");
    expect(r.status).toBe(501);
    expect((await json(r)).error).toBe("no_store");
  });
});

describe("/metrics", () => {
  test("is the Prometheus text of the folder, not cached; an unreadable session goes to the handler's logger", async () => {
    const { dir: other, remove: removeOther } = tempDir("http-metrics");
    try {
      await recordSession(other, "a1", "2026-11-22T01:00:00.000Z");
      mkdirSync(join(other, "z9"));
      writeFileSync(join(other, "z9", "METRICS.json"), "{ not json");
      const warned: string[] = [];
      const h = createHandler({ sessionsDir: other, logger: { warn: (m) => warned.push(m), error() {} } });
      const r = await get(h, "/metrics");
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(r.headers.get("cache-control")).toBe("no-store");
      expect(await r.text()).toContain("session_metrics_sessions 1\n");
      expect(warned).toEqual([
        expect.stringContaining("[session-metrics] [prometheus] session z9 is left out of /metrics: "),
      ]);
    } finally {
      removeOther();
    }
  });
});

describe("the dashboard", () => {
  test("GET / is the page built by Bun.build; its assets are hashed and immutable; other paths get the page", async () => {
    const h = createHandler({ sessionsDir: dir, logger: quiet });
    const page = await get(h, "/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html;charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)![1]!;
    expect(html).not.toContain("http://");
    expect(html).not.toContain("https://");
    const js = await get(h, script);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const code = await js.text();
    expect(code).toContain("uplot"); // uPlot is bundled (its CSS class names), not fetched from a CDN
    expect(code).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
    expect((await get(h, style)).headers.get("content-type")).toBe("text/css;charset=utf-8");
    expect((await get(h, "/assets/nope.js")).status).toBe(404);
    expect(await (await get(h, "/fleet")).text()).toBe(html);
  });
});
