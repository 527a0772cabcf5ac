/**
 * `ingest(store, sessionsDir)`: imports existing session folders into a store, idempotently (a
 * second run stores nothing new and leaves every row as it was).
 *
 * - A folder with a journal: the events of its valid prefix (a torn or corrupt tail is not read,
 *   and the file is not changed), and the document they fold to.
 * - A folder with only METRICS.json (Go-written ones included): one synthetic `restore` event
 *   (seq 1, at the document's `updated_at`) carrying the document, exactly what a collector
 *   journals when it resumes from such a file. The store expands it into one summary row per
 *   tool and per LLM phase, so reports count its calls, failures, tokens and cost; it has no
 *   individual durations (the document keeps only totals), so it adds nothing to percentiles.
 *   The file's document itself is stored for `getSession`.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { MetricEvent } from "../core/events.ts";
import { encodeMetrics } from "../core/go-document.ts";
import { assertSessionId } from "../core/session-id.ts";
import { JOURNAL_FILE } from "../core/session-layout.ts";
import { createState } from "../core/state.ts";
import {
  errnoCode,
  InvalidSessionIdError,
  MetricsError,
  StorageError,
  ValidationError,
  withoutPrefix,
} from "../errors.ts";
import { io } from "../fs/io.ts";
import { load } from "../fs/metrics-file.ts";
import { describeProblems, scanJournal } from "../journal/reader.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import { concatEncoded, encodeEvents, encodeJournalEvents } from "./encode.ts";
import { timestampMs, upsertFromState } from "./session-doc.ts";
import type { EncodedEvents, MetricsStore, SessionUpsert, StoreBatch } from "./types.ts";

export interface IngestProgress {
  /** Session folders imported so far. */
  sessions: number;
  /** Events sent to the store so far (new or already there). */
  events: number;
  /** Folders skipped: not a session id, empty, or unreadable (each reported through the logger). */
  skipped: number;
}

export interface IngestResult extends IngestProgress {
  /** Events that were not in the store before. */
  inserted: number;
}

export interface IngestOptions {
  /** Called after each folder is written (or skipped). */
  onProgress?: (progress: IngestProgress) => void;
  /** Recorded with each session. Default: this machine's host name. */
  host?: string | null;
  /** Events per write (one transaction each). Default 5,000. */
  batchSize?: number;
  /** Where skipped folders and bad events are reported. Default: console. */
  logger?: Logger;
}

/**
 * Imports every session folder of `sessionsDir` (in name order) into `store`. Small sessions are
 * written several to a transaction (up to `batchSize` events): a commit per session would make
 * the server's fsync, not the data, the limit. One write is in flight while the next batch is
 * read and validated, so a database server works while this process parses.
 */
export async function ingest(
  store: MetricsStore,
  sessionsDir: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const logger = options.logger ?? consoleLogger;
  const host = options.host === undefined ? hostname() : options.host;
  const batchSize = options.batchSize ?? 5_000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new ValidationError(`[ingest] batchSize must be a whole number ≥ 1, got ${batchSize}`);
  const result: IngestResult = { sessions: 0, events: 0, skipped: 0, inserted: 0 };
  const progress = () =>
    options.onProgress?.({ sessions: result.sessions, events: result.events, skipped: result.skipped });
  let inflight: Promise<void> = Promise.resolve();
  /**
   * Starts a write once the previous one is done, and counts the sessions it completes; its
   * failure surfaces at the next call.
   */
  const enqueue = async (batch: StoreBatch, completes: readonly Prepared[] = []) => {
    await inflight;
    inflight = store.write(batch).then((inserted) => {
      result.inserted += inserted;
      for (const p of completes) {
        result.sessions++;
        result.events += p.events;
        progress();
      }
    });
    inflight.catch(() => {}); // observed by the next enqueue or the final await
  };
  let pending: Prepared[] = [];
  let pendingEvents = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingEvents = 0;
    const events = concatEncoded(batch.flatMap((p) => p.chunks));
    await enqueue({ events, sessions: batch.map((p) => p.session) }, batch);
  };
  for (const name of listFolders(sessionsDir)) {
    const prepared = await prepareFolder(sessionsDir, name, { host, batchSize, logger });
    if (typeof prepared === "string") {
      result.skipped++;
      logger.warn(`[session-metrics] [ingest] skipped ${join(sessionsDir, name)}: ${prepared}`);
      progress();
      continue;
    }
    if (prepared.chunks.length > 1) {
      // A large session goes on its own, chunk by chunk; its row comes with the last chunk.
      await flush();
      const last = prepared.chunks.pop()!;
      for (const chunk of prepared.chunks) await enqueue({ events: chunk });
      prepared.chunks = [last];
    }
    pending.push(prepared);
    pendingEvents += prepared.events;
    if (pendingEvents >= batchSize) await flush();
  }
  await flush();
  await inflight;
  return result;
}

