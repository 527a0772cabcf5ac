/**
 * Every error this library throws is a {@link MetricsError}. Messages start with
 * `[session-metrics]` and, where there is one, the area (`[load]`, `[flush]`, ...), then say what
 * failed, where, and what to do about it.
 */
export class MetricsError extends Error {
  override name = "MetricsError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.startsWith("[session-metrics]") ? message : `[session-metrics] ${message}`, options);
  }
}

/** A session id that cannot safely name a folder. Nothing was created on disk. */
export class InvalidSessionIdError extends MetricsError {
  override name = "InvalidSessionIdError";
  /** The rejected id, as given. */
  readonly sessionId: unknown;
  constructor(sessionId: unknown, reason: string) {
    super(`invalid session id ${describeValue(sessionId)}: ${reason}`);
    this.sessionId = sessionId;
  }
}

/** A record or argument that breaks the rules (thrown in strict mode; counted otherwise). */
export class ValidationError extends MetricsError {
  override name = "ValidationError";
}

/** A file that is not well-formed JSON, or is too large to read. `path` names the file. */
export class ParseError extends MetricsError {
  override name = "ParseError";
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`[load] ${path}: ${message}`, options);
    this.path = path;
  }
}

/** Well-formed JSON whose shape is wrong. `jsonPath` points at the offending value (`$.tools[2].call_count`). */
export class SchemaError extends MetricsError {
  override name = "SchemaError";
  readonly path: string;
  readonly jsonPath: string;
  constructor(path: string, jsonPath: string, message: string) {
    super(`[load] ${path}: ${jsonPath}: ${message}`);
    this.path = path;
    this.jsonPath = jsonPath;
  }
}

/** A filesystem (or database) operation failed. `code` is the errno name (`ENOSPC`, `EACCES`, ...). */
export class StorageError extends MetricsError {
  override name = "StorageError";
  readonly code: string | undefined;
  readonly path: string | undefined;
  constructor(message: string, options: { cause?: unknown; code?: string; path?: string } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code ?? errnoCode(options.cause);
    this.path = options.path;
  }
}

/** The session is already owned by another collector (in this process or another one). */
export class SessionLockedError extends MetricsError {
  override name = "SessionLockedError";
}

/** The errno name of a Node/Bun system error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** A short, safe rendering of any value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return Object.is(value, -0) ? "-0" : String(value);
  }
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** A library message without its `[session-metrics] ` prefix, to quote inside another message. */
export function withoutPrefix(message: string): string {
  return message.startsWith("[session-metrics] ") ? message.slice("[session-metrics] ".length) : message;
}
