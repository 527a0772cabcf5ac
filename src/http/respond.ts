/**
 * Responses of the read API. Caching is deliberate:
 * - documents and listings: `no-cache` with a strong ETag — a browser keeps them and revalidates
 *   every time (`304` when unchanged), so a live session is never shown stale;
 * - hashed dashboard assets: a year, `immutable` (their name changes with their content);
 * - streams, `/metrics` and errors: `no-store`.
 * Errors are JSON `{ error, message, parameter? }` with the library's message and never a stack.
 */
import { InvalidSessionIdError, MetricsError, ParseError, SchemaError, ValidationError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { HttpParamError } from "./params.ts";
import { etagOf } from "./session-cache.ts";
import { isNotFound } from "./session-source.ts";

export const REVALIDATE = "no-cache";
export const IMMUTABLE = "public, max-age=31536000, immutable";
export const NO_STORE = "no-store";

const JSON_TYPE = "application/json; charset=utf-8";

/** Security headers on every response: no sniffing, no framing, no referrer leaks. */
export const BASE_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/** Whether `If-None-Match` names `etag` (or `*`). */
export function notModified(request: Request, etag: string): boolean {
  const header = request.headers.get("if-none-match");
  if (header === null) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === etag || t === "*");
}

/** A cacheable body: `304` when the client has it, otherwise the bytes with their ETag. */
export function cached(
  request: Request,
  body: Uint8Array | string,
  options: { type?: string; etag?: string; cacheControl?: string } = {},
): Response {
  const etag = options.etag ?? etagOf(body);
  const headers = {
    ...BASE_HEADERS,
    etag,
    "cache-control": options.cacheControl ?? REVALIDATE,
  };
  if (notModified(request, etag)) return new Response(null, { status: 304, headers });
  const response = new Response(request.method === "HEAD" ? null : body, {
    headers: { ...headers, "content-type": options.type ?? JSON_TYPE },
  });
  return response;
}

export function errorResponse(
  status: number,
  error: string,
  message: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error, message, ...extra }), {
    status,
    headers: { ...BASE_HEADERS, ...headers, "content-type": JSON_TYPE, "cache-control": NO_STORE },
  });
}

/** The answer to an unexpected failure: its message goes to the server's log, never to the client. */
export function internalError(): Response {
  return errorResponse(
    500,
    "internal_error",
    "[session-metrics] [http] internal error (see the server's log)",
  );
}

/** The response for an error thrown while answering; unexpected ones are logged, not shown. */
export function responseForError(error: unknown, logger: Logger): Response {
  if (error instanceof HttpParamError)
    return errorResponse(400, "invalid_parameter", error.message, { parameter: error.parameter });
  if (error instanceof InvalidSessionIdError) return errorResponse(400, "invalid_session_id", error.message);
  if (error instanceof ValidationError) return errorResponse(400, "invalid_request", error.message);
  if (isNotFound(error)) return errorResponse(404, "not_found", (error as Error).message);
  if (error instanceof ParseError || error instanceof SchemaError)
    return errorResponse(422, "bad_session_data", error.message);
  const message = error instanceof MetricsError ? error.message : String((error as Error)?.message ?? error);
  logger.error(`[session-metrics] [http] ${message}`);
  return internalError();
}
