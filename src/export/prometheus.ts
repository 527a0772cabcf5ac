/**
 * `session-metrics/prometheus`: session documents in the Prometheus text format, and a fetch
 * handler to serve them. No dependency.
 */
export { FAMILY, type FamilySpec, OTHER } from "./prometheus/families.ts";
export type { PrometheusHandlerOptions, SnapshotSource } from "./prometheus/handler.ts";
export { createPrometheusHandler } from "./prometheus/handler.ts";
export type { PrometheusTextOptions } from "./prometheus/text.ts";
export { PROMETHEUS_CONTENT_TYPE, toPrometheusText } from "./prometheus/text.ts";
