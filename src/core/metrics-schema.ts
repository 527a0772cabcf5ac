/**
 * The zod schema of the camelCase document (what `save` accepts and a `restore` journal line
 * carries), and the check made before a document is written.
 */
import type { z } from "zod";
import { ValidationError } from "../errors.ts";
import {
  EDIT_STRATEGY_FIELDS,
  type FieldSpec,
  fieldList,
  LLM_FIELDS,
  PHASE_FIELDS,
  TOOL_FIELDS,
} from "./document-fields.ts";
import { RFC3339 } from "./go-document.ts";
import { lazySchema } from "./lazy-zod.ts";
import type { SessionMetrics } from "./types.ts";

/** The camelCase document as `save` accepts it: exact integers, finite floats (built on first use). */
export const sessionMetricsSchema = lazySchema((z) => {
  const timestamp = z.string().regex(RFC3339, "expected an RFC 3339 timestamp");
  // One entry's schema from its table in document-fields.ts.
  const entry = (table: Readonly<Record<string, FieldSpec>>) => {
    const shape: Record<string, z.ZodType> = {};
    for (const f of fieldList(table)) {
      let field: z.ZodType;
      if (f.kind === "int") field = f.min === undefined ? z.int() : z.int().min(f.min);
      else field = f.kind === "float" ? z.number() : f.kind === "bool" ? z.boolean() : z.string();
      shape[f.key] = f.optional ? field.optional() : field;
    }
    return z.strictObject(shape);
  };
  return z.strictObject({
    sessionId: z.string(),
    startedAt: timestamp,
    updatedAt: timestamp,
    tools: z.array(entry(TOOL_FIELDS)),
    editStrategies: z.array(entry(EDIT_STRATEGY_FIELDS)),
    llms: z.array(entry(LLM_FIELDS)),
    phases: z.array(entry(PHASE_FIELDS)),
    droppedRecords: z.int().min(0).optional(),
    unpricedModels: z.array(z.string()).optional(),
  }) as unknown as z.ZodType<SessionMetrics>;
});

/** Formats the first zod issue as `tools[2].callCount: message`. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "invalid";
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  return `${path.replace(/^\./, "") || "(root)"}: ${issue.message}`;
}

/** Checks a document before it is written; throws `ValidationError` naming the bad field. */
export function assertWritableMetrics(
  metrics: unknown,
  sessionId: string,
): asserts metrics is SessionMetrics {
  const parsed = sessionMetricsSchema().safeParse(metrics);
  if (!parsed.success)
    throw new ValidationError(
      `[save] metrics for session ${sessionId} are invalid: ${describeZodError(parsed.error)}`,
    );
  if (parsed.data.sessionId !== sessionId)
    throw new ValidationError(
      `[save] metrics.sessionId is ${JSON.stringify(parsed.data.sessionId)} but the session id is ${JSON.stringify(sessionId)}; Go would write a file that no longer loads`,
    );
}
