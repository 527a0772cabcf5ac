/**
 * Cost from a price table. `estimateCost` gives `undefined` for a model no table knows — never a
 * silent $0 — so an unpriced model shows up as unpriced instead of as free.
 *
 * Cost of one call (rates in USD per million tokens; see `TokenRates` for the defaults):
 *   (promptTokens − cacheRead − cacheWrite) × input + cacheRead × cacheRead rate
 *   + cacheWrite × cacheWrite rate + (completionTokens − reasoning) × output + reasoning × reasoning rate
 *
 * Exactness: each rate is scaled once, when the table is built, to an integer number of
 * picodollars per token (rate × 10^6: exact for rates with up to 6 decimals). The sum of
 * tokens × scaled rate is then an exact integer (while it stays below 2^53, i.e. below ~$9,000
 * per call), and the one division by 10^12 rounds once, so the result is the double nearest to
 * the true cost: 1,000 tokens at $0.30/M give exactly 0.0003, not 0.00030000000000000003.
 * Otherwise it falls back to ordinary floating-point math.
 */
import { readFileSync } from "node:fs";
import type { Usage } from "../core/types.ts";
import { ParseError, StorageError, ValidationError } from "../errors.ts";
import { BUILTIN_PRICES } from "./builtin-prices.ts";
import { entryLabel, type PriceEntry, parsePriceTable, type TokenRates } from "./pricing-schema.ts";

export type { PriceEntry, PriceTableFile, TokenRates } from "./pricing-schema.ts";
export { BUILTIN_PRICES };

/** When a price applies: a `Date`, epoch milliseconds or an ISO 8601 string. Default: now. */
export type PriceInstant = Date | number | string;

export interface PriceTableOptions {
  /** Search the built-in table after this one. Default `true`. */
  builtin?: boolean;
  /** Named in error messages (a file path, say). */
  source?: string;
  /** The date the prices were checked, for reports. */
  asOf?: string;
}

const PICO = 1e6; // USD per million tokens → picodollars per token
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MEMO_LIMIT = 1024;

interface Scaled {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
}

interface Compiled {
  entry: PriceEntry;
  exact: string | undefined;
  regex: RegExp | undefined;
  specificity: number;
  index: number;
  fromMs: number;
  untilMs: number;
  base: Scaled;
  tierAbove: number;
  tier: Scaled | undefined;
}

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
      text = readFileSync(source, "utf8");
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
  return new StorageError(`[prices] cannot read the price table ${path}: ${(cause as Error).message}`, { cause, path });
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

function costOf(r: Scaled, u: Usage, model: string): number {
  const cacheRead = u.cacheReadTokens ?? 0;
  const cacheWrite = u.cacheWriteTokens ?? 0;
  const reasoning = u.reasoningTokens ?? 0;
  const uncached = u.promptTokens - cacheRead - cacheWrite;
  const text = u.completionTokens - reasoning;
  // `!(x >= 0)` also catches NaN from non-numeric fields.
  if (!(uncached >= 0) || !(text >= 0))
    throw new ValidationError(
      `[prices] usage for ${JSON.stringify(model)} is inconsistent: promptTokens must include cache reads and writes, ` +
        `completionTokens must include reasoning (normalise provider usage with the from*Usage adapters)`,
    );
  const sum =
    uncached * r.input +
    cacheRead * r.cacheRead +
    cacheWrite * r.cacheWrite +
    text * r.output +
    reasoning * r.reasoning;
  // Exact integer picodollars when every rate scaled to an integer and the sum is below 2^53;
  // otherwise the same formula is ordinary floating point. Either way: one rounding at the end.
  return sum / 1e12;
}

function scale(rates: TokenRates): Scaled {
  const raw = {
    input: rates.input,
    output: rates.output,
    cacheRead: rates.cacheRead ?? rates.input,
    cacheWrite: rates.cacheWrite ?? rates.input,
    reasoning: rates.reasoning ?? rates.output,
  };
  const s = {
    input: raw.input * PICO,
    output: raw.output * PICO,
    cacheRead: raw.cacheRead * PICO,
    cacheWrite: raw.cacheWrite * PICO,
    reasoning: raw.reasoning * PICO,
  };
  for (const key of ["input", "output", "cacheRead", "cacheWrite", "reasoning"] as const) {
    const rounded = Math.round(s[key]);
    // `rounded / 1e6 === rate` iff the rate is the double nearest to a 6-decimal number.
    if (rounded / PICO === raw[key] && rounded <= MAX_SAFE) s[key] = rounded;
  }
  return s;
}

function compile(entry: PriceEntry, index: number, source: string): Compiled {
  let regex: RegExp | undefined;
  let specificity = Number.POSITIVE_INFINITY;
  const p = entry.pattern;
  if (p !== undefined) {
    try {
      regex = p instanceof RegExp ? p : globOrRegex(p);
    } catch (cause) {
      throw new ValidationError(
        `[prices] ${source}: entry ${index} (${entryLabel(entry)}): pattern is not a valid regular expression: ${(cause as Error).message}`,
        { cause },
      );
    }
    // A stateful (g/y) regex would make test() depend on the previous call.
    if (regex.global || regex.sticky) regex = new RegExp(regex.source, regex.flags.replace(/[gy]/g, ""));
    specificity =
      typeof p === "string" && !p.startsWith("/") ? p.replace(/[*?]/g, "").length : regex.source.length;
  }
  return {
    entry,
    exact: entry.model,
    regex,
    specificity,
    index,
    fromMs: entry.from === undefined ? Number.NEGATIVE_INFINITY : Date.parse(entry.from),
    untilMs: entry.until === undefined ? Number.POSITIVE_INFINITY : Date.parse(entry.until),
    base: scale(entry.rates),
    tierAbove: entry.longContext?.aboveInputTokens ?? Number.POSITIVE_INFINITY,
    tier: entry.longContext === undefined ? undefined : scale(entry.longContext.rates),
  };
}

/** `/source/flags` → that RegExp; anything else is a glob, anchored at both ends. */
function globOrRegex(pattern: string): RegExp {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(pattern);
  if (m !== null) return new RegExp(m[1]!, m[2]);
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`);
}

function byRecency(a: Compiled, b: Compiled): number {
  return b.fromMs - a.fromMs || a.index - b.index;
}

function pick(list: readonly Compiled[], atMs: number | undefined): Compiled | undefined {
  for (const c of list) {
    if (c.fromMs === Number.NEGATIVE_INFINITY && c.untilMs === Number.POSITIVE_INFINITY) return c;
    // Reading the clock costs more than the rest of a lookup: only when a date range asks for it.
    atMs ??= Date.now();
    if (atMs >= c.fromMs && atMs < c.untilMs) return c;
  }
  return undefined;
}

function toMs(at: PriceInstant): number {
  const ms = typeof at === "number" ? at : typeof at === "string" ? Date.parse(at) : at.getTime();
  if (!Number.isFinite(ms))
    throw new ValidationError(`[prices] invalid price date ${JSON.stringify(String(at))}`);
  return ms;
}
