/**
 * One `@pydantic/genai-prices` model's prices, compiled for the calls this library records:
 * text tokens in and out, cache reads and writes, reasoning tokens, and a per-request fee.
 *
 * The package prices each usage unit at its own rate and lets a unit it has no rate for fall into
 * its parent (a cache read without `cache_read_mtok` is an input token). With the usage we
 * record that is exactly our formula (`core/pricing-compile.ts`) with the unset rates defaulting
 * to `input` / `output`, so the compiled rates go through the same exact integer arithmetic as a
 * user's entries. Keys for usage we never record (audio, images, web searches, pages...) would
 * cost 0 in `calcPrice` here too, and are left out.
 *
 * Tiers: the package picks each key's rate by the call's total input tokens (`input > start`),
 * key by key. The union of every key's thresholds gives whole-request rate vectors, one per
 * threshold, which price identically.
 */
import type { ModelPrice, TieredPrices } from "@pydantic/genai-prices";
import type { PriceEntry, ResolvedPrice, TokenRates } from "../../core/pricing.ts";
import { compile, costOf, type Scaled } from "../../core/pricing-compile.ts";
import type { Usage } from "../../core/types.ts";
import { ValidationError } from "../../errors.ts";

/** Our rate (USD per million tokens) ← the package's price key. */
const TOKEN_KEYS = {
  input: "input_mtok",
  output: "output_mtok",
  cacheRead: "cache_read_mtok",
  cacheWrite: "cache_write_mtok",
  reasoning: "output_reasoning_mtok",
} as const satisfies Record<keyof TokenRates, string>;
/** USD per 1,000 requests; `calcPrice` charges one request per call. */
const REQUESTS_KEY = "requests_kcount";
/** A key with a rate needs its parent's rate (the package throws otherwise). */
const PARENT: Partial<Record<keyof TokenRates, keyof TokenRates>> = {
  cacheRead: "input",
  cacheWrite: "input",
  reasoning: "output",
};

type Price = number | TieredPrices;

/** Where a model's price comes from, for entries and error messages. */
export interface PriceOrigin {
  provider: string;
  model: string;
  /** The source's human name of the model (`Claude Sonnet 4.5`). */
  name: string | undefined;
  source: string;
}

/** Rates of one model over one period, ready to price a call. */
export class CompiledPrice implements ResolvedPrice {
  readonly entry: PriceEntry;
  readonly #base: Scaled;
  /** Ascending thresholds: above `above` input tokens (cache included), `rates` apply. */
  readonly #tiers: readonly { above: number; rates: Scaled }[];
  /** USD per call. */
  readonly #perRequest: number;

  constructor(
    entry: PriceEntry,
    base: Scaled,
    tiers: { above: number; rates: Scaled }[],
    perRequest: number,
  ) {
    this.entry = entry;
    this.#base = base;
    this.#tiers = tiers;
    this.#perRequest = perRequest;
  }

