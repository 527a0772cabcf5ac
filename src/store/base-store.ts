/**
 * What every backend shares: input validation before anything reaches the database, the
 * lifecycle (work after `close()` is refused; `close()` waits for operations in flight, releases
 * once, and is safe to repeat), and decoding of stored events. A backend only supplies the
 * statements (`writeBatch`, `runAggregate`, `runList`, `fetchSession`, `release`).
 */
import type { MetricEvent } from "../core/events.ts";
import { assertSessionId } from "../core/session-id.ts";
import { StorageError } from "../errors.ts";
import { checkEvent } from "../journal/line-codec.ts";
import { encodeEvents } from "./encode.ts";
import { mergeSessionUpserts } from "./session-rows.ts";
import type {
  AggregateRow,
  AggregateSpec,
  EventRow,
  ListSpec,
  MetricsStore,
  SessionRow,
  SessionUpsert,
  StoreBatch,
  StoreDialect,
  StoredSession,
} from "./types.ts";
import { checkSessionUpsert } from "./validate.ts";

export abstract class BaseStore implements MetricsStore {
  abstract readonly dialect: StoreDialect;
  #closing: Promise<void> | undefined;
  readonly #inflight = new Set<Promise<unknown>>();

  async insertEvents(sessionId: string, events: readonly MetricEvent[]): Promise<number> {
    return this.write({ events: encodeEvents(sessionId, events) });
  }

  async upsertSession(session: SessionUpsert): Promise<void> {
    await this.write({ sessions: [session] });
  }

  async write(batch: StoreBatch): Promise<number> {
    const rows = batch.events?.rows ?? [];
    const sessions = batch.sessions ?? [];
    for (const s of sessions) checkSessionUpsert(s);
    if (rows.length === 0 && sessions.length === 0) return 0;
    return this.#track(() => this.writeBatch(rows, mergeSessionUpserts(sessions)));
  }

  aggregate(spec: AggregateSpec): Promise<AggregateRow[]> {
    return this.#track(() => this.runAggregate(spec));
  }

  async listSessionRows(spec: ListSpec): Promise<SessionRow[]> {
    return (await this.#track(() => this.runList(spec))).map(parseSessionRow);
  }

  async readSession(sessionId: string): Promise<StoredSession | null> {
    assertSessionId(sessionId);
    const found = await this.#track(() => this.fetchSession(sessionId));
    if (found === null) return null;
    const events = found.data.map((text) => decodeStoredEvent(text, sessionId));
    return { row: found.row, events };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inflight]);
      await this.release();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Runs an operation unless closed, and lets `close()` wait for it. */
  async #track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined)
      throw new StorageError(`[store] the ${this.dialect} store is closed; open a new one to keep writing`);
    const running = operation();
    this.#inflight.add(running);
    try {
      return await running;
    } finally {
      this.#inflight.delete(running);
    }
  }

  /** Inserts rows (ignoring those already stored) and upserts sessions in one transaction. */
  protected abstract writeBatch(
    rows: readonly EventRow[],
    sessions: readonly SessionUpsert[],
  ): Promise<number>;
  protected abstract runAggregate(spec: AggregateSpec): Promise<AggregateRow[]>;
  /** The rows of `listQuery`. */
  protected abstract runList(spec: ListSpec): Promise<Record<string, unknown>[]>;
  /** The session's row and the `data` of its events after `documentSeq`, in `seq` order. */
  protected abstract fetchSession(sessionId: string): Promise<{ row: SessionRow; data: string[] } | null>;
  /** Releases what the store opened. Called once. */
  protected abstract release(): Promise<void>;
}

/** A stored event back from its `data` column (the journal line body). */
export function decodeStoredEvent(text: string, sessionId: string): MetricEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StorageError(`[store] a stored event of session ${sessionId} is not valid JSON`, {
      cause: error,
    });
  }
  const reason = checkEvent(value);
  if (reason !== undefined)
    throw new StorageError(`[store] a stored event of session ${sessionId} is corrupt: ${reason}`);
  return value as MetricEvent;
}

/** Converts a session row (drivers may return bigints as strings). */
export function parseSessionRow(row: Record<string, unknown>): SessionRow {
  const n = (v: unknown) => (typeof v === "number" ? v : Number(v));
  return {
    sessionId: String(row.session_id),
    startedAt: n(row.started_at),
    updatedAt: n(row.updated_at),
    host: row.host == null ? null : String(row.host),
    lastSeq: n(row.last_seq),
    document: row.document == null ? null : String(row.document),
    documentSeq: row.document_seq == null ? null : n(row.document_seq),
  };
}
