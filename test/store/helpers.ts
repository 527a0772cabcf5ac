/**
 * Shared plumbing for the store tests: where PostgreSQL is (and whether its suite runs), random
 * schemas dropped afterwards, temp dirs, a TCP proxy that can cut a store off from its server for
 * real, a logger that keeps what it was told, and a store wrapper that records its writes.
 */

import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import type { Logger } from "../../src/logger.ts";
import type { MetricsStore, StoreBatch } from "../../src/store/types.ts";

export const FIXTURES = join(import.meta.dir, "..", "fixtures");
export const IN_CI = process.env.CI === "true";
export const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";

/**
 * The PostgreSQL URL of the suite: `SESSION_METRICS_PG_URL`, or the local server under `CI=true`.
 * Undefined means "skip" (only outside CI).
 */
export function postgresUrl(): string | undefined {
  const url = process.env.SESSION_METRICS_PG_URL;
  if (url !== undefined && url !== "") return url;
  return IN_CI ? DEFAULT_PG_URL : undefined;
}

export const PG_SKIP_MESSAGE =
  "[session-metrics] PostgreSQL store tests skipped: set SESSION_METRICS_PG_URL (e.g. " +
  `${DEFAULT_PG_URL}) to run them; under CI=true they always run.`;

/** A random schema name for one test run. */
export function randomSchema(prefix = "sm_test"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Drops a schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const admin = new SQL({ url, max: 1 });
  try {
    await admin.unsafe(`drop schema if exists "${schema}" cascade`);
  } finally {
    await admin.close();
  }
}

/** Temp directories of one test file; `removeAll()` in afterAll. */
export class TempDirs {
  readonly #dirs: string[] = [];
  make(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `sm-store-${prefix}-`));
    this.#dirs.push(dir);
    return dir;
  }
  removeAll(): void {
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** A logger that keeps its messages. */
export function captureLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  return { messages, warn: (m) => messages.push(m), error: (m) => messages.push(m) };
}

/** A store whose writes are recorded (and can be held back: `hold` makes them wait for `release`). */
export function spyStore(store: MetricsStore) {
  const writes: StoreBatch[] = [];
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const spy: MetricsStore = {
    dialect: store.dialect,
    insertEvents: (id, events) => store.insertEvents(id, events),
    upsertSession: (s) => store.upsertSession(s),
    write: async (batch) => {
      writes.push(batch);
      if (gate !== undefined) await gate;
      return store.write(batch);
    },
    aggregate: (s) => store.aggregate(s),
    listSessionRows: (s) => store.listSessionRows(s),
    readSession: (id) => store.readSession(id),
    close: () => store.close(),
    [Symbol.asyncDispose]: () => store.close(),
  };
  return {
    store: spy,
    writes,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      open?.();
      gate = undefined;
    },
  };
}

/**
 * A TCP proxy to a server: `down()` closes the listening socket and cuts every connection (the
 * client sees a real connection loss and refused reconnects), `up()` listens again on the same port.
 */
export class TcpProxy {
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    // A port below the ephemeral range: once closed, it cannot be taken by an outgoing
    // connection's source port before the proxy listens on it again.
    for (let attempt = 0; ; attempt++) {
      const port = this.port || 20_000 + Math.floor(Math.random() * 10_000);
      try {
        // Each attempt takes its listeners back: a port still held makes up() retry, and left
        // behind they would pile up on the server (Node warns past 10).
        await new Promise<void>((resolve, reject) => {
          const onError = (error: Error) => {
            server.off("listening", onListening);
            reject(error);
          };
          const onListening = () => {
            server.off("error", onError);
            resolve();
          };
          server.once("error", onError);
          server.once("listening", onListening);
          server.listen(port, "127.0.0.1");
        });
        this.port = port;
        this.#server = server;
        return;
      } catch (error) {
        if (attempt >= 20) throw error;
        await Bun.sleep(50);
      }
    }
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}
