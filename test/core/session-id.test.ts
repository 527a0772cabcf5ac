/** Session ids: what names a folder safely, and what is refused everywhere with nothing on disk. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { assertSessionId } from "../../src/core/session-id.ts";
import { InvalidSessionIdError, MetricsError } from "../../src/errors.ts";
import { load, save } from "../../src/fs/metrics-file.ts";
import { Collector } from "../../src/session/collector.ts";
import { cleanup, emptyMetrics, listTree, ManualClock, tempDir } from "./helpers.ts";

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => cleanup(dir));

const VALID = [
  "a",
  "Z",
  "0",
  "5f3a9c21",
  "a.b_c-d",
  "a..b",
  "x".repeat(128),
  "console",
  "con1",
  "com10",
  "nul_",
  "auxiliary",
  "lpt",
  "2026-11-22T01.42.24",
];

const INVALID: unknown[] = [
  "",
  ".",
  "..",
  "-a",
  "_a",
  ".hidden",
  "a/b",
  "a\\b",
  "../x",
  "a b",
  "é",
  "a\n",
  "a\u0000",
  "x".repeat(129),
  "con",
  "NUL",
  "com1",
  "Lpt9.txt",
  "aux.tar.gz",
  "PRN",
  "COM\u00b9",
  1,
  null,
  undefined,
  {},
  ["a"],
];

describe("valid ids", () => {
  test.each(VALID)("%p is accepted by Collector, save and load", async (id) => {
    expect(() => assertSessionId(id)).not.toThrow();
    const c = new Collector({ sessionId: id, sessionsDir: dir, now: new ManualClock().now });
    await c.stop();
    expect(await load(dir, id)).toEqual(emptyMetrics(id));
    await save(join(dir, "saved"), id, emptyMetrics(id));
    expect(await listTree(join(dir, "saved"))).toEqual([id, `${id}/METRICS.json`]);
  });
});

describe("invalid ids", () => {
  test.each(INVALID.map((id) => [id] as const))(
    "%p is refused by Collector, load and save, and nothing is created",
    async (id) => {
      const sessionsDir = join(dir, "sessions");
      const fromCollector = (() => {
        try {
          new Collector({ sessionId: id as string, sessionsDir });
        } catch (error) {
          return error;
        }
      })();
      expect(fromCollector).toBeInstanceOf(InvalidSessionIdError);
      expect(fromCollector).toBeInstanceOf(MetricsError);
      expect((fromCollector as InvalidSessionIdError).sessionId).toBe(id);
      expect((fromCollector as Error).message).toStartWith("[session-metrics] invalid session id ");

      const fromLoad = await load(sessionsDir, id as string).catch((e: unknown) => e);
      expect(fromLoad).toBeInstanceOf(InvalidSessionIdError);

      const m = { ...emptyMetrics(), sessionId: id as string };
      const fromSave = await save(sessionsDir, id as string, m).catch((e: unknown) => e);
      expect(fromSave).toBeInstanceOf(InvalidSessionIdError);

      expect(await listTree(dir)).toEqual([]);
    },
  );

  test("the message names the id and why it is refused", () => {
    expect(() => assertSessionId("a/b")).toThrow(
      '[session-metrics] invalid session id "a/b": use 1 to 128 characters from A-Z a-z 0-9 . _ - starting with a letter or digit',
    );
    expect(() => assertSessionId("nul")).toThrow(
      '[session-metrics] invalid session id "nul": it is a reserved device name on Windows',
    );
    expect(() => assertSessionId(42)).toThrow("[session-metrics] invalid session id 42: expected a string");
  });

  test("a disabled collector refuses an invalid id too", () => {
    expect(() => new Collector({ sessionId: "..", sessionsDir: dir, enabled: false })).toThrow(
      InvalidSessionIdError,
    );
  });
});
