/**
 * Price table entries: their types and the zod schema that checks them at the edge (a JSON file or
 * an object handed to `createPriceTable`). Errors name the entry by index and model.
 */

import { ValidationError } from "../errors.ts";
import { lazySchema } from "./lazy-zod.ts";

/** USD per million tokens. */
export interface TokenRates {
  /** Uncached input tokens. */
  input: number;
  /** Output tokens that are not reasoning tokens. */
  output: number;
  /** Cache reads. Default: `input`. */
  cacheRead?: number;
  /** Cache writes. Default: `input`. */
  cacheWrite?: number;
  /** Reasoning tokens. Default: `output`. */
  reasoning?: number;
}

/** One model's price over one period. Exactly one of `model` and `pattern`. */
export interface PriceEntry {
  /** Exact model name (case-sensitive). Beats any pattern. */
  model?: string;
  /**
   * A glob (`*` any run of characters, `?` one character: `claude-sonnet-4*`) or a regular
   * expression written `/source/flags` (or a `RegExp`). When several patterns match, the most
   * specific wins: the one with most literal characters (a regex counts its source length).
   */
  pattern?: string | RegExp;
  /** First instant the price applies (ISO 8601 date or date-time, inclusive). Default: always. */
  from?: string;
  /** First instant it no longer applies (exclusive). Default: never ends. */
  until?: string;
  rates: TokenRates;
  /**
   * Above `aboveInputTokens` input tokens (cache included), `rates` here apply to the WHOLE
   * request — input, output and cache — not just to the tokens past the threshold.
   */
  longContext?: { aboveInputTokens: number; rates: TokenRates };
  /** Free text for humans (`openai`, `anthropic`, ...); not used for matching. */
  provider?: string;
  note?: string;
}

/** A price table file: an array of entries, or `{ asOf?, entries }`. */
export interface PriceTableFile {
  asOf?: string;
  entries: PriceEntry[];
}

/** The largest rate an entry may give, in USD per million tokens. */
export const MAX_RATE = 1_000_000;

/** The schemas, built on first use (zod loads lazily; see lazy-zod.ts). */
const schemas = lazySchema((z) => {
  // Bounded so that every cost stays finite: a rate near Number.MAX_VALUE scales to Infinity,
  // and 0 tokens × Infinity is NaN. The dearest real rates are a few hundred USD per million.
  const rate = z
    .number()
    .nonnegative()
    .max(MAX_RATE, `must be at most ${MAX_RATE.toLocaleString("en-US")} USD per million tokens`);
  const ratesSchema = z.strictObject({
    input: rate,
    output: rate,
    cacheRead: rate.optional(),
    cacheWrite: rate.optional(),
    reasoning: rate.optional(),
  });
  const isoInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: "must be an ISO 8601 date (2025-06-10) or date-time (2025-06-10T00:00:00Z)",
  });

  const entrySchema = z
    .strictObject({
      model: z.string().min(1).optional(),
      pattern: z.union([z.string().min(1), z.instanceof(RegExp)]).optional(),
      from: isoInstant.optional(),
      until: isoInstant.optional(),
      rates: ratesSchema,
      longContext: z
        .strictObject({ aboveInputTokens: z.number().int().nonnegative(), rates: ratesSchema })
        .optional(),
      provider: z.string().optional(),
      note: z.string().optional(),
    })
    .refine((e) => (e.model === undefined) !== (e.pattern === undefined), {
      error: "needs exactly one of model and pattern",
    })
    .refine(
      (e) => e.from === undefined || e.until === undefined || Date.parse(e.from) < Date.parse(e.until),
      {
        error: "from must be before until",
        path: ["until"],
      },
    );

  const fileSchema = z.union([
    z.array(z.unknown()),
    z.strictObject({ asOf: z.string().optional(), entries: z.array(z.unknown()) }),
  ]);
  return { entrySchema, fileSchema };
});

/** Checks a whole table (array or `{ asOf?, entries }`); throws a `ValidationError` naming the first bad entry. */
export function parsePriceTable(input: unknown, source = "price table"): PriceTableFile {
  const top = schemas().fileSchema.safeParse(input);
  if (!top.success)
    throw new ValidationError(
      `[prices] ${source} must be an array of entries or { "asOf"?, "entries": [...] }`,
    );
  const raw = Array.isArray(top.data) ? { entries: top.data } : top.data;
  const entries = raw.entries.map((entry, index) => parsePriceEntry(entry, index, source));
  return raw.asOf === undefined ? { entries } : { asOf: raw.asOf, entries };
}

/** Checks one entry; the error names it by index and model (or pattern). */
export function parsePriceEntry(entry: unknown, index: number, source = "price table"): PriceEntry {
  const result = schemas().entrySchema.safeParse(entry);
  if (result.success) return result.data as PriceEntry;
  const issues = result.error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
  throw new ValidationError(`[prices] ${source}: entry ${index} (${entryLabel(entry)}): ${issues}`);
}

/** `model "gpt-4o"` / `pattern "claude-*"` / `no model`, for error messages. */
export function entryLabel(entry: unknown): string {
  if (typeof entry !== "object" || entry === null) return "not an object";
  const e = entry as { model?: unknown; pattern?: unknown };
  if (typeof e.model === "string") return `model ${JSON.stringify(e.model)}`;
  if (typeof e.pattern === "string") return `pattern ${JSON.stringify(e.pattern)}`;
  if (e.pattern instanceof RegExp) return `pattern ${String(e.pattern)}`;
  return "no model";
}
