/**
 * What `session-metrics prices` needs, for any price table: the rates that apply to a model and
 * the source they come from (`prices <model>`), the models seen in sessions that no source prices
 * (`prices --unpriced`), and the table the CLI prices with when the user names none.
 */
import type { PriceInstant, PriceMatch, PriceTable } from "../core/pricing.ts";
import { builtinTable } from "../core/pricing.ts";
import { loadPriceTable } from "../fs/price-file.ts";

export interface PriceQuery {
  /** When the call happened (dated prices). Default: now. */
  at?: PriceInstant;
  /** The provider that served it, if known (see `PriceHints`). */
  provider?: string;
}

export interface PriceDescription {
  model: string;
  /** Every source the table searches, in order (`prices.json`, `genai-prices@0.1.8`, ...). */
  searched: string[];
  /** The price in effect and its source; `undefined` when no source prices the model. */
  match: PriceMatch | undefined;
}

/** The rates `table` applies to `model` (at `query.at`, for `query.provider`) and their source. */
export function describePrice(model: string, table: PriceTable, query: PriceQuery = {}): PriceDescription {
  const hints = query.provider === undefined ? undefined : { provider: query.provider };
  return { model, searched: table.sources, match: table.resolve(model, query.at, hints) };
}

/** A model seen in a session, with what the call said about it. */
export interface ModelUse {
  model: string;
  provider?: string;
  at?: PriceInstant;
}

/**
 * The models, among `models` (names, or uses with a provider and an instant), that no source of
 * `table` prices: distinct names, sorted. A name priced for some of its uses (a dated price that
 * starts later, say) is listed when any use is unpriced.
 */
export function unpricedModels(models: Iterable<string | ModelUse>, table: PriceTable): string[] {
  const unpriced = new Set<string>();
  const checked = new Set<string>();
  for (const use of models) {
    const { model, provider, at } = typeof use === "string" ? { model: use } : use;
    if (unpriced.has(model)) continue;
    // Without an instant the answer depends only on the name and provider: ask once.
    const key = at === undefined ? `${provider ?? ""}\u0000${model}` : undefined;
    if (key !== undefined && checked.has(key)) continue;
    if (key !== undefined) checked.add(key);
    if (table.resolve(model, at, provider === undefined ? undefined : { provider }) === undefined)
      unpriced.add(model);
  }
  return [...unpriced].sort();
}

/** How `defaultPriceTable` loads the maintained source (a parameter so a test can make it missing). */
export type SourceLoader = () => Promise<{ genaiPricesTable: () => PriceTable }>;

const loadGenaiPrices: SourceLoader = () => import("./genai-prices/index.ts");

/**
 * The table the CLI prices with: the JSON price table `file` if given, searched first; then
 * `@pydantic/genai-prices` when it is installed, or else the built-in table (which is for
 * installs without the package).
 */
export async function defaultPriceTable(
  options: { file?: string } = {},
  load: SourceLoader = loadGenaiPrices,
): Promise<PriceTable> {
  let source: PriceTable;
  try {
    source = (await load()).genaiPricesTable();
  } catch (error) {
    if (!isMissingPeer(error)) throw error;
    source = builtinTable();
  }
  return options.file === undefined ? source : loadPriceTable(options.file, { fallback: source });
}

/** The error of importing a package that is not installed (Bun's and Node's wordings). */
function isMissingPeer(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    typeof e?.message === "string" &&
    e.message.includes("@pydantic/genai-prices") &&
    (e.code === "ERR_MODULE_NOT_FOUND" || /cannot find (package|module)/i.test(e.message))
  );
}
