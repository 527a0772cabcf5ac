/** The read API's edges, without a socket: query validation, methods, Host, token, CORS, errors. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHandler } from "../../src/http/index.ts";
import { recordSession, tempDir } from "../cli/helpers.ts";

/** The JSON body of a response, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

let dir: string;
let remove: () => void;
const quiet = { warn() {}, error() {} };
beforeAll(async () => {
  ({ dir, remove } = tempDir("http"));
  await recordSession(dir, "a1", "2026-11-22T01:00:00.000Z");
});
afterAll(() => remove());

const get = (
  handler: (r: Request) => Promise<Response>,
  path: string,
  headers: Record<string, string> = {},
) => handler(new Request(`http://127.0.0.1:7070${path}`, { headers }));

describe("query parameters", () => {
  const h = createHandler({ sessionsDir: dir, logger: quiet });
  const cases: [string, string, string][] = [
    ["/api/sessions?limit=0", "limit", "[session-metrics] [http] query parameter limit: must be at least 1"],
    [
      "/api/sessions?limit=abc",
      "limit",
      "[session-metrics] [http] query parameter limit: must be a whole number",
    ],
    [
      "/api/sessions?limt=3",
      "limt",
      "[session-metrics] [http] query parameter limt: is not a parameter of this route",
    ],
    [
      "/api/sessions?limit=1&limit=2",
      "limit",
      "[session-metrics] [http] query parameter limit: is given more than once",
    ],
    ["/api/sessions?cursor=garbage", "cursor", ""],
    ["/api/sessions?since=yesterday", "since", ""],
    ["/api/report?groupBy=model,colour", "groupBy", ""],
    ["/api/sessions/a1?x=1", "x", ""],
  ];
  for (const [path, parameter, message] of cases)
    test(`${path} is 400 naming ${parameter}`, async () => {
      const r = await get(h, path);
      expect(r.status).toBe(400);
      const body = await json(r);
      if (parameter === "cursor") expect(body.error).toBe("invalid_request");
      else {
        expect(body.error).toBe("invalid_parameter");
        expect(body.parameter).toBe(parameter);
      }
      if (message !== "") expect(body.message).toBe(message);
      expect(JSON.stringify(body)).not.toContain("    at ");
    });
});

describe("security", () => {
  test("read-only: other methods are 405 with Allow", async () => {
    const h = createHandler({ sessionsDir: dir, logger: quiet });
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const r = await h(new Request("http://127.0.0.1/api/sessions", { method }));
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toBe("GET, HEAD");
    }
    const head = await h(new Request("http://127.0.0.1/api/sessions/a1", { method: "HEAD" }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("the Host must be loopback, the bound address or allowed (DNS rebinding)", async () => {
    const h = createHandler({ sessionsDir: dir, allowedHosts: ["metrics.internal"], logger: quiet });
    expect((await get(h, "/api/sessions", { host: "evil.example" })).status).toBe(421);
    expect((await get(h, "/api/sessions", { host: "evil.example:7070" })).status).toBe(421);
    for (const host of ["localhost:7070", "127.0.0.1", "[::1]:7070", "metrics.internal:8080"])
      expect((await get(h, "/api/sessions", { host })).status).toBe(200);
  });

  test("with a token, every request needs it (bearer, or the dashboard's cookie)", async () => {
    const token = "s3cret-token-for-tests";
    const h = createHandler({ sessionsDir: dir, token, logger: quiet });
    const refused = await get(h, "/api/sessions/a1");
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="session-metrics"');
    expect((await get(h, "/", {})).status).toBe(401);
    expect((await get(h, "/api/sessions/a1", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await get(h, "/api/sessions/a1", { authorization: `Bearer ${token}` })).status).toBe(200);
    const signIn = await get(h, `/?token=${token}`);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get("location")).toBe("/");
    const cookie = signIn.headers.get("set-cookie")!;
    expect(cookie).toContain("HttpOnly; SameSite=Strict");
    expect((await get(h, "/api/sessions/a1", { cookie: cookie.split(";")[0]! })).status).toBe(200);
    expect((await get(h, "/?token=wrong")).status).toBe(401);
  });

  test("no CORS unless configured, then only for the listed origins", async () => {
    const h = createHandler({ sessionsDir: dir, corsOrigins: ["https://ok.example"], logger: quiet });
    const ok = await get(h, "/api/sessions", { origin: "https://ok.example" });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://ok.example");
    expect(
      (await get(h, "/api/sessions", { origin: "https://no.example" })).headers.get(
        "access-control-allow-origin",
      ),
    ).toBeNull();
    const preflight = await h(
      new Request("http://127.0.0.1/api/sessions", {
        method: "OPTIONS",
        headers: { origin: "https://ok.example" },
      }),
    );
    expect(preflight.status).toBe(204);
  });

  test("an unexpected failure is a 500 without its message or stack; the log has it", async () => {
    const logged: string[] = [];
    const broken = {
      dialect: "sqlite",
      aggregate: async () => {
        throw new Error("disk on fire at /secret/path");
      },
    } as never;
    const h = createHandler({
      sessionsDir: dir,
      store: broken,
      logger: { warn() {}, error: (m) => logged.push(m) },
    });
    const r = await get(h, "/api/report");
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).toBe(
      '{"error":"internal_error","message":"[session-metrics] [http] internal error (see the server\'s log)"}',
    );
    expect(logged).toEqual(["[session-metrics] [http] disk on fire at /secret/path"]);
  });
});
