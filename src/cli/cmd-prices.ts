/**
 * `prices <model>`: the rates that apply to a model and the source they come from; `prices
 * --unpriced`: the models found in the sessions that no source can price. Prices with
 * `--prices <file>` first, then `@pydantic/genai-prices` when installed, else the built-in table.
 */
import type { PriceMatch, TokenRates } from "../core/pricing.ts";
import { listSessionIds } from "../http/session-source.ts";
import { streamSession } from "../journal/replay.ts";
import { defaultPriceTable, describePrice, type ModelUse, unpricedModels } from "../prices/describe.ts";
import { onePositional, UsageError } from "./args.ts";
import type { Command } from "./context.ts";
import { type Column, numberColumn, renderListing } from "./output.ts";

interface RateRow {
  kind: string;
  usdPerMillion: number;
}

const RATES: Column<RateRow>[] = [
  { header: "tokens", show: (r) => r.kind },
  numberColumn("USD / 1M", (r) => r.usdPerMillion, String),
];

/** Each rate with its default spelled out (cache reads and writes at input, reasoning at output). */
function rateRows(rates: TokenRates): RateRow[] {
  return [
    { kind: "input", usdPerMillion: rates.input },
    { kind: "cache read", usdPerMillion: rates.cacheRead ?? rates.input },
    { kind: "cache write", usdPerMillion: rates.cacheWrite ?? rates.input },
    { kind: "output", usdPerMillion: rates.output },
    { kind: "reasoning", usdPerMillion: rates.reasoning ?? rates.output },
  ];
}

function describeMatch(model: string, match: PriceMatch): string {
  const e = match.entry;
  const lines = [
    `${model}: priced by ${match.source}${match.asOf === undefined ? "" : ` (as of ${match.asOf})`}`,
    `entry: ${e.model ?? String(e.pattern)}${e.provider === undefined ? "" : ` (${e.provider})`}` +
      `${e.from === undefined ? "" : `, from ${e.from}`}${e.until === undefined ? "" : `, until ${e.until}`}`,
  ];
  if (e.longContext !== undefined)
    lines.push(
      `above ${e.longContext.aboveInputTokens} input tokens the whole request is priced at the long-context rates`,
    );
  return lines.join("\n");
}

/** Every LLM call's model in the sessions, with its provider hint and instant. */
async function modelUses(dir: string): Promise<ModelUse[]> {
  const uses: ModelUse[] = [];
  for (const id of listSessionIds(dir))
    await streamSession(
      dir,
      id,
      (event) => {
        if (event.type !== "llm" || event.details?.model === undefined) return;
        const use: ModelUse = { model: event.details.model, at: event.details.startedAt ?? event.ts };
        if (event.details.provider !== undefined) use.provider = event.details.provider;
        uses.push(use);
      },
      { logger: { warn() {}, error() {} } },
    );
  return uses;
}

export const pricesCommand: Command = {
  name: "prices",
  summary: "the rates of a model and their source, or the models no source prices (--unpriced)",
  usage:
    "prices <model> [--provider <name>] [--at <ISO time>] [--prices <file>] [--json] | prices --unpriced",
  details:
    "Prices with --prices <file> first (a JSON price table), then @pydantic/genai-prices when it is\n" +
    "installed, else the built-in table. --unpriced lists the models of the sessions' LLM calls that\n" +
    "no source prices (each call checked at its own time and provider).",
  options: {
    unpriced: { type: "boolean", description: "list the models in the sessions that no source prices" },
    provider: { type: "string", value: "<name>", description: "the provider that serves the model" },
    at: {
      type: "string",
      value: "<ISO time>",
      description: "when the call happens (dated prices; default now)",
    },
    prices: { type: "string", value: "<file>", description: "a JSON price table searched first" },
  },
  formats: ["table", "json", "csv"],
  async run(ctx, args) {
    const table = await defaultPriceTable(
      typeof args.values.prices === "string" ? { file: args.values.prices } : {},
    );
    if (args.values.unpriced === true) {
      if (args.positionals.length > 0) throw new UsageError("[cli] prices --unpriced takes no model");
      const models = unpricedModels(await modelUses(ctx.dir), table);
      const rows = models.map((model) => ({ model }));
      return renderListing(ctx.format, rows, [{ header: "unpriced model", show: (r) => r.model }], {
        json: models,
        empty: "every model in the sessions is priced",
      });
    }
    const model = onePositional(args, "[cli] prices needs a model (or --unpriced)");
    const at = args.values.at;
    if (at !== undefined && (typeof at !== "string" || Number.isNaN(Date.parse(at))))
      throw new UsageError(`[cli] --at: ${JSON.stringify(at)} is not an ISO 8601 time`);
    const provider = typeof args.values.provider === "string" ? args.values.provider : undefined;
    const query = {
      ...(at === undefined ? {} : { at: at as string }),
      ...(provider === undefined ? {} : { provider }),
    };
    const found = describePrice(model, table, query);
    if (ctx.format === "json") return JSON.stringify(found, null, 2);
    if (found.match === undefined) {
      ctx.warn(
        `[session-metrics] [prices] no source prices ${JSON.stringify(model)} (searched: ${found.searched.join(", ")}); its calls are recorded as unpriced, never as $0`,
      );
      return { out: "", code: 3 };
    }
    return `${describeMatch(model, found.match)}\n\n${renderListing(ctx.format, rateRows(found.match.entry.rates), RATES)}`;
  },
};
