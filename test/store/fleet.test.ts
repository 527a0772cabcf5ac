/**
 * Fleet test: 8 writer processes × 50 sessions at once into one SQLite file and into one
 * PostgreSQL schema. Totals must be exact, and no writer may see a lock error (its sinks count
 * every failed write). The processes also race to create and migrate the database.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createPostgresStore } from "../../src/store/postgres/index.ts";
import { listSessions, report } from "../../src/store/report.ts";
import { createSqliteStore } from "../../src/store/sqlite/index.ts";
import type { MetricsStore } from "../../src/store/types.ts";
import { dropSchema, PG_SKIP_MESSAGE, postgresUrl, randomSchema, TempDirs } from "./helpers.ts";

const WRITERS = 8;
const SESSIONS = 50;
const dirs = new TempDirs();
afterAll(() => dirs.removeAll());

async function runFleet(kind: string, target: string, schema: string): Promise<void> {
  const script = join(import.meta.dir, "fixtures", "fleet-writer.ts");
  const children = Array.from({ length: WRITERS }, (_, i) =>
    Bun.spawn(["bun", script, kind, target, schema, String(i), String(SESSIONS), dirs.make(`fleet-${i}`)], {
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const results = await Promise.all(
    children.map(async (child) => ({
      code: await child.exited,
      stdout: await new Response(child.stdout).text(),
      stderr: await new Response(child.stderr).text(),
    })),
  );
  for (const r of results) {
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout.trim());
    expect(line).toMatchObject({ failures: 0, dropped: 0, written: SESSIONS * 26, warnings: [] });
  }
}

async function checkTotals(store: MetricsStore): Promise<void> {
  const sessions = WRITERS * SESSIONS;
  expect(await report(store)).toEqual([
    {
      ...{ sessions, calls: sessions * 25, toolCalls: sessions * 20, llmCalls: sessions * 5 },
      ...{ failures: sessions * 4, promptTokens: sessions * 500 },
      ...{
        completionTokens: sessions * 100,
        cacheReadTokens: null,
        cacheWriteTokens: null,
        reasoningTokens: null,
      },
      ...{ cost: sessions * 0.005, durationP50: 10, durationP90: 18, durationP99: 20 },
    },
  ]);
  const byTool = await report(store, { groupBy: ["tool"] });
  expect(byTool.map((r) => [r.tool, r.calls, r.failures])).toEqual([
    ["Edit", sessions * 10, sessions * 2],
    ["Read", sessions * 10, sessions * 2],
    [null, sessions * 5, 0],
  ]);
  let listed = 0;
  let cursor: string | undefined;
  do {
    const page = await listSessions(store, { limit: 1000, cursor });
    listed += page.sessions.length;
    for (const s of page.sessions) expect(s.lastSeq).toBe(26);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  expect(listed).toBe(sessions);
}

describe("fleet: 8 processes × 50 sessions at once", () => {
  test("into one SQLite file", async () => {
    const path = join(dirs.make("fleet-sqlite"), "metrics.db");
    await runFleet("sqlite", path, "-");
    const store = await createSqliteStore({ path });
    try {
      await checkTotals(store);
    } finally {
      await store.close();
    }
  }, 180_000);

  const url = postgresUrl();
  if (url === undefined) {
    console.warn(PG_SKIP_MESSAGE);
    test.skip("into one PostgreSQL schema (set SESSION_METRICS_PG_URL)", () => {});
  } else
    test("into one PostgreSQL schema", async () => {
      const schema = randomSchema("sm_fleet");
      try {
        await runFleet("postgres", url, schema);
        const store = await createPostgresStore({ url, schema });
        try {
          await checkTotals(store);
        } finally {
          await store.close();
        }
      } finally {
        await dropSchema(url, schema);
      }
    }, 180_000);
});
