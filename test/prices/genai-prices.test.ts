/** `genaiPricesTable()`: exact costs, layering, provider hints, what stays unpriced, bad data. */
import { describe, expect, test } from "bun:test";
import type { Provider } from "@pydantic/genai-prices";
import { createPriceTable, Recorder, ValidationError } from "../../src/index.ts";
import { genaiPricesTable } from "../../src/prices/genai-prices/index.ts";

const M = 1_000_000;
const table = genaiPricesTable();
const SOURCE = "genai-prices@0.1.8";

describe("exact costs from the package's rates", () => {
  test("Anthropic cache reads and writes: claude-sonnet-4-5 21 × 3 + 1,024 × 0.3 + 188 × 3.75 + 393 × 15 = 6,970.2 µ$", () => {
    const usage = { promptTokens: 1233, completionTokens: 393, cacheReadTokens: 1024, cacheWriteTokens: 188 };
    expect(table.estimateCost("claude-sonnet-4-5-20250929", usage)).toBe(0.0069702);
  });

  test("above 200K input the whole request is at the long-context rates: 250,000 × 6 + 1,000 × 22.5", () => {
    expect(table.estimateCost("claude-sonnet-4-5", { promptTokens: 250_000, completionTokens: 1000 })).toBe(
      1.5225,
    );
    expect(table.estimateCost("claude-sonnet-4-5", { promptTokens: 200_000, completionTokens: 1000 })).toBe(
      0.615,
    );
  });

  test("a price that changed on a date: o3 before and after 2025-06-10", () => {
    const usage = { promptTokens: M, completionTokens: M };
    expect(table.estimateCost("o3", usage, "2025-06-09T23:59:59.999Z")).toBe(50);
    expect(table.estimateCost("o3", usage, "2025-06-10")).toBe(10);
  });

  test("claude-opus-4-6 loses its long-context surcharge on 2026-03-13", () => {
    const usage = { promptTokens: 300_000, completionTokens: 0 };
    expect(table.estimateCost("claude-opus-4-6", usage, "2026-03-12T23:59:59.999Z")).toBe(3);
    expect(table.estimateCost("claude-opus-4-6", usage, "2026-03-13")).toBe(1.5);
  });

  test("deepseek-chat's daily window: standard 00:30–16:30 UTC (end exclusive), off-peak otherwise", () => {
    const usage = { promptTokens: M, completionTokens: 0 };
    expect(table.estimateCost("deepseek-chat", usage, "2025-03-01T00:30:00.000Z")).toBe(0.27);
    expect(table.estimateCost("deepseek-chat", usage, "2025-03-01T16:29:59.999Z")).toBe(0.27);
    expect(table.estimateCost("deepseek-chat", usage, "2025-03-01T16:30:00.000Z")).toBe(0.135);
    expect(table.estimateCost("deepseek-chat", usage, "2025-03-01T00:29:59.999Z")).toBe(0.135);
  });

  test("a per-request fee is added once per call: sonar-pro 1,000 × 3 + 1,000 × 15 µ$ + $14/1,000 requests", () => {
    const usage = { promptTokens: 1000, completionTokens: 1000 };
    expect(table.estimateCost("sonar-pro", usage, undefined, { provider: "perplexity" })).toBe(0.032);
  });

  test("a model the source lists as free costs exactly 0, and says who priced it", () => {
    const usage = { promptTokens: 10, completionTokens: 10 };
    expect(table.price("deepseek/deepseek-r1:free", usage, undefined, { provider: "openrouter" })).toEqual({
      cost: 0,
      source: SOURCE,
    });
  });
});

describe("provider hints and names", () => {
  const usage = { promptTokens: M, completionTokens: M };

  test("the hinted provider's price wins: gpt-oss-120b on cerebras vs openai", () => {
    expect(table.estimateCost("gpt-oss-120b", usage)).toBe(0.219);
    expect(table.estimateCost("gpt-oss-120b", usage, undefined, { provider: "cerebras" })).toBe(1.1);
  });

  test("a model only a hinted provider lists is unpriced without the hint", () => {
    expect(table.estimateCost("llama-3.1-8b-instant", usage)).toBeUndefined();
    expect(table.estimateCost("llama-3.1-8b-instant", usage, undefined, { provider: "groq" })).toBe(0.13);
  });

  test("a hint the package does not know, or whose provider lacks the model, falls back to the name", () => {
    expect(table.estimateCost("gpt-4o", usage, undefined, { provider: "my-proxy" })).toBe(12.5);
    expect(table.estimateCost("claude-haiku-4-5", usage, undefined, { provider: "openai" })).toBe(6);
  });

  test("gateway names: provider/model, litellm style, and the last segment", () => {
    expect(table.estimateCost("openai/gpt-4o", usage)).toBe(12.5);
    expect(table.estimateCost("openai/gpt-4o", usage, undefined, { provider: "litellm" })).toBe(12.5);
    expect(table.estimateCost("my-gateway/claude-haiku-4-5", usage)).toBe(6);
  });

  test("OpenRouter's own price with its hint, though the name is also OpenAI's", () => {
    const openrouter = table.resolve("openai/gpt-4o", undefined, { provider: "openrouter" })!;
    expect(openrouter.entry.provider).toBe("openrouter");
    expect(table.resolve("openai/gpt-4o")!.entry.provider).toBe("openai");
  });
});

