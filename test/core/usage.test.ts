/** Usage normalisers: OTel GenAI semantics (input includes cache, output includes reasoning), undefined ≠ 0. */
import { describe, expect, test } from "bun:test";
import {
  fromAISDKUsage,
  fromAnthropicUsage,
  fromOpenAIChatUsage,
  fromOpenAIResponsesUsage,
} from "../../src/core/usage.ts";
import { ValidationError } from "../../src/errors.ts";

describe("fromOpenAIChatUsage", () => {
  test("maps cached and reasoning details; input already includes the cache", () => {
    expect(
      fromOpenAIChatUsage({
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 192, audio_tokens: 0 },
      }),
    ).toStrictEqual({
      promptTokens: 2006,
      completionTokens: 300,
      totalTokens: 2306,
      cacheReadTokens: 1920,
      reasoningTokens: 192,
    });
  });

  test("leaves unreported fields out (not 0) and keeps a reported 0", () => {
    expect(fromOpenAIChatUsage({ prompt_tokens: 10, completion_tokens: 5 })).toStrictEqual({
      promptTokens: 10,
      completionTokens: 5,
    });
    const u = fromOpenAIChatUsage({
      prompt_tokens: 10,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: null,
    });
    expect(u).toStrictEqual({ promptTokens: 10, completionTokens: 5, cacheReadTokens: 0 });
    expect("reasoningTokens" in u!).toBe(false);
  });

  test("absent usage is undefined", () => {
    expect(fromOpenAIChatUsage(undefined)).toBeUndefined();
    expect(fromOpenAIChatUsage(null)).toBeUndefined();
  });

  test.each([
    ["a negative count", { prompt_tokens: -1, completion_tokens: 0 }, "prompt_tokens must be a whole number"],
    ["a fractional count", { prompt_tokens: 1.5, completion_tokens: 0 }, "got 1.5"],
    ["a numeric string", { prompt_tokens: "12", completion_tokens: 0 }, "got string"],
    ["NaN", { prompt_tokens: Number.NaN, completion_tokens: 0 }, "got NaN"],
    [
      "more cached than input tokens",
      { prompt_tokens: 10, completion_tokens: 0, prompt_tokens_details: { cached_tokens: 11 } },
      "exceed the input",
    ],
    [
      "more reasoning than output tokens",
      { prompt_tokens: 1, completion_tokens: 2, completion_tokens_details: { reasoning_tokens: 3 } },
      "exceed the output",
    ],
    ["an array", [1, 2], "must be an object"],
    ["a number", 42, "must be an object, got the number 42"],
  ])("rejects %s with a ValidationError", (_label, input, message) => {
    expect(() => fromOpenAIChatUsage(input)).toThrow(ValidationError);
    expect(() => fromOpenAIChatUsage(input)).toThrow(message);
  });
});

test("OpenAI cache writes (prompt_tokens_details.cache_write_tokens) are part of the input", () => {
  expect(
    fromOpenAIChatUsage({
      prompt_tokens: 5000,
      completion_tokens: 10,
      prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 3000 },
    }),
  ).toStrictEqual({
    promptTokens: 5000,
    completionTokens: 10,
    cacheReadTokens: 1000,
    cacheWriteTokens: 3000,
  });
  expect(() =>
    fromOpenAIChatUsage({
      prompt_tokens: 3000,
      completion_tokens: 10,
      prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 3000 },
    }),
  ).toThrow("cache tokens (4000) exceed the input tokens (3000)");
});

describe("fromOpenAIResponsesUsage", () => {
  test("maps input/output details", () => {
    expect(
      fromOpenAIResponsesUsage({
        input_tokens: 328,
        input_tokens_details: { cached_tokens: 256 },
        output_tokens: 52,
        output_tokens_details: { reasoning_tokens: 40 },
        total_tokens: 380,
      }),
    ).toStrictEqual({
      promptTokens: 328,
      completionTokens: 52,
      totalTokens: 380,
      cacheReadTokens: 256,
      reasoningTokens: 40,
    });
  });
  test("names the field in errors", () => {
    expect(() => fromOpenAIResponsesUsage({ input_tokens: 1, output_tokens: -2 })).toThrow(
      "OpenAI responses usage.output_tokens must be a whole number from 0 to 2^53−1, got -2",
    );
  });
});

