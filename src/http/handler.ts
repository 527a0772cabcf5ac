/**
 * `createHandler(options)`: the read API and the dashboard as one fetch handler,
 * `(request: Request) => Promise<Response>`, testable without a socket (`serve.ts` is the only
 * file that knows `Bun.serve`). Every request passes the guard (method, Host, token) first;
 * session ids are validated before any file is touched; query parameters with zod.
 */
import { journalPath } from "../core/session-layout.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import type { MetricsStore } from "../store/types.ts";
import { ASSET_PREFIX, dashboardAssets } from "./dashboard-assets.ts";
import { eventStreamResponse, resumeSeq } from "./event-stream.ts";
import { createFolderIndex } from "./folder-index.ts";
import { createGuard, type GuardOptions } from "./guard.ts";
import { eventsParams, noParams, parseQuery } from "./params.ts";
import { cached, errorResponse, IMMUTABLE, REVALIDATE, responseForError } from "./respond.ts";
import { createApiRoutes } from "./routes.ts";
import { createSessionCache } from "./session-cache.ts";
import { requireSession } from "./session-source.ts";

export interface HandlerOptions extends GuardOptions {
  /** The sessions directory to read (`./sessions` by convention). */
  sessionsDir: string;
  /** A metrics store for the fleet view and `/api/report`; listings then include its sessions. */
  store?: MetricsStore;
  /** Heartbeat comment interval of event streams. Default 15,000 ms. */
  heartbeatMs?: number;
  /** Unexpected errors are logged here (never sent to the client). Default: console. */
  logger?: Logger;
}

export type FetchHandler = (request: Request) => Promise<Response>;

const SESSION_ROUTE = /^\/api\/sessions\/([^/]+)(?:\/(turns|aggregate|breakdown|verify|events))?\/?$/;

export function createHandler(options: HandlerOptions): FetchHandler {
  const { sessionsDir } = options;
  const logger = options.logger ?? consoleLogger;
  const guard = createGuard(options);
  const cache = createSessionCache(sessionsDir);
  const folders = createFolderIndex(sessionsDir);
  const api = createApiRoutes({ sessionsDir, store: options.store, cache, folders, logger });
  const heartbeatMs = options.heartbeatMs ?? 15_000;

  async function route(request: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    // The document route first: it is the hot path.
    const match = SESSION_ROUTE.exec(path);
    if (match !== null) {
      // Not decoded: a session id has no character that needs escaping, so "%2e%2e" is refused as it is.
      const id = match[1]!;
      const view = match[2] as "turns" | "aggregate" | "breakdown" | "verify" | "events" | undefined;
      if (view === "events") {
        const query = parseQuery(eventsParams, url.searchParams);
        const afterSeq = resumeSeq(request, query.lastEventId);
        requireSession(sessionsDir, id);
        return eventStreamResponse(request, journalPath(sessionsDir, id), { afterSeq, heartbeatMs });
      }
      if (url.search !== "") parseQuery(noParams, url.searchParams);
      return api.session(request, id, view ?? "document");
    }
    if (path === "/api/sessions" || path === "/api/sessions/") return api.list(request, url);
    if (path === "/api/report") return api.report(request, url);
    if (path === "/api/health")
      return cached(request, JSON.stringify({ ok: true }), { cacheControl: "no-store" });
    if (path === "/metrics") return api.metrics(request);
    if (path === "/" || path === "/index.html" || path.startsWith(ASSET_PREFIX)) return asset(request, path);
    if (path.startsWith("/api/"))
      return errorResponse(404, "not_found", `[session-metrics] [http] no route ${JSON.stringify(path)}`);
    // Anything else is a dashboard address (its views live in the fragment): the page.
    return asset(request, "/");
  }

  async function asset(request: Request, path: string): Promise<Response> {
    const assets = await dashboardAssets();
    const found = assets.get(path === "/index.html" ? "/" : path);
    if (found === undefined)
      return errorResponse(404, "not_found", `[session-metrics] [http] no asset ${JSON.stringify(path)}`);
    return cached(request, found.body, {
      type: found.type,
      etag: found.etag,
      cacheControl: found.immutable ? IMMUTABLE : REVALIDATE,
    });
  }

  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(400, "invalid_request", "[session-metrics] [http] the request URL is not valid");
    }
    const refused = guard.check(request, url);
    if (refused !== undefined) return refused;
    let response: Response;
    try {
      response = await route(request, url);
    } catch (error) {
      response = responseForError(error, logger);
    }
    const cors = guard.cors(request);
    for (const name in cors) response.headers.set(name, cors[name]!);
    return response;
  };
}
