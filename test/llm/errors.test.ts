/** classifyError on real SDK error objects, fetch failures and abort reasons. */
import { describe, expect, test } from "bun:test";
import * as Anthropic from "@anthropic-ai/sdk";
import { APICallError, RetryError } from "ai";
import * as OpenAI from "openai";
import { classifyError } from "../../src/llm/errors.ts";

const headers = new Headers();

describe("openai SDK errors", () => {
  test.each([
    [
      "RateLimitError (429)",
      new OpenAI.RateLimitError(429, { message: "slow down" }, undefined, headers),
      "rate_limit",
    ],
    [
      "InternalServerError (500)",
      new OpenAI.InternalServerError(500, undefined, undefined, headers),
      "provider_error",
    ],
    ["APIError 503", OpenAI.APIError.generate(503, undefined, "unavailable", headers), "provider_error"],
    ["BadRequestError (400)", new OpenAI.BadRequestError(400, undefined, undefined, headers), "client_error"],
    ["NotFoundError (404)", new OpenAI.NotFoundError(404, undefined, undefined, headers), "client_error"],
    ["APIConnectionTimeoutError", new OpenAI.APIConnectionTimeoutError(), "timeout"],
    [
      "APIConnectionError",
      new OpenAI.APIConnectionError({ cause: new TypeError("fetch failed") }),
      "network",
    ],
    ["APIUserAbortError", new OpenAI.APIUserAbortError(), "aborted"],
    [
      "in-stream rate limit (no status)",
      new OpenAI.APIError(undefined, { code: "rate_limit_exceeded", message: "x" }, undefined, headers),
      "rate_limit",
    ],
    [
      "in-stream server error (no status)",
      new OpenAI.APIError(undefined, { type: "server_error", message: "x" }, undefined, headers),
      "provider_error",
    ],
  ])("%s", (_label, err, expected) => {
    expect<string>(classifyError(err)).toBe(expected);
  });
});

describe("@anthropic-ai/sdk errors", () => {
  test.each([
    ["RateLimitError (429)", new Anthropic.RateLimitError(429, undefined, undefined, headers), "rate_limit"],
    [
      "OverloadedError (529)",
      Anthropic.APIError.generate(529, undefined, "overloaded", headers),
      "provider_error",
    ],
    [
      "InternalServerError (500)",
      new Anthropic.InternalServerError(500, undefined, undefined, headers),
      "provider_error",
    ],
    [
      "RequestTimeoutError (408)",
      new Anthropic.RequestTimeoutError(408, undefined, undefined, headers),
      "timeout",
    ],
    [
      "AuthenticationError (401)",
      new Anthropic.AuthenticationError(401, undefined, undefined, headers),
      "client_error",
    ],
    ["APIConnectionTimeoutError", new Anthropic.APIConnectionTimeoutError(), "timeout"],
    ["APIConnectionError", new Anthropic.APIConnectionError({}), "network"],
    ["APIUserAbortError", new Anthropic.APIUserAbortError(), "aborted"],
    [
      "in-stream overloaded_error event",
      new Anthropic.APIError(
        undefined,
        { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
        undefined,
        headers,
        "overloaded_error",
      ),
      "provider_error",
    ],
  ])("%s", (_label, err, expected) => {
    expect<string>(classifyError(err)).toBe(expected);
  });
});

describe("AI SDK, fetch and platform errors", () => {
  test("APICallError carries statusCode", () => {
    const err = new APICallError({ message: "x", url: "u", requestBodyValues: {}, statusCode: 429 });
    expect(classifyError(err)).toBe("rate_limit");
  });

  test("RetryError is classified by its last error", () => {
    const last = new APICallError({ message: "x", url: "u", requestBodyValues: {}, statusCode: 502 });
    const err = new RetryError({
      message: "failed after 3 attempts",
      reason: "maxRetriesExceeded",
      errors: [last],
    });
    expect(classifyError(err)).toBe("provider_error");
  });

  test("a refused fetch is a network error", async () => {
    const err = await fetch("http://127.0.0.1:1/").catch((e: unknown) => e);
    expect(classifyError(err)).toBe("network");
  });

  test("AbortSignal.timeout's TimeoutError is a timeout; a plain abort is aborted", async () => {
    const server = Bun.serve({ port: 0, fetch: () => Bun.sleep(2000).then(() => new Response("late")) });
    try {
      const timedOut = await fetch(server.url, { signal: AbortSignal.timeout(20) }).catch((e: unknown) => e);
      expect(classifyError(timedOut)).toBe("timeout");
      const controller = new AbortController();
      const pending = fetch(server.url, { signal: controller.signal }).catch((e: unknown) => e);
      controller.abort();
      expect(classifyError(await pending)).toBe("aborted");
    } finally {
      await server.stop(true);
    }
  });

  test("an abort whose reason is a timeout is a timeout", () => {
    const err = new OpenAI.APIUserAbortError();
    Object.defineProperty(err, "cause", { value: new DOMException("timed out", "TimeoutError") });
    expect(classifyError(err)).toBe("timeout");
  });

  test.each([
    ["ECONNRESET", "network"],
    ["ECONNREFUSED", "network"],
    ["ENOTFOUND", "network"],
    ["ETIMEDOUT", "timeout"],
    ["UND_ERR_HEADERS_TIMEOUT", "timeout"],
  ])("errno %s wrapped as a cause", (code, expected) => {
    const cause = Object.assign(new Error("socket"), { code });
    expect<string>(classifyError(new Error("request failed", { cause }))).toBe(expected);
  });

  test("anything else is unknown", () => {
    expect(classifyError(new Error("boom"))).toBe("unknown");
    expect(classifyError("a string")).toBe("unknown");
    expect(classifyError(null)).toBe("unknown");
    expect(classifyError({ status: 200 })).toBe("unknown");
  });
});
