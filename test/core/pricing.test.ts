/** Price tables and cost math: hand-computed costs, precedence, dates, tiers, validation. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePriceTable } from "../../src/core/pricing-schema.ts";
import { ParseError, StorageError, ValidationError } from "../../src/errors.ts";
import {
  BUILTIN_PRICES,
  builtinTable,
  createPriceTable,
  estimateCost,
  loadPriceTable,
  type PriceEntry,
} from "../../src/index.ts";

const M = 1_000_000;
const dir = mkdtempSync(join(tmpdir(), "sm-prices-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the built-in entries pass the schema that user tables are checked with (they skip it at run time)", () => {
  expect(parsePriceTable([...BUILTIN_PRICES.entries]).entries).toEqual([...BUILTIN_PRICES.entries]);
});

describe("cost math (built-in table)", () => {
  test("input and output at their rates: gpt-4o 1,000 in + 500 out = $0.0075", () => {
    expect(estimateCost("gpt-4o", { promptTokens: 1000, completionTokens: 500 })).toBe(0.0075);
  });

  test("cache reads at the cache rate, the rest of the input at the input rate", () => {
    // gpt-4o: 86 uncached × 2.5 + 1,920 cached × 1.25 + 300 out × 10 = 5,615 µ$
    const usage = { promptTokens: 2006, completionTokens: 300, cacheReadTokens: 1920 };
    expect(estimateCost("gpt-4o", usage)).toBe(0.005615);
  });

  test("Anthropic cache reads and writes (input includes both)", () => {
    // claude-sonnet-4: 21 × 3 + 1,024 × 0.3 + 188 × 3.75 + 393 × 15 = 6,970.2 µ$
    const usage = { promptTokens: 1233, completionTokens: 393, cacheReadTokens: 1024, cacheWriteTokens: 188 };
    expect(estimateCost("claude-sonnet-4-20250514", usage)).toBe(0.0069702);
  });

  test("reasoning tokens default to the output rate", () => {
    // o4-mini: 100 × 1.1 + (200 + 800) × 4.4 = 4,510 µ$
    const usage = { promptTokens: 100, completionTokens: 1000, reasoningTokens: 800 };
    expect(estimateCost("o4-mini", usage)).toBe(0.00451);
  });

  test("a long-context tier prices the WHOLE request above the threshold, and only above it", () => {
    // claude-sonnet-4-5 above 200K input: 250,000 × 6 + 1,000 × 22.5 = 1,522,500 µ$
    expect(estimateCost("claude-sonnet-4-5", { promptTokens: 250_000, completionTokens: 1000 })).toBe(1.5225);
    // at exactly 200,000: base rates, 200,000 × 3 + 1,000 × 15 = 615,000 µ$
    expect(estimateCost("claude-sonnet-4-5", { promptTokens: 200_000, completionTokens: 1000 })).toBe(0.615);
  });

  test("date ranges pick the price in effect: o3 before and after its 2025-06-10 cut", () => {
    const usage = { promptTokens: M, completionTokens: M };
    expect(estimateCost("o3", usage, "2025-06-09T23:59:59.999Z")).toBe(50);
    expect(estimateCost("o3", usage, "2025-06-10")).toBe(10); // `from` is inclusive
    expect(estimateCost("o3-2025-04-16", usage, new Date("2025-01-01"))).toBe(50);
    expect(estimateCost("o3", usage, Date.parse("2026-01-01"))).toBe(10);
  });

  test("an unknown model costs undefined, never 0", () => {
    expect(estimateCost("brand-new-model", { promptTokens: 10, completionTokens: 10 })).toBeUndefined();
    expect(estimateCost("gpt-4o-audio-preview", { promptTokens: 10, completionTokens: 10 })).toBeUndefined();
  });

  test("a newer sibling of a priced family is unpriced rather than priced like its elders", () => {
    expect(estimateCost("claude-opus-4-6", { promptTokens: 10, completionTokens: 10 })).toBeUndefined();
    expect(estimateCost("gpt-5.1", { promptTokens: 10, completionTokens: 10 })).toBeUndefined();
  });

  test("zero tokens of a known model cost exactly 0", () => {
    expect(estimateCost("gpt-4o", { promptTokens: 0, completionTokens: 0 })).toBe(0);
  });

  test("a gateway prefix (openai/gpt-4o) falls back to the bare name", () => {
    expect(estimateCost("openai/gpt-4o", { promptTokens: 1000, completionTokens: 500 })).toBe(0.0075);
  });

  test("inconsistent usage (cache larger than input) is a ValidationError, not a negative cost", () => {
    expect(() =>
      estimateCost("gpt-4o", { promptTokens: 10, completionTokens: 0, cacheReadTokens: 20 }),
    ).toThrow(ValidationError);
  });

  test("rounds once: 3 tokens at $0.10/M give exactly 3e-7 (naive float math gives 3.0000000000000004e-7)", () => {
    const table = createPriceTable([{ model: "m", rates: { input: 0.1, output: 0.1 } }], { builtin: false });
    expect((3 * 0.1) / M).not.toBe(3e-7);
    expect(table.estimateCost("m", { promptTokens: 3, completionTokens: 0 })).toBe(3e-7);
  });

  test("the built-in table states its as-of date and prices the well-known models", () => {
    expect(BUILTIN_PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(builtinTable().asOf).toBe(BUILTIN_PRICES.asOf);
    for (const model of [
      "gpt-5",
      "gpt-5-mini",
      "gpt-4.1-2025-04-14",
      "gpt-4o-mini",
      "o1",
      "claude-opus-4-1-20250805",
    ])
      expect(builtinTable().lookup(model)).toBeDefined();
    expect(builtinTable().lookup("claude-opus-4-5-20251101")!.rates.input).toBe(5);
    expect(builtinTable().lookup("claude-opus-4-20250514")!.rates.input).toBe(15);
  });
});

describe("user tables", () => {
  const entries: PriceEntry[] = [
    { pattern: "gpt-*", rates: { input: 1, output: 1 } },
    { pattern: "gpt-4o*", rates: { input: 2, output: 2 } },
    { model: "gpt-4o", rates: { input: 3, output: 3 } },
    { pattern: "/^foo-\\d+$/", rates: { input: 4, output: 4 } },
    { model: "r1", rates: { input: 1, output: 2, reasoning: 3, cacheRead: 0.5, cacheWrite: 5 } },
  ];
  const table = createPriceTable(entries, { builtin: false });
  const oneMillionIn = { promptTokens: M, completionTokens: 0 };

  test("exact beats any pattern; the most specific pattern beats the others", () => {
    expect(table.estimateCost("gpt-4o", oneMillionIn)).toBe(3);
    expect(table.estimateCost("gpt-4o-mini", oneMillionIn)).toBe(2);
    expect(table.estimateCost("gpt-5", oneMillionIn)).toBe(1);
  });

  test("regex patterns are written /source/", () => {
    expect(table.estimateCost("foo-12", oneMillionIn)).toBe(4);
    expect(table.estimateCost("foo-x", oneMillionIn)).toBeUndefined();
  });

  test("explicit cache and reasoning rates", () => {
    // 10 uncached × 1 + 20 read × 0.5 + 30 written × 5 + 6 text × 2 + 4 reasoning × 3 = 194 µ$
    const usage = {
      promptTokens: 60,
      completionTokens: 10,
      cacheReadTokens: 20,
      cacheWriteTokens: 30,
      reasoningTokens: 4,
    };
    expect(table.estimateCost("r1", usage)).toBe(0.000194);
  });

  test("user entries are searched before the built-in table, which still prices the rest", () => {
    const user = createPriceTable([{ model: "gpt-4o", rates: { input: 1, output: 1 } }]);
    expect(user.estimateCost("gpt-4o", oneMillionIn)).toBe(1);
    expect(user.estimateCost("gpt-4o-mini", oneMillionIn)).toBe(0.15);
    expect(estimateCost("gpt-4o", oneMillionIn, undefined, user)).toBe(1);
  });

  test("a dated entry wins over an undated one while it is in effect", () => {
    const t = createPriceTable(
      [
        { model: "m", rates: { input: 1, output: 1 } },
        { model: "m", from: "2026-01-01", rates: { input: 2, output: 2 } },
        { model: "m", from: "2026-03-01", until: "2026-04-01", rates: { input: 3, output: 3 } },
      ],
      { builtin: false },
    );
    expect(t.estimateCost("m", oneMillionIn, "2025-12-31")).toBe(1);
    expect(t.estimateCost("m", oneMillionIn, "2026-02-01")).toBe(2);
    expect(t.estimateCost("m", oneMillionIn, "2026-03-15")).toBe(3);
    expect(t.estimateCost("m", oneMillionIn, "2026-04-01")).toBe(2); // `until` is exclusive
  });

  test("a long-context tier with its own cache rates", () => {
    const t = createPriceTable(
      [
        {
          model: "long",
          rates: { input: 1, output: 1 },
          longContext: { aboveInputTokens: 100, rates: { input: 2, output: 4, cacheRead: 0.5 } },
        },
      ],
      { builtin: false },
    );
    // above 100: 51 uncached × 2 + 50 read × 0.5 + 10 out × 4 = 167 µ$
    expect(t.estimateCost("long", { promptTokens: 101, completionTokens: 10, cacheReadTokens: 50 })).toBe(
      0.000167,
    );
    // at 100: cache read defaults to the base input rate; 100 × 1 + 10 × 1 = 110 µ$
    expect(t.estimateCost("long", { promptTokens: 100, completionTokens: 10, cacheReadTokens: 50 })).toBe(
      0.00011,
    );
  });
});

describe("validation", () => {
  test.each([
    [
      "a negative rate",
      { model: "bad", rates: { input: -1, output: 1 } },
      'entry 1 (model "bad"): rates.input',
    ],
    [
      "both model and pattern",
      { model: "x", pattern: "x*", rates: { input: 1, output: 1 } },
      "exactly one of model and pattern",
    ],
    ["neither model nor pattern", { rates: { input: 1, output: 1 } }, "entry 1 (no model)"],
    [
      "a bad date",
      { model: "d", from: "June 10", rates: { input: 1, output: 1 } },
      'entry 1 (model "d"): from: must be an ISO 8601',
    ],
    [
      "from after until",
      { model: "d", from: "2026-02-01", until: "2026-01-01", rates: { input: 1, output: 1 } },
      "from must be before until",
    ],
    [
      "an invalid regex",
      { pattern: "/(unclosed/", rates: { input: 1, output: 1 } },
      'entry 1 (pattern "/(unclosed/"): pattern is not a valid regular expression',
    ],
    ["a misspelt key", { model: "t", rates: { input: 1, outptu: 1 } }, 'entry 1 (model "t"): rates'],
    ["a missing output rate", { model: "t", rates: { input: 1 } }, "rates.output"],
    [
      "a fractional threshold",
      {
        model: "t",
        rates: { input: 1, output: 1 },
        longContext: { aboveInputTokens: 1.5, rates: { input: 1, output: 1 } },
      },
      "longContext.aboveInputTokens",
    ],
  ])("%s is a ValidationError naming the entry", (_label, bad, message) => {
    const good = { model: "ok", rates: { input: 1, output: 1 } };
    expect(() => createPriceTable([good, bad])).toThrow(ValidationError);
    expect(() => createPriceTable([good, bad])).toThrow(message);
  });

  test("a table that is not a list of entries", () => {
    expect(() => createPriceTable({ entries: "nope" } as never)).toThrow(ValidationError);
  });
});

describe("files", () => {
  test("createPriceTable and loadPriceTable read { asOf, entries } and plain arrays", async () => {
    const path = join(dir, "prices.json");
    writeFileSync(
      path,
      JSON.stringify({ asOf: "2026-01-01", entries: [{ model: "mine", rates: { input: 1, output: 2 } }] }),
    );
    const sync = createPriceTable(path);
    const loaded = await loadPriceTable(path);
    for (const t of [sync, loaded]) {
      expect(t.asOf).toBe("2026-01-01");
      expect(t.estimateCost("mine", { promptTokens: M, completionTokens: M })).toBe(3);
      expect(t.estimateCost("gpt-4o", { promptTokens: M, completionTokens: 0 })).toBe(2.5); // built-in behind it
    }
    const arrayPath = join(dir, "array.json");
    writeFileSync(arrayPath, JSON.stringify([{ pattern: "mine-*", rates: { input: 1, output: 1 } }]));
    expect((await loadPriceTable(arrayPath, { builtin: false })).lookup("mine-2")?.pattern).toBe("mine-*");
  });

  test("malformed JSON is a ParseError naming the file", async () => {
    const path = join(dir, "broken.json");
    writeFileSync(path, '[{"model": "x",');
    await expect(loadPriceTable(path)).rejects.toThrow(ParseError);
    expect(() => createPriceTable(path)).toThrow(path);
  });

  test("a bad entry in a file names the file, the index and the model", async () => {
    const path = join(dir, "bad.json");
    writeFileSync(
      path,
      JSON.stringify([
        { model: "a", rates: { input: 1, output: 1 } },
        { model: "b", rates: { input: "3", output: 1 } },
      ]),
    );
    await expect(loadPriceTable(path)).rejects.toThrow(`${path}: entry 1 (model "b"): rates.input`);
  });

  test("a missing file is a StorageError", async () => {
    await expect(loadPriceTable(join(dir, "missing.json"))).rejects.toThrow(StorageError);
  });
});
