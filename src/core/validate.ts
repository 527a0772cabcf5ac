/**
 * Hand-rolled checks for the record*() hot path (zod is used at the file/HTTP/CLI edges). Each
 * check returns `undefined` when the value is fine, or a reason that ends up in a
 * `ValidationError` (strict mode) or in the dropped-record report.
 */
import { describeValue } from "../errors.ts";
import type { EventDetails } from "./events.ts";
import { RFC3339 } from "./go-document.ts";
import type { NormalizedUsage } from "./state.ts";
import type { RecordDetails, Usage } from "./types.ts";

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
export const MAX_NAME_BYTES = 256;
/** Ids that are not group keys (an invocation's, a task's) may be longer than names. */
export const MAX_ID_BYTES = 4096;

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the instants RFC 3339 can write. */
export const MIN_TS = Date.parse("0000-01-01T00:00:00.000Z");
export const MAX_TS = Date.parse("9999-12-31T23:59:59.999Z");

/** Epoch milliseconds this library may stamp: a whole number that RFC 3339 can write. */
export function isTimestamp(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= MIN_TS && value <= MAX_TS;
}

/** UTF-8 length of a well-formed string, without allocating. */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 2; // a surrogate pair: counted as 2 UTF-16 units, is 4 bytes
      i++;
    } else if (c >= 0x800) bytes += 2;
    else if (c >= 0x80) bytes += 1;
  }
  return bytes;
}

/**
 * Names of tools, phases, strategies, agents: non-empty, well-formed, no NUL (neither store can
 * hold one), at most 256 UTF-8 bytes.
 */
export function checkName(value: unknown, what: string, limit = MAX_NAME_BYTES): string | undefined {
  if (typeof value !== "string") return `${what} must be a string, got ${typeName(value)}`;
  if (value.length === 0) return `${what} must not be empty`;
  // Each UTF-16 unit is at most 3 UTF-8 bytes, so short names skip the byte count.
  if (value.length > limit / 3 && utf8Length(value) > limit)
    return `${what} is ${utf8Length(value)} bytes of UTF-8; the limit is ${limit}`;
  if (!value.isWellFormed()) return `${what} contains a lone UTF-16 surrogate`;
  if (value.includes("\0")) return `${what} contains a NUL character`;
  return undefined;
}

/** Free text (a prompt hash, say): a string, well-formed, without NUL characters; no length limit. */
export function checkText(value: unknown, what: string): string | undefined {
  if (typeof value !== "string") return `${what} must be a string, got ${typeName(value)}`;
  if (!value.isWellFormed()) return `${what} contains a lone UTF-16 surrogate`;
  if (value.includes("\0")) return `${what} contains a NUL character`;
  return undefined;
}

/** A duration in milliseconds: finite, not negative, at most 2^53−1. */
export function checkDuration(value: unknown, what = "durationMs"): string | undefined {
  if (typeof value !== "number") return `${what} must be a number, got ${typeName(value)}`;
  if (!(value >= 0 && value <= MAX_SAFE)) return `${what} must be a finite number ≥ 0, got ${value}`;
  return undefined;
}

export function checkCost(value: unknown): string | undefined {
  if (typeof value !== "number") return `cost must be a number, got ${typeName(value)}`;
  if (!(value >= 0 && value <= Number.MAX_VALUE)) return `cost must be a finite number ≥ 0, got ${value}`;
  return undefined;
}

export function checkBoolean(value: unknown, what: string): string | undefined {
  return typeof value === "boolean" ? undefined : `${what} must be a boolean, got ${typeName(value)}`;
}

function checkTokens(value: unknown, what: string): string | undefined {
  if (typeof value !== "number") return `usage.${what} must be a number, got ${typeName(value)}`;
  if (!Number.isSafeInteger(value) || value < 0)
    return `usage.${what} must be a whole number from 0 to 2^53−1, got ${value}`;
  return undefined;
}

function optionalTokens(usage: Usage, key: keyof Usage): number | undefined | string {
  const value = usage[key];
  if (value === undefined) return undefined;
  return checkTokens(value, key) ?? value;
}

/**
 * Validates and normalises a usage object (`totalTokens` defaults to prompt + completion).
 * Returns a reason string on failure.
 */
export function normalizeUsage(usage: unknown): NormalizedUsage | string {
  if (typeof usage !== "object" || usage === null || Array.isArray(usage))
    return `usage must be an object, got ${typeName(usage)}`;
  const u = usage as Usage;
  const bad =
    checkTokens(u.promptTokens, "promptTokens") ?? checkTokens(u.completionTokens, "completionTokens");
  if (bad !== undefined) return bad;
  const total = u.totalTokens === undefined ? u.promptTokens + u.completionTokens : u.totalTokens;
  if (u.totalTokens !== undefined) {
    const badTotal = checkTokens(u.totalTokens, "totalTokens");
    if (badTotal !== undefined) return badTotal;
  } else if (total > MAX_SAFE) return "usage.promptTokens + usage.completionTokens passes 2^53−1";
  const cacheRead = optionalTokens(u, "cacheReadTokens");
  if (typeof cacheRead === "string") return cacheRead;
  const cacheWrite = optionalTokens(u, "cacheWriteTokens");
  if (typeof cacheWrite === "string") return cacheWrite;
  const reasoning = optionalTokens(u, "reasoningTokens");
  if (typeof reasoning === "string") return reasoning;
  // Input includes cache reads and writes; output includes reasoning (OpenTelemetry GenAI).
  if ((cacheRead ?? 0) + (cacheWrite ?? 0) > u.promptTokens)
    return `usage.cacheReadTokens + usage.cacheWriteTokens (${(cacheRead ?? 0) + (cacheWrite ?? 0)}) exceed usage.promptTokens (${u.promptTokens}); input tokens include cached ones`;
  if ((reasoning ?? 0) > u.completionTokens)
    return `usage.reasoningTokens (${reasoning}) exceed usage.completionTokens (${u.completionTokens}); output tokens include reasoning`;
  return {
    promptTokens: u.promptTokens,
    completionTokens: u.completionTokens,
    totalTokens: total,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: reasoning,
  };
}

