/** Server-Sent Events of a live session, through the handler and through a real server; `serve` itself. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHandler, serve } from "../../src/http/index.ts";
import { Collector, ValidationError } from "../../src/index.ts";
import { tempDir } from "../cli/helpers.ts";

/** The JSON body of a response, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

let dir: string;
let remove: () => void;
const quiet = { warn() {}, error() {} };
beforeAll(() => {
  ({ dir, remove } = tempDir("sse"));
});
afterAll(() => remove());

/** Reads an SSE body into text, as it arrives. */
function reader(body: ReadableStream<Uint8Array>) {
  const r = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    get text() {
      return text;
    },
    /** Reads until `pattern` matches the text so far (or fails after `ms`). */
    async until(pattern: RegExp, ms = 5_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = text.match(pattern);
        if (found !== null) return found;
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(text)}`);
        const next = await Promise.race([r.read(), Bun.sleep(deadline - Date.now()).then(() => null)]);
        if (next === null) continue;
        if (next.done) throw new Error(`stream ended without ${pattern}: ${JSON.stringify(text)}`);
        text += decoder.decode(next.value);
      }
    },
    cancel: () => r.cancel(),
  };
}

async function liveSession(id: string): Promise<Collector> {
  const c = await Collector.open({ sessionId: id, sessionsDir: dir });
  c.recordToolCall("Read", true, 5);
  await c.sync();
  return c;
}

describe("GET /api/sessions/:id/events", () => {
  test("streams each new journal event, id = seq, data = the event; resumes after Last-Event-ID", async () => {
    await using c = await liveSession("live1");
    const h = createHandler({ sessionsDir: dir, logger: quiet });
    const response = await h(new Request("http://127.0.0.1/api/sessions/live1/events"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const stream = reader(response.body!);
    await stream.until(/: connected\n\n/);
    c.recordToolCall("LiveTool", false, 7, { agent: "coder" });
    await c.sync();
    const [, id, data] = await stream.until(/id: (\d+)\ndata: (.*)\n\n/);
    const event = JSON.parse(data!);
    expect(event).toMatchObject({
      v: 1,
      seq: Number(id),
      type: "tool_call",
      name: "LiveTool",
      success: false,
      durationMs: 7,
    });
    expect(event.crc).toBeUndefined();
    expect(stream.text).not.toContain('"name":"Read"'); // events before the connection are not replayed
    await stream.cancel();

    // A reconnect with Last-Event-ID gets what came after that seq at once.
    const resumed = await h(
      new Request("http://127.0.0.1/api/sessions/live1/events", {
        headers: { "last-event-id": String(Number(id) - 1) },
      }),
    );
    const again = reader(resumed.body!);
    const [, first] = await again.until(/id: (\d+)\n/);
    expect(Number(first)).toBe(Number(id));
    await again.cancel();
    const bad = await h(
      new Request("http://127.0.0.1/api/sessions/live1/events", { headers: { "last-event-id": "x" } }),
    );
    expect(bad.status).toBe(400);
    expect((await json(bad)).parameter).toBe("Last-Event-ID");
  });

  test("sends a heartbeat comment while the session is quiet", async () => {
    await using _c = await liveSession("live2");
    const h = createHandler({ sessionsDir: dir, heartbeatMs: 50, logger: quiet });
    const stream = reader((await h(new Request("http://127.0.0.1/api/sessions/live2/events"))).body!);
    await stream.until(/: heartbeat\n\n: heartbeat\n\n/);
    await stream.cancel();
  });

  test("a journal that appears after the client connected is followed from its first event", async () => {
    const h = createHandler({ sessionsDir: dir, logger: quiet });
    // A session known only by its METRICS.json so far (a run with the journal off wrote it).
    const before = new Collector({ sessionId: "late", sessionsDir: dir, journal: false });
    await before.stop();
    const stream = reader((await h(new Request("http://127.0.0.1/api/sessions/late/events"))).body!);
    await stream.until(/: connected/);
    await using c = await Collector.open({ sessionId: "late", sessionsDir: dir });
    c.recordToolCall("First", true, 1);
    await c.sync();
    await stream.until(/"type":"tool_call","name":"First"/);
    expect(stream.text).toContain('"type":"session_start"'); // the new journal from its first line
    await stream.cancel();
  });
});

describe("serve", () => {
  test("port 0 picks a free port; an event stream outlives the idle timeout", async () => {
    await using c = await liveSession("live3");
    const server = serve({ sessionsDir: dir, port: 0, idleTimeoutSeconds: 1, logger: quiet });
    try {
      expect(server.port).toBeGreaterThan(0);
      expect(server.hostname).toBe("127.0.0.1");
      const response = await fetch(`http://127.0.0.1:${server.port}/api/sessions/live3/events`);
      const stream = reader(response.body!);
      await stream.until(/: connected/);
      await Bun.sleep(2_500); // longer than the idle timeout, shorter than a heartbeat
      c.recordToolCall("AfterIdle", true, 3);
      await c.sync();
      await stream.until(/"name":"AfterIdle"/);
      await stream.cancel();
      // Ordinary requests still work, and an idle keep-alive connection is still closed by the server.
      expect((await fetch(`http://127.0.0.1:${server.port}/api/sessions/live3`)).status).toBe(200);
    } finally {
      await server.stop(true);
    }
  }, 15_000);

  test("refuses a non-loopback address without a token; with one, requests need it", async () => {
    expect(() => serve({ sessionsDir: dir, hostname: "0.0.0.0", port: 0 })).toThrow(ValidationError);
    expect(() => serve({ sessionsDir: dir, hostname: "0.0.0.0", port: 0 })).toThrow(
      "[session-metrics] [serve] refusing to listen on 0.0.0.0 without a token",
    );
    const server = serve({ sessionsDir: dir, hostname: "0.0.0.0", port: 0, token: "tok-123", logger: quiet });
    try {
      const url = `http://127.0.0.1:${server.port}/api/sessions`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: "Bearer tok-123" } })).status).toBe(200);
    } finally {
      await server.stop(true);
    }
  });

  test("a bad port is a ValidationError", () => {
    expect(() => serve({ sessionsDir: dir, port: 70_000 })).toThrow(
      "[session-metrics] [serve] port must be a whole number from 0 to 65535, got 70000",
    );
  });
});
