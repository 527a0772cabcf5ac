/**
 * A `FileIO` that fails on purpose: it counts every call (in total and by operation), and from a
 * plan makes the n-th call fail with a real-looking errno error — ENOSPC, EIO, EACCES, EDQUOT —
 * or, for `short-write`, makes the first write from the n-th call on move only part of its buffer
 * (the library must write the rest or fail cleanly). `persistent` keeps failing every later call
 * (every later write, for a short write) until `clear()`.
 *
 * A failing `closeSync` still closes the descriptor, as close(2) does on Linux (the EIO of an NFS
 * close reports a lost write; the descriptor is gone all the same): the sweep would otherwise leak
 * thousands of descriptors. Every other failing call does nothing before it throws.
 */
import { type FileIO, nodeFileIO, useFileIO } from "../../src/fs/io.ts";

export const FAULT_KINDS = ["ENOSPC", "EIO", "EACCES", "EDQUOT", "short-write"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultPlan {
  /** The 1-based index of the call that fails (counting every operation). */
  at: number;
  kind: FaultKind;
  /** Every later call fails too (every later write, for `short-write`), until `clear()`. */
  persistent: boolean;
}

/** Linux errno values, negative as Node reports them. */
const ERRNO: Record<Exclude<FaultKind, "short-write">, number> = {
  ENOSPC: -28,
  EIO: -5,
  EACCES: -13,
  EDQUOT: -122,
};

type Op = keyof FileIO;
const WRITES: ReadonlySet<Op> = new Set<Op>(["writeSync", "write"]);

export class FaultIO {
  /** Calls so far, every operation. */
  calls = 0;
  /** Calls so far by operation name. */
  readonly byOp = new Map<string, number>();
  /** Faults injected so far (failed calls and shortened writes). */
  injected = 0;
  #plan: FaultPlan | undefined;
  #tripped = false;

  constructor(plan?: FaultPlan) {
    this.#plan = plan;
  }

  /** Arms a plan (replacing any other) and starts counting from zero. */
  arm(plan: FaultPlan | undefined): void {
    this.#plan = plan;
    this.#tripped = false;
    this.calls = 0;
    this.injected = 0;
    this.byOp.clear();
  }

  /** Stops injecting: the disk is back. Counting goes on. */
  clear(): void {
    this.#plan = undefined;
  }

  /** Swaps this into the library's `io`; returns the restore function. */
  install(): () => void {
    return useFileIO(this.fileIO());
  }

  /** The wrapped operations. */
  fileIO(): FileIO {
    const sync = <K extends Op>(op: K) =>
      ((...args: unknown[]) => {
        const fault = this.hit(op);
        if (fault !== undefined && fault !== "short-write") {
          if (op === "closeSync") (nodeFileIO.closeSync as (fd: number) => void)(args[0] as number);
          throw errnoError(fault, op);
        }
        if (fault === "short-write") return shortWriteSync(args);
        return (nodeFileIO[op] as (...a: unknown[]) => unknown)(...args);
      }) as FileIO[K];
    const callback = <K extends Op>(op: K) =>
      ((...args: unknown[]) => {
        const fault = this.hit(op);
        const done = args[args.length - 1] as (error: unknown, n?: number) => void;
        if (fault !== undefined && fault !== "short-write") {
          setImmediate(() => done(errnoError(fault, op), 0));
          return;
        }
        if (fault === "short-write") {
          const [fd, buffer, offset, length, position] = args as [
            number,
            Uint8Array,
            number,
            number,
            number | null,
          ];
          nodeFileIO.write(fd, buffer, offset, shorter(length), position, done);
          return;
        }
        (nodeFileIO[op] as (...a: unknown[]) => unknown)(...args);
      }) as FileIO[K];
    const wrapped = {} as Record<Op, unknown>;
    for (const op of Object.keys(nodeFileIO) as Op[]) {
      wrapped[op] =
        op === "read" || op === "write" || op === "fsync" || op === "rename" ? callback(op) : sync(op);
    }
    return wrapped as unknown as FileIO;
  }

  /**
   * Counts one call of `op`; the fault it must suffer, if any. Public so that a wrapper of
   * another resource (a database) shares the same count and plan.
   */
  hit(op: string): FaultKind | undefined {
    this.calls++;
    this.byOp.set(op, (this.byOp.get(op) ?? 0) + 1);
    const plan = this.#plan;
    if (plan === undefined || this.calls < plan.at) return undefined;
    if (plan.kind === "short-write") {
      // A short write can only happen to a write: the first one from the n-th call on.
      if (!WRITES.has(op as Op) || (this.#tripped && !plan.persistent)) return undefined;
    } else if (this.calls > plan.at && !plan.persistent) return undefined;
    this.#tripped = true;
    this.injected++;
    return plan.kind;
  }
}

/** The error Node would throw, e.g. `ENOSPC: injected, writeSync` with code, errno and syscall. */
export function errnoError(code: Exclude<FaultKind, "short-write">, op: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected, ${op}`), {
    code,
    errno: ERRNO[code],
    syscall: op.replace(/Sync$/, ""),
  });
}

/** Half of the bytes asked for (at least one): a write cut short by a full disk or a signal. */
function shorter(length: number): number {
  return Math.max(1, Math.floor(length / 2));
}

function shortWriteSync(args: unknown[]): number {
  const [fd, buffer, offset = 0, length, position] = args as [
    number,
    Uint8Array,
    number | undefined,
    number | undefined,
    number | null | undefined,
  ];
  const wanted = length ?? buffer.length - offset;
  return nodeFileIO.writeSync(fd, buffer, offset, shorter(wanted), position);
}
