/**
 * Cost from a price table. `estimateCost` gives `undefined` for a model no table knows — never a
 * silent $0 — so an unpriced model shows up as unpriced instead of as free.
 *
 * Cost of one call (rates in USD per million tokens; see `TokenRates` for the defaults):
 *   (promptTokens − cacheRead − cacheWrite) × input + cacheRead × cacheRead rate
 *   + cacheWrite × cacheWrite rate + (completionTokens − reasoning) × output + reasoning × reasoning rate
 *
 * Costs are exact to the last bit where cheap: see `pricing-compile.ts`.
 *
 * Tables are layers: a table searches its own prices, then its `fallback` (by default the built-in
 * table), so `createPriceTable(mine, { fallback: genaiPricesTable() })` prices from the user's
 * entries first, then from the maintained source. `price()` says which layer priced a call. A
 * layer's prices are its entries or, for a maintained source, a `PriceResolver` with the source's
 * own matching rules.
 */

import { BUILTIN_PRICES } from "./builtin-prices.ts";
import {
  byRecency,
  type Compiled,
  compile,
  costOf,
  type PriceInstant,
  pick,
  toMs,
} from "./pricing-compile.ts";
import { type PriceEntry, type PriceTableFile, parsePriceTable } from "./pricing-schema.ts";
import type { Usage } from "./types.ts";

export type { PriceInstant } from "./pricing-compile.ts";
export type { PriceEntry, PriceTableFile, TokenRates } from "./pricing-schema.ts";
export { BUILTIN_PRICES };

export interface PriceTableOptions {
  /** Search the built-in table after this one. Default `true`; ignored when `fallback` is given. */
  builtin?: boolean;
  /**
   * The table searched after this one, instead of the built-in table: a maintained source
   * (`genaiPricesTable()` from `session-metrics/prices/genai-prices`) or any other table, whose
   * own fallback is searched after it.
   */
  fallback?: PriceTable;
  /** Names the table in error messages and in `price()` results (a file path, say). */
  source?: string;
  /** The date the prices were checked, for reports. */
  asOf?: string;
}

/** What a call says about where it went, beyond its model name. */
export interface PriceHints {
  /**
   * The provider that served the call (`openai`, `anthropic`, `aws`, `azure`, ...). A table's
   * entries ignore it; a maintained source uses it to choose among the providers of one model.
   */
  provider?: string;
}

/** A priced call. */
export interface PricedCall {
  /** USD. */
  cost: number;
  /** The `source` of the table that priced it (`genai-prices@0.1.8`, a file path, `built-in price table`). */
  source: string;
}

/** The price in effect for a model, and the table it comes from. */
export interface PriceMatch {
  source: string;
  asOf: string | undefined;
  /** The rates. From a maintained source, `model` and `provider` are the source's own ids. */
  entry: PriceEntry;
}

/** The price a resolver found for one model at one instant. */
export interface ResolvedPrice {
  /** The rates as an entry, for `lookup`, reports and the CLI. */
  readonly entry: PriceEntry;
  /** Cost in USD of one call (a `ValidationError` for inconsistent usage, as with entries). */
  cost(usage: Usage, model: string): number;
}

/**
 * Prices with their own matching rules (a maintained data set, `prices/genai-prices`), behind a
 * table made with `PriceTable.fromResolver`. `resolve` runs on every priced call, so it memoises.
 */
export interface PriceResolver {
  /** The price of `model` in effect at `atMs` (undefined: now), or `undefined` if it has none. */
  resolve(model: string, atMs: number | undefined, hints: PriceHints | undefined): ResolvedPrice | undefined;
}

const MEMO_LIMIT = 1024;

/** A validated, indexed price table, searched before its fallback (by default the built-in one). */
export class PriceTable {
  readonly entries: readonly PriceEntry[];
  readonly asOf: string | undefined;
  /** Names the table in error messages and in `price()` results. Default "price table". */
  readonly source: string;
  readonly #exact = new Map<string, Compiled[]>();
  readonly #patterns: Compiled[] = [];
  readonly #fallback: PriceTable | undefined;
  /** Set by `fromResolver`: then the table has no entries and asks the resolver instead. */
  #resolver: PriceResolver | undefined;
  /** model → matching entries in precedence order (dates still to check). Bounded. */
  #memo = new Map<string, Compiled[]>();

