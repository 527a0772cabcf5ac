/** instrumentOpenAI with the real `openai` client against a local server speaking the API. */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { instrumentOpenAI } from "../../src/llm/openai.ts";
import { OPENAI_RESPONSE_MODEL, startFakeLLMServer } from "./fake-llm-server.ts";
import { FakeTarget, FakeTurn, until } from "./fake-target.ts";

const server = startFakeLLMServer();
afterAll(() => server.stop());

const CHAT_EXPECTED = {
  promptTokens: 2006,
  completionTokens: 300,
  totalTokens: 2306,
  cacheReadTokens: 1920,
  reasoningTokens: 192,
};
const RESPONSES_EXPECTED = {
  promptTokens: 328,
  completionTokens: 52,
  totalTokens: 380,
  cacheReadTokens: 256,
  reasoningTokens: 40,
};
const messages = [{ role: "user" as const, content: "hi" }];
/** An SDK `APIPromise` only settles through `then`; `expect().rejects` needs a plain promise. */
const settled = async <T>(p: PromiseLike<T>): Promise<T> => await p;

let target: FakeTarget;
let client: OpenAI;
beforeEach(() => {
  target = new FakeTarget();
  client = instrumentOpenAI(
    new OpenAI({ apiKey: "test", baseURL: `${server.url}/v1`, maxRetries: 0 }),
    target,
    {
      phase: "execute",
      onRecordError: (err) => {
        throw err;
      },
    },
  );
  server.requests.length = 0;
});