describe("unpriced, never $0", () => {
  const usage = { promptTokens: 10, completionTokens: 10 };

  test("a model unknown to the source is unpriced", () => {
    expect(table.estimateCost("brand-new-model-9000", usage)).toBeUndefined();
    expect(table.price("brand-new-model-9000", usage)).toBeUndefined();
    expect(table.lookup("brand-new-model-9000")).toBeUndefined();
  });

  test("thousands of distinct names (the memo is bounded and starts over) leave known ones priced", () => {
    const t = genaiPricesTable();
    let priced = 0;
    for (let i = 0; i < 3000; i++) if (t.estimateCost(`unknown-${i}`, usage) !== undefined) priced++;
    expect(priced).toBe(0);
    expect(t.estimateCost("gpt-4o", { promptTokens: M, completionTokens: 0 })).toBe(2.5);
  });

  test("a model priced only per audio hour is unpriced for token usage (calcPrice would say $0)", () => {
    expect(table.estimateCost("whisper-1", usage)).toBeUndefined();
  });

  test("a model unknown to the user's entries, the package and the built-in table is unpriced", () => {
    const layered = createPriceTable([{ model: "mine", rates: { input: 1, output: 1 } }], {
      fallback: genaiPricesTable({ builtin: true }),
    });
    expect(layered.sources).toEqual(["price table", SOURCE, "built-in price table"]);
    expect(layered.estimateCost("brand-new-model-9000", usage)).toBeUndefined();
  });
});

describe("layering", () => {
  const usage = { promptTokens: M, completionTokens: 0 };

  test("a user entry overrides the package; the package prices the rest and says so", () => {
    const mine = createPriceTable([{ model: "gpt-4o", rates: { input: 1, output: 1 } }], {
      source: "my-prices.json",
      fallback: table,
    });
    expect(mine.price("gpt-4o", usage)).toEqual({ cost: 1, source: "my-prices.json" });
    expect(mine.price("gpt-4o-mini", usage)).toEqual({ cost: 0.15, source: SOURCE });
  });

  test("the package's table does not fall back to the built-in one unless asked", () => {
    const only: Provider[] = [{ id: "acme", name: "Acme", api_pattern: "", models: [] }];
    expect(genaiPricesTable({ data: only }).estimateCost("gpt-4o", usage)).toBeUndefined();
    expect(genaiPricesTable({ data: only, builtin: true }).price("gpt-4o", usage)).toEqual({
      cost: 2.5,
      source: "built-in price table",
    });
    expect(table.sources).toEqual([SOURCE]);
  });

  test("a recorder with the layered table prices from the package and lists what none prices", () => {
    const r = new Recorder({ sessionId: "s", prices: createPriceTable([], { fallback: table }) });
    r.recordLLMInteraction("execute", { promptTokens: 1000, completionTokens: 100 }, undefined, {
      model: "gpt-5.1",
    });
    r.recordLLMInteraction("execute", { promptTokens: 10, completionTokens: 1 }, undefined, {
      model: "nope-1",
    });
    const s = r.snapshot();
    // gpt-5.1: 1,000 × 1.25 + 100 × 10 = 2,250 µ$ (the built-in table of 2025-12-01 does not know it)
    expect(s.llms[0]!.cost).toBe(0.00225);
    expect(s.unpricedModels).toEqual(["nope-1"]);
  });
});

describe("resolved rates (what `session-metrics prices <model>` prints)", () => {
  test("the entry in effect, with its tier, its end date and the source's own ids", () => {
    expect(table.resolve("claude-opus-4-6", "2026-01-01")).toEqual({
      source: SOURCE,
      asOf: undefined,
      entry: {
        model: "claude-opus-4-6",
        provider: "anthropic",
        until: "2026-03-13",
        rates: { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
        longContext: {
          aboveInputTokens: 200_000,
          rates: { input: 10, output: 37.5, cacheRead: 1, cacheWrite: 12.5 },
        },
        note: "Claude Opus 4.6",
      },
    });
    expect(table.lookup("o3", "2025-07-01")).toMatchObject({
      from: "2025-06-10",
      rates: { input: 2, output: 8 },
    });
    expect(table.lookup("sonar-pro", undefined, { provider: "perplexity" })?.note).toBe(
      "Sonar Pro; plus $14 per 1,000 requests",
    );
  });
});

describe("data it cannot read is a ValidationError naming provider and model", () => {
  const provider = (models: unknown[]): Provider[] =>
    [{ id: "acme", name: "Acme", api_pattern: "", models }] as Provider[];
  test.each([
    [
      "a bad regex",
      { id: "m", match: { regex: "(" }, prices: {} },
      'provider "acme" model "m": invalid regex',
    ],
    [
      "a negative rate",
      { id: "m", match: { equals: "m" }, prices: { input_mtok: -1 } },
      "input_mtok must be",
    ],
    [
      "a cache rate without an input rate",
      { id: "m", match: { equals: "m" }, prices: { output_mtok: 1, cache_read_mtok: 1 } },
      "cache_read_mtok needs input_mtok",
    ],
    [
      "an unknown constraint",
      {
        id: "m",
        match: { equals: "m" },
        prices: [{ prices: {} }, { constraint: { weekday: 1 }, prices: {} }],
      },
      "unsupported price constraint",
    ],
    ["a model without a match", { id: "m", prices: {} }, "model 0 needs an id and a match clause"],
    ["a clause that is not an object", { id: "m", match: { or: ["m"] }, prices: {} }, "must be an object"],
  ])("%s", (_label, model, message) => {
    expect(() => genaiPricesTable({ data: provider([model]) })).toThrow(ValidationError);
    expect(() => genaiPricesTable({ data: provider([model]) })).toThrow(message);
  });
});