  /** Validates `entries` (throws `ValidationError` naming the bad entry). */
  constructor(entries: readonly unknown[], options: PriceTableOptions = {}) {
    const source = options.source ?? "price table";
    this.source = source;
    // The built-in entries are this package's own constant (checked by a test), so they skip
    // zod: loading it would cost the first priced LLM call tens of milliseconds. So does nothing.
    this.entries =
      entries === BUILTIN_PRICES.entries
        ? BUILTIN_PRICES.entries
        : entries.length === 0
          ? []
          : parsePriceTable([...entries], source).entries;
    this.asOf = options.asOf;
    this.#fallback = options.fallback ?? (options.builtin === false ? undefined : builtinTable());
    this.entries.forEach((entry, index) => {
      const c = compile(entry, index, source);
      if (c.exact !== undefined) {
        const list = this.#exact.get(c.exact);
        if (list === undefined) this.#exact.set(c.exact, [c]);
        else list.push(c);
      } else this.#patterns.push(c);
    });
    for (const list of this.#exact.values()) list.sort(byRecency);
    // Most specific first; among equals, the most recent `from`, then table order.
    this.#patterns.sort((a, b) => b.specificity - a.specificity || byRecency(a, b));
  }

  /**
   * A table whose prices come from `resolver` (a maintained source with its own matching rules).
   * Unlike the constructor, no fallback unless `fallback` or `builtin: true` says so.
   */
  static fromResolver(resolver: PriceResolver, options: PriceTableOptions = {}): PriceTable {
    const table = new PriceTable([], { ...options, builtin: options.builtin ?? false });
    table.#resolver = resolver;
    return table;
  }

  /** The `source` of this table and of each fallback behind it, in search order. */
  get sources(): string[] {
    return [this.source, ...(this.#fallback?.sources ?? [])];
  }

  /** The entry that prices `model` at `at` (this table's before its fallback's), or `undefined`. */
  lookup(model: string, at?: PriceInstant, hints?: PriceHints): PriceEntry | undefined {
    return this.resolve(model, at, hints)?.entry;
  }

  /** The price in effect for `model` at `at` (default now) and the table it comes from. */
  resolve(model: string, at?: PriceInstant, hints?: PriceHints): PriceMatch | undefined {
    const atMs = at === undefined ? undefined : toMs(at);
    for (let t: PriceTable | undefined = this; t !== undefined; t = t.#fallback) {
      const entry = t.#resolver?.resolve(model, atMs, hints)?.entry ?? t.#pick(model, atMs)?.entry;
      if (entry !== undefined) return { source: t.source, asOf: t.asOf, entry };
    }
    return undefined;
  }

  /** Cost in USD of one call, or `undefined` when no entry prices `model` at `at`. */
  estimateCost(model: string, usage: Usage, at?: PriceInstant, hints?: PriceHints): number | undefined {
    return this.price(model, usage, at, hints)?.cost;
  }

  /** Cost in USD of one call and the table that priced it, or `undefined` when none does. */
  price(model: string, usage: Usage, at?: PriceInstant, hints?: PriceHints): PricedCall | undefined {
    const atMs = at === undefined ? undefined : toMs(at);
    for (let t: PriceTable | undefined = this; t !== undefined; t = t.#fallback) {
      const cost = t.#cost(model, usage, atMs, hints);
      if (cost !== undefined) return { cost, source: t.source };
    }
    return undefined;
  }

  /** This table's own cost of the call (no fallback). `atMs` undefined = now. */
  #cost(model: string, usage: Usage, atMs: number | undefined, hints: PriceHints | undefined) {
    if (this.#resolver !== undefined) return this.#resolver.resolve(model, atMs, hints)?.cost(usage, model);
    const c = this.#pick(model, atMs);
    if (c === undefined) return undefined;
    const rates = c.tier !== undefined && usage.promptTokens > c.tierAbove ? c.tier : c.base;
    return costOf(rates, usage, model);
  }

  /** `atMs` undefined = now, read only if a candidate has a date range. */
  #pick(model: string, atMs: number | undefined): Compiled | undefined {
    return this.#resolver === undefined ? pick(this.#candidates(model), atMs) : undefined;
  }

  /**
   * Own exact entries, then own patterns. A gateway-style name (`openai/gpt-4o`) that nothing
   * matches falls back to its bare name.
   */
  #candidates(model: string): Compiled[] {
    let list = this.#memo.get(model);
    if (list !== undefined) return list;
    list = this.#match(model);
    const slash = model.lastIndexOf("/");
    if (list.length === 0 && slash >= 0) list = this.#match(model.slice(slash + 1));
    if (this.#memo.size >= MEMO_LIMIT) this.#memo = new Map();
    this.#memo.set(model, list);
    return list;
  }

  #match(model: string): Compiled[] {
    const list = [...(this.#exact.get(model) ?? [])];
    for (const p of this.#patterns) if (p.regex!.test(model)) list.push(p);
    return list;
  }
}

/**
 * The hints a recorded call carries (see `PriceHints`): `details.provider`, else the OpenTelemetry
 * GenAI attribute `gen_ai.provider.name` (or the older `gen_ai.system`); `undefined` without one.
 */
export function priceHintsOf(
  details: { provider?: unknown; attributes?: Readonly<Record<string, unknown>> } | undefined,
): PriceHints | undefined {
  const a = details?.attributes;
  const provider = details?.provider ?? a?.["gen_ai.provider.name"] ?? a?.["gen_ai.system"];
  return typeof provider === "string" && provider !== "" ? { provider } : undefined;
}

/**
 * A price table from entries (an array, or `{ asOf?, entries }`), validated. User entries are
 * searched before `fallback`, or before the built-in table unless `builtin: false`.
 * (`createPriceTable` of the package also takes a JSON file path.)
 */
export function priceTableFrom(
  source: readonly unknown[] | { asOf?: string; entries: readonly unknown[] },
  options: PriceTableOptions = {},
): PriceTable {
  if (Array.isArray(source)) return new PriceTable(source, options);
  const file: PriceTableFile = parsePriceTable(source, options.source);
  return new PriceTable(file.entries, { ...options, asOf: options.asOf ?? file.asOf });
}

let builtin: PriceTable | undefined;

/** The built-in table alone (built on first use, so importing costs nothing). */
export function builtinTable(): PriceTable {
  builtin ??= new PriceTable(BUILTIN_PRICES.entries, {
    builtin: false,
    source: "built-in price table",
    asOf: BUILTIN_PRICES.asOf,
  });
  return builtin;
}

/**
 * Cost in USD of one call to `model` with `usage`, priced at `at` (default now) from `table`
 * (default: the built-in table). `undefined` when the model is unknown — never a silent 0.
 */
export function estimateCost(
  model: string,
  usage: Usage,
  at?: PriceInstant,
  table: PriceTable = builtinTable(),
): number | undefined {
  return table.estimateCost(model, usage, at);
}
