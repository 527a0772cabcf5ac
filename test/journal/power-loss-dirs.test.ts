/**
 * Directory entries after a power loss (found by the power-loss model, test/torture/): a file is
 * only durable once the directory holding its name was fsync'd, and a new directory once its
 * parent was. A new session's folder (and the sessions folder, when the open creates it) and its
 * journal must be durable before the first `sync()` resolves; `save()` into a new folder must leave
 * METRICS.json durable when it resolves. Each test loses power keeping none of the unsynced writes
 * or directory entries, the worst case the model allows.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { useFileIO } from "../../src/fs/io.ts";
import { load, save } from "../../src/fs/metrics-file.ts";
import { replaySession } from "../../src/journal/replay.ts";
import type { Durability } from "../../src/journal/writer.ts";
import { Collector } from "../../src/session/collector.ts";
import { CrashIO } from "../torture/crash-io.ts";
import { rng } from "../torture/harness.ts";
import { MemoryLogger, TempDirs } from "./helpers.ts";

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const NOTHING_KEPT = { keepWrite: 0, keepEntry: 0 } as const;

/** Runs `work` on a modelled folder, then loses power: returns the after-reboot folder. */
async function afterPowerLoss(work: (root: string) => Promise<void>): Promise<string> {
  const root = temps.make("dirs", { fast: true });
  const crash = new CrashIO(root);
  const restore = useFileIO(crash.fileIO());
  try {
    await work(root);
  } finally {
    restore();
  }
  const out = temps.make("dirs-reboot", { fast: true });
  crash.powerLoss(rng(1), out, NOTHING_KEPT);
  return out;
}

const toolCalls = (sessionsDir: string, id: string) =>
  replaySession(sessionsDir, id, undefined, { logger: new MemoryLogger() })?.state.tools.get("Read")
    ?.callCount;

describe("a power loss right after the first acknowledgement", () => {
  for (const durability of ["group", "on-sync"] as Durability[])
    test(`a new session's records whose sync() resolved survive (durability ${durability})`, async () => {
      let c: Collector | undefined;
      const out = await afterPowerLoss(async (root) => {
        c = await Collector.open({
          sessionsDir: root,
          sessionId: "fresh",
          durability,
          logger: new MemoryLogger(),
        });
        c.recordToolCall("Read", true, 5);
        c.recordToolCall("Read", true, 7);
        await c.sync();
      });
      await c?.stop();
      expect(toolCalls(out, "fresh")).toBe(2);
    });

  test("a session whose sessions folder the open created survives, folder and all", async () => {
    let c: Collector | undefined;
    const out = await afterPowerLoss(async (root) => {
      c = await Collector.open({
        sessionsDir: join(root, "a", "b"),
        sessionId: "deep",
        logger: new MemoryLogger(),
      });
      c.recordToolCall("Read", true, 1);
      await c.sync();
    });
    await c?.stop();
    expect(toolCalls(join(out, "a", "b"), "deep")).toBe(1);
  });

  test("METRICS.json of a flush without a journal survives", async () => {
    let c: Collector | undefined;
    const out = await afterPowerLoss(async (root) => {
      c = await Collector.open({
        sessionsDir: root,
        sessionId: "go",
        journal: false,
        logger: new MemoryLogger(),
      });
      c.recordToolCall("Read", true, 3);
      await c.flush();
    });
    await c?.stop();
    expect((await load(out, "go"))?.tools.map((t) => [t.name, t.callCount])).toEqual([["Read", 1]]);
  });

  test("save() into a new session folder leaves METRICS.json durable", async () => {
    const metrics = {
      sessionId: "saved",
      startedAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:01.000Z",
      tools: [
        { name: "Read", callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 4, avgDurationMs: 4 },
      ],
      editStrategies: [],
      llms: [],
      phases: [],
    };
    const out = await afterPowerLoss((root) => save(join(root, "new"), "saved", metrics));
    expect(await load(join(out, "new"), "saved")).toEqual(metrics);
  });
});
