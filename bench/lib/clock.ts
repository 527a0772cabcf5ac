/**
 * The calling thread's CPU time, from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` through bun:ffi.
 * Unlike wall time it does not count the time the OS gave to other processes, so a synchronous
 * loop measures the same on a busy machine as on an idle one (cache and memory-bus sharing aside).
 * `undefined` where it is unavailable (not Linux/glibc, or FFI refused): callers use wall time.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const CLOCK_THREAD_CPUTIME_ID = 3;

function load(): (() => number) | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const libc = dlopen("libc.so.6", {
      clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    });
    const timespec = new BigInt64Array(2);
    const at = ptr(timespec);
    const read = () => {
      if (libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, at) !== 0)
        throw new Error("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
      return Number(timespec[0]!) * 1e9 + Number(timespec[1]!);
    };
    read();
    return read;
  } catch {
    return undefined;
  }
}

/** Nanoseconds of CPU time used by the calling thread, or `undefined` when it cannot be read. */
export const threadCpuNs: (() => number) | undefined = load();
