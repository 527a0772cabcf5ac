/**
 * A local `Bun.serve` that speaks enough of the OpenAI Chat Completions, OpenAI Responses and
 * Anthropic Messages APIs for the real SDKs: JSON responses and server-sent-event streams with
 * usage (cache and reasoning fields included). Request headers steer each call:
 *
 * - `x-first-delay-ms`: wait before the first content chunk (streams) or the response (JSON);
 * - `x-fail-status`: answer with that HTTP status and the API's error body;
 * - `x-hang-ms`: wait this long before answering at all (client timeouts);
 * - `x-stream-error`: Anthropic only, an `error` event (`overloaded_error`) after the first delta;
 * - `x-reasoning`: stream reasoning/thinking deltas before the text.
 */

export const CHAT_USAGE = {
  prompt_tokens: 2006,
  completion_tokens: 300,
  total_tokens: 2306,
  prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 192, audio_tokens: 0 },
};
export const RESPONSES_USAGE = {
  input_tokens: 328,
  input_tokens_details: { cached_tokens: 256 },
  output_tokens: 52,
  output_tokens_details: { reasoning_tokens: 40 },
  total_tokens: 380,
};
/** Anthropic's input_tokens excludes the cache: the whole input is 21 + 188 + 1024 = 1233. */
export const ANTHROPIC_START_USAGE = {
  input_tokens: 21,
  cache_creation_input_tokens: 188,
  cache_read_input_tokens: 1024,
  output_tokens: 1,
};
/** Cumulative: the final output count, not an increment. */
export const ANTHROPIC_FINAL_OUTPUT = 393;
export const OPENAI_RESPONSE_MODEL = "gpt-4o-2024-08-06";
export const ANTHROPIC_RESPONSE_MODEL = "claude-haiku-4-5-20251001";
const TEXT = ["Hel", "lo", "!"];
const GAP_MS = 15;

type Sse = { event?: string; data: unknown; delayMs?: number };

export interface FakeLLMServer {
  url: string;
  /** JSON bodies of the requests received, in order. */
  requests: Record<string, unknown>[];
  stop(): Promise<void>;
}

export function startFakeLLMServer(): FakeLLMServer {
  const requests: Record<string, unknown>[] = [];
  const server = Bun.serve({
    port: 0,
    idleTimeout: 30,
    async fetch(req) {
      const body = (await req.json()) as Record<string, unknown>;
      requests.push(body);
      const h = (name: string) => req.headers.get(name);
      const path = new URL(req.url).pathname;
      const api = path.endsWith("/chat/completions")
        ? "chat"
        : path.endsWith("/responses")
          ? "responses"
          : "messages";
      const hang = Number(h("x-hang-ms") ?? 0);
      if (hang > 0) await sleep(hang, req.signal);
      const status = Number(h("x-fail-status") ?? 0);
      if (status > 0) return errorResponse(api, status);
      const firstDelay = Number(h("x-first-delay-ms") ?? 0);
      const options = {
        firstDelay,
        reasoning: h("x-reasoning") !== null,
        streamError: h("x-stream-error") !== null,
      };
      if (body.stream !== true) {
        if (firstDelay > 0) await sleep(firstDelay, req.signal);
        return Response.json(jsonBody(api));
      }
      const events =
        api === "chat"
          ? chatEvents(body, options)
          : api === "responses"
            ? responsesEvents(options)
            : messagesEvents(options);
      return sse(events, req.signal);
    },
  });
  return { url: server.url.origin, requests, stop: () => server.stop(true) };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function sse(events: Sse[], signal: AbortSignal): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for (const e of events) {
          if ((e.delayMs ?? 0) > 0) await sleep(e.delayMs!, signal);
          if (signal.aborted) return;
          const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
          controller.enqueue(
            encoder.encode(`${e.event === undefined ? "" : `event: ${e.event}\n`}data: ${data}\n\n`),
          );
        }
        controller.close();
      } catch {
        // the client went away
      }
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

function errorResponse(api: string, status: number): Response {
  const message =
    status === 429 ? "Rate limit reached" : status >= 500 ? "The server had an error" : "Bad request";
  const body =
    api === "messages"
      ? {
          type: "error",
          error: {
            type: status === 429 ? "rate_limit_error" : status >= 500 ? "api_error" : "invalid_request_error",
            message,
          },
        }
      : {
          error: {
            message,
            type: status === 429 ? "requests" : "server_error",
            code: status === 429 ? "rate_limit_exceeded" : null,
            param: null,
          },
        };
  return Response.json(body, { status });
}

