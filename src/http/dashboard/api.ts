/**
 * The dashboard's client of the read API: JSON fetches (the browser revalidates them with their
 * ETags: `cache: "no-cache"`), and a session's event stream read with `fetch` rather than
 * EventSource, so it works behind a token too and resumes with `Last-Event-ID` after a drop.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { cache: "no-cache", credentials: "same-origin" });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = ((await response.json()) as { message?: string }).message ?? message;
    } catch {
      // not JSON
    }
    throw new ApiError(response.status, message);
  }
  return (await response.json()) as T;
}

export interface StreamHandle {
  close(): void;
}

/**
 * Follows `/api/sessions/:id/events`: `onEvent` for every journal event, `onOpen` once the stream
 * is open (each time it reconnects). Reconnects after a drop, resuming after the last seq seen.
 */
export function followEvents(
  sessionId: string,
  handlers: { onEvent: (event: { seq: number; type: string }) => void; onOpen?: () => void },
): StreamHandle {
  let closed = false;
  let lastSeq: number | undefined;
  let controller: AbortController | undefined;

  async function connect(): Promise<void> {
    while (!closed) {
      controller = new AbortController();
      try {
        const headers: Record<string, string> = { accept: "text/event-stream" };
        if (lastSeq !== undefined) headers["last-event-id"] = String(lastSeq);
        const response = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/events`, {
          headers,
          signal: controller.signal,
          credentials: "same-origin",
        });
        if (!response.ok || response.body === null) throw new ApiError(response.status, "stream refused");
        handlers.onOpen?.();
        await readMessages(response.body, (id, data) => {
          if (id !== undefined) lastSeq = id;
          handlers.onEvent(JSON.parse(data));
        });
      } catch {
        // dropped or refused: try again shortly
      }
      if (!closed) await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }

  void connect();
  return {
    close() {
      closed = true;
      controller?.abort();
    },
  };
}

/** Parses an SSE body: calls `onMessage(id, data)` for each default-type message. */
async function readMessages(
  body: ReadableStream<Uint8Array>,
  onMessage: (id: number | undefined, data: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id: number | undefined;
      let type = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("id: ")) id = Number(line.slice(4));
        else if (line.startsWith("event: ")) type = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (type === "message" && data.length > 0) onMessage(id, data.join("\n"));
    }
  }
}
