/**
 * The fault sweep's quick tier inside `bun test` (every fault point of every scenario, no
 * violation), and the fault layer itself: the n-th call fails with its code, a short write,
 * persistence, clear().
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io, writeAllSync } from "../../src/fs/io.ts";
import { run } from "./areas/faults.ts";
import { FaultIO } from "./fault-io.ts";
import { describeViolations, tortureContext } from "./harness.ts";

// A safety net for a busy 2-core machine; no test asserts a duration.
setDefaultTimeout(180_000);

const dir = mkdtempSync(join(tmpdir(), "sm-fault-io-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

function thrown(fn: () => unknown): NodeJS.ErrnoException | undefined {
  try {
    fn();
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  return undefined;
}

describe("the fault layer", () => {
  test("the n-th call fails with the planned errno error, and only that one", () => {
    const fault = new FaultIO({ at: 2, kind: "ENOSPC", persistent: false });
    restore = fault.install();
    const path = join(dir, "nth");
    const fd = io.openSync(path, "w", 0o644); // call 1
    const error = thrown(() => io.writeSync(fd, Buffer.from("abc"))); // call 2
    expect(error?.message).toBe("ENOSPC: injected, writeSync");
    expect(error?.code).toBe("ENOSPC");
    expect(error?.errno).toBe(-28);
    expect(error?.syscall).toBe("write");
    expect(io.writeSync(fd, Buffer.from("abc"))).toBe(3); // call 3: the fault was once
    io.closeSync(fd);
    expect(fault.calls).toBe(4);
    expect(fault.injected).toBe(1);
    expect(Object.fromEntries(fault.byOp)).toEqual({ openSync: 1, writeSync: 2, closeSync: 1 });
    expect(readFileSync(path, "utf8")).toBe("abc");
  });

  test("a persistent fault fails every later call until clear()", () => {
    const fault = new FaultIO({ at: 1, kind: "EIO", persistent: true });
    restore = fault.install();
    expect(thrown(() => io.mkdirSync(join(dir, "a"), { recursive: true, mode: 0o755 }))?.code).toBe("EIO");
    expect(thrown(() => io.readdirSync(dir))?.code).toBe("EIO");
    expect(thrown(() => io.statSync(dir))?.code).toBe("EIO");
    fault.clear();
    expect(io.statSync(dir).isDirectory()).toBe(true);
    expect(fault.injected).toBe(3);
  });

  test("EACCES and EDQUOT carry their Linux errno", () => {
    const fault = new FaultIO({ at: 1, kind: "EACCES", persistent: false });
    restore = fault.install();
    expect(thrown(() => io.readdirSync(dir))).toMatchObject({ code: "EACCES", errno: -13 });
    fault.arm({ at: 1, kind: "EDQUOT", persistent: false });
    expect(thrown(() => io.readdirSync(dir))).toMatchObject({ code: "EDQUOT", errno: -122 });
  });

  test("a short write moves half the bytes, and writeAllSync completes it", () => {
    const fault = new FaultIO({ at: 1, kind: "short-write", persistent: false });
    restore = fault.install();
    const path = join(dir, "short");
    const fd = io.openSync(path, "w", 0o644); // call 1: not a write, so the next write is cut
    expect(io.writeSync(fd, Buffer.from("abcdefgh"), 0, 8, 0)).toBe(4);
    expect(io.writeSync(fd, Buffer.from("ijkl"), 0, 4, 4)).toBe(4); // once: the next one is whole
    fault.arm({ at: 1, kind: "short-write", persistent: true });
    writeAllSync(fd, Buffer.from("0123456789"), 0); // every write halved: 5, 2, 1, 1, 1
    io.closeSync(fd);
    expect(fault.injected).toBe(5);
    expect(readFileSync(path, "utf8")).toBe("0123456789");
  });

  test("an asynchronous operation fails through its callback", async () => {
    const fault = new FaultIO({ at: 1, kind: "EIO", persistent: false });
    restore = fault.install();
    const fd = openSync(join(dir, "async"), "w");
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => io.fsync(fd, resolve));
    closeSync(fd);
    expect(error?.message).toBe("EIO: injected, fsync");
  });

  test("a failing closeSync still closes the descriptor, as close(2) does", () => {
    const fd = openSync(join(dir, "close"), "w");
    const fault = new FaultIO({ at: 1, kind: "EIO", persistent: false });
    restore = fault.install();
    expect(thrown(() => io.closeSync(fd))?.code).toBe("EIO");
    fault.clear();
    expect(thrown(() => io.fstatSync(fd))?.code).toBe("EBADF");
  });
});

describe("the fault sweep (quick tier)", () => {
  test("no invariant breaks at any fault point of any scenario", async () => {
    const rows = await run(tortureContext());
    expect(describeViolations(rows)).toBe("");
    expect(rows.map((r) => r.area)).toEqual([
      "faults: first flush()",
      "faults: later flush()",
      "faults: journal append + group commit",
      "faults: sync()",
      "faults: recovery on open",
      "faults: lock take",
      "faults: lock reclaim (dead pid)",
      "faults: lock release (stop())",
      "faults: save()",
      "faults: ingest() into SQLite",
    ]);
    for (const row of rows) {
      expect(row.trials).toBeGreaterThan(1);
      expect(row.faults).toBeGreaterThan(0);
    }
  });
});
