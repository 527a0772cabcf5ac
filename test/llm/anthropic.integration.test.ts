/** instrumentAnthropic with the real `@anthropic-ai/sdk` client against a local server speaking the API. */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { instrumentAnthropic } from "../../src/llm/anthropic.ts";
import { ANTHROPIC_RESPONSE_MODEL, startFakeLLMServer } from "./fake-llm-server.ts";
import { FakeTarget, until } from "./fake-target.ts";

const server = startFakeLLMServer();
afterAll(() => server.stop());

/** input 21 + cache write 188 + cache read 1024; output 393 (cumulative, not 1 + 393). */
const EXPECTED = { promptTokens: 1233, completionTokens: 393, cacheReadTokens: 1024, cacheWriteTokens: 188 };
const params = {
  model: "claude-haiku-4-5",
  max_tokens: 64,
  messages: [{ role: "user" as const, content: "hi" }],
};
const settled = async <T>(p: PromiseLike<T>): Promise<T> => await p;

let target: FakeTarget;
let client: Anthropic;
beforeEach(() => {
  target = new FakeTarget();
  client = instrumentAnthropic(
    new Anthropic({ apiKey: "test", baseURL: server.url, maxRetries: 0 }),
    target,
    {
      onRecordError: (err) => {
        throw err;
      },
    },
  );
});

describe("messages.create", () => {
  test("non-streamed: cache tokens added into the input, model from request then response", async () => {
    const message = await client.messages.create(params);
    expect(message.content[0]!.type).toBe("text");
    await until(() => target.turns[0]?.endCalls === 1);
    const step = target.onlyStep;
    expect(step.usages).toEqual([EXPECTED]);
    expect(step.models).toEqual(["claude-haiku-4-5", ANTHROPIC_RESPONSE_MODEL]);
    expect(step.failures).toEqual([]);
  });

  test("streamed: usage merged from message_start and message_delta, TTFT ≥ the injected delay", async () => {
    const stream = await client.messages.create(
      { ...params, stream: true },
      { headers: { "x-first-delay-ms": "150" } },
    );
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types[0]).toBe("message_start");
    expect(types.at(-1)).toBe("message_stop");
    const step = target.onlyStep;
    expect(step.ttftMs!).toBeGreaterThanOrEqual(149);
    expect(step.ttftMs!).toBeLessThan(1150);
    expect(step.usages).toEqual([EXPECTED]);
    expect(step.stream).toEqual(expect.objectContaining({ chunks: types.length, outcome: "completed" }));
    expect(step.stream!.interChunkP50Ms).toBeDefined();
    expect(step.models).toEqual(["claude-haiku-4-5", ANTHROPIC_RESPONSE_MODEL]);
    expect(target.turns[0]!.endCalls).toBe(1);
  });

  test("a thinking delta is the first token", async () => {
    const stream = await client.messages.create(
      { ...params, stream: true },
      { headers: { "x-first-delay-ms": "120", "x-reasoning": "1" } },
    );
    for await (const _ of stream);
    expect(target.onlyStep.ttftMs!).toBeGreaterThanOrEqual(119);
  });

  test("messages.stream() goes through create and is recorded", async () => {
    const final = await client.messages.stream(params).finalMessage();
    expect(final.usage.output_tokens).toBe(393);
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.usages).toEqual([EXPECTED]);
  });

  test("an in-stream overloaded_error is recorded as provider_error and rethrown", async () => {
    const stream = await client.messages.create(
      { ...params, stream: true },
      { headers: { "x-stream-error": "1" } },
    );
    let caught: unknown;
    try {
      for await (const _ of stream);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Anthropic.APIError);
    const step = target.onlyStep;
    expect(step.stream!.outcome).toBe("error");
    expect(step.failures).toEqual(["provider_error"]);
    // Input usage from message_start was seen before the error.
    expect(step.usages).toEqual([
      { promptTokens: 1233, completionTokens: 1, cacheReadTokens: 1024, cacheWriteTokens: 188 },
    ]);
  });

  test("breaking out early records break and aborts the request", async () => {
    const stream = await client.messages.create({ ...params, stream: true });
    for await (const event of stream) if (event.type === "content_block_delta") break;
    expect(target.onlyStep.stream!.outcome).toBe("break");
    expect(stream.controller.signal.aborted).toBe(true);
  });

  test.each([
    ["429", "rate_limit"],
    ["529", "provider_error"],
    ["500", "provider_error"],
    ["401", "client_error"],
  ])("HTTP %s is recorded as %s", async (status, errorClass) => {
    await expect(
      settled(client.messages.create(params, { headers: { "x-fail-status": status } })),
    ).rejects.toBeInstanceOf(Anthropic.APIError);
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.failures).toEqual([errorClass]);
  });

  test("a client timeout is recorded as timeout", async () => {
    const slow = instrumentAnthropic(
      new Anthropic({ apiKey: "t", baseURL: server.url, maxRetries: 0, timeout: 200 }),
      target,
    );
    await expect(
      settled(slow.messages.create(params, { headers: { "x-hang-ms": "3000" } })),
    ).rejects.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.failures).toEqual(["timeout"]);
  });

  test("an AbortSignal.timeout() signal is recorded as timeout, not aborted", async () => {
    const call = client.messages.create(params, {
      headers: { "x-hang-ms": "3000" },
      signal: AbortSignal.timeout(100),
    });
    await expect(settled(call)).rejects.toThrow();
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.failures).toEqual(["timeout"]);
  });
});
