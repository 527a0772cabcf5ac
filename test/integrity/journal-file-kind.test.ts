/**
 * A journal.jsonl that is not a regular file is refused, never followed or read through: a
 * symbolic link to a file outside the session folder (the collector often runs as root), a
 * dangling link, a directory and a FIFO each make Collector.open throw a StorageError naming the
 * path, leave the target untouched, and hold no lock (the session opens once the file is fixed).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Collector, load, StorageError } from "../../src/index.ts";
import { fixture, JOURNAL, killStragglers, MemoryLogger, TempDirs, track } from "./helpers.ts";

setDefaultTimeout(30_000);

const temps = new TempDirs();
afterAll(() => {
  killStragglers();
  temps.removeAll();
});

const PRECIOUS = "root:x:0:0:root:/root:/bin/bash\nprecious data outside the session folder\n";

async function openError(sessionsDir: string, sessionId: string, resume: boolean): Promise<unknown> {
  try {
    const c = await Collector.open({ sessionId, sessionsDir, resume, logger: new MemoryLogger() });
    await c.stop();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** After the journal is made a plain file again, the session opens, records and stops. */
async function opensOnceFixed(sessionsDir: string, sessionId: string, path: string): Promise<void> {
  rmSync(path, { recursive: true, force: true });
  writeFileSync(path, "");
  const c = await Collector.open({ sessionId, sessionsDir, resume: true, logger: new MemoryLogger() });
  c.recordToolCall("Read", true, 1);
  await c.stop();
  expect((await load(sessionsDir, sessionId))!.tools[0]!.callCount).toBe(1);
  expect(
    readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l !== ""),
  ).toHaveLength(2);
}

describe("journal.jsonl as a symbolic link", () => {
  for (const dangling of [false, true]) {
    test(`to a file outside the session folder${dangling ? " that does not exist" : ""}: refused, the target untouched`, async () => {
      const sessionsDir = temps.make("link");
      const outside = temps.make("outside");
      const target = join(outside, "passwd");
      if (!dangling) writeFileSync(target, PRECIOUS);
      const id = "linked";
      mkdirSync(join(sessionsDir, id));
      const path = join(sessionsDir, id, JOURNAL);
      symlinkSync(target, path);

      for (const resume of [true, false]) {
        const error = await openError(sessionsDir, id, resume);
        expect(error).toBeInstanceOf(StorageError);
        const e = error as StorageError;
        expect(e.message).toBe(
          `[session-metrics] [journal] could not open ${path}: it is a symbolic link, which is never followed`,
        );
        expect(e.path).toBe(path);
        expect(e.code).toBe("ELOOP");
        expect(lstatSync(path).isSymbolicLink()).toBe(true);
        if (dangling) expect(existsSync(target)).toBe(false);
        else {
          expect(readFileSync(target, "utf8")).toBe(PRECIOUS);
          expect(statSync(target).size).toBe(Buffer.byteLength(PRECIOUS));
        }
        expect(existsSync(join(sessionsDir, id, ".lock"))).toBe(false);
      }
      await opensOnceFixed(sessionsDir, id, path);
      if (!dangling) expect(readFileSync(target, "utf8")).toBe(PRECIOUS);
      else expect(existsSync(target)).toBe(false);
    });
  }
});

describe("journal.jsonl that is not a file", () => {
  test("a directory: StorageError naming it, nothing held", async () => {
    const sessionsDir = temps.make("dir");
    const id = "dir";
    const path = join(sessionsDir, id, JOURNAL);
    mkdirSync(path, { recursive: true });
    for (const resume of [true, false]) {
      const error = await openError(sessionsDir, id, resume);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).message).toBe(
        `[session-metrics] [journal] refusing to use ${path}: it is a directory`,
      );
      expect((error as StorageError).path).toBe(path);
      expect(existsSync(join(sessionsDir, id, ".lock"))).toBe(false);
    }
    await opensOnceFixed(sessionsDir, id, path);
  });

  test("a FIFO: StorageError naming it (in a child: an open that blocks must not hang the suite)", async () => {
    const sessionsDir = temps.make("fifo");
    const id = "fifo";
    mkdirSync(join(sessionsDir, id));
    const path = join(sessionsDir, id, JOURNAL);
    expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0);
    for (const mode of ["resume", "fresh"]) {
      const child = track(
        Bun.spawn(["bun", fixture("try-open.ts"), sessionsDir, id, mode], {
          stdout: "pipe",
          stderr: "inherit",
        }),
      );
      let said: string;
      try {
        const out = await Promise.race([
          new Response(child.stdout).text(),
          Bun.sleep(5_000).then(() => undefined),
        ]);
        if (out === undefined) throw new Error(`Collector.open (${mode}) on a FIFO journal blocked for 5 s`);
        said = out.trim();
      } finally {
        child.kill("SIGKILL");
        await child.exited;
      }
      expect(JSON.parse(said)).toEqual({
        error: {
          name: "StorageError",
          message: `[session-metrics] [journal] refusing to use ${path}: it is not a regular file`,
          code: "EFTYPE",
          path,
        },
      });
      expect(existsSync(join(sessionsDir, id, ".lock"))).toBe(false);
    }
    await opensOnceFixed(sessionsDir, id, path);
  });
});
