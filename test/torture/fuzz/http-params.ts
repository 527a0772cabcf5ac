/**
 * HTTP parameters: mutants of real request addresses, and generated paths and query strings for
 * every route of the handler (ids with `..`, `%00`, very long values; known and unknown
 * parameters, repeated ones). Every request must get a 2xx, 3xx or 4xx answer (never a 5xx nor a
 * rejection), and a query with a parameter the route does not have must get 400.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { createHandler, type FetchHandler } from "../../../src/http/handler.ts";
import { ingest } from "../../../src/store/ingest.ts";
import { createSqliteStore } from "../../../src/store/sqlite/index.ts";
import type { TortureContext } from "../harness.ts";
import { AreaTally } from "../harness.ts";
import { caseSeed, type FuzzCase, runCases, split, type TargetRun } from "./common.ts";
import type { Corpus } from "./corpus.ts";
import { hostileString, samples } from "./generators.ts";
import { mutate } from "./mutators.ts";

const ORIGIN = "http://127.0.0.1";
/** encodeURIComponent, with a lone surrogate first made U+FFFD (it has no UTF-8 to escape). */
const encode = (s: string) => encodeURIComponent(s.toWellFormed());
const QUIET = { warn() {}, error() {} };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Each route's query parameters (`undefined`: the route ignores its query). */
const ROUTES: { path: (id: string) => string; params: readonly string[] | undefined }[] = [
  { path: () => "/api/sessions", params: ["limit", "cursor", "since", "until", "model", "agent"] },
  {
    path: () => "/api/report",
    params: ["groupBy", "since", "until", "model", "agent", "tool", "phase", "percentiles"],
  },
  { path: (id) => `/api/sessions/${id}`, params: [] },
  { path: (id) => `/api/sessions/${id}/turns`, params: [] },
  { path: (id) => `/api/sessions/${id}/aggregate`, params: [] },
  { path: (id) => `/api/sessions/${id}/breakdown`, params: [] },
  { path: (id) => `/api/sessions/${id}/verify`, params: [] },
  { path: (id) => `/api/sessions/${id}/events`, params: ["lastEventId"] },
  { path: () => "/api/health", params: undefined },
  { path: () => "/metrics", params: undefined },
  { path: () => "/", params: undefined },
  { path: (id) => `/api/${id}`, params: undefined },
  { path: (id) => `/${id}`, params: undefined },
];

function realUrls(id: string): string[] {
  return [
    "/api/sessions?limit=2&since=2026-11-22&model=gpt-4o",
    "/api/sessions?cursor=WzE3OTQ4MDk2MDAwMDAsImZ1enotc291cmNlIl0&agent=coder",
    "/api/report?groupBy=model,tool&since=1794790800000&until=2026-12-01&percentiles=95,99",
    `/api/report?groupBy=day&phase=plan&tool=Read`,
    `/api/sessions/${id}`,
    `/api/sessions/${id}/turns`,
    `/api/sessions/${id}/aggregate`,
    `/api/sessions/${id}/breakdown`,
    `/api/sessions/${id}/verify`,
    `/api/sessions/${id}/events?lastEventId=3`,
    "/api/health",
    "/metrics",
    "/",
    "/index.html",
  ];
}

const VALUES = [
  "",
  "0",
  "1",
  "1000",
  "1001",
  "-1",
  "1e3",
  "9007199254740993",
  "2026-11-22",
  "model,model",
  "95,99.9",
];
const value = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom("..", "%00", "%", "%zz", "a".repeat(5_000), "\u0000") },
);
const id = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom("fuzz-source", "missing", "..", "%2e%2e", "%00", "a%2fb", "x".repeat(300)),
  },
  { weight: 1, arbitrary: hostileString.map(encode) },
);

const TOKEN = "fuzz-token";
/** Header text: printable ASCII only (anything else is refused by `new Headers`, not the handler). */
const headerText = fc
  .oneof(hostileString, fc.constantFrom("%E0%A4%A", "%", "%00", 'W/"x", *', "1e3", "-1", "9".repeat(20)))
  .map((v) => v.replace(/[^\x20-\x7e]/g, "%"));
const headers = fc.record(
  {
    cookie: headerText.map((v) => `session_metrics_token=${v}; other=1`),
    authorization: fc.oneof(
      fc.constant(`Bearer ${TOKEN}`),
      headerText.map((v) => `Bearer ${v}`),
    ),
    "last-event-id": headerText,
    "if-none-match": headerText,
  },
  { requiredKeys: [] },
);

interface Request_ {
  url: string;
  /** Sent to the handler that needs a token, with these headers. */
  headers?: Record<string, string>;
  /** Parameters the route does not have (then the answer must be 400). */
  unknown: boolean;
}

