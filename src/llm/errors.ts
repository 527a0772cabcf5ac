/**
 * `classifyError`: one coarse class per failed LLM call, so dashboards can tell a provider outage
 * from a rate limit from a broken network from a bug in the request.
 *
 * It reads duck-typed fields only (`status`, `statusCode`, `name`, `code`, `type`, `cause`), so it
 * works on `openai` and `@anthropic-ai/sdk` errors (which carry `.status`), AI SDK `APICallError`s
 * (`.statusCode`), `fetch` failures and DOM `AbortSignal` reasons without importing any SDK.
 */

/** What went wrong with an LLM call. */
export type ErrorClass =
  /** HTTP 429, or a provider's in-stream rate-limit error. */
  | "rate_limit"
  /** HTTP 5xx (529 "overloaded" included), or a provider's in-stream server error. */
  | "provider_error"
  /** The request or the stream took too long (client timeout, `AbortSignal.timeout`, HTTP 408). */
  | "timeout"
  /** The connection failed: refused, reset, DNS, a `fetch` `TypeError`, an SDK connection error. */
  | "network"
  /** The caller aborted the request (an `AbortSignal` that is not a timeout). */
  | "aborted"
  /** Any other HTTP 4xx: a bad request, auth, a missing model, too large a prompt. */
  | "client_error"
  | "unknown";

const TIMEOUT_NAMES = new Set(["TimeoutError", "APIConnectionTimeoutError", "ConnectTimeoutError"]);
const ABORT_NAMES = new Set(["AbortError", "APIUserAbortError"]);
const NETWORK_NAMES = new Set(["APIConnectionError", "FetchError", "SocketError"]);
const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ConnectionTimeout",
  "Timeout",
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
]);
/** Provider error types carried by in-stream errors (no HTTP status): Anthropic `error.type`, OpenAI `code`. */
const RATE_LIMIT_TYPES = new Set(["rate_limit_error", "rate_limit_exceeded", "tokens", "requests"]);
const PROVIDER_TYPES = new Set(["overloaded_error", "api_error", "server_error", "internal_error"]);

/** How deep to follow `cause` / `lastError` chains (SDKs wrap a fetch error once or twice). */
const MAX_DEPTH = 5;

/**
 * Classifies an error thrown by an LLM call. An HTTP status decides first (429 → `rate_limit`,
 * 408 → `timeout`, 5xx → `provider_error`, other 4xx → `client_error`); then timeouts, aborts and
 * connection failures by name and errno code; then the error's `cause` chain.
 */
export function classifyError(err: unknown): ErrorClass {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (typeof current !== "object" || current === null) return "unknown";
    const found = classifyOne(current as ErrorLike);
    if (found !== undefined) return found;
    const e = current as ErrorLike;
    // AI SDK's RetryError keeps the last attempt's error in `lastError`.
    current = e.cause ?? e.lastError;
  }
  return "unknown";
}

interface ErrorLike {
  status?: unknown;
  statusCode?: unknown;
  name?: unknown;
  code?: unknown;
  type?: unknown;
  error?: unknown;
  message?: unknown;
  cause?: unknown;
  lastError?: unknown;
  constructor?: { name?: unknown };
}

function classifyOne(e: ErrorLike): ErrorClass | undefined {
  const status = httpStatus(e);
  if (status !== undefined) return classifyStatus(status);
  const name = typeof e.name === "string" ? e.name : "";
  const ctor = typeof e.constructor?.name === "string" ? e.constructor.name : "";
  if (TIMEOUT_NAMES.has(name) || TIMEOUT_NAMES.has(ctor)) return "timeout";
  if (ABORT_NAMES.has(name) || ABORT_NAMES.has(ctor)) {
    // openai keeps the signal's reason as `cause`: `AbortSignal.timeout()` aborts with a TimeoutError.
    return isTimeoutReason(e.cause) ? "timeout" : "aborted";
  }
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code !== undefined) {
    if (TIMEOUT_CODES.has(code)) return "timeout";
    if (NETWORK_CODES.has(code)) return "network";
  }
  const providerType = providerErrorType(e);
  if (providerType !== undefined) {
    if (RATE_LIMIT_TYPES.has(providerType)) return "rate_limit";
    if (PROVIDER_TYPES.has(providerType)) return "provider_error";
  }
  // A connection error wraps its cause; a more specific cause (a timeout) wins when there is one.
  if (NETWORK_NAMES.has(name) || NETWORK_NAMES.has(ctor)) {
    const inner = e.cause === undefined ? "unknown" : classifyError(e.cause);
    return inner === "timeout" ? "timeout" : "network";
  }
  // fetch() rejects with a bare TypeError when it cannot connect ("fetch failed", "Unable to connect").
  if (
    name === "TypeError" &&
    typeof e.message === "string" &&
    /fetch|connect|network|socket/i.test(e.message)
  )
    return "network";
  return undefined;
}

function httpStatus(e: ErrorLike): number | undefined {
  const s = typeof e.status === "number" ? e.status : typeof e.statusCode === "number" ? e.statusCode : NaN;
  return Number.isInteger(s) && s >= 400 && s <= 599 ? s : undefined;
}

function classifyStatus(status: number): ErrorClass {
  if (status === 429) return "rate_limit";
  if (status === 408) return "timeout";
  return status >= 500 ? "provider_error" : "client_error";
}

function isTimeoutReason(reason: unknown): boolean {
  return typeof reason === "object" && reason !== null && (reason as ErrorLike).name === "TimeoutError";
}

/** `type`/`code` of an in-stream provider error: on the error itself or on its `error` body. */
function providerErrorType(e: ErrorLike): string | undefined {
  if (typeof e.type === "string") return e.type;
  const body = e.error;
  if (typeof body === "object" && body !== null) {
    const b = body as { type?: unknown; code?: unknown; error?: { type?: unknown } };
    if (typeof b.type === "string") return b.type;
    if (typeof b.code === "string") return b.code;
    if (typeof b.error?.type === "string") return b.error.type;
  }
  return undefined;
}
