/**
 * The dashboard in a real browser: playwright-core driving Debian's chromium (never a download).
 * Each view loads without a console error, shows the API's numbers, and is screenshotted under
 * test/artifacts/; a live session's new tool call appears without a reload.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { formatCount, formatDuration, formatPercent, formatUsd } from "../../src/http/dashboard/format.ts";
import { serve } from "../../src/http/index.ts";
import { Collector } from "../../src/index.ts";
import { ingest } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/index.ts";
import { needProgram, recordSession, tempDir } from "../cli/helpers.ts";

/** The JSON body of a response, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
const hasChromium = needProgram(CHROMIUM, "chromium");
const quiet = { warn() {}, error() {} };

describe.skipIf(!hasChromium)("dashboard in chromium", () => {
  let dir: string;
  let remove: () => void;
  let browser: Browser;
  let server: ReturnType<typeof serve>;
  let live: Collector;
  let base: string;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    ({ dir, remove } = tempDir("browser"));
    mkdirSync(ARTIFACTS, { recursive: true });
    await recordSession(dir, "a1", "2026-11-22T01:00:00.000Z");
    await recordSession(dir, "b2", "2026-11-23T01:00:00.000Z");
    const store = await createSqliteStore({ path: ":memory:" });
    await ingest(store, dir, { logger: quiet });
    closers.push(() => store.close());
    live = await Collector.open({ sessionId: "live", sessionsDir: dir });
    live.recordPhaseTransition("execute");
    live.recordToolCall("Read", true, 8, { agent: "coder" });
    await live.sync();
    server = serve({ sessionsDir: dir, store, port: 0, logger: quiet });
    base = `http://127.0.0.1:${server.port}`;
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop(true);
    await live?.stop();
    for (const close of closers) await close();
    remove();
  });

  /** A page that records console errors and uncaught exceptions. */
  async function open(hash: string, view: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/${hash}`);
    await page.waitForFunction(
      (name) => performance.getEntriesByName(name).length > 0,
      `first-chart:${view}`,
      {
        timeout: 10_000,
      },
    );
    return { page, errors };
  }

  const api = (path: string) => json(fetch(`${base}${path}`));

  test("the session list shows every session with the API's numbers", async () => {
    const { page, errors } = await open("#/", "list");
    await page.waitForSelector("#sessions tbody tr[data-session='a1']");
    const { sessions } = await api("/api/sessions");
    for (const s of sessions) {
      const cell = (field: string) =>
        page.textContent(`tr[data-session='${s.sessionId}'] td[data-field='${field}']`);
      expect(await cell("toolCalls")).toBe(formatCount(s.toolCalls));
      expect(await cell("failures")).toBe(formatCount(s.failures));
      expect(await cell("tokens")).toBe(formatCount(s.tokens));
      expect(await cell("cost")).toBe(formatUsd(s.cost));
      expect(await cell("durationMs")).toBe(formatDuration(s.durationMs));
    }
    expect(
      await page.$$eval("#sessions tbody tr", (rows) => rows.map((r) => r.getAttribute("data-session"))),
    ).toEqual(["live", "b2", "a1"]);
    await page.click("th[data-sort='sessionId']");
    expect(await page.$eval("#sessions tbody tr", (r) => r.getAttribute("data-session"))).toBe("a1");
    await page.fill("input[type=search]", "b2");
    expect(await page.$$eval("#sessions tbody tr", (rows) => rows.length)).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-sessions.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  test("the session page shows the document's totals and every panel", async () => {
    const { page, errors } = await open("#/session/a1", "session");
    await page.waitForSelector("[data-total='cost']");
    await page.waitForSelector("#chart-parallelism .uplot");
    const doc = await api("/api/sessions/a1");
    const sum = (list: Record<string, number>[], key: string) => list.reduce((s, x) => s + x[key]!, 0);
    const total = (key: string) => page.textContent(`[data-total='${key}']`);
    expect(await total("toolCalls")).toBe(formatCount(sum(doc.tools, "call_count")));
    expect(await total("failures")).toBe(formatCount(sum(doc.tools, "fail_count")));
    expect(await total("llmCalls")).toBe(formatCount(sum(doc.llms, "interaction_count")));
    expect(await total("tokens")).toBe("1,507");
    expect(await total("cost")).toBe(formatUsd(sum(doc.llms, "cost")));
    expect(await total("duration")).toBe("2.5 s");
    const { tools } = await api("/api/sessions/a1/breakdown");
    const p95 = await page.textContent("tr[data-tool='Read'] td:nth-child(5)");
    expect(p95).toBe(formatDuration(tools.find((t: { name: string }) => t.name === "Read").p95Ms));
    for (const id of ["phases", "tools", "tokens-phase", "tokens-model", "cost-phase", "turns"])
      expect(await page.$(`#chart-${id} ${id === "phases" ? ".gantt-bar" : ".uplot"}`)).not.toBeNull();
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-session.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  test("a live session's new tool call appears without a reload", async () => {
    const { page, errors } = await open("#/session/live", "session");
    await page.waitForSelector("tr[data-tool='Read']");
    const navigations: string[] = [];
    page.on("framenavigated", (f) => navigations.push(f.url()));
    live.recordToolCall("LiveTool", false, 21, { agent: "coder" });
    await live.sync();
    await page.waitForSelector("tr[data-tool='LiveTool']", { timeout: 10_000 });
    expect(await page.textContent("[data-total='toolCalls']")).toBe("2");
    expect(await page.textContent("[data-total='failures']")).toBe("1");
    expect(navigations).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-live.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  test("the fleet page shows the store's reports", async () => {
    const { page, errors } = await open("#/fleet", "fleet");
    await page.waitForSelector("#chart-failure-phase .uplot");
    await page.waitForSelector("#chart-p95-agent .uplot");
    const { rows } = await api("/api/report?groupBy=phase");
    const shown = await page.$$eval("#chart-failure-phase + div tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
    );
    expect(shown).toEqual(
      rows.map((r: { phase: string | null; calls: number; failures: number }) => [
        r.phase ?? "(tool calls)",
        formatCount(r.calls),
        formatCount(r.failures),
        formatPercent(r.calls === 0 ? 0 : r.failures / r.calls),
      ]),
    );
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-fleet.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});
