/**
 * The zod schema of the camelCase document (what `save` accepts and a `restore` journal line
 * carries), and the check made before a document is written.
 */
import type { z } from "zod";
import { ValidationError } from "../errors.ts";
import { RFC3339 } from "./go-document.ts";
import { lazySchema } from "./lazy-zod.ts";
import type { SessionMetrics } from "./types.ts";

/** The camelCase document as `save` accepts it: exact integers, finite floats (built on first use). */
export const sessionMetricsSchema = lazySchema((z) => {
  const count = z.int();
  const timestamp = z.string().regex(RFC3339, "expected an RFC 3339 timestamp");

  return z.strictObject({
    sessionId: z.string(),
    startedAt: timestamp,
    updatedAt: timestamp,
    tools: z.array(
      z.strictObject({
        name: z.string(),
        callCount: count,
        successCount: count,
        failCount: count,
        totalDurationMs: count,
        avgDurationMs: z.number(),
      }),
    ),
    editStrategies: z.array(z.strictObject({ strategy: z.string(), count })),
    llms: z.array(
      z.strictObject({
        phase: z.string(),
        promptTokens: count,
        completionTokens: count,
        totalTokens: count,
        cost: z.number(),
        interactionCount: count,
        promptHash: z.string().optional(),
        truncatedInput: z.boolean().optional(),
        cacheReadTokens: count.optional(),
        cacheWriteTokens: count.optional(),
        reasoningTokens: count.optional(),
        unpricedCount: count.min(1).optional(),
      }),
    ),
    phases: z.array(
      z.strictObject({
        phase: z.string(),
        durationMs: count,
        transitionCount: count,
        healTriggerCount: count,
        healSuccessCount: count,
        healFailCount: count,
        healDurationMs: count,
        healLoopCount: count,
        bisectTriggerCount: count,
        bisectSuccessCount: count,
        bisectFailCount: count,
        success: z.boolean(),
      }),
    ),
    droppedRecords: count.min(0).optional(),
    unpricedModels: z.array(z.string()).optional(),
  });
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
