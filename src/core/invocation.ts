/**
 * `InvocationMetric`: one agent invocation, as a multi-agent framework reports it. The zod schema
 * checks it at the edges (the `InvocationMetricsCollector`, JSONL files, `recordInvocation`); the
 * aggregation code behind it trusts the type.
 */
import type { z } from "zod";
import { describeValue, ValidationError } from "../errors.ts";
import type { InvocationRecord } from "./events.ts";
import { lazySchema, type ZodNamespace } from "./lazy-zod.ts";
import { MAX_ID_BYTES, MAX_NAME_BYTES, typeName, utf8Length } from "./validate.ts";

/**
 * The file name of `InvocationMetricsCollector` inside its `metricsDir` (here, not in
 * invocation-collector.ts, so the package root exports it without loading the collector).
 */

const OPTIONAL_KEYS = [
  "taskId",
  "inputTokens",
  "outputTokens",
  "cachedTokens",
  "model",
  "tier",
  "errorClass",
] as const;

/**
 * Other languages write an absent optional field as `null` (Python's `None`); it means "absent"
 * here too, so such files load instead of being skipped line by line. (Done outside the schema:
 * a `z.preprocess` wrapper makes every parse about 4× slower.)
 */
function nullAsAbsent(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (!OPTIONAL_KEYS.some((key) => record[key] === null)) return value;
  const copy = { ...record };
  for (const key of OPTIONAL_KEYS) if (copy[key] === null) delete copy[key];
  return copy;
}

function buildSchema(z: ZodNamespace) {
  /** Non-empty, well-formed UTF-16 without NUL, at most `limit` bytes of UTF-8. */
  const text = (limit: number) =>
    z.string({ error: "must be a string" }).check((ctx) => {
      const value = ctx.value;
      let reason: string | undefined;
      if (value.length === 0) reason = "must not be empty";
      else if (utf8Length(value) > limit)
        reason = `is ${utf8Length(value)} bytes of UTF-8; the limit is ${limit}`;
      else if (!value.isWellFormed()) reason = "must not contain a lone UTF-16 surrogate";
      else if (value.includes("\0")) reason = "must not contain a NUL character";
      if (reason !== undefined) ctx.issues.push({ code: "custom", message: reason, input: value });
    });
  /** Names used as group keys (agent, phase, model, tier, error class): 256 bytes. */
  const name = text(MAX_NAME_BYTES);
  /** Ids (invocation, task): 4 KiB, as the proposal's collector accepts. */
  const id = text(MAX_ID_BYTES);

  /** Token counts and milliseconds: whole numbers a double holds exactly. */
  // (`.int()` in zod 4 also bounds the value to ±(2^53−1).)
  const count = z.number({ error: "must be a whole number from 0 to 2^53−1" }).int().min(0);

  /** ISO 8601 date-time with an explicit offset (`Z` or `±hh:mm`): a local time would be ambiguous. */
  const timestamp = z.iso
    .datetime({
      offset: true,
      abort: true,
      error: "must be an ISO 8601 date-time with an offset (2026-01-02T03:04:05.678Z)",
    })
    .refine((v) => Number.isFinite(Date.parse(v)), { error: "is not a representable date" });

  return z.object(
    {
      invocationId: id,
      agent: name,
      /** A number in the proposal; a name (`"execute"`) for Collector sessions. */
      phase: z.union([z.number(), name], {
        error: `must be a finite number or a non-empty string of at most ${MAX_NAME_BYTES} UTF-8 bytes`,
      }),
      taskId: id.optional(),
      durationMs: count,
      tokens: count,
      inputTokens: count.optional(),
      outputTokens: count.optional(),
      cachedTokens: count.optional(),
      cost: z.number({ error: "must be a finite number ≥ 0" }).min(0),
      exitCode: z.number({ error: "must be a whole number" }).int(),
      success: z.boolean({ error: "must be a boolean" }),
      attempt: z.number({ error: "must be a whole number ≥ 1 (1 = first try)" }).int().min(1),
      outputParsed: z.boolean({ error: "must be a boolean" }),
      model: name.optional(),
      tier: name.optional(),
      timestamp,
      errorClass: name.optional(),
    },
    { error: "must be an object" },
  );
}

/**
 * The zod schema of {@link InvocationMetric} (built on first use). Unknown keys are stripped
 * (newer writers may add fields). `parseInvocationMetric` also reads optional fields written as
 * `null` as absent.
 */
export const invocationMetricSchema = lazySchema(buildSchema);

/** One agent invocation: `timestamp` is its start, `[start, start + durationMs)` its interval. */
export type InvocationMetric = z.infer<ReturnType<typeof buildSchema>>;

// Compile-time proof that the schema's type and the journaled `InvocationRecord` are one shape.
const _toRecord = (m: InvocationMetric): InvocationRecord => m;
const _fromRecord = (r: InvocationRecord): InvocationMetric => r;
void _toRecord;
void _fromRecord;

/**
 * Validates `value` and returns a fresh `InvocationMetric` (unknown keys dropped, optional fields
 * that are `null` — Python's `None` — read as absent).
 * @throws ValidationError naming the offending field: `invalid invocation metric: durationMs must be a
 *   whole number from 0 to 2^53−1 (got -1)`.
 */
export function parseInvocationMetric(value: unknown): InvocationMetric {
  const input = nullAsAbsent(value);
  const schema = invocationMetricSchema();
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // Parse again with the inputs in the issues, for the message: cheaper than reporting them always.
  const issues = schema.safeParse(input, { reportInput: true }).error?.issues ?? [];
  const first = describeIssue(issues[0]!);
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  throw new ValidationError(`[invocation] invalid invocation metric: ${first}${more}`);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length === 0 ? "the metric" : issue.path.map(String).join(".");
  if (issue.code === "invalid_type" && issue.input === undefined && issue.path.length > 0)
    return `${path} is missing`;
  if (!("input" in issue)) return `${path} ${issue.message}`;
  const input = issue.input;
  const got = typeof input === "object" && input !== null ? typeName(input) : describeValue(input);
  return `${path} ${issue.message} (got ${got})`;
}
