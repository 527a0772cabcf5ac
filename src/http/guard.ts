/**
 * What every request passes before a route sees it: a read-only method, a `Host` this server
 * answers to (DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own name),
 * and, when the server has a token, that token — `Authorization: Bearer <token>`, or the cookie
 * the dashboard's `/?token=…` sign-in sets (a browser cannot put a header on a page load or an
 * EventSource). Tokens are compared in constant time.
 */
import { timingSafeEqual } from "node:crypto";
import { networkInterfaces } from "node:os";
import { BASE_HEADERS, errorResponse } from "./respond.ts";

export const TOKEN_COOKIE = "session_metrics_token";

/** The options of `createHandler` that the guard applies. */
export interface GuardOptions {
  /** When set, every request needs `Authorization: Bearer <token>` (compared in constant time). */
  token?: string;
  /** `Host` names to answer to besides loopback and the bound address (DNS rebinding protection; ports are ignored). */
  allowedHosts?: readonly string[];
  /** The address the server is bound to (set by `serve`); a wildcard means every local address. */
  hostname?: string;
  /** Origins allowed to call the API from other sites (CORS). Default: none. */
  corsOrigins?: readonly string[];
}

const LOOPBACK = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|::1|0:0:0:0:0:0:0:1)$/;
const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);

export function isLoopback(hostname: string): boolean {
  return LOOPBACK.test(bare(hostname));
}

/** A host name without port and IPv6 brackets, lower case. */
function bare(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") < 0 ? undefined : h.indexOf("]"));
  const colon = h.indexOf(":");
  // More than one colon without brackets: a bare IPv6 address, no port.
  return colon < 0 || h.indexOf(":", colon + 1) >= 0 ? h : h.slice(0, colon);
}

function sha256(text: string): Buffer {
  return Buffer.from(new Bun.CryptoHasher("sha256").update(text).digest());
}

/** Constant-time equality of two secrets (hashed first, so lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function cookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      // A malformed escape (`%E0%A4%A`) is no token, not a URIError out of the handler.
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export interface Guard {
  /** A response that refuses the request, or undefined to go on. */
  check(request: Request, url: URL): Response | undefined;
  /** CORS headers for an allowed origin ({} otherwise). */
  cors(request: Request): Record<string, string>;
}

export function createGuard(options: GuardOptions): Guard {
  const hosts = new Set((options.allowedHosts ?? []).map(bare));
  if (options.hostname !== undefined) {
    if (WILDCARD.has(options.hostname))
      for (const list of Object.values(networkInterfaces()))
        for (const nic of list ?? []) hosts.add(bare(nic.address));
    else hosts.add(bare(options.hostname));
  }
  const origins = new Set(options.corsOrigins ?? []);
  const token = options.token;

  const none: Record<string, string> = {};
  function cors(request: Request): Record<string, string> {
    if (origins.size === 0) return none;
    const origin = request.headers.get("origin");
    if (origin === null || !origins.has(origin)) return {};
    return { "access-control-allow-origin": origin, vary: "Origin" };
  }

  return {
    cors,
    check(request, url) {
      const host = request.headers.get("host") ?? url.host;
      if (!isLoopback(host) && !hosts.has(bare(host)))
        return errorResponse(
          421,
          "host_not_allowed",
          `[session-metrics] [http] Host ${JSON.stringify(host)} is not one this server answers to; list it in allowedHosts`,
        );
      if (request.method === "OPTIONS" && Object.keys(cors(request)).length > 0)
        return new Response(null, {
          status: 204,
          headers: {
            ...BASE_HEADERS,
            ...cors(request),
            "access-control-allow-methods": "GET, HEAD",
            "access-control-allow-headers": "Authorization, Last-Event-ID, If-None-Match",
            "access-control-max-age": "600",
          },
        });
      if (request.method !== "GET" && request.method !== "HEAD")
        return errorResponse(
          405,
          "method_not_allowed",
          "[session-metrics] [http] this API is read-only",
          {},
          {
            allow: "GET, HEAD",
          },
        );
      if (token === undefined) return undefined;
      const auth = request.headers.get("authorization");
      const given = auth?.startsWith("Bearer ") ? auth.slice(7).trim() : cookie(request, TOKEN_COOKIE);
      if (given !== undefined && sameSecret(given, token)) return undefined;
      // The dashboard's sign-in: `/?token=…` sets the cookie and drops the token from the address.
      const offered = url.pathname === "/" ? url.searchParams.get("token") : null;
      if (offered !== null && sameSecret(offered, token))
        return new Response(null, {
          status: 303,
          headers: {
            ...BASE_HEADERS,
            location: "/",
            "cache-control": "no-store",
            "set-cookie": `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`,
          },
        });
      return errorResponse(
        401,
        "unauthorized",
        "[session-metrics] [http] this server needs Authorization: Bearer <token>",
        {},
        { "www-authenticate": 'Bearer realm="session-metrics"' },
      );
    },
  };
}
