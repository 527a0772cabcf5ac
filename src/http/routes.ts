/**
 * The JSON routes of the read API. Session views are computed once per version of the session's
 * files (see `session-cache.ts`) and sent with a strong ETag, so a client that polls gets `304`.
 */
import { aggregateJournal } from "../aggregate/session.ts";
import { encodeMetrics } from "../core/go-document.ts";
import { assertSessionId } from "../core/session-id.ts";
import { createPrometheusHandler } from "../export/prometheus.ts";
import { verifyJournal } from "../journal/verify.ts";
import type { Logger } from "../logger.ts";
import { getSession, report } from "../store/report.ts";
import type { MetricsStore } from "../store/types.ts";
import type { FolderIndex } from "./folder-index.ts";
import { listParams, parseQuery, reportParams } from "./params.ts";
import { BASE_HEADERS, cached, errorResponse, NO_STORE, notModified, REVALIDATE } from "./respond.ts";
import type { CachedSession, SessionCache } from "./session-cache.ts";
import { arraySource, type ListSource, listPage } from "./session-list.ts";
import { isNotFound } from "./session-source.ts";
import { createStoreSource } from "./store-source.ts";

export interface ApiDeps {
  sessionsDir: string;
  store: MetricsStore | undefined;
  cache: SessionCache;
  folders: FolderIndex;
  /** Where /metrics reports the sessions it leaves out. */
  logger: Logger;
}

type View = "document" | "turns" | "aggregate" | "breakdown" | "verify";

export function createApiRoutes(deps: ApiDeps) {
  const { sessionsDir, store, cache, logger } = deps;
  const headersOf = new WeakMap<object, Record<string, string>>();
  let scrape: ((request: Request) => Promise<Response>) | undefined;
  const sources: ListSource[] = [arraySource(() => deps.folders.rows())];
  if (store !== undefined) sources.push(createStoreSource(store));

  async function fromStore(request: Request, sessionId: string, error: unknown): Promise<Response> {
    if (store === undefined || !isNotFound(error)) throw error;
    const metrics = await getSession(store, sessionId);
    if (metrics === null) throw error;
    return cached(request, encodeMetrics(metrics));
  }

  async function sessionView(request: Request, sessionId: string, view: View): Promise<Response> {
    assertSessionId(sessionId); // before any file is touched
    if (view === "verify")
      return cached(request, JSON.stringify(await verifyJournal(sessionsDir, sessionId)));
    let entry: CachedSession;
    try {
      entry = await cache.get(sessionId);
    } catch (error) {
      if (view === "document") return fromStore(request, sessionId, error);
      throw error;
    }
    let encoded = entry.encoded.get(view);
    if (encoded === undefined) {
      if (view === "aggregate") {
        // Its own pass over the journal (the streaming fold of the aggregate module).
        const value = await aggregateJournal(sessionsDir, sessionId);
        encoded = cache.encode(entry, view, () => JSON.stringify(value));
      } else
        encoded = cache.encode(entry, view, (read) =>
          view === "document"
            ? encodeMetrics(read.metrics)
            : JSON.stringify(view === "turns" ? read.turns : read.breakdown),
        );
    }
    // The hot path: headers made once per version of the view, bytes from memory.
    let headers = headersOf.get(encoded);
    if (headers === undefined) {
      const { problems, lastSeq } = entry.read;
      headers = {
        ...BASE_HEADERS,
        etag: encoded.etag,
        "cache-control": REVALIDATE,
        "content-type": "application/json; charset=utf-8",
        "x-journal-last-seq": String(lastSeq),
        ...(problems.length > 0 ? { "x-journal-problems": String(problems.length) } : {}),
      };
      headersOf.set(encoded, headers);
    }
    if (notModified(request, encoded.etag)) return new Response(null, { status: 304, headers });
    return new Response(request.method === "HEAD" ? null : encoded.body, { headers });
  }

  return {
    session: sessionView,

    async list(request: Request, url: URL): Promise<Response> {
      const q = parseQuery(listParams, url.searchParams);
      const page = await listPage(sources, {
        limit: q.limit,
        cursor: q.cursor,
        filter: { since: q.since, until: q.until, model: q.model, agent: q.agent },
      });
      const sessions = page.sessions.map(({ startedAtMs: _ms, ...row }) => row);
      return cached(request, JSON.stringify({ sessions, nextCursor: page.nextCursor }));
    },

    async report(request: Request, url: URL): Promise<Response> {
      const q = parseQuery(reportParams, url.searchParams);
      if (store === undefined)
        return errorResponse(
          501,
          "no_store",
          "[session-metrics] [http] reports need a store: start the server with a store (session-metrics serve --store <path or URL>)",
        );
      const rows = await report(store, {
        groupBy: q.groupBy,
        since: q.since,
        until: q.until,
        where: { model: q.model, agent: q.agent, tool: q.tool, phase: q.phase },
        percentiles: q.percentiles,
      });
      return cached(request, JSON.stringify({ groupBy: q.groupBy, rows }));
    },

    async metrics(request: Request): Promise<Response> {
      // Made on the first scrape: a handler without a sessions directory still serves the rest.
      scrape ??= createPrometheusHandler({ sessionsDir, logger });
      const response = await scrape(request);
      response.headers.set("cache-control", NO_STORE);
      return response;
    },
  };
}
