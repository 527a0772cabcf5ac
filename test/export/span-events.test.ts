/**
 * The GenAI span-event helpers: autotel's names, keys and conditions exactly, plus our cache and
 * reasoning keys on `gen_ai.response.received`; and on a real SDK span.
 */
import { describe, expect, test } from "bun:test";
import {
  recordPromptSent,
  recordResponseReceived,
  recordRetry,
  recordStreamFirstToken,
  recordToolCall,
  type SpanEventTarget,
} from "../../src/export/otel/index.ts";
import { providers } from "./helpers.ts";

function capture(): { ctx: SpanEventTarget; events: { name: string; attrs: unknown }[] } {
  const events: { name: string; attrs: unknown }[] = [];
  return { ctx: { addEvent: (name, attrs) => events.push({ name, attrs }) }, events };
}

describe("recordPromptSent", () => {
  test("emits gen_ai.prompt.sent with the request attributes", () => {
    const { ctx, events } = capture();
    recordPromptSent(ctx, { model: "gpt-4o", promptTokens: 1200, messageCount: 3, operation: "chat" });
    expect(events).toEqual([
      {
        name: "gen_ai.prompt.sent",
        attrs: {
          "gen_ai.request.model": "gpt-4o",
          "gen_ai.usage.input_tokens": 1200,
          "gen_ai.request.message_count": 3,
          "gen_ai.operation.name": "chat",
        },
      },
    ]);
  });

  test("sets nothing for an absent event, keeps zeros and leaves out empty strings", () => {
    const { ctx, events } = capture();
    recordPromptSent(ctx);
    recordPromptSent(ctx, { model: "", promptTokens: 0, messageCount: 0, operation: "" });
    expect(events.map((e) => e.attrs)).toEqual([
      {},
      { "gen_ai.usage.input_tokens": 0, "gen_ai.request.message_count": 0 },
    ]);
  });
});

describe("recordResponseReceived", () => {
  test("joins finish reasons with commas, as they are", () => {
    const { ctx, events } = capture();
    recordResponseReceived(ctx, {
      model: "gpt-4o-2024-11-20",
      promptTokens: 1200,
      completionTokens: 400,
      totalTokens: 1600,
      finishReasons: ["stop", "", "tool_calls"],
    });
    expect(events).toEqual([
      {
        name: "gen_ai.response.received",
        attrs: {
          "gen_ai.response.model": "gpt-4o-2024-11-20",
          "gen_ai.usage.input_tokens": 1200,
          "gen_ai.usage.output_tokens": 400,
          "gen_ai.usage.total_tokens": 1600,
          "gen_ai.response.finish_reasons": "stop,,tool_calls",
        },
      },
    ]);
  });

  test("leaves finish reasons out when there are none", () => {
    const { ctx, events } = capture();
    recordResponseReceived(ctx, { model: "claude-sonnet-4-6", finishReasons: [] });
    expect(events[0]!.attrs).toEqual({ "gen_ai.response.model": "claude-sonnet-4-6" });
  });

  test("also takes cache reads, cache writes and reasoning (0 kept)", () => {
    const { ctx, events } = capture();
    recordResponseReceived(ctx, { cacheReadTokens: 1000, cacheWriteTokens: 0, reasoningTokens: 64 });
    expect(events[0]!.attrs).toEqual({
      "gen_ai.usage.cache_read.input_tokens": 1000,
      "gen_ai.usage.cache_creation.input_tokens": 0,
      "gen_ai.usage.reasoning.output_tokens": 64,
    });
  });
});

describe("recordRetry, recordToolCall, recordStreamFirstToken", () => {
  test("recordRetry captures attempt, reason, delay and status code", () => {
    const { ctx, events } = capture();
    recordRetry(ctx, { attempt: 2, reason: "rate_limit", delayMs: 1000, statusCode: 429 });
    recordRetry(ctx, { attempt: 0, reason: "", delayMs: 0 });
    expect(events).toEqual([
      {
        name: "gen_ai.retry",
        attrs: {
          "retry.attempt": 2,
          "retry.reason": "rate_limit",
          "retry.delay_ms": 1000,
          "http.response.status_code": 429,
        },
      },
      { name: "gen_ai.retry", attrs: { "retry.attempt": 0, "retry.delay_ms": 0 } },
    ]);
  });

  test("recordToolCall always sets the tool name, the rest when given", () => {
    const { ctx, events } = capture();
    recordToolCall(ctx, { toolName: "search", toolCallId: "call-123", arguments: '{"q":"x"}' });
    recordToolCall(ctx, { toolName: "", toolCallId: "", arguments: "" });
    expect(events).toEqual([
      {
        name: "gen_ai.tool.call",
        attrs: {
          "gen_ai.tool.name": "search",
          "gen_ai.tool.call.id": "call-123",
          "gen_ai.tool.arguments": '{"q":"x"}',
        },
      },
      { name: "gen_ai.tool.call", attrs: { "gen_ai.tool.name": "" } },
    ]);
  });

  test("recordStreamFirstToken is the bare time-to-first-token marker", () => {
    const { ctx, events } = capture();
    recordStreamFirstToken(ctx, { tokensSoFar: 1 });
    recordStreamFirstToken(ctx);
    expect(events).toEqual([
      { name: "gen_ai.stream.first_token", attrs: { "gen_ai.stream.tokens_so_far": 1 } },
      { name: "gen_ai.stream.first_token", attrs: {} },
    ]);
  });

  test("work on an OpenTelemetry SDK span", () => {
    const p = providers();
    const span = p.tracerProvider.getTracer("t").startSpan("chat gpt-4o");
    recordPromptSent(span, { model: "gpt-4o" });
    recordStreamFirstToken(span);
    recordResponseReceived(span, { completionTokens: 7, finishReasons: ["stop"] });
    span.end();
    const [finished] = p.spans.getFinishedSpans();
    expect(finished!.events.map((e) => [e.name, e.attributes])).toEqual([
      ["gen_ai.prompt.sent", { "gen_ai.request.model": "gpt-4o" }],
      ["gen_ai.stream.first_token", {}],
      [
        "gen_ai.response.received",
        { "gen_ai.usage.output_tokens": 7, "gen_ai.response.finish_reasons": "stop" },
      ],
    ]);
  });
});