function jsonBody(api: string): unknown {
  if (api === "chat")
    return {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1_700_000_000,
      model: OPENAI_RESPONSE_MODEL,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: TEXT.join(""), refusal: null },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: CHAT_USAGE,
    };
  if (api === "responses") return responseObject("completed");
  return {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: ANTHROPIC_RESPONSE_MODEL,
    content: [{ type: "text", text: TEXT.join("") }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { ...ANTHROPIC_START_USAGE, output_tokens: ANTHROPIC_FINAL_OUTPUT },
  };
}

/** The first text chunk waits for the injected delay unless reasoning came first. */
const textDelay = (i: number, o: StreamOptions) => (i === 0 && !o.reasoning ? o.firstDelay : GAP_MS);

interface StreamOptions {
  firstDelay: number;
  reasoning: boolean;
  streamError: boolean;
}

function chatEvents(request: Record<string, unknown>, o: StreamOptions): Sse[] {
  const chunk = (delta: unknown, finish: string | null = null) => ({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: OPENAI_RESPONSE_MODEL,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const events: Sse[] = [{ data: chunk({ role: "assistant", content: "" }) }];
  if (o.reasoning) events.push({ data: chunk({ reasoning_content: "Thinking" }), delayMs: o.firstDelay });
  for (const [i, t] of TEXT.entries()) events.push({ data: chunk({ content: t }), delayMs: textDelay(i, o) });
  events.push({ data: chunk({}, "stop") });
  const so = request.stream_options as { include_usage?: boolean } | undefined;
  if (so?.include_usage === true)
    events.push({
      data: {
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: OPENAI_RESPONSE_MODEL,
        choices: [],
        usage: CHAT_USAGE,
      },
    });
  events.push({ data: "[DONE]" });
  return events;
}

function responseObject(status: string, usage: unknown = RESPONSES_USAGE) {
  return {
    id: "resp_1",
    object: "response",
    created_at: 1_700_000_000,
    status,
    model: OPENAI_RESPONSE_MODEL,
    output:
      status === "completed"
        ? [
            {
              type: "message",
              id: "msg_1",
              status: "completed",
              role: "assistant",
              content: [{ type: "output_text", text: TEXT.join(""), annotations: [] }],
            },
          ]
        : [],
    usage,
  };
}

function responsesEvents(o: StreamOptions): Sse[] {
  const ev = (type: string, extra: Record<string, unknown>, delayMs = 0): Sse => ({
    event: type,
    data: { type, ...extra },
    delayMs,
  });
  const events: Sse[] = [ev("response.created", { response: responseObject("in_progress", null) })];
  if (o.reasoning)
    events.push(
      ev("response.reasoning_summary_text.delta", { delta: "Thinking", item_id: "rs_1" }, o.firstDelay),
    );
  for (const [i, t] of TEXT.entries()) {
    const delta = { delta: t, item_id: "msg_1", output_index: 0, content_index: 0 };
    events.push(ev("response.output_text.delta", delta, textDelay(i, o)));
  }
  events.push(ev("response.completed", { response: responseObject("completed") }));
  return events;
}

function messagesEvents(o: StreamOptions): Sse[] {
  const ev = (type: string, extra: Record<string, unknown>, delayMs = 0): Sse => ({
    event: type,
    data: { type, ...extra },
    delayMs,
  });
  const message = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: ANTHROPIC_RESPONSE_MODEL,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: ANTHROPIC_START_USAGE,
  };
  const events: Sse[] = [ev("message_start", { message }), ev("ping", {})];
  let index = 0;
  if (o.reasoning) {
    events.push(
      ev("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } }),
    );
    events.push(
      ev(
        "content_block_delta",
        { index, delta: { type: "thinking_delta", thinking: "Thinking" } },
        o.firstDelay,
      ),
    );
    events.push(ev("content_block_stop", { index }));
    index++;
  }
  events.push(ev("content_block_start", { index, content_block: { type: "text", text: "" } }));
  for (const [i, t] of TEXT.entries()) {
    events.push(
      ev("content_block_delta", { index, delta: { type: "text_delta", text: t } }, textDelay(i, o)),
    );
    if (i === 0 && o.streamError)
      events.push(ev("error", { error: { type: "overloaded_error", message: "Overloaded" } }));
  }
  events.push(ev("content_block_stop", { index }));
  events.push(
    ev("message_delta", {
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: ANTHROPIC_FINAL_OUTPUT },
    }),
  );
  events.push(ev("message_stop", {}));
  return events;
}
