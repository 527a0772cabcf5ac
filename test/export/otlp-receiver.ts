/**
 * A local OTLP/HTTP receiver on 127.0.0.1 for the integration tests: it takes what the official
 * exporters send to /v1/traces and /v1/metrics, decodes protobuf with OpenTelemetry's own
 * generated code (the protobufjs static module shipped by @opentelemetry/otlp-transformer 0.215.0,
 * installed as the test-only alias `otlp-transformer-proto`) and JSON with JSON.parse, and gives
 * both back in one normalised shape.
 */
import root from "otlp-transformer-proto/build/src/generated/root.js";

interface Message {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

const v1 = (
  root as unknown as {
    opentelemetry: { proto: { collector: Record<"trace" | "metrics", { v1: Record<string, Message> }> } };
  }
).opentelemetry.proto.collector;
const TRACE_REQUEST = v1.trace.v1.ExportTraceServiceRequest!;
const METRICS_REQUEST = v1.metrics.v1.ExportMetricsServiceRequest!;

export type Primitive = string | number | boolean;

export interface ReceivedSpan {
  scope: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  start: string;
  end: string;
  attributes: Record<string, Primitive>;
  events: { name: string; time: string; attributes: Record<string, Primitive> }[];
  status: { code: number; message?: string };
}

export interface ReceivedMetric {
  name: string;
  unit: string;
  kind: "histogram" | "sum" | "gauge";
  points: {
    attributes: Record<string, Primitive>;
    value?: number;
    sum?: number;
    count?: number;
    bounds?: number[];
  }[];
}

export interface Received {
  contentType: string;
  spans: ReceivedSpan[];
  metrics: ReceivedMetric[];
}

type Json = Record<string, unknown>;

/** Ids arrive as hex (JSON) or as bytes (protobuf, toObject with `bytes: Array`). */
function hex(id: unknown): string {
  if (id === undefined || id === null) return "";
  if (typeof id === "string") return id;
  return Buffer.from(id as number[]).toString("hex");
}

function value(v: Json): Primitive {
  if ("stringValue" in v) return v.stringValue as string;
  if ("boolValue" in v) return v.boolValue as boolean;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  return JSON.stringify(v);
}

function attributes(list: unknown): Record<string, Primitive> {
  const out: Record<string, Primitive> = {};
  for (const kv of (list as Json[] | undefined) ?? []) out[kv.key as string] = value(kv.value as Json);
  return out;
}

function spansOf(request: Json): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of (request.resourceSpans as Json[]) ?? [])
    for (const ss of (rs.scopeSpans as Json[]) ?? [])
      for (const s of (ss.spans as Json[]) ?? []) {
        const status = (s.status as Json | undefined) ?? {};
        out.push({
          scope: (ss.scope as Json).name as string,
          name: s.name as string,
          kind: Number(s.kind),
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          start: String(s.startTimeUnixNano),
          end: String(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          events: ((s.events as Json[]) ?? []).map((e) => ({
            name: e.name as string,
            time: String(e.timeUnixNano),
            attributes: attributes(e.attributes),
          })),
          status: {
            code: Number(status.code ?? 0),
            ...(status.message ? { message: status.message as string } : {}),
          },
        });
      }
  return out;
}

function metricsOf(request: Json): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const rm of (request.resourceMetrics as Json[]) ?? [])
    for (const sm of (rm.scopeMetrics as Json[]) ?? [])
      for (const m of (sm.metrics as Json[]) ?? []) {
        const kind = "histogram" in m ? "histogram" : "sum" in m ? "sum" : "gauge";
        const data = m[kind] as Json;
        out.push({
          name: m.name as string,
          unit: (m.unit as string) ?? "",
          kind,
          points: ((data.dataPoints as Json[]) ?? []).map((p) =>
            kind === "histogram"
              ? {
                  attributes: attributes(p.attributes),
                  sum: Number(p.sum),
                  count: Number(p.count),
                  bounds: ((p.explicitBounds as number[]) ?? []).map(Number),
                }
              : { attributes: attributes(p.attributes), value: Number(p.asDouble ?? p.asInt ?? 0) },
          ),
        });
      }
  return out;
}

const PROTO_OPTIONS = { longs: String, bytes: Array, enums: Number, defaults: false };

/** Starts the receiver; `received` fills as requests arrive. Stop it with `stop()`. */
export function startReceiver(): { url: string; received: Received[]; stop(): void } {
  const received: Received[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const contentType = request.headers.get("content-type") ?? "";
      const bytes = new Uint8Array(await request.arrayBuffer());
      const proto = contentType.startsWith("application/x-protobuf");
      const decode = (message: Message): Json =>
        proto
          ? (message.toObject(message.decode(bytes), PROTO_OPTIONS) as Json)
          : (JSON.parse(new TextDecoder().decode(bytes)) as Json);
      if (path === "/v1/traces")
        received.push({ contentType, spans: spansOf(decode(TRACE_REQUEST)), metrics: [] });
      else if (path === "/v1/metrics")
        received.push({ contentType, spans: [], metrics: metricsOf(decode(METRICS_REQUEST)) });
      else return new Response("not found", { status: 404 });
      // An empty ExportServiceResponse: a zero-length protobuf message, or `{}`.
      return proto
        ? new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } })
        : Response.json({});
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, received, stop: () => void server.stop(true) };
}