describe("fromAnthropicUsage", () => {
  test("adds cache reads and writes into the input (Anthropic's input_tokens excludes them)", () => {
    expect(
      fromAnthropicUsage({
        input_tokens: 21,
        cache_creation_input_tokens: 188,
        cache_read_input_tokens: 1024,
        output_tokens: 393,
      }),
    ).toStrictEqual({
      promptTokens: 1233,
      completionTokens: 393,
      cacheReadTokens: 1024,
      cacheWriteTokens: 188,
    });
  });
  test("thinking tokens from output_tokens_details are reasoning tokens (already in output_tokens)", () => {
    expect(
      fromAnthropicUsage({
        input_tokens: 10,
        output_tokens: 500,
        output_tokens_details: { thinking_tokens: 420 },
      }),
    ).toStrictEqual({ promptTokens: 10, completionTokens: 500, reasoningTokens: 420 });
  });
  test("null cache fields are not reported; zeros are", () => {
    expect(
      fromAnthropicUsage({ input_tokens: 5, output_tokens: 7, cache_read_input_tokens: null }),
    ).toStrictEqual({ promptTokens: 5, completionTokens: 7 });
    expect(
      fromAnthropicUsage({
        input_tokens: 5,
        output_tokens: 7,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      }),
    ).toStrictEqual({ promptTokens: 5, completionTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });
  test("rejects a fractional cache count", () => {
    expect(() =>
      fromAnthropicUsage({ input_tokens: 5, output_tokens: 1, cache_read_input_tokens: 0.5 }),
    ).toThrow("Anthropic usage.cache_read_input_tokens");
  });
});

describe("fromAISDKUsage", () => {
  test("v4 shape { promptTokens, completionTokens, totalTokens }", () => {
    expect(fromAISDKUsage({ promptTokens: 10, completionTokens: 20, totalTokens: 30 })).toStrictEqual({
      promptTokens: 10,
      completionTokens: 20,
      totalTokens: 30,
    });
  });
  test("v5 shape with reasoningTokens and cachedInputTokens", () => {
    expect(
      fromAISDKUsage({
        inputTokens: 100,
        outputTokens: 50,
        totalTokens: 150,
        reasoningTokens: 20,
        cachedInputTokens: 60,
      }),
    ).toStrictEqual({
      promptTokens: 100,
      completionTokens: 50,
      totalTokens: 150,
      cacheReadTokens: 60,
      reasoningTokens: 20,
    });
  });
  test("v5 shape with nothing reported is undefined", () => {
    expect(
      fromAISDKUsage({ inputTokens: undefined, outputTokens: undefined, totalTokens: undefined }),
    ).toBeUndefined();
  });
  test("v6+/v7 LanguageModelUsage with token details", () => {
    expect(
      fromAISDKUsage({
        inputTokens: 1200,
        inputTokenDetails: { noCacheTokens: 200, cacheReadTokens: 900, cacheWriteTokens: 100 },
        outputTokens: 80,
        outputTokenDetails: { textTokens: 50, reasoningTokens: 30 },
        totalTokens: 1280,
      }),
    ).toStrictEqual({
      promptTokens: 1200,
      completionTokens: 80,
      totalTokens: 1280,
      cacheReadTokens: 900,
      cacheWriteTokens: 100,
      reasoningTokens: 30,
    });
  });
  test("provider-level V3/V4 usage (what middleware sees)", () => {
    expect(
      fromAISDKUsage({
        inputTokens: { total: 500, noCache: 100, cacheRead: 300, cacheWrite: 100 },
        outputTokens: { total: 40, text: 30, reasoning: 10 },
        raw: { anything: 1 },
      }),
    ).toStrictEqual({
      promptTokens: 500,
      completionTokens: 40,
      cacheReadTokens: 300,
      cacheWriteTokens: 100,
      reasoningTokens: 10,
    });
  });
  test("provider-level usage rebuilds a missing total from its parts", () => {
    expect(
      fromAISDKUsage({
        inputTokens: { total: undefined, noCache: 7, cacheRead: 3, cacheWrite: undefined },
        outputTokens: { total: undefined, text: 4, reasoning: 2 },
      }),
    ).toStrictEqual({ promptTokens: 10, completionTokens: 6, cacheReadTokens: 3, reasoningTokens: 2 });
  });
  test("provider-level usage with nothing reported is undefined", () => {
    const none = { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined };
    expect(
      fromAISDKUsage({
        inputTokens: none,
        outputTokens: { total: undefined, text: undefined, reasoning: undefined },
      }),
    ).toBeUndefined();
  });
  test("an object of none of the shapes is a ValidationError", () => {
    expect(() => fromAISDKUsage({ tokens: 5 })).toThrow(ValidationError);
    expect(() => fromAISDKUsage({ inputTokens: -3, outputTokens: 1 })).toThrow("AI SDK usage.inputTokens");
  });
  test("-0 is read as 0", () => {
    expect(Object.is(fromAISDKUsage({ inputTokens: -0, outputTokens: 1 })!.promptTokens, 0)).toBe(true);
  });
});
