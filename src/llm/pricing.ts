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

import type { Usage } from "../core/types.ts";
import { ParseError, StorageError } from "../errors.ts";
import { once } from "../runtime/lazy-module.ts";
import { fs } from "../runtime/lazy-node.ts";
import { BUILTIN_PRICES } from "./builtin-prices.ts";
import type * as CompileModule from "./pricing-compile.ts";
import type { Compiled, PriceInstant } from "./pricing-compile.ts";
import type * as SchemaModule from "./pricing-schema.ts";
import type { PriceEntry } from "./pricing-schema.ts";

// Validation and compilation load with the first table (every Recorder imports this module).
const compiler = once(() => require("./pricing-compile.ts") as typeof CompileModule);
const schema = once(() => require("./pricing-schema.ts") as typeof SchemaModule);

function parsePriceTable(input: unknown, source?: string): SchemaModule.PriceTableFile {
  return schema().parsePriceTable(input, source);
}

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
    this.entries = parsePriceTable([...entries], source).entries;
    this.asOf = options.asOf;
    this.#fallback = options.builtin === false ? undefined : builtinTable();
    const { byRecency, compile } = compiler();
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
    return this.#resolve(model, at === undefined ? undefined : compiler().toMs(at))?.entry;
  }

  /** Cost in USD of one call, or `undefined` when no entry prices `model` at `at`. */
  estimateCost(model: string, usage: Usage, at?: PriceInstant): number | undefined {
    const c = this.#resolve(model, at === undefined ? undefined : compiler().toMs(at));
    if (c === undefined) return undefined;
    const rates = c.tier !== undefined && usage.promptTokens > c.tierAbove ? c.tier : c.base;
    return compiler().costOf(rates, usage, model);
  }

  /** `atMs` undefined = now, read only if a candidate has a date range. */
  #resolve(model: string, atMs: number | undefined): Compiled | undefined {
    return compiler().pick(this.#candidates(model), atMs);
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
 * A price table from entries (an array, or `{ asOf?, entries }`) or from a JSON file path (read
 * synchronously). User entries are searched before the built-in table unless `builtin: false`.
 */
export function createPriceTable(
  source: readonly unknown[] | { asOf?: string; entries: readonly unknown[] } | string,
  options: PriceTableOptions = {},
): PriceTable {
  if (typeof source === "string") {
    let text: string;
    try {
      text = fs.readFileSync(source, "utf8");
    } catch (cause) {
      throw unreadable(source, cause);
    }
    return fromJson(text, source, options);
  }
  if (Array.isArray(source)) return new PriceTable(source, options);
  const file = parsePriceTable(source, options.source);
  return new PriceTable(file.entries, { ...options, asOf: options.asOf ?? file.asOf });
}

/**
 * Reads a JSON price table file: `StorageError` when it cannot be read, `ParseError` when it is not
 * JSON, `ValidationError` naming the first bad entry.
 */
export async function loadPriceTable(path: string, options: PriceTableOptions = {}): Promise<PriceTable> {
  let text: string;
  try {
    text = await Bun.file(path).text();
  } catch (cause) {
    throw unreadable(path, cause);
  }
  return fromJson(text, path, options);
}

function unreadable(path: string, cause: unknown): StorageError {
  return new StorageError(`[prices] cannot read the price table ${path}: ${(cause as Error).message}`, {
    cause,
    path,
  });
}

function fromJson(text: string, path: string, options: PriceTableOptions): PriceTable {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new ParseError(path, `price table is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const file = parsePriceTable(data, path);
  return new PriceTable(file.entries, { ...options, source: path, asOf: options.asOf ?? file.asOf });
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