/** The folder prepared for writing, or why it is skipped. A store failure is thrown. */
async function prepareFolder(
  sessionsDir: string,
  name: string,
  options: SessionOptions,
): Promise<Prepared | string> {
  try {
    assertSessionId(name);
    return (await prepareSession(sessionsDir, name, options)) ?? "no journal events and no METRICS.json";
  } catch (error) {
    // A broken folder is reported and skipped; anything else stops the import.
    if (error instanceof InvalidSessionIdError) return "the folder name is not a session id";
    if (error instanceof MetricsError && !(error instanceof StorageError && error.path === undefined))
      return withoutPrefix(error.message);
    throw error;
  }
}

function listFolders(sessionsDir: string): string[] {
  try {
    return io
      .readdirEntriesSync(sessionsDir)
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return [];
    throw new StorageError(`[ingest] could not read ${sessionsDir}: ${(error as Error).message}`, {
      cause: error,
      path: sessionsDir,
    });
  }
}

interface SessionOptions {
  host: string | null;
  batchSize: number;
  logger: Logger;
}

interface Prepared {
  /** Encoded (validated) events, in chunks of at most `batchSize`. */
  chunks: EncodedEvents[];
  session: SessionUpsert;
  events: number;
}

/** Reads and validates one folder (nothing is written yet); null when it holds nothing to import. */
async function prepareSession(
  sessionsDir: string,
  sessionId: string,
  { host, batchSize, logger }: SessionOptions,
): Promise<Prepared | null> {
  const path = join(sessionsDir, sessionId, JOURNAL_FILE);
  const events: MetricEvent[] = [];
  // The scan folds every valid event into `state` itself (that is how it checks their bounds).
  const state = createState(sessionId, 0);
  const scan = scanJournal(path, (event) => events.push(event), state);
  if (scan.problems.length > 0) logger.warn(describeProblems(path, scan.problems));
  if (scan.tailReason !== undefined)
    logger.warn(
      `[session-metrics] [ingest] line ${scan.tailLine} of ${path} is bad (${scan.tailReason}); imported the ${scan.events} valid events before it`,
    );
  let session: SessionUpsert;
  const fromJournal = events.length > 0;
  if (fromJournal) {
    session = upsertFromState(state, scan.lastSeq, scan.lastSeq, host);
  } else {
    const metrics = await load(sessionsDir, sessionId);
    if (metrics === null) return null;
    const ts = timestampMs(metrics.updatedAt);
    events.push({ v: 1, seq: 1, ts, type: "restore", metrics });
    const document = encodeMetrics(metrics); // byte for byte the file Go wrote
    const startedAt = timestampMs(metrics.startedAt);
    session = { sessionId, startedAt, updatedAt: ts, host, lastSeq: 1, document, documentSeq: 1 };
  }
  // Encode (validate) everything before anything is written. A bad event costs only itself: its
  // chunk is encoded again one event at a time, and the event is reported and left out.
  // Journal events were checked by the journal's decoder; a METRICS.json restore event was not.
  const encode = fromJournal ? encodeJournalEvents : encodeEvents;
  const chunks: EncodedEvents[] = [];
  for (let i = 0; i < events.length; i += batchSize) {
    const chunk = events.slice(i, i + batchSize);
    chunks.push(encodeChunk(chunk, (part) => encode(sessionId, part), path, logger));
  }
  return { chunks, session, events: chunks.reduce((n, c) => n + c.events, 0) };
}

/** A chunk's encoding; when some event is refused, the others' (each refusal reported). */
function encodeChunk(
  chunk: MetricEvent[],
  encode: (events: MetricEvent[]) => EncodedEvents,
  path: string,
  logger: Logger,
): EncodedEvents {
  try {
    return encode(chunk);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
  }
  const good: MetricEvent[] = [];
  for (const event of chunk) {
    try {
      encode([event]);
      good.push(event);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      logger.warn(`[session-metrics] [ingest] ${path}: left out one event: ${withoutPrefix(error.message)}`);
    }
  }
  return encode(good);
}
