/**
 * `METRICS.json` on disk: `load` and `save`, Go-compatible, as the Go `Save`/`Load` pair.
 * A missing file is "nothing" (`null`); anything else that goes wrong is a typed error.
 */

import { decodeMetrics, encodeMetrics, parseJson } from "../core/go-document.ts";
import { assertWritableMetrics } from "../core/metrics-schema.ts";
import { assertSessionId } from "../core/session-id.ts";
import { metricsPath } from "../core/session-layout.ts";
import type { SessionMetrics } from "../core/types.ts";
import { ParseError, SchemaError, StorageError } from "../errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import { closeQuietly, io, readAll } from "./io.ts";
import { openRegularFile } from "./regular-file.ts";

/** Larger files are refused before they are read. */
export const MAX_METRICS_FILE_BYTES = 16 * 1024 * 1024;

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
  let fd: number;
  try {
    // Never through a symbolic link, never waiting on a planted FIFO, only a regular file.
    fd = openRegularFile(path, "read", "load");
  } catch (error) {
    const code = (error as StorageError).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw error;
  }
  try {
    const { size } = io.fstatSync(fd);
    if (size > limit) throw new ParseError(path, `file is ${size} bytes; the limit is ${limit} bytes`);
    const bytes = await readAll(fd);
    if (bytes.byteLength > limit) throw new ParseError(path, `file grew past the limit of ${limit} bytes`);
    return new TextDecoder().decode(bytes);
  } catch (error) {
    if (error instanceof ParseError) throw error;
    throw new StorageError(`[load] could not read ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  } finally {
    closeQuietly(fd); // read only: a failed close loses nothing
  }
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
