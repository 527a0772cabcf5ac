/**
 * Checks that keep bad input away from the database, shared by events and session rows: no NUL
 * characters or lone surrogates in text (PostgreSQL refuses both; SQLite would store them, so
 * refusing them everywhere keeps the backends identical), finite numbers, safe integers.
 */
import { assertSessionId } from "../core/session-id.ts";
import { utf8Length } from "../core/validate.ts";
import { describeValue, ValidationError } from "../errors.ts";
import type { SessionUpsert } from "./types.ts";

/** Longest value of a text column the report groups or filters by (PostgreSQL's btree refuses entries past ~2.7 kB). */
export const MAX_KEY_BYTES = 1024;

/**
 * The fast check: no NUL characters, lone surrogates, non-finite numbers or odd types anywhere.
 * It builds no paths; `checkValue` runs only on failure, to say where.
 */
export function isClean(value: unknown): boolean {
  switch (typeof value) {
    case "string":
      return !value.includes("\0") && value.isWellFormed();
    case "number":
      return value - value === 0; // false for NaN and ±Infinity
    case "boolean":
    case "undefined":
      return true;
    case "object": {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (const item of value) if (!isClean(item)) return false;
        return true;
      }
      for (const key in value)
        if (!isClean(key) || !isClean((value as Record<string, unknown>)[key])) return false;
      return true;
    }
    default:
      return false;
  }
}

/** NUL characters, lone surrogates, non-finite numbers or odd types anywhere in a value, with where. */
export function checkValue(value: unknown, path: string): string | undefined {
  switch (typeof value) {
    case "string":
      return checkText(value, path || "value");
    case "number":
      return Number.isFinite(value) ? undefined : `${path || "value"} must be a finite number, got ${value}`;
    case "boolean":
    case "undefined":
      return undefined;
    case "object": {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const bad = checkValue(value[i], `${path}[${i}]`);
          if (bad !== undefined) return bad;
        }
        return undefined;
      }
      for (const key in value) {
        const sub = path === "" ? key : `${path}.${key}`;
        const bad = checkText(key, `key ${sub}`) ?? checkValue((value as Record<string, unknown>)[key], sub);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    default:
      return `${path || "value"} has unsupported type ${typeof value}`;
  }
}

/** A string the database can store as text in both backends. */
export function checkText(s: string, what: string): string | undefined {
  if (s.includes("\0")) return `${what} contains a NUL character`;
  if (!s.isWellFormed()) return `${what} contains a lone UTF-16 surrogate`;
  return undefined;
}

/** Checks a session row before it is written. */
export function checkSessionUpsert(s: SessionUpsert): void {
  if (typeof s !== "object" || s === null)
    throw new ValidationError("[store] a session row must be an object");
  assertSessionId(s.sessionId);
  const at = `[store] session ${s.sessionId}:`;
  const int = (v: unknown, what: string, nullable = false) => {
    if (nullable && (v === null || v === undefined)) return;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      throw new ValidationError(
        `${at} ${what} must be a whole number from 0 to 2^53−1, got ${describeValue(v)}`,
      );
  };
  int(s.startedAt, "startedAt");
  int(s.updatedAt, "updatedAt");
  int(s.lastSeq, "lastSeq");
  int(s.documentSeq, "documentSeq", true);
  for (const [what, v] of [
    ["host", s.host],
    ["document", s.document],
  ] as const) {
    if (v === null || v === undefined) continue;
    if (typeof v !== "string") throw new ValidationError(`${at} ${what} must be a string`);
    const bad = checkText(v, what);
    if (bad !== undefined) throw new ValidationError(`${at} ${bad}`);
  }
  if (typeof s.host === "string" && utf8Length(s.host) > MAX_KEY_BYTES)
    throw new ValidationError(`${at} host is longer than ${MAX_KEY_BYTES} bytes of UTF-8`);
  if (typeof s.document === "string" && (s.documentSeq === null || s.documentSeq === undefined))
    throw new ValidationError(`${at} a document needs the documentSeq it reflects`);
}