describe("chat.completions.create", () => {
  test("non-streamed: one turn, one step, model from request then response, exact usage", async () => {
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages });
    expect(completion.choices[0]!.message.content).toBe("Hello!");
    await until(() => target.turns[0]?.endCalls === 1);
    const step = target.onlyStep;
    expect(target.turns[0]!.phase).toBe("execute");
    expect(step.models).toEqual(["gpt-4o", OPENAI_RESPONSE_MODEL]);
    expect(step.usages).toEqual([CHAT_EXPECTED]);
    expect(step.failures).toEqual([]);
    expect(step.methods.at(-1)).toBe("end");
  });

  test("withResponse() still works on an instrumented call", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "gpt-4o", messages })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.usage!.prompt_tokens).toBe(2006);
    await until(() => target.onlyStep.ended);
  });

  test("streamed: TTFT ≥ the injected delay, usage from the chunk it asked for, which the caller never sees", async () => {
    const stream = await client.chat.completions.create(
      { model: "gpt-4o", messages, stream: true },
      { headers: { "x-first-delay-ms": "150" } },
    );
    const seen: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) seen.push(chunk);
    expect(server.requests[0]!.stream_options).toEqual({ include_usage: true });
    expect(seen.every((c) => c.choices.length > 0)).toBe(true); // the usage-only chunk stayed with us
    expect(seen.map((c) => c.choices[0]!.delta.content ?? "").join("")).toBe("Hello!");
    const step = target.onlyStep;
    expect(step.ttftMs!).toBeGreaterThanOrEqual(149);
    expect(step.ttftMs!).toBeLessThan(150 + 1000);
    expect(step.usages).toEqual([CHAT_EXPECTED]);
    expect(step.stream).toEqual(expect.objectContaining({ chunks: seen.length, outcome: "completed" }));
    expect(step.stream!.outputTokensPerSecond!).toBeGreaterThan(0);
    expect(step.models).toEqual(["gpt-4o", OPENAI_RESPONSE_MODEL]);
    expect(step.methods.slice(-3)).toEqual(["generationEnd", "recordStream", "end"]);
    expect(target.turns[0]!.endCalls).toBe(1);
  });

  test("a caller who asked for usage sees the usage chunk as usual", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usageChunks = 0;
    for await (const chunk of stream) if (chunk.usage) usageChunks++;
    expect(usageChunks).toBe(1);
    expect(target.onlyStep.usages).toEqual([CHAT_EXPECTED]);
  });

  test("includeUsage: false leaves the request alone and records no usage (not zeros)", async () => {
    const plain = instrumentOpenAI(
      new OpenAI({ apiKey: "t", baseURL: `${server.url}/v1`, maxRetries: 0 }),
      target,
      {
        includeUsage: false,
      },
    );
    const stream = await plain.chat.completions.create({ model: "gpt-4o", messages, stream: true });
    for await (const _ of stream);
    expect(server.requests[0]!.stream_options).toBeUndefined();
    const step = target.onlyStep;
    expect(step.usages).toEqual([]);
    expect(step.call("end")!.args[0]).toBeUndefined();
  });

  test("reasoning deltas count as the first token", async () => {
    const stream = await client.chat.completions.create(
      { model: "o4-mini", messages, stream: true },
      { headers: { "x-first-delay-ms": "120", "x-reasoning": "1" } },
    );
    for await (const _ of stream);
    expect(target.onlyStep.ttftMs!).toBeGreaterThanOrEqual(119);
  });

  test("breaking out early records break and closes the request", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content === "Hel") break;
    const step = target.onlyStep;
    expect(step.stream!.outcome).toBe("break");
    expect(stream.controller.signal.aborted).toBe(true);
    expect(step.ended).toBe(true);
  });

  test("aborting through the request signal records abort", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "gpt-4o", messages, stream: true },
      { signal: controller.signal },
    );
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content === "Hel") controller.abort();
    const step = target.onlyStep;
    expect(step.stream!.outcome).toBe("abort");
    expect(step.failures).toEqual(["aborted"]);
  });

  test.each([
    ["429", "rate_limit"],
    ["500", "provider_error"],
    ["400", "client_error"],
  ])("HTTP %s is recorded as %s and rethrown", async (status, errorClass) => {
    const call = client.chat.completions.create(
      { model: "gpt-4o", messages },
      { headers: { "x-fail-status": status } },
    );
    await expect(settled(call)).rejects.toBeInstanceOf(OpenAI.APIError);
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.failures).toEqual([errorClass]);
    expect(target.onlyStep.usages).toEqual([]);
    expect(target.turns[0]!.endCalls).toBe(1);
  });

  test("a client timeout is recorded as timeout", async () => {
    const slow = instrumentOpenAI(
      new OpenAI({ apiKey: "t", baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 200 }),
      target,
    );
    const call = slow.chat.completions.create(
      { model: "gpt-4o", messages },
      { headers: { "x-hang-ms": "3000" } },
    );
    await expect(settled(call)).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.failures).toEqual(["timeout"]);
  });

  test("a refused connection is recorded as network", async () => {
    const dead = instrumentOpenAI(
      new OpenAI({ apiKey: "t", baseURL: "http://127.0.0.1:1/v1", maxRetries: 0 }),
      target,
    );
    await expect(settled(dead.chat.completions.create({ model: "gpt-4o", messages }))).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.failures).toEqual(["network"]);
  });

  test("options.turn adds steps to an existing turn and leaves it open", async () => {
    const turn = new FakeTurn("outer", "plan");
    const inTurn = instrumentOpenAI(
      new OpenAI({ apiKey: "t", baseURL: `${server.url}/v1`, maxRetries: 0 }),
      target,
      {
        turn,
      },
    );
    await inTurn.chat.completions.create({ model: "gpt-4o", messages });
    await inTurn.chat.completions.create({ model: "gpt-4o", messages });
    await until(() => turn.steps.length === 2 && turn.steps.every((s) => s.ended));
    expect(turn.steps.map((s) => s.stepId)).toEqual(["outer#0", "outer#1"]);
    expect(turn.endCalls).toBe(0);
    expect(target.turns).toHaveLength(0);
  });

  test("instrumenting twice records each call once", async () => {
    instrumentOpenAI(client, target);
    await client.chat.completions.create({ model: "gpt-4o", messages });
    await until(() => target.turns.length === 1 && target.onlyStep.ended);
    expect(target.turns).toHaveLength(1);
  });
});

describe("responses.create", () => {
  test("non-streamed: exact usage and model", async () => {
    const response = await client.responses.create({ model: "gpt-4o", input: "hi" });
    expect(response.output_text).toBe("Hello!");
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.usages).toEqual([RESPONSES_EXPECTED]);
    expect(target.onlyStep.models).toEqual(["gpt-4o", OPENAI_RESPONSE_MODEL]);
  });

  test("streamed: usage from response.completed, TTFT from the first text delta", async () => {
    const stream = await client.responses.create(
      { model: "gpt-4o", input: "hi", stream: true },
      { headers: { "x-first-delay-ms": "150" } },
    );
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe("response.completed");
    const step = target.onlyStep;
    expect(step.ttftMs!).toBeGreaterThanOrEqual(149);
    expect(step.ttftMs!).toBeLessThan(1150);
    expect(step.usages).toEqual([RESPONSES_EXPECTED]);
    expect(step.stream).toEqual(expect.objectContaining({ chunks: types.length, outcome: "completed" }));
  });

  test("streamed 429 is recorded as rate_limit", async () => {
    const call = client.responses.create(
      { model: "gpt-4o", input: "hi", stream: true },
      { headers: { "x-fail-status": "429" } },
    );
    await expect(settled(call)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await until(() => target.onlyStep.ended);
    expect(target.onlyStep.failures).toEqual(["rate_limit"]);
  });
});
