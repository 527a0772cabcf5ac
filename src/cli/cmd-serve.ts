/**
 * `serve`: the read API and the dashboard until the process is told to stop (SIGINT/SIGTERM in
 * `main.ts`, the context's signal in tests). Loopback by default; another address needs a token.
 */
import { join } from "node:path";
import { pathExists } from "../fs/io.ts";
import { serve } from "../http/serve.ts";
import type { MetricsStore } from "../store/types.ts";
import { intOption, noPositionals } from "./args.ts";
import { openStore } from "./cmd-store.ts";
import type { Command } from "./context.ts";

export const serveCommand: Command = {
  name: "serve",
  summary: "the HTTP read API and the dashboard (http://127.0.0.1:7070/)",
  usage:
    "serve [--port 7070] [--host 127.0.0.1] [--token <token>] [--store <path | URL>] [--allow-host <name>]",
  details: [
    "The token can also come from SESSION_METRICS_TOKEN. With a token, every request needs",
    "Authorization: Bearer <token>; open http://host:port/?token=<token> once to sign the browser in.",
    "--store defaults to <sessionsDir>/metrics.db when that file exists (the fleet page needs a store).",
  ].join("\n"),
  options: {
    port: {
      type: "string",
      value: "<port>",
      description: "port to listen on (0: any free port); default 7070",
    },
    host: { type: "string", value: "<address>", description: "address to bind; default 127.0.0.1" },
    token: {
      type: "string",
      value: "<token>",
      description: "require this bearer token (or SESSION_METRICS_TOKEN)",
    },
    store: { type: "string", value: "<path | URL>", description: "a SQLite file or a postgres:// URL" },
    "allow-host": {
      type: "string",
      multiple: true,
      value: "<name>",
      description: "another Host name to answer to (repeatable)",
    },
  },
  async run(ctx, args) {
    noPositionals(args.positionals);
    const port = intOption(args.values.port, "port", 0, 65_535) ?? 7070;
    const hostname = (args.values.host as string | undefined) ?? "127.0.0.1";
    const token = (args.values.token as string | undefined) ?? (ctx.env.SESSION_METRICS_TOKEN || undefined);
    const defaultStore = join(ctx.dir, "metrics.db");
    const spec =
      (args.values.store as string | undefined) ?? (pathExists(defaultStore) ? defaultStore : undefined);
    const store: MetricsStore | undefined = spec === undefined ? undefined : await openStore(spec);
    try {
      const server = serve({
        sessionsDir: ctx.dir,
        store,
        port,
        hostname,
        token,
        allowedHosts: (args.values["allow-host"] as string[] | undefined) ?? [],
        logger: ctx.logger,
      });
      const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}/`;
      ctx.warn(`session-metrics: serving ${ctx.dir}${spec === undefined ? "" : ` and ${spec}`} at ${url}`);
      if (token !== undefined) ctx.warn(`session-metrics: sign a browser in at ${url}?token=<your token>`);
      await new Promise<void>((resolve) => {
        if (ctx.signal?.aborted) resolve();
        ctx.signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      await server.stop(true);
      return "";
    } finally {
      await store?.close();
    }
  },
};
