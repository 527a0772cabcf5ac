/** The store contract on SQLite (`:memory:` and temp files), plus what only SQLite has. */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StorageError, ValidationError } from "../../src/errors.ts";
import { report } from "../../src/store/report.ts";
import { createSqliteStore } from "../../src/store/sqlite/index.ts";
import { type StoreHarness, testStore } from "./contract.ts";
import { TempDirs } from "./helpers.ts";

const dirs = new TempDirs();
afterAll(() => dirs.removeAll());

const harness: StoreHarness = {
  async open(options = {}) {
    if (options.outage !== true) {
      const store = await createSqliteStore({ path: ":memory:" });
      const unsupported = async () => {
        throw new Error("outage needs { outage: true }");
      };
      return {
        store,
        exec: async (statement) => void store.client.run(statement),
        query: async (statement) => store.client.query(statement).all() as Record<string, unknown>[],
        down: unsupported,
        up: unsupported,
        cleanup: () => store.close(),
      };
    }
    // The outage: another connection holds the write lock, so every write finds the file locked
    // (a short busy timeout and retry budget keep the test fast).
    const path = join(dirs.make("outage"), "metrics.db");
    const store = await createSqliteStore({ path, busyTimeoutMs: 5, busyRetryMs: 40 });
    let locker: Database | undefined;
    return {
      store,
      exec: async (statement) => void store.client.run(statement),
      query: async (statement) => store.client.query(statement).all() as Record<string, unknown>[],
      down: async () => {
        locker ??= new Database(path);
        locker.run("BEGIN EXCLUSIVE");
      },
      up: async () => {
        locker?.run("COMMIT");
        locker?.close();
        locker = undefined;
      },
      cleanup: () => store.close(),
    };
  },
};

testStore("sqlite", harness, () => {
  test("defaults to <sessionsDir>/metrics.db in WAL mode, from any working directory", async () => {
    const cwd = dirs.make("cwd");
    const entry = join(import.meta.dir, "..", "..", "src", "store", "sqlite", "index.ts");
    const script = `const { createSqliteStore } = await import(${JSON.stringify(entry)});
      const store = await createSqliteStore({ sessionsDir: "nested/sessions" });
      await store.insertEvents("s1", [{ v: 1, seq: 1, ts: 1, type: "tool_call", name: "x", success: true, durationMs: 1 }]);
      console.log(store.client.query("PRAGMA journal_mode").get().journal_mode);
      await store.close();`;
    const child = Bun.spawnSync(["bun", "-e", script], { cwd, stderr: "pipe" });
    expect(child.stderr.toString()).toBe("");
    expect(child.stdout.toString().trim()).toBe("wal");
    expect(existsSync(join(cwd, "nested", "sessions", "metrics.db"))).toBe(true);
    const reopened = await createSqliteStore({ path: join(cwd, "nested", "sessions", "metrics.db") });
    expect((await report(reopened))[0]?.calls).toBe(1);
    await reopened.close();
  });

  test("a store over a given database leaves it open; a locked write waits instead of failing", async () => {
    const path = join(dirs.make("given"), "m.db");
    const client = new Database(path);
    const store = await createSqliteStore({ client, busyTimeoutMs: 10 });
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    const write = store.insertEvents("s1", [{ v: 1, seq: 1, ts: 1, type: "phase_transition", phase: "p" }]);
    setTimeout(() => other.run("COMMIT"), 150);
    expect(await write).toBe(1); // retried past the busy timeout until the lock went away
    await store.close();
    expect(client.query("select count(*) as n from events").get()).toEqual({ n: 1 });
    client.close();
    other.close();
  });

  test("opening something that is not a database is a StorageError naming the file", async () => {
    const path = join(dirs.make("garbage"), "metrics.db");
    writeFileSync(path, "this is not a database, just text long enough to have a header.........");
    const error = await createSqliteStore({ path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain(path);
    await expect(createSqliteStore({ path: ":memory:", busyTimeoutMs: -1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
