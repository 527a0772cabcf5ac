/**
 * zod, loaded on first use. Importing zod costs tens of milliseconds, and the package root must
 * import in under 20 ms; schemas are only needed when a file, a price table or an invocation is
 * actually validated. (Bun's `require` loads an ES module synchronously.)
 */
import type * as Zod from "zod";

export type ZodNamespace = typeof Zod.z;

let zod: ZodNamespace | undefined;

export function loadZod(): ZodNamespace {
  zod ??= (require("zod") as typeof Zod).z;
  return zod;
}

/** A value built from zod the first time it is asked for (a schema, typically). */
export function lazySchema<T>(build: (z: ZodNamespace) => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build(loadZod());
    return value;
  };
}
