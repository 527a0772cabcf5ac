/**
 * The dashboard, bundled by `Bun.build` from its HTML entry point (`dashboard/index.html`: the
 * page, its TypeScript and uPlot, all local — no CDN, works offline). Built once per process on
 * first use and kept in memory; scripts and styles get content-hashed names under `/assets/`, so
 * they can be cached for a year while `index.html` is revalidated.
 */
import { join } from "node:path";
import { MetricsError } from "../errors.ts";
import { etagOf } from "./session-cache.ts";

export interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
  /** Hashed name: cacheable forever. */
  immutable: boolean;
}

/** URL path → asset (`/` is the page). */
export type DashboardAssets = ReadonlyMap<string, Asset>;

export const DASHBOARD_ENTRY = join(import.meta.dir, "dashboard", "index.html");
export const ASSET_PREFIX = "/assets/";

let built: Promise<DashboardAssets> | undefined;

/** The bundle (built on the first call; later calls share it). A failed build is retried next time. */
export function dashboardAssets(): Promise<DashboardAssets> {
  built ??= buildDashboard().catch((error) => {
    built = undefined;
    throw error;
  });
  return built;
}

export async function buildDashboard(entry = DASHBOARD_ENTRY): Promise<DashboardAssets> {
  const result = await Bun.build({
    entrypoints: [entry],
    target: "browser",
    minify: true,
    publicPath: ASSET_PREFIX,
    naming: { entry: "[name]-[hash].[ext]", chunk: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]" },
    throw: false,
  });
  if (!result.success)
    throw new MetricsError(
      `[http] the dashboard bundle failed to build: ${result.logs.map((l) => l.message).join("; ")}`,
    );
  const assets = new Map<string, Asset>();
  for (const output of result.outputs) {
    const body = new Uint8Array(await output.arrayBuffer());
    const name = output.path.replace(/^\.\//, "");
    const page = name.endsWith(".html");
    assets.set(page ? "/" : `${ASSET_PREFIX}${name}`, {
      body,
      type: output.type,
      etag: etagOf(body),
      immutable: !page,
    });
  }
  if (!assets.has("/")) throw new MetricsError("[http] the dashboard bundle has no page");
  return assets;
}
