/**
 * Query parameters of the read API, validated with zod at this edge. Unknown parameters are
 * refused too (a typo such as `?limt=5` must not silently list the default page). A failure is an
 * `HttpParamError` naming the parameter; the handler answers `400` with it.
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { GROUP_KEYS, type GroupKey } from "../store/types.ts";

/** A bad query parameter: `parameter` names it. */
export class HttpParamError extends ValidationError {
  override name = "HttpParamError";
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`[http] query parameter ${parameter}: ${message}`);
  }
}

const text = z.string().min(1, "must not be empty").max(256, "is longer than 256 characters");
/** ISO 8601 or epoch milliseconds → epoch ms. */
const instant = z.string().transform((v, ctx) => {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    ctx.addIssue({
      code: "custom",
      message: `is not an ISO 8601 time or epoch milliseconds (got ${JSON.stringify(v)})`,
    });
    return z.NEVER;
  }
  return ms;
});
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim()))
    .pipe(z.array(item));

/** The filters the listing and the reports share. */
const filters = {
  since: instant.optional(),
  until: instant.optional(),
  model: text.optional(),
  agent: text.optional(),
};

export const listParams = z.strictObject({
  limit: int(1, 1000).default(50),
  cursor: z.string().min(1).max(400).optional(),
  ...filters,
});

export const reportParams = z.strictObject({
  groupBy: list(z.enum(GROUP_KEYS, `each must be one of ${GROUP_KEYS.join(", ")}`))
    .refine((keys) => new Set(keys).size === keys.length, "lists a key twice")
    .default([] as GroupKey[]),
  ...filters,
  tool: text.optional(),
  phase: text.optional(),
  /** Extra duration percentiles besides p50/p90/p99, e.g. `95,99.9` is refused: integers only. */
  percentiles: list(int(1, 100)).optional(),
});

export const eventsParams = z.strictObject({
  /** Same as the `Last-Event-ID` header, for clients that cannot set headers. */
  lastEventId: int(0, Number.MAX_SAFE_INTEGER).optional(),
});

export const noParams = z.strictObject({});

/** Parses `url.searchParams` with `schema`; a repeated parameter is refused. */
export function parseQuery<T extends z.ZodType>(schema: T, params: URLSearchParams): z.output<T> {
  // No prototype: on a plain object, `raw["__proto__"] = v` sets nothing, and `?__proto__=1`
  // would slip past the unknown-parameter check.
  const raw: Record<string, string> = Object.create(null);
  for (const [key, value] of params) {
    if (Object.hasOwn(raw, key)) throw new HttpParamError(key, "is given more than once");
    raw[key] = value;
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === "unrecognized_keys")
    throw new HttpParamError(issue.keys[0]!, "is not a parameter of this route");
  const name = String(issue.path[0] ?? "query");
  throw new HttpParamError(name, issue.message);
}
