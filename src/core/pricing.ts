/**
 * Cost from a price table. `estimateCost` gives `undefined` for a model no table knows — never a
 * silent $0 — so an unpriced model shows up as unpriced instead of as free.
 *
 * Cost of one call (rates in USD per million tokens; see `TokenRates` for the defaults):
 *   (promptTokens − cacheRead − cacheWrite) × input + cacheRead × cacheRead rate
 *   + cacheWrite × cacheWrite rate + (completionTokens − reasoning) × output + reasoning × reasoning rate
 *
 * Costs are exact to the last bit where cheap: see `pricing-compile.ts`.
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
  /** Search the built-in table after this one. Default `true`. */
  builtin?: boolean;
  /** Named in error messages (a file path, say). */
  source?: string;
  /** The date the prices were checked, for reports. */
  asOf?: string;
}

const MEMO_LIMIT = 1024;

/** A validated, indexed price table; optionally backed by the built-in one. */
export class PriceTable {
  readonly entries: readonly PriceEntry[];
  readonly asOf: string | undefined;
  readonly #exact = new Map<string, Compiled[]>();
  readonly #patterns: Compiled[] = [];
  readonly #fallback: PriceTable | undefined;
  /** model → matching entries in precedence order (dates still to check). Bounded. */
  #memo = new Map<string, Compiled[]>();

  /** Validates `entries` (throws `ValidationError` naming the bad entry). */
  constructor(entries: readonly unknown[], options: PriceTableOptions = {}) {
    const source = options.source ?? "price table";
    // The built-in entries are this package's own constant (checked by a test), so they skip
    // zod: loading it would cost the first priced LLM call tens of milliseconds.
    this.entries =
      entries === BUILTIN_PRICES.entries
        ? BUILTIN_PRICES.entries
        : parsePriceTable([...entries], source).entries;
    this.asOf = options.asOf;
    this.#fallback = options.builtin === false ? undefined : builtinTable();
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

  /** The entry that prices `model` at `at` (user entries before built-in ones), or `undefined`. */
  lookup(model: string, at?: PriceInstant): PriceEntry | undefined {
    return this.#resolve(model, at === undefined ? undefined : toMs(at))?.entry;
  }

  /** Cost in USD of one call, or `undefined` when no entry prices `model` at `at`. */
  estimateCost(model: string, usage: Usage, at?: PriceInstant): number | undefined {
    const c = this.#resolve(model, at === undefined ? undefined : toMs(at));
    if (c === undefined) return undefined;
    const rates = c.tier !== undefined && usage.promptTokens > c.tierAbove ? c.tier : c.base;
    return costOf(rates, usage, model);
  }

  /** `atMs` undefined = now, read only if a candidate has a date range. */
  #resolve(model: string, atMs: number | undefined): Compiled | undefined {
    return pick(this.#candidates(model), atMs);
  }

  /**
   * Own exact entries, then own patterns, then the fallback's candidates. A gateway-style name
   * (`openai/gpt-4o`) that nothing matches falls back to its bare name.
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
    if (this.#fallback !== undefined) list.push(...this.#fallback.#match(model));
    return list;
  }
}

/**
 * A price table from entries (an array, or `{ asOf?, entries }`), validated. User entries are
 * searched before the built-in table unless `builtin: false`. (`createPriceTable` of the package
 * also takes a JSON file path.)
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
