/**
 * Price entries compiled for lookup, and the cost formula.
 *
 * Exactness: each rate is scaled once, when the table is built, to an integer number of
 * picodollars per token (rate × 10^6: exact for rates with up to 6 decimals). The sum of
 * tokens × scaled rate is then an exact integer (while it stays below 2^53, i.e. below ~$9,000
 * per call), and the one division by 10^12 rounds once, so the result is the double nearest to
 * the true cost: 3 tokens at $0.10/M give exactly 3e-7, where `3 * 0.1 / 1e6` gives
 * 3.0000000000000004e-7. A rate with more decimals (or a bigger sum) uses the same formula in
 * ordinary floating point.
 */

import { ValidationError } from "../errors.ts";
import { entryLabel, type PriceEntry, type TokenRates } from "./pricing-schema.ts";
import type { Usage } from "./types.ts";

/** When a price applies: a `Date`, epoch milliseconds or an ISO 8601 string. Default: now. */
export type PriceInstant = Date | number | string;

const PICO = 1e6; // USD per million tokens → picodollars per token
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Picodollars per token (integers when exact). */
export interface Scaled {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
}

export interface Compiled {
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

export function costOf(r: Scaled, u: Usage, model: string): number {
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

export function compile(entry: PriceEntry, index: number, source: string): Compiled {
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

export function byRecency(a: Compiled, b: Compiled): number {
  return b.fromMs - a.fromMs || a.index - b.index;
}

export function pick(list: readonly Compiled[], atMs: number | undefined): Compiled | undefined {
  for (const c of list) {
    if (c.fromMs === Number.NEGATIVE_INFINITY && c.untilMs === Number.POSITIVE_INFINITY) return c;
    // Reading the clock costs more than the rest of a lookup: only when a date range asks for it.
    atMs ??= Date.now();
    if (atMs >= c.fromMs && atMs < c.untilMs) return c;
  }
  return undefined;
}

export function toMs(at: PriceInstant): number {
  const ms = typeof at === "number" ? at : typeof at === "string" ? Date.parse(at) : at.getTime();
  if (!Number.isFinite(ms))
    throw new ValidationError(`[prices] invalid price date ${JSON.stringify(String(at))}`);
  return ms;
}
