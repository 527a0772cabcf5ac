/** sessionMetricsMiddleware with the real `ai` package and `@ai-sdk/openai` against a local server. */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { createOpenAI } from "@ai-sdk/openai";
import { APICallError, generateText, streamText, wrapLanguageModel } from "ai";
import { sessionMetricsMiddleware } from "../../src/llm/ai-sdk.ts";
import { OPENAI_RESPONSE_MODEL, startFakeLLMServer } from "./fake-llm-server.ts";
import { FakeTarget, FakeTurn, until } from "./fake-target.ts";

const server = startFakeLLMServer();
afterAll(() => server.stop());

/** The AI SDK's provider-level usage has no total; cache and reasoning come through exactly. */
const EXPECTED = { promptTokens: 2006, completionTokens: 300, cacheReadTokens: 1920, reasoningTokens: 192 };

let target: FakeTarget;
const provider = createOpenAI({ apiKey: "test", baseURL: `${server.url}/v1` });
const modelFor = (t: FakeTarget, turn?: FakeTurn) =>
  wrapLanguageModel({
    model: provider.chat("gpt-4o"),
    middleware: sessionMetricsMiddleware(t, {
      phase: "execute",
      turn,
      onRecordError: (err) => {
        throw err;
      },
    }),
  });

beforeEach(() => {
  target = new FakeTarget();
});

describe("wrapGenerate", () => {
  test("generateText: one step with model and exact usage", async () => {
    const result = await generateText({ model: modelFor(target), prompt: "hi", maxRetries: 0 });
    expect(result.text).toBe("Hello!");
    const step = target.onlyStep;
    expect(target.turns[0]!.phase).toBe("execute");
    expect(step.models).toEqual(["gpt-4o", OPENAI_RESPONSE_MODEL]);
    expect(step.usages).toEqual([EXPECTED]);
    expect(step.failures).toEqual([]);
    expect(target.turns[0]!.endCalls).toBe(1);
  });

  test.each([
    ["429", "rate_limit"],
    ["500", "provider_error"],
  ])("HTTP %s is recorded as %s and rethrown", async (status, errorClass) => {
    const call = generateText({
      model: modelFor(target),
      prompt: "hi",
      maxRetries: 0,
      headers: { "x-fail-status": status },
    });
    await expect(call).rejects.toBeInstanceOf(APICallError);
    expect(target.onlyStep.failures).toEqual([errorClass]);
    expect(target.onlyStep.ended).toBe(true);
  });

  test("options.turn records each call as a step of that turn", async () => {
    const turn = new FakeTurn("agent", "plan");
    await generateText({ model: modelFor(target, turn), prompt: "one", maxRetries: 0 });
    await generateText({ model: modelFor(target, turn), prompt: "two", maxRetries: 0 });
    expect(turn.steps.map((s) => s.stepId)).toEqual(["agent#0", "agent#1"]);
    expect(turn.endCalls).toBe(0);
  });
});

describe("wrapStream", () => {
  test("streamText: TTFT ≥ the injected delay, exact usage, stream stats", async () => {
    const result = streamText({
      model: modelFor(target),
      prompt: "hi",
      maxRetries: 0,
      headers: { "x-first-delay-ms": "150" },
    });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe("Hello!");
    expect((await result.usage).inputTokens).toBe(2006);
    await until(() => target.onlyStep.ended);
    const step = target.onlyStep;
    expect(step.ttftMs!).toBeGreaterThanOrEqual(149);
    expect(step.ttftMs!).toBeLessThan(1150);
    expect(step.usages).toEqual([EXPECTED]);
    expect(step.stream).toEqual(expect.objectContaining({ outcome: "completed" }));
    expect(step.stream!.chunks).toBeGreaterThanOrEqual(3);
    expect(step.models).toContain(OPENAI_RESPONSE_MODEL);
    expect(target.turns[0]!.endCalls).toBe(1);
  });

  test("a failed stream request is recorded with its class", async () => {
    const errors: unknown[] = [];
    const result = streamText({
      model: modelFor(target),
      prompt: "hi",
      maxRetries: 0,
      headers: { "x-fail-status": "429" },
      onError: ({ error }) => {
        errors.push(error);
      },
    });
    for await (const _ of result.textStream);
    expect(errors).toHaveLength(1);
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.failures).toEqual(["rate_limit"]);
  });

  test("aborting mid-stream records abort", async () => {
    const controller = new AbortController();
    const result = streamText({
      model: modelFor(target),
      prompt: "hi",
      maxRetries: 0,
      abortSignal: controller.signal,
      onError: () => {},
    });
    try {
      for await (const delta of result.textStream) if (delta === "Hel") controller.abort();
    } catch {
      // depending on timing the AI SDK may surface the abort as an error
    }
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.stream!.outcome).toBe("abort");
    expect(target.onlyStep.failures).toEqual(["aborted"]);
  });
});
