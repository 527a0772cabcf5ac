/**
 * Provider and model matching exactly as `@pydantic/genai-prices` does it inside `calcPrice`
 * (0.1.8), with every clause compiled once instead of on each call:
 *
 * - the model name is lower-cased and trimmed; `equals`/`starts_with`/`ends_with`/`contains`
 *   compare lower-cased text, `regex` runs as written on the lower-cased name; `or`, `and` nest;
 * - the provider is the hinted one (its `id`, else the first whose `provider_match` holds for the
 *   lower-cased hint; a hint nothing matches prices nothing), else the first provider whose
 *   `model_match` holds for the name. The hint `litellm` with `prefix/model` uses the prefix as the
 *   provider when it names one; `litellm` alone is no hint;
 * - the model is the provider's first whose `match` holds, else the first of each
 *   `fallback_model_providers` provider (one level); then the same with a compact date in the name
 *   spelt with dashes (`-20250514` → `-2025-05-14`).
 */
import type { MatchLogic } from "@pydantic/genai-prices";
import { ValidationError } from "../../errors.ts";

/** Tests an already lower-cased name. */
export type Matcher = (lower: string) => boolean;

export interface IndexedProvider<M> {
  id: string;
  modelMatch: Matcher | undefined;
  providerMatch: Matcher | undefined;
  fallbacks: readonly string[];
  models: readonly { match: Matcher; model: M }[];
}

/** One clause, compiled; `where` names it in the error for a regex that does not compile. */
export function compileMatch(clause: MatchLogic, where: string): Matcher {
  if (typeof clause !== "object" || clause === null || Array.isArray(clause))
    throw new ValidationError(
      `[prices] ${where}: a match clause must be an object, got ${JSON.stringify(clause)}`,
    );
  // The package tests the keys in this order, so a clause with several keys means the first.
  const c = clause as Partial<Record<string, unknown>>;
  if (Array.isArray(c.or)) {
    const parts = (c.or as MatchLogic[]).map((p) => compileMatch(p, where));
    return (t) => parts.some((p) => p(t));
  }
  if (Array.isArray(c.and)) {
    const parts = (c.and as MatchLogic[]).map((p) => compileMatch(p, where));
    return (t) => parts.every((p) => p(t));
  }
  const text = (key: string) => String(c[key]).toLowerCase();
  if ("equals" in c) {
    const v = text("equals");
    return (t) => t === v;
  }
  if ("starts_with" in c) {
    const v = text("starts_with");
    return (t) => t.startsWith(v);
  }
  if ("ends_with" in c) {
    const v = text("ends_with");
    return (t) => t.endsWith(v);
  }
  if ("contains" in c) {
    const v = text("contains");
    return (t) => t.includes(v);
  }
  if ("regex" in c) {
    let re: RegExp;
    try {
      re = new RegExp(String(c.regex));
    } catch (cause) {
      throw new ValidationError(`[prices] ${where}: invalid regex ${JSON.stringify(c.regex)}`, { cause });
    }
    return (t) => re.test(t);
  }
  return () => false; // an unknown clause matches nothing, as in the package
}

/** `-20250514` → `-2025-05-14` when it is a real date, as the package retries names. */
const COMPACT_DATE = /(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g;

export function dashedDates(name: string): string {
  return name.replace(COMPACT_DATE, (all, dash: string, y: string, m: string, d: string) => {
    const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    return date.getUTCFullYear() !== Number(y) ||
      date.getUTCMonth() !== Number(m) - 1 ||
      date.getUTCDate() !== Number(d)
      ? all
      : `${dash}${y}-${m}-${d}`;
  });
}

/** The providers in data order, and the model lookup of `calcPrice`. */
export class ProviderIndex<M> {
  readonly #providers: readonly IndexedProvider<M>[];

  constructor(providers: readonly IndexedProvider<M>[]) {
    this.#providers = providers;
  }

  /** The model `calcPrice(usage, name, { providerId })` prices (possibly a fallback provider's). */
  find(name: string, providerId: string | undefined): M | undefined {
    let lower = name.toLowerCase().trim();
    let hint = providerId;
    if (hint && hint.toLowerCase() === "litellm" && lower.includes("/")) {
      const slash = lower.indexOf("/");
      const prefix = lower.slice(0, slash);
      const rest = lower.slice(slash + 1);
      if (prefix && rest && this.#hinted(prefix) !== undefined) {
        hint = prefix;
        lower = rest;
      }
    }
    const provider = this.#provider(lower, hint);
    if (provider === undefined) return undefined;
    const dashed = dashedDates(lower);
    return (
      this.#model(provider, lower, true) ??
      (dashed === lower ? undefined : this.#model(provider, dashed, true))
    );
  }

  /** Calls `f` with every model of every provider. */
  each(f: (model: M) => void): void {
    for (const p of this.#providers) for (const m of p.models) f(m.model);
  }

  /** Whether `hint` names a provider (its id or its `provider_match`). */
  knows(hint: string): boolean {
    return this.#hinted(hint) !== undefined;
  }

  #provider(lower: string, hint: string | undefined): IndexedProvider<M> | undefined {
    if (hint) {
      const found = this.#hinted(hint);
      if (found !== undefined || hint.toLowerCase() !== "litellm") return found;
    }
    return this.#providers.find((p) => p.modelMatch?.(lower) === true);
  }

  #hinted(hint: string): IndexedProvider<M> | undefined {
    const h = hint.toLowerCase().trim();
    return (
      this.#providers.find((p) => p.id === h) ?? this.#providers.find((p) => p.providerMatch?.(h) === true)
    );
  }

  #model(provider: IndexedProvider<M>, lower: string, withFallbacks: boolean): M | undefined {
    const own = provider.models.find((m) => m.match(lower));
    if (own !== undefined) return own.model;
    if (!withFallbacks) return undefined;
    for (const id of provider.fallbacks) {
      const other = this.#providers.find((p) => p.id === id);
      const model = other === undefined ? undefined : this.#model(other, lower, false);
      if (model !== undefined) return model;
    }
    return undefined;
  }
}
