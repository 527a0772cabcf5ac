/**
 * The sink's view of each session it streams: the state folded from the events it saw (so the
 * session row carries the same document as METRICS.json), and the events it had to drop.
 *
 * A sink that sees a session from its start (a `session_start` or `restore` event, or `seq` 1)
 * folds an exact document. One that joins later (a collector resumed from its journal replays
 * without re-sending) knows only part of the story: it leaves the stored document alone, and
 * `getSession` folds the newer events onto it.
 */
import { type MetricEvent, reduce } from "../core/events.ts";
import { createState, type SessionState } from "../core/state.ts";
import type { Logger } from "../logger.ts";
import { upsertFromState } from "./session-doc.ts";
import type { SessionUpsert } from "./types.ts";

interface Tracked {
  state: SessionState | null;
  startedAt: number;
  updatedAt: number;
  lastSeq: number;
}

interface DropRange {
  first: number;
  last: number;
  count: number;
}

export class SessionTracker {
  dropped = 0;
  readonly #sessions = new Map<string, Tracked>();
  /** Drops since the last report, per session. */
  readonly #drops = new Map<string, DropRange>();

  constructor(
    readonly host: string | null,
    readonly logger: Logger,
  ) {}

  track(sessionId: string, event: MetricEvent): void {
    let t = this.#sessions.get(sessionId);
    if (t === undefined) {
      const fromStart = event.type === "session_start" || event.type === "restore" || event.seq === 1;
      const startedAt = event.type === "session_start" ? event.startedAt : event.ts;
      t = {
        state: fromStart ? createState(sessionId, startedAt) : null,
        startedAt,
        updatedAt: event.ts,
        lastSeq: 0,
      };
      this.#sessions.set(sessionId, t);
    }
    if (t.state !== null) reduce(t.state, event);
    if (event.ts > t.updatedAt) t.updatedAt = event.ts;
    if (event.seq > t.lastSeq) t.lastSeq = event.seq;
  }

  /** The row to upsert with a batch whose highest `seq` for the session is `writtenSeq`. */
  upsert(sessionId: string, writtenSeq: number): SessionUpsert {
    const t = this.#sessions.get(sessionId)!; // every queued event was tracked first
    if (t.state !== null) return upsertFromState(t.state, t.lastSeq, writtenSeq, this.host);
    return {
      sessionId,
      startedAt: t.startedAt,
      updatedAt: t.updatedAt,
      host: this.host,
      lastSeq: writtenSeq,
      document: null,
    };
  }

  drop(sessionId: string, event: MetricEvent, why: string): void {
    this.dropped++;
    const seq = typeof event?.seq === "number" ? event.seq : 0;
    const range = this.#drops.get(sessionId);
    if (range !== undefined) {
      range.last = Math.max(range.last, seq);
      range.count++;
      return;
    }
    this.#drops.set(sessionId, { first: seq, last: seq, count: 1 });
    if (this.#drops.size === 1)
      this.logger.warn(
        `[session-metrics] [store sink] ${why}: dropping events from seq ${seq} of session ${sessionId} on; they remain in the session's journal (run ingest() to fill the gap)`,
      );
  }

  /** Logs what was dropped since the last report. */
  reportDrops(): void {
    if (this.#drops.size === 0) return;
    let total = 0;
    const parts: string[] = [];
    for (const [id, r] of this.#drops) {
      total += r.count;
      if (parts.length < 10) parts.push(`${id} seq ${r.first}–${r.last} (${r.count})`);
    }
    const more = this.#drops.size > 10 ? ` and ${this.#drops.size - 10} more sessions` : "";
    this.logger.warn(
      `[session-metrics] [store sink] dropped ${total} events past the buffer bound: ${parts.join(", ")}${more}; run ingest() on the sessions directory to import them from the journals`,
    );
    this.#drops.clear();
  }
}
