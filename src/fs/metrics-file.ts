/**
 * `METRICS.json` on disk: `load` and `save`, Go-compatible, as the Go `Save`/`Load` pair.
 * A missing file is "nothing" (`null`); anything else that goes wrong is a typed error.
 */

import { constants as fsConstants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import * as fsp from "node:fs/promises";
import { decodeMetrics, encodeMetrics, parseJson } from "../core/go-document.ts";
import { assertWritableMetrics } from "../core/metrics-schema.ts";
import { assertSessionId } from "../core/session-id.ts";
import { metricsPath } from "../core/session-layout.ts";
import type { SessionMetrics } from "../core/types.ts";
import { errnoCode, ParseError, SchemaError, StorageError } from "../errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";

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
  let handle: FileHandle;
  try {
    // Never through a symbolic link, and never waiting on a planted FIFO.
    const { O_NOFOLLOW, O_NONBLOCK, O_RDONLY } = fsConstants;
    handle = await fsp.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    const why =
      code === "ELOOP" ? "it is a symbolic link, which is never followed" : (error as Error).message;
    throw new StorageError(`[load] could not open ${path}: ${why}`, { cause: error, code, path });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile())
      throw new StorageError(`[load] refusing to read ${path}: it is not a regular file`, {
        code: "EFTYPE",
        path,
      });
    const { size } = stat;
    if (size > limit) throw new ParseError(path, `file is ${size} bytes; the limit is ${limit} bytes`);
    const bytes = await handle.readFile();
    if (bytes.byteLength > limit) throw new ParseError(path, `file grew past the limit of ${limit} bytes`);
    return new TextDecoder().decode(bytes);
  } catch (error) {
    if (error instanceof ParseError || error instanceof StorageError) throw error;
    throw new StorageError(`[load] could not read ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  } finally {
    await handle.close();
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
