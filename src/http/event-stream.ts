/**
 * `GET /api/sessions/:id/events`: Server-Sent Events of a live session's journal. Each event is
 * one message, `id:` its seq and `data:` its JSON (the journal line without its checksum), so a
 * browser's EventSource resumes after the last one it saw (`Last-Event-ID`). A comment every
 * `heartbeatMs` (default 15 s) keeps proxies from closing a quiet stream; the heartbeat timer and
 * the journal watch live only as long as the stream. A bad line is reported as an `event:
 * problem` message and skipped.
 */
import type { JournalTail } from "./journal-tail.ts";
import { tailJournal } from "./journal-tail.ts";
import { HttpParamError } from "./params.ts";
import { BASE_HEADERS, NO_STORE } from "./respond.ts";

export interface EventStreamOptions {
  /** Resume after this seq (from `Last-Event-ID` or `?lastEventId=`); default: new events only. */
  afterSeq?: number;
  heartbeatMs: number;
}

const encoder = new TextEncoder();

export function eventStreamResponse(
  request: Request,
  journal: string,
  options: EventStreamOptions,
): Response {
  const headers = {
    ...BASE_HEADERS,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": NO_STORE,
    // Proxies such as nginx must pass each message on at once.
    "x-accel-buffering": "no",
  };
  if (request.method === "HEAD") return new Response(null, { headers });
  let tail: JournalTail | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    tail?.close();
    tail = undefined;
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop(); // the client is gone
        }
      };
      // Sent at once, so the client knows the stream is open (EventSource fires `open`).
      send(`retry: 2000\n: connected\n\n`);
      tail = tailJournal(journal, {
        afterSeq: options.afterSeq,
        onEvent: (event) => {
          const { v: _v, ...body } = event;
          send(`id: ${event.seq}\ndata: ${JSON.stringify({ v: 1, ...body })}\n\n`);
        },
        onProblem: (reason, offset) =>
          send(`event: problem\ndata: ${JSON.stringify({ offset, reason })}\n\n`),
      });
      heartbeat = setInterval(() => send(": heartbeat\n\n"), options.heartbeatMs);
      request.signal.addEventListener("abort", stop, { once: true });
    },
    cancel: stop,
  });
  return new Response(stream, { headers });
}

/** The seq to resume after, from `Last-Event-ID` (a whole number) or the query's `lastEventId`. */
export function resumeSeq(request: Request, fromQuery: number | undefined): number | undefined {
  const header = request.headers.get("last-event-id");
  if (header === null || header.trim() === "") return fromQuery;
  if (!/^\d{1,15}$/.test(header.trim()))
    throw new HttpParamError("Last-Event-ID", "must be a seq (a whole number)");
  return Number(header.trim());
}
