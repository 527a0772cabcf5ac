/**
 * GenAI span-event helpers: autotel's API, ported with its exact event names, attribute keys and
 * conditions, so traces from both libraries render the same in Jaeger, Tempo, Langfuse or Arize.
 *
 * Conditions, as autotel's builders: a string attribute is set when its field is truthy (an empty
 * string is left out), except `gen_ai.tool.name`, which is always set; a number is set when it is
 * not `undefined` (0 is kept); finish reasons when the array is non-empty, joined with `,` as they
 * are (empty strings included), because an event attribute here is a primitive.
 *
 * `ctx` is anything with `addEvent(name, attributes)`: an OpenTelemetry `Span`, autotel's context.
 */
import { ATTR, EVENT } from "./names.ts";

export type EventAttributes = Record<string, string | number | boolean>;

/** What the helpers need from a span (or anything else that takes events). */
export interface SpanEventTarget {
  addEvent(name: string, attributes?: EventAttributes): unknown;
}

export interface PromptSentEvent {
  /** The model the caller asks for (the response may name a more specific one). */
  model?: string;
  /** Input tokens, when known before the call. */
  promptTokens?: number;
  messageCount?: number;
  /** `chat`, `text_completion`, `embeddings`, ... */
  operation?: string;
}

export interface ResponseReceivedEvent {
  /** The model that served the response. */
  model?: string;
  /** Input tokens, cache reads and writes included. */
  promptTokens?: number;
  /** Output tokens, reasoning included. */
  completionTokens?: number;
  totalTokens?: number;
  /** `stop`, `length`, `tool_calls`, ... */
  finishReasons?: string[];
  /** Beyond autotel: the cache and reasoning parts of the counts above. */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

export interface RetryEvent {
  /** 1 = first try. */
  attempt: number;
  /** `rate_limit`, `timeout`, `provider_error`, or your own label. */
  reason?: string;
  /** The wait before the next attempt. */
  delayMs?: number;
  /** The HTTP status that caused the retry. */
  statusCode?: number;
}

export interface ToolCallEvent {
  toolName: string;
  toolCallId?: string;
  /** Serialised arguments; leave out what is sensitive. */
  arguments?: string;
}

export interface StreamFirstTokenEvent {
  tokensSoFar?: number;
}

/** Marks the moment a prompt is sent: `gen_ai.prompt.sent`. */
export function recordPromptSent(ctx: SpanEventTarget, event: PromptSentEvent = {}): void {
  const attrs: EventAttributes = {};
  if (event.model) attrs[ATTR.requestModel] = event.model;
  if (event.promptTokens !== undefined) attrs[ATTR.inputTokens] = event.promptTokens;
  if (event.messageCount !== undefined) attrs[ATTR.messageCount] = event.messageCount;
  if (event.operation) attrs[ATTR.operationName] = event.operation;
  ctx.addEvent(EVENT.promptSent, attrs);
}

/** Marks a complete response (after a stream's last chunk): `gen_ai.response.received`. */
export function recordResponseReceived(ctx: SpanEventTarget, event: ResponseReceivedEvent = {}): void {
  const attrs: EventAttributes = {};
  if (event.model) attrs[ATTR.responseModel] = event.model;
  if (event.promptTokens !== undefined) attrs[ATTR.inputTokens] = event.promptTokens;
  if (event.completionTokens !== undefined) attrs[ATTR.outputTokens] = event.completionTokens;
  if (event.totalTokens !== undefined) attrs[ATTR.totalTokens] = event.totalTokens;
  if (event.finishReasons && event.finishReasons.length > 0)
    attrs[ATTR.finishReasons] = event.finishReasons.join(",");
  if (event.cacheReadTokens !== undefined) attrs[ATTR.cacheReadTokens] = event.cacheReadTokens;
  if (event.cacheWriteTokens !== undefined) attrs[ATTR.cacheWriteTokens] = event.cacheWriteTokens;
  if (event.reasoningTokens !== undefined) attrs[ATTR.reasoningTokens] = event.reasoningTokens;
  ctx.addEvent(EVENT.responseReceived, attrs);
}

/** Marks a retry decision (call it before waiting `delayMs`): `gen_ai.retry`. */
export function recordRetry(ctx: SpanEventTarget, event: RetryEvent): void {
  const attrs: EventAttributes = {};
  if (event.attempt !== undefined) attrs[ATTR.retryAttempt] = event.attempt;
  if (event.reason) attrs[ATTR.retryReason] = event.reason;
  if (event.delayMs !== undefined) attrs[ATTR.retryDelayMs] = event.delayMs;
  if (event.statusCode !== undefined) attrs[ATTR.httpStatusCode] = event.statusCode;
  ctx.addEvent(EVENT.retry, attrs);
}

/** Marks a tool call the model asked for: `gen_ai.tool.call`. */
export function recordToolCall(ctx: SpanEventTarget, event: ToolCallEvent): void {
  const attrs: EventAttributes = { [ATTR.toolName]: event.toolName };
  if (event.toolCallId) attrs[ATTR.toolCallId] = event.toolCallId;
  if (event.arguments) attrs[ATTR.toolArguments] = event.arguments;
  ctx.addEvent(EVENT.toolCall, attrs);
}

/** Marks a stream's first token (time to first token): `gen_ai.stream.first_token`. */
export function recordStreamFirstToken(ctx: SpanEventTarget, event: StreamFirstTokenEvent = {}): void {
  const attrs: EventAttributes = {};
  if (event.tokensSoFar !== undefined) attrs[ATTR.streamTokensSoFar] = event.tokensSoFar;
  ctx.addEvent(EVENT.streamFirstToken, attrs);
}
