/**
 * The store contract on PostgreSQL, each store in its own random schema (dropped afterwards).
 * Runs against `SESSION_METRICS_PG_URL`, or the local server under `CI=true` (where it must run:
 * a server that cannot be reached fails the suite); elsewhere it is skipped with a message.
 */

import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { StorageError, ValidationError } from "../../src/errors.ts";
import { createPostgresStore } from "../../src/store/postgres/index.ts";
import { report } from "../../src/store/report.ts";
import { type StoreHarness, testStore } from "./contract.ts";
import { dropSchema, PG_SKIP_MESSAGE, postgresUrl, randomSchema, TcpProxy } from "./helpers.ts";

const url = postgresUrl();

function harnessFor(baseUrl: string): StoreHarness {
  return {
    async open(options = {}) {
      const schema = randomSchema();
      let proxy: TcpProxy | undefined;
      let storeUrl = baseUrl;
      if (options.outage === true) {
        // The outage is real: the store talks to the server through a proxy that gets cut.
        const target = new URL(baseUrl);
        proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
        await proxy.up();
        target.hostname = "127.0.0.1";
        target.port = String(proxy.port);
        storeUrl = target.toString();
      }
      const store = await createPostgresStore({
        url: storeUrl,
        schema,
        max: 4,
        connectTimeoutSeconds: 2,
      }).catch(async (error: unknown) => {
        await proxy?.down();
        await dropSchema(baseUrl, schema).catch(() => {});
        throw error;
      });
      return {
        store,
        exec: async (statement) => {
          const admin = new SQL({ url: baseUrl, max: 1, connection: { search_path: schema } });
          try {
            await admin.unsafe(statement);
          } finally {
            await admin.close();
          }
        },
        query: async (statement) => {
          const admin = new SQL({ url: baseUrl, max: 1, connection: { search_path: schema } });
          try {
            return [...(await admin.unsafe(statement))] as Record<string, unknown>[];
          } finally {
            await admin.close();
          }
        },
        down: async () => proxy?.down(),
        up: async () => proxy?.up(),
        cleanup: async () => {
          try {
            await store.close();
            await proxy?.down();
          } finally {
            await dropSchema(baseUrl, schema);
          }
        },
      };
    },
  };
}

if (url === undefined) {
  console.warn(PG_SKIP_MESSAGE);
  describe.skip("store contract: postgres (set SESSION_METRICS_PG_URL)", () => {
    test("skipped", () => {});
  });
} else {
  const pgUrl = url;
  testStore("postgres", harnessFor(pgUrl), () => {
    test("each schema is a store of its own; opening one at once from many places is safe", async () => {
      const schema = randomSchema();
      const other = randomSchema();
      try {
        const stores = await Promise.all(
          Array.from({ length: 4 }, () => createPostgresStore({ url: pgUrl, schema, max: 2 })),
        );
        const elsewhere = await createPostgresStore({ url: pgUrl, schema: other, max: 1 });
        await stores[0]!.insertEvents("s1", [
          { v: 1, seq: 1, ts: 1, type: "tool_call", name: "x", success: true, durationMs: 1 },
        ]);
        expect((await report(stores[3]!))[0]?.calls).toBe(1);
        expect(await report(elsewhere)).toEqual([]);
        await Promise.all([...stores, elsewhere].map((s) => s.close()));
      } finally {
        await dropSchema(pgUrl, schema);
        await dropSchema(pgUrl, other);
      }
    });

    test("recovers when the server terminates its connection", async () => {
      const schema = randomSchema();
      const store = await createPostgresStore({ url: pgUrl, schema, max: 1 });
      const admin = new SQL({ url: pgUrl, max: 1 });
      try {
        const event = (seq: number) => ({
          v: 1 as const,
          seq,
          ts: seq,
          type: "phase_transition" as const,
          phase: "p",
        });
        await store.insertEvents("s1", [event(1)]);
        const [{ pid }] = (await store.client.unsafe("select pg_backend_pid() as pid")) as [{ pid: number }];
        await admin.unsafe("select pg_terminate_backend($1)", [pid]);
        let inserted: number | undefined;
        for (let attempt = 0; attempt < 3 && inserted === undefined; attempt++)
          inserted = await store.insertEvents("s1", [event(1), event(2)]).catch((e: unknown) => {
            expect(e).toBeInstanceOf(StorageError);
            return undefined;
          });
        expect(inserted).toBe(1);
      } finally {
        await store.close();
        await admin.close();
        await dropSchema(pgUrl, schema);
      }
    });

    test("options are checked; an unreachable server is a StorageError; a given client stays open", async () => {
      await expect(createPostgresStore({ url: pgUrl, schema: "Bad-Name" })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(createPostgresStore({} as never)).rejects.toThrow(/needs a connection url/);
      const closed = await createPostgresStore({
        url: "postgres://postgres@127.0.0.1:1/test",
        connectTimeoutSeconds: 2,
      }).catch((e: unknown) => e);
      expect(closed).toBeInstanceOf(StorageError);
      expect((closed as Error).message).toMatch(/opening the PostgreSQL store failed/);
      const schema = randomSchema();
      const client = new SQL({ url: pgUrl, max: 2, connection: { search_path: schema } });
      try {
        await client.unsafe(`create schema ${schema}`);
        const store = await createPostgresStore({ client });
        await store.close();
        expect(await client.unsafe("select 1 as one")).toEqual([{ one: 1 }]);
      } finally {
        await client.close();
        await dropSchema(pgUrl, schema);
      }
    });
  });
}
