/**
 * `METRICS.json` on disk: `load` and `save`, Go-compatible, as the Go `Save`/`Load` pair.
 * A missing file is "nothing" (`null`); anything else that goes wrong is a typed error.
 */
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import { decodeMetrics, encodeMetrics, parseJson, RFC3339 } from "../core/go-document.ts";
import { assertSessionId } from "../core/session-id.ts";
import type { SessionMetrics } from "../core/types.ts";
import { errnoCode, ParseError, SchemaError, StorageError, ValidationError } from "../errors.ts";
import { fsp } from "../runtime/lazy-node.ts";
import { lazySchema } from "../runtime/lazy-zod.ts";
import { writeFileAtomic } from "./atomic-file.ts";

export const METRICS_FILE = "METRICS.json";
/** Larger files are refused before they are read. */
export const MAX_METRICS_FILE_BYTES = 16 * 1024 * 1024;

export function metricsPath(sessionsDir: string, sessionId: string): string {
  return join(sessionsDir, sessionId, METRICS_FILE);
}

/**
 * Reads `<sessionsDir>/<sessionId>/METRICS.json`. Resolves `null` when it does not exist.
 * @throws InvalidSessionIdError, ParseError (malformed or > 16 MiB), SchemaError (wrong shape,
 *   unsafe integers, a `session_id` other than the folder's), StorageError (I/O).
 */
export async function load(sessionsDir: string, sessionId: string): Promise<SessionMetrics | null> {
  assertSessionId(sessionId);
  const path = metricsPath(sessionsDir, sessionId);
  const text = await readTextLimited(path, MAX_METRICS_FILE_BYTES);
  if (text === null) return null;
  const metrics = decodeMetrics(parseJson(text, path), path);
  if (metrics.sessionId !== sessionId)
    throw new SchemaError(
      path,
      "$.session_id",
      `is ${JSON.stringify(metrics.sessionId)} but the file is in the folder of session ${JSON.stringify(sessionId)}`,
    );
  return metrics;
}

/** Reads a UTF-8 file of at most `limit` bytes; `null` when it does not exist. */
export async function readTextLimited(path: string, limit: number): Promise<string | null> {
  let handle: FileHandle;
  try {
    handle = await fsp.open(path, "r");
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw new StorageError(`[load] could not open ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  }
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new ParseError(path, `file is ${size} bytes; the limit is ${limit} bytes`);
    const bytes = await handle.readFile();
    if (bytes.byteLength > limit) throw new ParseError(path, `file grew past the limit of ${limit} bytes`);
    return new TextDecoder().decode(bytes);
  } catch (error) {
    if (error instanceof ParseError) throw error;
    throw new StorageError(`[load] could not read ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  } finally {
    await handle.close();
  }
}

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

/**
 * Writes `<sessionsDir>/<sessionId>/METRICS.json` atomically, byte-compatible with Go.
 * @throws InvalidSessionIdError, ValidationError, StorageError
 */
export async function save(sessionsDir: string, sessionId: string, metrics: SessionMetrics): Promise<void> {
  assertSessionId(sessionId);
  assertWritableMetrics(metrics, sessionId);
  await writeFileAtomic(metricsPath(sessionsDir, sessionId), encodeMetrics(metrics));
}
