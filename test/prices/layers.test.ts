/**
 * Price tables as layers (core/pricing.ts): own entries, then `fallback` (or the built-in table);
 * `price()` names the layer that priced a call; resolver-backed tables; hints from call details.
 */
import { describe, expect, test } from "bun:test";
import {
  type PriceHints,
  type PriceResolver,
  PriceTable,
  priceHintsOf,
  type ResolvedPrice,
} from "../../src/core/pricing.ts";
import { builtinTable, createPriceTable, ValidationError } from "../../src/index.ts";

const M = 1_000_000;
const oneMillionIn = { promptTokens: M, completionTokens: 0 };

describe("createPriceTable(entries, { fallback })", () => {
  const behind = createPriceTable([{ model: "behind", rates: { input: 7, output: 7 } }], {
    builtin: false,
    source: "behind.json",
  });
  const front = createPriceTable(
    [
      { model: "front", rates: { input: 1, output: 1 } },
      { model: "later", from: "2027-01-01", rates: { input: 3, output: 3 } },
    ],
    { source: "front.json", fallback: behind },
  );

  test("searches its entries, then the fallback instead of the built-in table", () => {
    expect(front.price("front", oneMillionIn)).toEqual({ cost: 1, source: "front.json" });
    expect(front.price("behind", oneMillionIn)).toEqual({ cost: 7, source: "behind.json" });
    expect(front.estimateCost("gpt-4o", oneMillionIn)).toBeUndefined();
    expect(front.sources).toEqual(["front.json", "behind.json"]);
  });

  test("`builtin` is ignored when a fallback is given; without either it stays as before", () => {
    const t = createPriceTable([], { fallback: behind, builtin: true });
    expect(t.sources).toEqual(["price table", "behind.json"]);
    expect(createPriceTable([]).sources).toEqual(["price table", "built-in price table"]);
    expect(createPriceTable([], { builtin: false }).sources).toEqual(["price table"]);
  });

  test("a fallback keeps its own fallback: user → behind → built-in", () => {
    const chain = createPriceTable([], { fallback: createPriceTable([], { source: "middle" }) });
    expect(chain.sources).toEqual(["price table", "middle", "built-in price table"]);
    expect(chain.price("gpt-4o", oneMillionIn)).toEqual({ cost: 2.5, source: "built-in price table" });
  });

  test("an entry not yet in effect leaves the call to the next layer", () => {
    const t = createPriceTable([{ model: "gpt-4o", from: "2027-01-01", rates: { input: 3, output: 3 } }]);
    expect(t.price("gpt-4o", oneMillionIn, "2026-06-01")).toEqual({
      cost: 2.5,
      source: "built-in price table",
    });
    expect(t.price("gpt-4o", oneMillionIn, "2027-06-01")).toEqual({ cost: 3, source: "price table" });
    expect(front.estimateCost("later", oneMillionIn, "2026-06-01")).toBeUndefined();
  });

  test("resolve() and lookup() go through the layers too", () => {
    expect(front.resolve("behind")).toEqual({
      source: "behind.json",
      asOf: undefined,
      entry: { model: "behind", rates: { input: 7, output: 7 } },
    });
    expect(createPriceTable([]).resolve("gpt-4o")?.asOf).toBe("2025-12-01");
    expect(front.lookup("nothing")).toBeUndefined();
  });

  test("entries ignore provider hints", () => {
    expect(front.estimateCost("front", oneMillionIn, undefined, { provider: "anthropic" })).toBe(1);
  });

  test("inconsistent usage is still a ValidationError, whichever layer prices it", () => {
    expect(() =>
      front.estimateCost("behind", { promptTokens: 1, completionTokens: 0, cacheReadTokens: 2 }),
    ).toThrow(ValidationError);
  });
});

describe("PriceTable.fromResolver", () => {
  const calls: [string, number | undefined, PriceHints | undefined][] = [];
  const resolver: PriceResolver = {
    resolve(model, atMs, hints): ResolvedPrice | undefined {
      calls.push([model, atMs, hints]);
      if (model !== "known") return undefined;
      return {
        entry: { model: "known", rates: { input: 2, output: 0 } },
        cost: (u) => u.promptTokens * 2e-6,
      };
    },
  };

  test("asks the resolver with the instant in ms and the hints; no fallback by default", () => {
    const t = PriceTable.fromResolver(resolver, { source: "stub" });
    calls.length = 0;
    expect(t.price("known", oneMillionIn, "2026-01-01T00:00:00Z", { provider: "p" })).toEqual({
      cost: 2,
      source: "stub",
    });
    expect(calls).toEqual([["known", Date.parse("2026-01-01T00:00:00Z"), { provider: "p" }]]);
    expect(t.entries).toEqual([]);
    expect(t.sources).toEqual(["stub"]);
    expect(t.estimateCost("gpt-4o", oneMillionIn)).toBeUndefined();
    expect(t.lookup("known")).toEqual({ model: "known", rates: { input: 2, output: 0 } });
  });

  test("builtin: true or a fallback puts a table behind it", () => {
    expect(PriceTable.fromResolver(resolver, { builtin: true }).estimateCost("gpt-4o", oneMillionIn)).toBe(
      2.5,
    );
    expect(PriceTable.fromResolver(resolver, { fallback: builtinTable() }).sources).toEqual([
      "price table",
      "built-in price table",
    ]);
  });
});

describe("priceHintsOf(details)", () => {
  test("details.provider first, then gen_ai.provider.name, then gen_ai.system", () => {
    expect(priceHintsOf({ provider: "openai", attributes: { "gen_ai.provider.name": "azure" } })).toEqual({
      provider: "openai",
    });
    expect(
      priceHintsOf({ attributes: { "gen_ai.provider.name": "aws.bedrock", "gen_ai.system": "x" } }),
    ).toEqual({
      provider: "aws.bedrock",
    });
    expect(priceHintsOf({ attributes: { "gen_ai.system": "anthropic" } })).toEqual({ provider: "anthropic" });
  });

  test("no hint without a non-empty string", () => {
    expect(priceHintsOf(undefined)).toBeUndefined();
    expect(priceHintsOf({})).toBeUndefined();
    expect(priceHintsOf({ provider: "" })).toBeUndefined();
    expect(priceHintsOf({ attributes: { "gen_ai.system": 3 } })).toBeUndefined();
  });
});
