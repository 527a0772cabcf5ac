/**
 * `genaiPricesTable()`: a `PriceTable` compiled from `@pydantic/genai-prices`' data — the data its
 * own `calcPrice` uses (the bundled snapshot, or what `updatePrices` last loaded).
 *
 * Compiling indexes the providers and compiles every match clause (a few milliseconds: `bun run
 * bench prices`); a model's rates, tiers and dated prices are compiled the first time a call asks
 * for it. A priced call then costs two map look-ups (name → model, memoised) and the cost formula.
 * No module-level cache: keep the table you made (one per process is plenty); a later call
 * compiles the package's data as it is then (after an `updatePrices`, say).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Provider, waitForUpdate } from "@pydantic/genai-prices";
import { type PriceHints, type PriceResolver, PriceTable, type ResolvedPrice } from "../../core/pricing.ts";
import { MetricsError, ValidationError } from "../../errors.ts";
import { readTextFileSync as readTextFile } from "../../fs/io.ts";
import { compileMatch, type IndexedProvider, ProviderIndex } from "./match.ts";
import { CompiledModel } from "./model.ts";

export interface GenaiPricesOptions {
  /**
   * Provider data to compile (the package's `Provider[]`, e.g. a newer `data.json` you fetched).
   * Default: the data the package's `calcPrice` uses now.
   */
  data?: readonly Provider[];
  /**
   * Search the built-in table after the package. Default `false`: the built-in table is for
   * installs without the package, and a model the package does not know stays unpriced.
   */
  builtin?: boolean;
  /** A table searched after the package (instead of the built-in one). */
  fallback?: PriceTable;
  /** Names the table in `price()` results, reports and errors. Default `genai-prices@<version>`. */
  source?: string;
}

const MEMO_LIMIT = 1024;

/**
 * A price table backed by `@pydantic/genai-prices`: model names matched as the package matches
 * them, a provider hint (`price(model, usage, at, { provider })`) choosing among providers of one
 * name, cache read and write rates, long-context tiers and prices that change on a date or by time
 * of day, all by the call's timestamp.
 *
 * Where `calcPrice(usage, model, { providerId, timestamp })` prices a call, this table gives the
 * same cost within 1e-12 relative (ours is the correctly rounded one), except for a model priced
 * only in units a recorded call has none of (audio hours, pages): unpriced here, $0 there. Where
 * `calcPrice` finds nothing, the table also tries the name without the hint, then a gateway name
 * (`bedrock/...`, `openai/gpt-4o`) as provider + model, then its last segment.
 *
 * Throws `ValidationError` for data it cannot read, and `MetricsError` while the package is still
 * loading an update (`updatePrices`).
 */
export function genaiPricesTable(options: GenaiPricesOptions = {}): PriceTable {
  const source =
    options.source ?? (options.data === undefined ? `genai-prices@${packageVersion()}` : "genai-prices");
  const resolver = new GenaiResolver(options.data ?? activeData(), source);
  // Data you pass is checked whole now; the package's own is compiled model by model on first use
  // (a test compiles all of it).
  if (options.data !== undefined) resolver.check();
  return PriceTable.fromResolver(resolver, {
    source,
    ...(options.builtin === undefined ? {} : { builtin: options.builtin }),
    ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
  });
}

/** The package's data as `calcPrice` sees it; its promise is settled unless an update is loading. */
function activeData(): readonly Provider[] {
  const data: unknown = Bun.peek(waitForUpdate());
  if (Array.isArray(data)) return data;
  throw new MetricsError(
    "[prices] @pydantic/genai-prices is still loading updated prices: `await waitForUpdate()` before " +
      "genaiPricesTable(), or pass { data }",
    { cause: data instanceof Error ? data : undefined },
  );
}

/** The installed package's version, for the source name ("genai-prices@?" if unreadable). */
function packageVersion(): string {
  try {
    const entry = fileURLToPath(import.meta.resolve("@pydantic/genai-prices"));
    const manifest = JSON.parse(readTextFile(join(dirname(entry), "..", "package.json")));
    return typeof manifest.version === "string" ? manifest.version : "?";
  } catch {
    return "?";
  }
}

class GenaiResolver implements PriceResolver {
  readonly #index: ProviderIndex<CompiledModel>;
  /** hint ("" for none) → model name → model, or null when nothing matches. Bounded. */
  #memo = new Map<string, Map<string, CompiledModel | null>>();
  #memoSize = 0;

  constructor(data: readonly Provider[], source: string) {
    if (!Array.isArray(data))
      throw new ValidationError(`[prices] ${source}: data must be an array of providers`);
    this.#index = new ProviderIndex(data.map((p, i) => indexProvider(p, i, source)));
  }

  resolve(model: string, atMs: number | undefined, hints: PriceHints | undefined): ResolvedPrice | undefined {
    const hint = hints?.provider ?? "";
    let byName = this.#memo.get(hint);
    let found = byName?.get(model);
    if (found === undefined) {
      found = this.#find(model, hint === "" ? undefined : hint) ?? null;
      if (this.#memoSize >= MEMO_LIMIT) {
        this.#memo = new Map();
        this.#memoSize = 0;
        byName = undefined;
      }
      if (byName === undefined) {
        byName = new Map();
        this.#memo.set(hint, byName);
      }
      byName.set(model, found);
      this.#memoSize++;
    }
    return found?.priceAt(atMs);
  }

  /** Compiles every model: a `ValidationError` naming the first one the table cannot read. */
  check(): void {
    this.#index.each((model) => model.check());
  }

  /** `calcPrice`'s model for (name, hint); failing that, the same name read more loosely. */
  #find(model: string, hint: string | undefined): CompiledModel | undefined {
    const index = this.#index;
    const found = index.find(model, hint) ?? (hint === undefined ? undefined : index.find(model, undefined));
    if (found !== undefined) return found;
    const name = model.toLowerCase().trim();
    const first = name.indexOf("/");
    if (first <= 0) return undefined;
    const prefix = name.slice(0, first);
    const last = name.slice(name.lastIndexOf("/") + 1);
    return (
      (index.knows(prefix) ? index.find(name.slice(first + 1), prefix) : undefined) ??
      (last === "" ? undefined : index.find(last, undefined))
    );
  }
}

function indexProvider(p: Provider, i: number, source: string): IndexedProvider<CompiledModel> {
  const where = `${source}: provider ${typeof p?.id === "string" ? JSON.stringify(p.id) : i}`;
  if (typeof p !== "object" || p === null || typeof p.id !== "string" || !Array.isArray(p.models))
    throw new ValidationError(`[prices] ${where}: needs an id and a models list`);
  const models = p.models.map((m, j) => {
    if (
      typeof m !== "object" ||
      m === null ||
      typeof m.id !== "string" ||
      typeof m.match !== "object" ||
      m.match === null
    )
      throw new ValidationError(`[prices] ${where}: model ${j} needs an id and a match clause`);
    return {
      match: compileMatch(m.match, `${where} model ${JSON.stringify(m.id)}`),
      model: new CompiledModel(p.id, m, source),
    };
  });
  return {
    id: p.id,
    modelMatch: p.model_match === undefined ? undefined : compileMatch(p.model_match, where),
    providerMatch: p.provider_match === undefined ? undefined : compileMatch(p.provider_match, where),
    fallbacks: p.fallback_model_providers ?? [],
    models,
  };
}
