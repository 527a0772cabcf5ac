/**
 * The small built-in price table. These are the providers' public list prices (standard tier, USD
 * per million tokens) AS OF `asOf`, to the best of the authors' knowledge on that date. Prices
 * change and new models appear: pass your own table (`createPriceTable`) for anything that
 * matters — its entries are searched first — and treat these as a convenience, not a source of
 * truth. A model missing from both tables has cost `undefined`, never 0.
 *
 * Anthropic cache writes use the 5-minute TTL rate (1.25 × input); 1-hour writes cost 2 × input,
 * so override `cacheWrite` if you use them. OpenAI does not charge extra for cache writes
 * (`cacheWrite` defaults to the input rate).
 */
import type { PriceEntry } from "./pricing-schema.ts";

/** A dated snapshot suffix (`-2025-04-16`), for the regex patterns below. */
const SNAPSHOT = "(-\\d{4}-\\d{2}-\\d{2})?";

/** `name` is an exact model name, or a pattern when it starts with `/` or contains `*`. */
function entry(
  provider: string,
  name: string,
  rates: PriceEntry["rates"],
  extra?: Partial<PriceEntry>,
): PriceEntry {
  const match = name.startsWith("/") || name.includes("*") ? { pattern: name } : { model: name };
  return { provider, ...match, rates, ...extra };
}

const openai = (
  name: string,
  input: number,
  cacheRead: number,
  output: number,
  extra?: Partial<PriceEntry>,
) => entry("openai", name, { input, cacheRead, output }, extra);

const claude = (
  name: string,
  [input, output, cacheWrite, cacheRead]: [number, number, number, number],
  extra?: Partial<PriceEntry>,
) => entry("anthropic", name, { input, output, cacheWrite, cacheRead }, extra);

/** Claude Sonnet 4 / 4.5 above 200K input tokens: the whole request is billed at these rates. */
const SONNET_LONG_CONTEXT = {
  aboveInputTokens: 200_000,
  rates: { input: 6, output: 22.5, cacheWrite: 7.5, cacheRead: 0.6 },
};

export const BUILTIN_PRICES: { readonly asOf: string; readonly entries: readonly PriceEntry[] } = {
  asOf: "2025-12-01",
  entries: [
    // OpenAI: input, cached input, output.
    openai(`/^gpt-5${SNAPSHOT}$/`, 1.25, 0.125, 10),
    openai(`/^gpt-5-mini${SNAPSHOT}$/`, 0.25, 0.025, 2),
    openai(`/^gpt-5-nano${SNAPSHOT}$/`, 0.05, 0.005, 0.4),
    openai(`/^gpt-4\\.1${SNAPSHOT}$/`, 2, 0.5, 8),
    openai(`/^gpt-4\\.1-mini${SNAPSHOT}$/`, 0.4, 0.1, 1.6),
    openai(`/^gpt-4\\.1-nano${SNAPSHOT}$/`, 0.1, 0.025, 0.4),
    openai("gpt-4o", 2.5, 1.25, 10),
    openai("gpt-4o-2024-08-06", 2.5, 1.25, 10),
    openai("gpt-4o-2024-11-20", 2.5, 1.25, 10),
    entry("openai", "gpt-4o-2024-05-13", { input: 5, output: 15 }),
    openai("gpt-4o-mini", 0.15, 0.075, 0.6),
    openai("gpt-4o-mini-2024-07-18", 0.15, 0.075, 0.6),
    // o3's price fell by 80% on 2025-06-10: the date range picks the price in effect at the call.
    openai(`/^o3${SNAPSHOT}$/`, 10, 2.5, 40, { until: "2025-06-10" }),
    openai(`/^o3${SNAPSHOT}$/`, 2, 0.5, 8, { from: "2025-06-10" }),
    openai(`/^o4-mini${SNAPSHOT}$/`, 1.1, 0.275, 4.4),
    openai(`/^o1${SNAPSHOT}$/`, 15, 7.5, 60),

    // Anthropic: input, output, 5-minute cache write, cache read. Globs name each known family
    // (`-0`/dated ids of 4.0, `-1` of 4.1, ...) rather than `claude-opus-4*`, so that a newer
    // sibling (a hypothetical `claude-opus-4-9`) shows up as unpriced instead of at an old price.
    claude("claude-opus-4-5*", [5, 25, 6.25, 0.5]),
    claude("claude-opus-4-1*", [15, 75, 18.75, 1.5]),
    claude("claude-opus-4-0*", [15, 75, 18.75, 1.5]),
    claude("claude-opus-4-2025*", [15, 75, 18.75, 1.5]),
    claude("claude-sonnet-4-5*", [3, 15, 3.75, 0.3], { longContext: SONNET_LONG_CONTEXT }),
    claude("claude-sonnet-4-0*", [3, 15, 3.75, 0.3], { longContext: SONNET_LONG_CONTEXT }),
    claude("claude-sonnet-4-2025*", [3, 15, 3.75, 0.3], { longContext: SONNET_LONG_CONTEXT }),
    claude("claude-haiku-4-5*", [1, 5, 1.25, 0.1]),
    claude("claude-3-7-sonnet*", [3, 15, 3.75, 0.3]),
    claude("claude-3-5-sonnet*", [3, 15, 3.75, 0.3]),
    claude("claude-3-5-haiku*", [0.8, 4, 1, 0.08]),
    claude("claude-3-opus*", [15, 75, 18.75, 1.5]),
    claude("claude-3-haiku*", [0.25, 1.25, 0.3, 0.03]),
  ],
};