  cost(usage: Usage, model: string): number {
    let rates = this.#base;
    for (const tier of this.#tiers) if (usage.promptTokens > tier.above) rates = tier.rates;
    const tokens = costOf(rates, usage, model);
    // Adding 0 changes nothing, so a model without a fee keeps the exact token cost.
    return this.#perRequest === 0 ? tokens : tokens + this.#perRequest;
  }
}

/**
 * Compiles one price set, or `undefined` when none of its keys is one a recorded call can use
 * (a model priced per audio hour or per page): such a model is unpriced here, never $0. An empty
 * set is the source saying "free" and costs exactly 0. `extra` adds `from`/`until`/`note`.
 */
export function compilePrice(
  prices: ModelPrice,
  origin: PriceOrigin,
  extra: Pick<PriceEntry, "from" | "until" | "note">,
): CompiledPrice | undefined {
  const keys = Object.keys(prices).filter((k) => prices[k] !== undefined);
  const used = [...Object.values(TOKEN_KEYS), REQUESTS_KEY].filter((k) => prices[k] !== undefined);
  if (keys.length > 0 && used.length === 0) return undefined;
  const bad = (what: string) =>
    new ValidationError(
      `[prices] ${origin.source}: provider ${JSON.stringify(origin.provider)} model ${JSON.stringify(origin.model)}: ${what}`,
    );
  const raw: Partial<Record<keyof TokenRates, Steps>> = {};
  for (const [ours, theirs] of Object.entries(TOKEN_KEYS) as [keyof TokenRates, string][]) {
    const value = prices[theirs];
    if (value !== undefined)
      raw[ours] = steps(value, () => bad(`${theirs} must be a rate ≥ 0 or { base, tiers }`));
  }
  for (const [child, parent] of Object.entries(PARENT) as [keyof TokenRates, keyof TokenRates][])
    if (raw[child] !== undefined && raw[parent] === undefined)
      throw bad(`${TOKEN_KEYS[child]} needs ${TOKEN_KEYS[parent]}`);
  const fee = prices[REQUESTS_KEY] ?? 0;
  if (!isRate(fee)) throw bad(`${REQUESTS_KEY} must be a number ≥ 0`);

  const thresholds = [...new Set(Object.values(raw).flatMap((s) => s.tiers.map((t) => t.start)))].sort(
    (a, b) => a - b,
  );
  const base = ratesAt(raw, -1);
  const tiers = thresholds.map((above) => ({ above, rates: ratesAt(raw, above) }));
  const first = tiers[0];
  const entry: PriceEntry = {
    model: origin.model,
    provider: origin.provider,
    ...(extra.from === undefined ? {} : { from: extra.from }),
    ...(extra.until === undefined ? {} : { until: extra.until }),
    rates: base,
    ...(first === undefined ? {} : { longContext: { aboveInputTokens: first.above, rates: first.rates } }),
  };
  const notes = [
    origin.name,
    extra.note,
    fee === 0 ? undefined : `plus $${fee} per 1,000 requests`,
    tiers.length > 1 ? `more tiers above ${thresholds.slice(1).join(", ")} input tokens` : undefined,
  ].filter((n) => n !== undefined && n !== "");
  if (notes.length > 0) entry.note = notes.join("; ");
  // Scaled exactly as a user's entries are.
  const scaled = (rates: TokenRates) => compile({ model: origin.model, rates }, 0, origin.source).base;
  return new CompiledPrice(
    entry,
    scaled(base),
    tiers.map((t) => ({ above: t.above, rates: scaled(t.rates) })),
    fee / 1000,
  );
}

/** One key's rate as a step function of the call's input tokens: `base`, then ascending tiers. */
interface Steps {
  base: number;
  tiers: { start: number; price: number }[];
}

function isRate(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/** A flat rate or `{ base, tiers }`, checked, tiers sorted by start (a stable sort, as the package's). */
function steps(value: Price, error: () => ValidationError): Steps {
  if (isRate(value)) return { base: value, tiers: [] };
  const t = value as { base?: unknown; tiers?: unknown } | null;
  if (typeof t !== "object" || t === null || !isRate(t.base) || !Array.isArray(t.tiers)) throw error();
  const tiers = t.tiers.map((tier: { start?: unknown; price?: unknown } | null) => {
    const start = tier?.start;
    const price = tier?.price;
    if (typeof start !== "number" || !Number.isSafeInteger(start) || start < 0 || !isRate(price))
      throw error();
    return { start, price };
  });
  return { base: t.base, tiers: tiers.sort((a, b) => a.start - b.start) };
}

/** The rates of a call with more than `above` input tokens (−1: the base rates). */
function ratesAt(raw: Partial<Record<keyof TokenRates, Steps>>, above: number): TokenRates {
  // The package takes the last tier whose start the input exceeds; `above` is itself a start.
  const at = (s: Steps | undefined): number | undefined => {
    if (s === undefined) return undefined;
    let rate = s.base;
    for (const tier of s.tiers) if (above >= tier.start) rate = tier.price;
    return rate;
  };
  const rates: TokenRates = { input: at(raw.input) ?? 0, output: at(raw.output) ?? 0 };
  for (const key of ["cacheRead", "cacheWrite", "reasoning"] as const) {
    const rate = at(raw[key]);
    if (rate !== undefined) rates[key] = rate;
  }
  return rates;
}
