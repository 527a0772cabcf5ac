/**
 * Modules of this package loaded on first use. Bun transpiles every `.ts` module it loads, so each
 * module the package root reaches adds to start-up (the root must import in under 20 ms); parts
 * that only some programs use (analytics, journal replay, provider usage normalisers, stream
 * timing, price-table compilation) load when first called. Bun's `require` loads an ES module
 * synchronously, so callers see no difference but the first call's load.
 */

/** A loader that runs `load` once and then returns the same module. */
export function once<M>(load: () => M): () => M {
  let module: M | undefined;
  return () => {
    module ??= load();
    return module;
  };
}

/** The keys of `M` whose values are functions. */
type FunctionKey<M> = { [K in keyof M]: M[K] extends (...args: never[]) => unknown ? K : never }[keyof M];

/**
 * A stand-in for the function export `key` of a module loaded on the stand-in's first call: same
 * name, same type, same result (the call is forwarded with its `this` and arguments).
 */
export function lazyFunction<M, K extends FunctionKey<M> & string>(load: () => M, key: K): M[K] {
  const forward = function (this: unknown, ...args: unknown[]): unknown {
    return (load()[key] as (...a: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperty(forward, "name", { value: key });
  return forward as M[K];
}

/** The keys of `M` whose values are classes. */
type ClassKey<M> = {
  [K in keyof M]: M[K] extends abstract new (...args: never[]) => unknown ? K : never;
}[keyof M];

/**
 * A stand-in for the class export `key` of a module loaded when the class is first used: `new`,
 * `instanceof`, `extends` and static members all reach the real class (a Proxy forwards
 * construction and property reads; `instanceof` reads `prototype` through it). Export a type
 * alias of the same name beside it so the name still works as a type.
 */
export function lazyClass<M, K extends ClassKey<M> & string>(load: () => M, key: K): M[K] {
  const real = () => load()[key] as unknown as new (...args: unknown[]) => object;
  // A plain function target (a declaration, not an arrow: it must be constructible), whose own
  // `prototype` is writable, so reads of `prototype` may report the real class's (Proxy invariants).
  function target(): void {}
  Object.defineProperty(target, "name", { value: key });
  return new Proxy(target, {
    construct: (_target, args, newTarget) => Reflect.construct(real(), args, newTarget),
    apply: (_target, thisArg, args) => Reflect.apply(real(), thisArg, args),
    get: (_target, property) => Reflect.get(real(), property),
    has: (_target, property) => Reflect.has(real(), property),
  }) as M[K];
}
