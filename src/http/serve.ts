/**
 * `serve(options)`: the read API and dashboard on a socket — the only file that knows
 * `Bun.serve`. Loopback by default; any other address refuses to start without a token. Event
 * streams are exempt from the idle timeout (they also send a heartbeat); everything else keeps
 * it, so a stalled client cannot hold a connection forever.
 */
import type { Server } from "bun";
import { ValidationError } from "../errors.ts";
import { consoleLogger } from "../logger.ts";
import { dashboardAssets } from "./dashboard-assets.ts";
import { isLoopback } from "./guard.ts";
import { createHandler, type HandlerOptions } from "./handler.ts";
import { internalError } from "./respond.ts";

const EVENTS_PATH = /^[^?#]*\/api\/sessions\/[^/?#]+\/events\/?(?:[?#]|$)/;

export interface ServeOptions extends Omit<HandlerOptions, "hostname"> {
  /** Default 7070; 0 picks a free port (read it from the returned server's `port`). */
  port?: number;
  /** Default `127.0.0.1`. Any non-loopback address needs `token`. */
  hostname?: string;
  /** Seconds an idle connection is kept (event streams excepted). Default 10. */
  idleTimeoutSeconds?: number;
}

/**
 * Starts the server and returns Bun's `Server` (`server.port`, `server.url`, `server.stop()`).
 * The dashboard bundle starts building at once, so the first page load does not wait for it.
 * @throws ValidationError for a non-loopback `hostname` without a token, or a bad port.
 */
export function serve(options: ServeOptions): Server<undefined> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 7070;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ValidationError(`[serve] port must be a whole number from 0 to 65535, got ${port}`);
  if (!isLoopback(hostname) && (options.token === undefined || options.token === ""))
    throw new ValidationError(
      `[serve] refusing to listen on ${hostname} without a token: anyone who can reach it could read every session; set a token (--token or SESSION_METRICS_TOKEN), or bind to 127.0.0.1`,
    );
  const logger = options.logger ?? consoleLogger;
  const handler = createHandler({ ...options, hostname, logger });
  dashboardAssets().catch((error) => logger.error(`[session-metrics] [serve] ${(error as Error).message}`));
  return Bun.serve({
    port,
    hostname,
    development: false,
    idleTimeout: options.idleTimeoutSeconds ?? 10,
    fetch(request, server) {
      // An event stream is quiet between events: only its heartbeat keeps it alive. (Decided from
      // the path, so other requests go straight to the handler without another async step.)
      if (EVENTS_PATH.test(request.url)) server.timeout(request, 0);
      return handler(request);
    },
    error(error) {
      logger.error(`[session-metrics] [serve] ${error.message}`);
      return internalError();
    },
  });
}
