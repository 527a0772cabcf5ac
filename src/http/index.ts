/**
 * `session-metrics/http`: the read API and the dashboard. `createHandler` is a fetch handler
 * (`(request) => Promise<Response>`) to mount anywhere; `serve` runs it on `Bun.serve`.
 */

export type { SessionBreakdown } from "./breakdown.ts";
export { buildDashboard, dashboardAssets } from "./dashboard-assets.ts";
export type { FetchHandler, HandlerOptions } from "./handler.ts";
export { createHandler } from "./handler.ts";
export type { ServeOptions } from "./serve.ts";
export { serve } from "./serve.ts";
export type { SessionSummary } from "./session-read.ts";
