/** Timestamps of session documents, read exactly (shared by the OpenTelemetry and Prometheus exports). */

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i;

/**
 * An RFC 3339 timestamp as `[seconds, nanoseconds]` since the epoch, nanoseconds exact (Go writes
 * nine fractional digits, which a `Date` would round to milliseconds). Undefined when the text is
 * not RFC 3339.
 */
export function parseTimestamp(text: string): [number, number] | undefined {
  const match = RFC3339.exec(text);
  if (match === null) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (!Number.isFinite(ms)) return undefined;
  const nanos = Number(`${match[2] ?? ""}000000000`.slice(0, 9));
  return [Math.floor(ms / 1000), nanos];
}