const request: fc.Arbitrary<Request_> = fc
  .tuple(
    fc.integer({ min: 0, max: ROUTES.length - 1 }),
    id,
    fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom("limit", "groupBy", "lastEventId", "since", "__proto__", "constructor", ""),
          hostileString,
        ),
        value,
        fc.boolean(),
      ),
      { maxLength: 4 },
    ),
    fc.option(headers, { freq: 4 }),
  )
  .map(([route, sessionId, pairs, sent]) => {
    const { path, params } = ROUTES[route]!;
    // Mostly encoded as a browser would; sometimes raw, to reach the URL parser's corners.
    const query = pairs.map(([k, v, raw]) => (raw ? `${k}=${v}` : `${encode(k)}=${encode(v)}`));
    const keys = pairs.map(([k]) => k);
    const known = (k: string) => params?.includes(k) ?? true;
    const signedIn = sent === null || sent.authorization === `Bearer ${TOKEN}`;
    return {
      url: `${path(sessionId)}${query.length > 0 ? `?${query.join("&")}` : ""}`,
      ...(sent === null ? {} : { headers: sent }),
      // Raw pairs may decode to other keys (a raw "&" or "="): only encoded ones are judged.
      // And only where the URL parser leaves the path as it is ("/api/sessions/../turns" is "/api/turns").
      unknown:
        signedIn &&
        params !== undefined &&
        path("x").startsWith("/api/") &&
        new URL(`${ORIGIN}${path(sessionId)}`).pathname === path(sessionId) &&
        !path(sessionId).includes("//") &&
        pairs.every(([, , raw]) => !raw) &&
        keys.some((k) => !known(k)),
    };
  });

function toRequest(url: string, headers?: Record<string, string>): Request {
  try {
    return new Request(`${ORIGIN}${url.startsWith("/") ? "" : "/"}${url}`, { headers });
  } catch {
    return new Request(`${ORIGIN}/${encodeURI(url.replace(/^\/+/, ""))}`, { headers });
  }
}

async function answer(
  handler: FetchHandler,
  url: string,
  headers?: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const response = await handler(toRequest(url, headers));
  // An event stream never ends by itself: its first bytes are enough.
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
    await response.body?.cancel();
    return { status: response.status, body: "" };
  }
  return { status: response.status, body: await response.text() };
}

export async function fuzzHttpParameters(ctx: TortureContext, corpus: Corpus): Promise<TargetRun> {
  const tally = new AreaTally("fuzz: HTTP parameters");
  const { mutations, generated } = split(1_000 * ctx.factor);
  const dir = corpus.scratch("http");
  cpSync(join(corpus.dir, corpus.sessionId), join(dir, corpus.sessionId), { recursive: true });
  const store = await createSqliteStore({ path: ":memory:" });
  try {
    await ingest(store, dir, { logger: QUIET, host: "fuzz" });
    const handler = createHandler({ sessionsDir: dir, store, logger: QUIET });
    const guarded = createHandler({ sessionsDir: dir, store, logger: QUIET, token: TOKEN });
    await answer(handler, "/"); // builds the dashboard once, before any case is timed
    const urls = realUrls(corpus.sessionId).map((u) => encoder.encode(u));
    const generatedSeed = caseSeed(ctx.seed, 6, 0);
    const requests = samples(request, generatedSeed, generated);
    const judge = (status: number, unknown: boolean) =>
      status >= 500 || status < 200
        ? `answered ${status}`
        : unknown && status !== 400
          ? `answered ${status} to a parameter the route does not have`
          : undefined;
    function* cases(): Generator<FuzzCase<{ status: number; body: string }>> {
      for (let i = 0; i < mutations; i++) {
        const seed = caseSeed(ctx.seed, 6, i + 1);
        const url = decoder.decode(mutate(seed, urls));
        yield {
          seed: `mut:${seed}`,
          run: () => answer(handler, url),
          oracle: (r) => {
            const wrong = judge(r.status, false);
            return wrong === undefined ? undefined : `${wrong} for ${JSON.stringify(url.slice(0, 160))}`;
          },
        };
      }
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i]!;
        yield {
          seed: `fc:${generatedSeed}#${i}`,
          run: () => (r.headers === undefined ? answer(handler, r.url) : answer(guarded, r.url, r.headers)),
          oracle: (a) => {
            const wrong = judge(a.status, r.unknown);
            return wrong === undefined ? undefined : `${wrong} for ${JSON.stringify(r.url.slice(0, 160))}`;
          },
        };
      }
    }
    const outcomes = await runCases(tally, cases());
    return { tally, outcomes };
  } finally {
    await store.close();
  }
}
