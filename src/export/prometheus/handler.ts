/**
 * `createPrometheusHandler()`: a fetch handler serving `toPrometheusText` of live collectors
 * and/or the sessions of a folder, for the HTTP layer (or any server) to mount at `/metrics`.
 * It answers GET and HEAD on whatever path it is mounted at; nothing is cached between scrapes.
 */
import type { Dirent } from "node:fs";
import { assertSessionId } from "../../core/session-id.ts";
import type { SessionMetrics } from "../../core/types.ts";
import { errnoCode, ValidationError } from "../../errors.ts";
import { io } from "../../fs/io.ts";
import { load } from "../../fs/metrics-file.ts";
import { replayMetrics } from "../../journal/replay.ts";
import { consoleLogger, type Logger } from "../../logger.ts";
import { PROMETHEUS_CONTENT_TYPE, type PrometheusTextOptions, toPrometheusText } from "./text.ts";

/** Anything with a session snapshot: a `Collector`, a `Recorder`, a `RemoteCollector`'s owner. */
export interface SnapshotSource {
  snapshot(): SessionMetrics;
}

export interface PrometheusHandlerOptions extends PrometheusTextOptions {
  /**
   * Serve every session of this folder: its METRICS.json as of its last flush, or, for a session
   * that has none yet, what its journal folds to.
   */
  sessionsDir?: string;
  /** Serve these live collectors (a function is called per scrape, for a set that changes). */
  collectors?: Iterable<SnapshotSource> | (() => Iterable<SnapshotSource>);
  /** Where unreadable sessions are reported (once per session). Default: console. */
  logger?: Logger;
}

/**
 * Creates `(request) => Promise<Response>` serving the text format. With both sources, a live
 * collector wins over the folder's copy of the same session.
 * @throws ValidationError when neither `sessionsDir` nor `collectors` is given
 */
export function createPrometheusHandler(
  options: PrometheusHandlerOptions,
): (request: Request) => Promise<Response> {
  const { sessionsDir, collectors } = options;
  if (sessionsDir === undefined && collectors === undefined)
    throw new ValidationError("[prometheus] createPrometheusHandler needs sessionsDir or collectors");
  if (sessionsDir !== undefined && typeof sessionsDir !== "string")
    throw new ValidationError("[prometheus] sessionsDir must be a path string");
  toPrometheusText([], options); // checks maxSeries now rather than at the first scrape
  const logger = options.logger ?? consoleLogger;
  const reported = new Set<string>();
  const report = (id: string, error: unknown) => {
    if (reported.has(id) || reported.size >= 1_000) return;
    reported.add(id);
    logger.warn(
      `[session-metrics] [prometheus] session ${id} is left out of /metrics: ${(error as Error).message}`,
    );
  };

  const gather = async (): Promise<SessionMetrics[]> => {
    const docs: SessionMetrics[] = [];
    const seen = new Set<string>();
    const live = typeof collectors === "function" ? collectors() : (collectors ?? []);
    for (const source of live) {
      const doc = source.snapshot();
      seen.add(doc.sessionId);
      docs.push(doc);
    }
    if (sessionsDir !== undefined)
      for (const id of await sessionIds(sessionsDir)) {
        if (seen.has(id)) continue;
        try {
          const doc = (await load(sessionsDir, id)) ?? (await replayMetrics(sessionsDir, id, { logger }));
          if (doc !== null) docs.push(doc);
        } catch (error) {
          report(id, error);
        }
      }
    return docs;
  };

  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD")
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    let text: string;
    try {
      text = toPrometheusText(await gather(), options);
    } catch (error) {
      logger.error(`[session-metrics] [prometheus] /metrics failed: ${(error as Error).message}`);
      return new Response("metrics unavailable\n", {
        status: 500,
        headers: { "content-type": "text/plain" },
      });
    }
    const headers = { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" };
    return new Response(request.method === "HEAD" ? null : text, { status: 200, headers });
  };
}

/** Folders of `dir` named like sessions, sorted (stable output); none when `dir` does not exist. */
async function sessionIds(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = io.readdirEntriesSync(dir); // one quick call; a scrape lists the folder once
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
  const ids: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    try {
      assertSessionId(e.name);
      ids.push(e.name);
    } catch {
      // not a session folder
    }
  }
  return ids.sort();
}
