/**
 * An injected clock (`now: () => Date`), checked on every read: a clock that throws, returns an
 * invalid Date, or one outside year 0–9999 (which RFC 3339 cannot write) must not make record*()
 * throw or poison the state, so the read falls back to `Date.now()` and is reported.
 */
import { isTimestamp } from "../core/validate.ts";
import { ValidationError } from "../errors.ts";

/** @throws ValidationError when the clock is unusable from the start (checked once, at creation). */
export function checkedClock(now: () => Date, onFallback: (why: string) => void): () => number {
  const first = read(now);
  if (typeof first === "string") throw new ValidationError(`the injected now() ${first}`);
  return () => {
    const t = read(now);
    if (typeof t === "number") return t;
    onFallback(t);
    return Date.now();
  };
}

/** Epoch ms, or what is wrong. */
function read(now: () => Date): number | string {
  let date: unknown;
  try {
    date = now();
  } catch (error) {
    return `threw: ${(error as Error)?.message ?? String(error)}`;
  }
  if (!(date instanceof Date)) return "must return a Date";
  const t = date.getTime();
  return isTimestamp(t)
    ? t
    : `returned ${Number.isNaN(t) ? "an invalid Date" : "a Date outside year 0–9999"}`;
}
