/** Bugs the fuzzers (test/torture/fuzz/) found in the core, each pinned by its smallest case. */
import { describe, expect, test } from "bun:test";
import { decodeMetrics, encodeMetrics, parseJson } from "../../src/core/go-document.ts";
import { MAX_RATE } from "../../src/core/pricing-schema.ts";
import { createPriceTable, ValidationError } from "../../src/index.ts";

const doc = (name: string) =>
  `{"session_id":"s","started_at":"2026-11-22T01:42:24Z","updated_at":"2026-11-22T01:42:24Z",` +
  `"tools":[{"name":${name},"call_count":1,"success_count":1,"fail_count":0,"total_duration_ms":3,"avg_duration_ms":3}],` +
  `"llms":[],"phases":[],"unpriced_models":[${name}]}`;

describe("METRICS.json decoding", () => {
  test("reads a lone surrogate escape as U+FFFD, as Go's decoder does", () => {
    const m = decodeMetrics(parseJson(doc('"a\\ud800"'), "METRICS.json"), "METRICS.json");
    expect(m.tools[0]!.name).toBe("a\ufffd");
    expect(m.unpricedModels).toEqual(["a\ufffd"]);
  });

  test("a document with a lone surrogate settles: encode → decode → encode gives the same bytes", () => {
    const once = encodeMetrics(decodeMetrics(parseJson(doc('"\\udfff"'), "x"), "x"));
    const twice = encodeMetrics(decodeMetrics(parseJson(once, "x"), "x"));
    expect(twice).toBe(once);
    expect(once).toContain('"name": "\ufffd"');
  });
});

describe("price table rates", () => {
  test(`a rate above ${MAX_RATE} USD per million tokens is a ValidationError naming the entry`, () => {
    const huge = () => createPriceTable([{ model: "m", rates: { input: Number.MAX_VALUE, output: 1 } }]);
    expect(huge).toThrow(ValidationError);
    expect(huge).toThrow(
      '[session-metrics] [prices] price table: entry 0 (model "m"): rates.input: must be at most 1,000,000 USD per million tokens',
    );
  });

  test("the largest allowed rate still prices 2^53−1 tokens to a finite cost", () => {
    const table = createPriceTable([{ model: "m", rates: { input: MAX_RATE, output: MAX_RATE } }], {
      builtin: false,
    });
    const cost = table.estimateCost("m", { promptTokens: Number.MAX_SAFE_INTEGER, completionTokens: 0 });
    expect(cost).toBe((Number.MAX_SAFE_INTEGER * MAX_RATE) / 1e6);
    expect(table.estimateCost("m", { promptTokens: 0, completionTokens: 0 })).toBe(0);
  });
});