/** Would `a + b` pass 2^53−1 (the largest integer a double holds exactly)? */
export function overflows(a: number, b: number): boolean {
  return a + b > MAX_SAFE;
}

/** Validates and normalises record details; returns a reason string on failure. */
export function normalizeDetails(details: unknown): EventDetails | string {
  if (typeof details !== "object" || details === null || Array.isArray(details))
    return `details must be an object, got ${typeName(details)}`;
  const d = details as RecordDetails;
  const out: EventDetails = {};
  for (const key of ["agent", "taskId", "model", "errorClass", "provider"] as const) {
    const value = d[key];
    if (value === undefined) continue;
    const bad = checkName(value, `details.${key}`, key === "taskId" ? MAX_ID_BYTES : MAX_NAME_BYTES);
    if (bad !== undefined) return bad;
    out[key] = value;
  }
  if (d.attempt !== undefined) {
    if (typeof d.attempt !== "number" || !Number.isSafeInteger(d.attempt) || d.attempt < 1)
      return `details.attempt must be a whole number ≥ 1, got ${describeValue(d.attempt)}`;
    out.attempt = d.attempt;
  }
  if (d.startedAt !== undefined) {
    const ms =
      d.startedAt instanceof Date
        ? d.startedAt.getTime()
        : typeof d.startedAt === "string" && RFC3339.test(d.startedAt)
          ? Date.parse(d.startedAt)
          : Number.NaN;
    if (!isTimestamp(ms))
      return `details.startedAt must be an ISO 8601 timestamp or a valid Date from year 0 to 9999`;
    out.startedAt = ms;
  }
  if (d.attributes !== undefined) {
    const attributes = checkAttributes(d.attributes);
    if (typeof attributes === "string") return attributes;
    out.attributes = attributes;
  }
  return out;
}

export const MAX_ATTRIBUTES_BYTES = 1024 * 1024;

/** Copies free-form attributes into a null-prototype-safe plain object, or says what is wrong. */
export function checkAttributes(value: unknown): Record<string, string | number | boolean> | string {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return `details.attributes must be an object, got ${typeName(value)}`;
  const out: Record<string, string | number | boolean> = {};
  for (const [key, v] of Object.entries(value)) {
    const badKey = checkName(key, `key details.attributes.${JSON.stringify(key).slice(1, -1)}`);
    if (badKey !== undefined) return badKey;
    if (!(typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))))
      return `details.attributes.${key} must be a string, a finite number or a boolean, got ${typeName(v)}`;
    if (typeof v === "string" && (!v.isWellFormed() || v.includes("\0")))
      return `details.attributes.${key} must be well-formed text without NUL characters`;
    // defineProperty: a key named "__proto__" stays an own data property, never a prototype.
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  const size = utf8Length(JSON.stringify(out));
  if (size > MAX_ATTRIBUTES_BYTES)
    return `details.attributes is ${size} bytes of JSON; the limit is ${MAX_ATTRIBUTES_BYTES}`;
  return out;
}

export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : `the number ${value}`;
  return typeof value === "object" ? "an object" : typeof value;
}

/**
 * Which running total of an LLM entry would leave exact integers (or finite floats) if this
 * interaction were added; undefined when all fit.
 */
export function llmTotalsOverflow(
  entry: {
    promptTokens: number;
    completionTokens: number;
    totalTokens: number;
    cacheReadTokens: number | undefined;
    cacheWriteTokens: number | undefined;
    reasoningTokens: number | undefined;
    interactionCount: number;
    cost: number;
  },
  usage: NormalizedUsage,
  cost: number,
): string | undefined {
  if (overflows(entry.promptTokens, usage.promptTokens)) return "promptTokens";
  if (overflows(entry.completionTokens, usage.completionTokens)) return "completionTokens";
  if (overflows(entry.totalTokens, usage.totalTokens)) return "totalTokens";
  if (overflows(entry.cacheReadTokens ?? 0, usage.cacheReadTokens ?? 0)) return "cacheReadTokens";
  if (overflows(entry.cacheWriteTokens ?? 0, usage.cacheWriteTokens ?? 0)) return "cacheWriteTokens";
  if (overflows(entry.reasoningTokens ?? 0, usage.reasoningTokens ?? 0)) return "reasoningTokens";
  if (entry.interactionCount >= MAX_SAFE) return "interactionCount";
  if (!Number.isFinite(entry.cost + cost)) return "cost";
  return undefined;
}

/** A normalised usage in the public shape: kinds that were not reported are absent. */
export function publicUsage(u: NormalizedUsage): Usage {
  const out: Usage = {
    promptTokens: u.promptTokens,
    completionTokens: u.completionTokens,
    totalTokens: u.totalTokens,
  };
  if (u.cacheReadTokens !== undefined) out.cacheReadTokens = u.cacheReadTokens;
  if (u.cacheWriteTokens !== undefined) out.cacheWriteTokens = u.cacheWriteTokens;
  if (u.reasoningTokens !== undefined) out.reasoningTokens = u.reasoningTokens;
  return out;
}
