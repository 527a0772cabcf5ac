/**
 * `node:fs` and `node:fs/promises`, loaded when first used. Importing them costs ~5 ms each on
 * these machines, a large share of the package root's 20 ms start-up budget, and nothing touches
 * a file until a collector opens a session. (Bun's `require` is synchronous; a property read
 * through the proxy costs far less than the I/O call it precedes.)
 */
import type * as Fs from "node:fs";
import type * as FsPromises from "node:fs/promises";

function lazyModule<T extends object>(load: () => T): T {
  let module: T | undefined;
  return new Proxy({} as T, {
    get(_target, key) {
      module ??= load();
      return Reflect.get(module, key);
    },
  });
}

export const fs: typeof Fs = lazyModule(() => require("node:fs") as typeof Fs);
export const fsp: typeof FsPromises = lazyModule(() => require("node:fs/promises") as typeof FsPromises);
