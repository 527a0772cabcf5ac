/**
 * One operation of the library's `io` made to fail, for focused regression tests: `op` throws
 * (or, for a callback operation, reports) an errno error with `code` while `when(args)` holds,
 * until `clear()`. The full sweep lives in test/torture/; this is the scalpel.
 */
import { afterEach } from "bun:test";
import { type FileIO, io, useFileIO } from "../../src/fs/io.ts";

const CALLBACK_OPS = new Set<keyof FileIO>(["read", "write", "fsync", "rename"]);

export interface FailingIO {
  /** Calls that failed so far. */
  readonly failures: number;
  /** Stops failing (the disk is back); the wrapper stays installed until `restore()`. */
  clear(): void;
  restore(): void;
}

export function failOp(
  op: keyof FileIO,
  code: string,
  when: (args: unknown[]) => boolean = () => true,
): FailingIO {
  let active = true;
  let failures = 0;
  const error = () => Object.assign(new Error(`${code}: injected, ${op}`), { code, syscall: op });
  // Over whatever is installed, so that two failing operations can be stacked.
  const original = io[op] as (...args: unknown[]) => unknown;
  const replacement = (...args: unknown[]) => {
    if (!active || !when(args)) return original(...args);
    failures++;
    if (op === "closeSync") original(...args); // close(2) frees the descriptor even when it fails
    if (!CALLBACK_OPS.has(op)) throw error();
    const done = args[args.length - 1] as (e: unknown) => void;
    setImmediate(() => done(error()));
  };
  const restore = useFileIO({ ...io, [op]: replacement });
  return {
    get failures() {
      return failures;
    },
    clear: () => {
      active = false;
    },
    restore,
  };
}

/**
 * For a test file: returns `failOp`, and registers an `afterEach` that restores every failure
 * made through it (newest first, as they are stacked).
 */
export function failuresUndoneAfterEach(): typeof failOp {
  let failing: FailingIO[] = [];
  afterEach(() => {
    for (const f of failing.reverse()) f.restore();
    failing = [];
  });
  return (...args) => {
    const f = failOp(...args);
    failing.push(f);
    return f;
  };
}
