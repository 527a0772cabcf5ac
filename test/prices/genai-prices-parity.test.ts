/**
 * Issue 13's acceptance bound: through `genaiPricesTable()`, `estimateCost` equals the package's own
 * `calcPrice` for the same usage and timestamp within 1e-12 relative error — for a named set of
 * models (cache reads and writes, long-context tiers, dated and time-of-day prices, a request fee,
 * provider hints) and then for every model of every provider in the bundled data.
 */
import { describe, expect, test } from "bun:test";
import { calcPrice, type Provider, waitForUpdate } from "@pydantic/genai-prices";
import { genaiPricesTable } from "../../src/prices/genai-prices/index.ts";
import { INSTANTS, relativeError, theirCost, theirUsage, USAGES } from "./support.ts";

const table = genaiPricesTable();

/** [model, provider hint, what it exercises]. */
const MODELS: [string, string | undefined, string][] = [
  ["gpt-4o", undefined, "openai, cache reads"],
  ["gpt-4o-mini", undefined, "openai"],
  ["gpt-4.1", undefined, "openai"],
  ["gpt-5", undefined, "openai"],
  ["gpt-5-mini", undefined, "openai"],
  ["o3", undefined, "openai, price cut on 2025-06-10"],
  ["o4-mini", undefined, "openai, reasoning"],
  ["gpt-5.6-sol", undefined, "openai, tier above 271,999 and a dated change"],
  ["claude-sonnet-4-5-20250929", undefined, "anthropic, cache writes, tier above 200K"],
  ["claude-opus-4-6", undefined, "anthropic, tier dropped on 2026-03-13"],
  ["claude-haiku-4-5", undefined, "anthropic"],
  ["claude-3-5-haiku-20241022", undefined, "anthropic"],
  ["claude-opus-4-1-20250805", undefined, "anthropic"],
  ["claude-sonnet-4-20250514", undefined, "anthropic, compact date in the name"],
  ["gemini-2.5-pro", undefined, "google, tier above 200K"],
  ["gemini-2.5-flash", undefined, "google"],
  ["gemini-2.0-flash", undefined, "google"],
  ["gemini-3.6-flash", undefined, "google, price rise on 2027-01-01"],
  ["deepseek-chat", undefined, "deepseek, daily off-peak window"],
  ["deepseek-v4-flash", undefined, "deepseek, dated and daily windows"],
  ["grok-4", undefined, "x-ai"],
  ["mistral-medium-latest", undefined, "mistral, dated change"],
  ["command-r-plus", undefined, "cohere"],
  ["kimi-k2", undefined, "moonshotai"],
  ["sonar-pro", "perplexity", "a per-request fee, by provider hint"],
  ["llama-3.1-8b-instant", "groq", "groq, by provider hint"],
  ["gpt-oss-120b", "cerebras", "the hinted provider's price, not openai's"],
  ["gpt-4o", "azure", "azure"],
  ["  GPT-4o  ", undefined, "case and spaces, as the package ignores them"],
];

describe("estimateCost equals calcPrice (relative error ≤ 1e-12)", () => {
  test("the named set covers ≥ 20 models across ≥ 4 providers, each priced by the package", () => {
    const providers = new Set(
      MODELS.map(([model, hint]) => calcPrice({ input_tokens: 1 }, model, { providerId: hint })?.provider.id),
    );
    expect(providers.has(undefined)).toBe(false);
    expect(new Set(MODELS.map(([m]) => m.trim().toLowerCase())).size).toBeGreaterThanOrEqual(20);
    expect(providers.size).toBeGreaterThanOrEqual(4);
  });

  for (const [model, hint, what] of MODELS)
    test(`${JSON.stringify(model)}${hint === undefined ? "" : ` (provider ${hint})`}: ${what}`, () => {
      const hints = hint === undefined ? undefined : { provider: hint };
      const off: string[] = [];
      for (const [label, usage] of Object.entries(USAGES))
        for (const at of INSTANTS) {
          const theirs = theirCost(model, usage, at, hint);
          const ours = table.estimateCost(model, usage, at, hints);
          if (theirs === undefined || ours === undefined || relativeError(ours, theirs) > 1e-12)
            off.push(`${label} at ${at}: ours ${ours}, calcPrice ${theirs}`);
        }
      expect(off).toEqual([]);
    });

  test("the instants and usages above do cross dated changes and tier thresholds", () => {
    const above = USAGES["just above 200K input"]!;
    const at = USAGES["at 200K input"]!;
    expect(theirCost("o3", above, INSTANTS[1]!)).not.toBe(theirCost("o3", above, INSTANTS[2]!));
    expect(theirCost("claude-opus-4-6", above, INSTANTS[3]!)).not.toBe(
      theirCost("claude-opus-4-6", above, INSTANTS[4]!),
    );
    // gemini-2.5-pro: 200,000 × 1.25 + 1,000 × 10 µ$; one token more and all of it is at 2.5 / 15.
    expect(table.estimateCost("gemini-2.5-pro", at)).toBe(0.26);
    expect(table.estimateCost("gemini-2.5-pro", above)).toBe(0.5150025);
  });
});

describe("every model of the bundled data", () => {
  const data = Bun.peek(waitForUpdate()) as Provider[];
  const usages = [USAGES["cache reads and writes"]!, USAGES["long context with cache"]!, USAGES.reasoning!];
  const instants = [INSTANTS[0]!, INSTANTS[5]!, INSTANTS[7]!];

  test("compiles without an error (the table compiles the package's data lazily)", () => {
    expect(() => genaiPricesTable({ data })).not.toThrow();
  });

  test("prices each (model id, provider) exactly as calcPrice, or unpriced where the price is not per token", () => {
    const off: string[] = [];
    let compared = 0;
    for (const provider of data)
      for (const { id } of provider.models)
        for (const usage of usages)
          for (const at of instants) {
            const result = calcPrice(theirUsage(usage), id, {
              providerId: provider.id,
              timestamp: new Date(at),
            });
            if (result === null) continue;
            const ours = table.estimateCost(id, usage, at, { provider: provider.id });
            const perToken = Object.keys(result.model_price).some((k) =>
              /^(input|output|cache_read|cache_write|output_reasoning)_mtok$|^requests_kcount$/.test(k),
            );
            const empty = Object.keys(result.model_price).length === 0;
            if (ours === undefined ? perToken || empty : relativeError(ours, result.total_price) > 1e-12)
              off.push(`${provider.id}/${id} at ${at}: ours ${ours}, calcPrice ${result.total_price}`);
            compared++;
          }
    expect(off).toEqual([]);
    expect(compared).toBeGreaterThan(4000);
  });
});
