/** Bugs the fuzzers (test/torture/fuzz/) found in the HTTP handler, each pinned by its smallest case. */
import { expect, test } from "bun:test";
import { createHandler } from "../../src/http/handler.ts";
import { MemoryLogger } from "../journal/helpers.ts";

const ORIGIN = "http://127.0.0.1";

test("?__proto__=… is refused as a parameter of no route (400), like any other unknown one", async () => {
  const handler = createHandler({ sessionsDir: "no-such-dir", logger: new MemoryLogger() });
  for (const path of ["/api/sessions", "/api/sessions/s1", "/api/sessions/s1/events"]) {
    const response = await handler(new Request(`${ORIGIN}${path}?__proto__=1`));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: "invalid_parameter",
      message: "[session-metrics] [http] query parameter __proto__: is not a parameter of this route",
      parameter: "__proto__",
    });
  }
});

test("a token cookie with a malformed %-escape is a 401, not a URIError out of the handler", async () => {
  const logger = new MemoryLogger();
  const handler = createHandler({ sessionsDir: "no-such-dir", token: "s3cret", logger });
  const response = await handler(
    new Request(`${ORIGIN}/api/health`, { headers: { cookie: "session_metrics_token=%E0%A4%A" } }),
  );
  expect(response.status).toBe(401);
  expect(((await response.json()) as { error: string }).error).toBe("unauthorized");
  expect(logger.errors).toEqual([]);
});
