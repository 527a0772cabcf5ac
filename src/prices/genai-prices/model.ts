/**
 * A model's prices over time, picked as the package picks them for `calcPrice`'s `timestamp`: a
 * plain price set always applies; a list is searched from its LAST element back and the first
 * whose constraint holds wins — `start_date` (at or after that day's UTC midnight), `time_of_date`
 * (a daily window, which may wrap midnight), or none (always holds) — and when none holds, the
 * first element applies.
 */
import type { ConditionalPrice, ModelInfo, ModelPrice } from "@pydantic/genai-prices";
import { ValidationError } from "../../errors.ts";
import { type CompiledPrice, compilePrice, type PriceOrigin } from "./price.ts";

type Condition =
  | { kind: "always" }
  | { kind: "from"; ms: number; date: string }
  /** Seconds into the UTC day, as the package computes them. */
  | { kind: "daily"; start: number; end: number; label: string };

const DAY_MS = 86_400_000;

/** A model's prices, compiled on first use (most of the ~1,700 models are never asked for). */
export class CompiledModel {
  readonly provider: string;
  readonly id: string;
  readonly #info: ModelInfo;
  readonly #source: string;
  #compiled: Compiled | undefined;

  constructor(provider: string, info: ModelInfo, source: string) {
    this.provider = provider;
    this.id = info.id;
    this.#info = info;
    this.#source = source;
  }

  /** The price in effect at `atMs` (undefined: now); `undefined` when it is not per token. */
  priceAt(atMs: number | undefined): CompiledPrice | undefined {
    this.#compiled ??= compileModel(this.provider, this.#info, this.#source);
    const c = this.#compiled;
    if (c.conditions === undefined) return c.prices[0];
    const t = atMs ?? Date.now();
    for (let i = c.conditions.length - 1; i >= 0; i--) if (holds(c.conditions[i]!, t)) return c.prices[i];
    return c.prices[0];
  }

  /** Compiles now: a `ValidationError` for data the table cannot read. */
  check(): void {
    this.#compiled ??= compileModel(this.provider, this.#info, this.#source);
  }
}

interface Compiled {
  /** `undefined`: one price, whatever the instant (then the clock is not read). */
  conditions: readonly Condition[] | undefined;
  /** One per condition; `undefined` where the price is not per token. */
  prices: readonly (CompiledPrice | undefined)[];
}

function compileModel(provider: string, info: ModelInfo, source: string): Compiled {
  const origin: PriceOrigin = { provider, model: info.id, name: info.name, source };
  const where = `[prices] ${source}: provider ${JSON.stringify(provider)} model ${JSON.stringify(info.id)}`;
  if (!Array.isArray(info.prices))
    return { conditions: undefined, prices: [compilePrice(checkedPrices(info.prices, where), origin, {})] };
  if (info.prices.length === 0) throw new ValidationError(`${where}: prices is an empty list`);
  const list: readonly ConditionalPrice[] = info.prices;
  const conditions = list.map((p) => condition(p.constraint, where));
  const prices = list.map((p, i) =>
    compilePrice(checkedPrices(p.prices, where), origin, view(conditions, i)),
  );
  return { conditions, prices };
}

function holds(c: Condition, t: number): boolean {
  if (c.kind === "always") return true;
  if (c.kind === "from") return t >= c.ms;
  // The package's arithmetic (hours × 3600 + minutes × 60 + seconds + ms / 1000), so a call at a
  // window's edge falls on the same side.
  const ms = ((t % DAY_MS) + DAY_MS) % DAY_MS;
  const second =
    Math.floor(ms / 3_600_000) * 3600 + (Math.floor(ms / 60_000) % 60) * 60 + (Math.floor(ms / 1000) % 60);
  const now = second + (ms % 1000) / 1e3;
  return c.end < c.start ? now >= c.start || now < c.end : now >= c.start && now < c.end;
}

/** `from`/`until`/`note` of price `i` for its entry (what a report shows; pricing uses `holds`). */
function view(conditions: readonly Condition[], i: number): { from?: string; until?: string; note?: string } {
  const c = conditions[i]!;
  if (c.kind === "daily") return { note: `applies daily ${c.label} UTC` };
  const own = c.kind === "from" ? c.ms : Number.NEGATIVE_INFINITY;
  // The earliest later start_date after this one ends it (a later one that starts earlier
  // always wins over this one, which then never applies).
  let until: { ms: number; date: string } | undefined;
  for (const later of conditions.slice(i + 1))
    if (later.kind === "from" && later.ms > own && (until === undefined || later.ms < until.ms))
      until = later;
  return {
    // The first price is also what applies when no constraint holds: it has no start.
    ...(c.kind === "from" && i > 0 ? { from: c.date } : {}),
    ...(until === undefined ? {} : { until: until.date }),
  };
}

/** A constraint as the package accepts it (with or without `type`). */
function condition(raw: unknown, where: string): Condition {
  if (raw === undefined) return { kind: "always" };
  const c = raw as { type?: unknown; start_date?: unknown; start_time?: unknown; end_time?: unknown };
  const bad = () => new ValidationError(`${where}: unsupported price constraint ${JSON.stringify(raw)}`);
  if (typeof raw !== "object" || raw === null) throw bad();
  if ((c.type === "start_date" || c.type === undefined) && c.start_date !== undefined) {
    const date = c.start_date;
    const ms =
      typeof date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(date)
        ? Date.parse(`${date}T00:00:00Z`)
        : Number.NaN;
    if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== date) throw bad();
    return { kind: "from", ms, date: date as string };
  }
  if ((c.type === "time_of_date" || c.type === undefined) && c.start_time !== undefined) {
    const start = secondOfDay(c.start_time);
    const end = secondOfDay(c.end_time);
    if (start === undefined || end === undefined) throw bad();
    return { kind: "daily", start, end, label: `${c.start_time}–${c.end_time}` };
  }
  throw bad();
}

/** `HH:MM:SS[.fff](Z|±HH:MM)` → seconds into the UTC day, the package's way. */
function secondOfDay(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(value);
  if (m === null) return undefined;
  const [, h, min, s, fraction = "", zone, sign, oh = "00", om = "00"] = m;
  if (Number(h) > 23 || Number(min) > 59 || Number(s) > 59 || oh > "23" || om > "59") return undefined;
  const local = Number(h) * 3600 + Number(min) * 60 + Number(s) + Number(`0.${fraction}`);
  const offset = (Number(oh) * 60 + Number(om)) * 60;
  const shift = zone === "Z" ? 0 : sign === "+" ? offset : -offset;
  return (local - shift + 86400) % 86400;
}

function checkedPrices(prices: unknown, where: string): ModelPrice {
  if (typeof prices !== "object" || prices === null || Array.isArray(prices))
    throw new ValidationError(`${where}: prices must be an object`);
  return prices as ModelPrice;
}
