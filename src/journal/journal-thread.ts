/**
 * The journal thread (a Bun Worker, one per process, serving every open journal): turns batches
 * of events into checksummed lines, writes them in groups and fsyncs them, so that neither the
 * encoding nor the disk ever runs on the event loop. The file logic is the event loop's own
 * {@link JournalWriter}: truncate-back on a failed append, retries, the bounded queue and its
 * `lost` marker all behave the same on either side.
 */

import { LineBytes, quotedNameBytes } from "./line-bytes.ts";
import type { Logger } from "./reader.ts";
import {
  ACCEPTED_BATCH,
  type BatchRequest,
  DONE_TOKEN,
  type ErrorParts,
  FSYNCS,
  IDLE,
  OPENED,
  type OpenRequest,
  PHASE_COUNT_TYPES,
  STATE,
  STRIDE,
  TEXT_CODE,
  type ThreadReply,
  type ThreadRequest,
  WRITING,
} from "./thread-protocol.ts";
import { JournalWriter } from "./writer.ts";

interface OpenJournal {
  writer: JournalWriter;
  control: Int32Array;
  /** Names as JSON strings in UTF-8, by the index the batches use. */
  names: Uint8Array[];
}

/** This worker's own scope (the DOM typings do not describe a worker's global here). */
const scope = globalThis as unknown as {
  postMessage(message: ThreadReply): void;
  onmessage: ((event: MessageEvent<ThreadRequest>) => void) | null;
};

const journals = new Map<number, OpenJournal>();
/** Where batches are turned into lines (one at a time: the thread is single). */
const lines = new LineBytes();

function reply(message: ThreadReply): void {
  scope.postMessage(message);
}

function loggerFor(id: number): Logger {
  return {
    warn: (message) => reply({ op: "log", id, level: "warn", message }),
    error: (message) => reply({ op: "log", id, level: "error", message }),
  };
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  path?: unknown;
  syscall?: unknown;
  errno?: unknown;
  cause?: unknown;
}

function errorParts(error: unknown): ErrorParts {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrorLike;
  // The system error at the bottom of the chain (a loss's cause is the write failure, whose
  // cause is the ENOSPC itself).
  let c = (typeof e.cause === "object" && e.cause !== null ? e.cause : undefined) as ErrorLike | undefined;
  while (typeof c?.cause === "object" && c.cause !== null) c = c.cause as ErrorLike;
  return {
    message: String(e.message ?? error),
    code: typeof e.code === "string" ? e.code : undefined,
    path: typeof e.path === "string" ? e.path : undefined,
    cause:
      c === undefined
        ? undefined
        : {
            message: String(c.message),
            code: typeof c.code === "string" ? c.code : undefined,
            syscall: typeof c.syscall === "string" ? c.syscall : undefined,
            errno: typeof c.errno === "number" ? c.errno : undefined,
          },
  };
}

function open(request: OpenRequest): void {
  const control = new Int32Array(request.control);
  const writer = new JournalWriter(request.path, request.offset, {
    fd: request.fd,
    durability: request.durability,
    maxPendingBytes: request.maxPendingBytes,
    logger: loggerFor(request.id),
    onFsync: () => Atomics.add(control, FSYNCS, 1),
    // Every touch of the file first claims it; once the event loop has revoked it, never again.
    guard: {
      enter: () => Atomics.compareExchange(control, STATE, IDLE, WRITING) === IDLE,
      exit: () => {
        Atomics.compareExchange(control, STATE, WRITING, IDLE);
        Atomics.notify(control, STATE);
      },
    },
  });
  journals.set(request.id, { writer, control, names: [] });
  Atomics.store(control, OPENED, 1);
  Atomics.notify(control, OPENED);
}

function accept(request: BatchRequest): void {
  const journal = journals.get(request.id);
  if (journal === undefined) return;
  for (const name of request.names) journal.names.push(quotedNameBytes(name));
  const { nums, count, texts } = request;
  const names = journal.names;
  for (let k = 0, i = 0; k < count; k++, i += STRIDE) {
    const code = nums[i]!;
    if (code >= 0) lines.toolCall(nums[i + 1]!, nums[i + 2]!, names[code]!, nums[i + 3] === 1, nums[i + 4]!);
    else if (code === TEXT_CODE) lines.fields(texts[nums[i + 3]!]!);
    else lines.phaseCount(PHASE_COUNT_TYPES[-1 - code]!, nums[i + 1]!, nums[i + 2]!, names[nums[i + 3]!]!);
  }
  if (count > 0) journal.writer.appendFramed(lines.take(), count, nums[1]!);
  Atomics.store(journal.control, ACCEPTED_BATCH, request.batch);
  Atomics.notify(journal.control, ACCEPTED_BATCH);
}

function finish(journal: OpenJournal, token: number): void {
  Atomics.store(journal.control, DONE_TOKEN, token);
  Atomics.notify(journal.control, DONE_TOKEN);
}

function answer(id: number, token: number, work: Promise<void>): void {
  work.then(
    () => reply({ op: "done", id, token }),
    (error: unknown) => reply({ op: "done", id, token, error: errorParts(error) }),
  );
}

scope.onmessage = (event) => {
  const request = event.data;
  if (request.op === "open") {
    try {
      open(request);
    } catch (error) {
      reply({ op: "log", id: request.id, level: "error", message: errorParts(error).message });
    }
    return;
  }
  if (request.op === "batch") return accept(request);
  const journal = journals.get(request.id);
  const { id, token } = request;
  if (journal === undefined) {
    if (request.op === "sync" || request.op === "close") reply({ op: "done", id, token });
    return;
  }
  switch (request.op) {
    case "sync":
      return answer(id, token, journal.writer.sync());
    case "close":
      journals.delete(id);
      return answer(id, token, journal.writer.close());
    case "write":
      journal.writer.writeQueued();
      return finish(journal, token);
    case "flushSync":
      try {
        journal.writer.flushSync();
      } catch (error) {
        loggerFor(id).error(
          `[session-metrics] [journal] ${journal.writer.path}: ${errorParts(error).message}`,
        );
      }
      return finish(journal, token);
  }
};
