/**
 * The event loop's side of a journal written on the journal thread (`journal-thread.ts`).
 *
 * `append()` stores a common event as five numbers in the current batch (rarer or larger events
 * are encoded here, as text); a batch goes to the thread when it is full, after ~5 ms, or when
 * `sync()`, `writeQueued()` or `flushSync()` asks. The thread encodes, checksums, writes and
 * fsyncs. Past `maxPendingBytes` in flight, `append()` waits for the thread (Atomics.wait), so
 * memory stays bounded and nothing is dropped silently; `writeQueued()` and `flushSync()` wait the
 * same way, which is what exit handlers need.
 */
import type { MetricEvent } from "../core/events.ts";
import { MetricsError, StorageError } from "../errors.ts";
import { fs } from "../runtime/lazy-node.ts";
import { encodeEventFields } from "./line-codec.ts";
import type { Logger } from "./reader.ts";
import {
  ACCEPTED_BATCH,
  CONTROL_SLOTS,
  DONE_TOKEN,
  type ErrorParts,
  FSYNCS,
  PHASE_COUNT_CODES,
  STRIDE,
  TEXT_CODE,
  type ThreadReply,
  type ThreadRequest,
} from "./thread-protocol.ts";
import { type Durability, type JournalAppender, openJournal } from "./writer.ts";

/** Events per batch, and the most bytes one batch may hold before it is sent. */
const BATCH_EVENTS = 4096;
const BATCH_BYTES = 1024 * 1024;
const BATCH_DELAY_MS = 5;
/** A tool-call line without details is ~130 bytes; the bound only needs the right magnitude. */
const ESTIMATED_SMALL_EVENT_BYTES = 160;
const CHECKSUM_BYTES = 20;
/** How long a synchronous wait for the thread may take before it is reported and given up. */
const WAIT_LIMIT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// The thread, shared by every journal of the process, started with the first.

let thread: Worker | undefined;
const clients = new Map<number, ThreadedJournalWriter>();
let nextId = 1;
let threadEntry: string | null | undefined;

/**
 * The journal thread's entry module, or null when it is not beside this one: a bundler copied
 * this module into a bundle without it. Collectors then write their journals on the event loop.
 * (A bundle may ship it as `journal-thread.js`, built as an entry point of its own.)
 */
export function journalThreadEntry(): string | null {
  if (threadEntry === undefined) {
    threadEntry = null;
    for (const name of ["./journal-thread.ts", "./journal-thread.js"]) {
      const url = new URL(name, import.meta.url);
      if (url.protocol === "file:" && fs.existsSync(url)) {
        threadEntry = url.href;
        break;
      }
    }
  }
  return threadEntry;
}

function journalThread(): Worker {
  if (thread === undefined) {
    const entry = journalThreadEntry();
    if (entry === null) throw new StorageError("[journal] the journal thread's module is missing");
    const worker = new Worker(entry);
    // Exit handlers write what is queued (flushSync); the thread must not keep the process alive.
    worker.unref();
    worker.onmessage = (event: MessageEvent<ThreadReply>) => clients.get(event.data.id)?.onReply(event.data);
    worker.onerror = (event) => {
      const error = new StorageError(`[journal] the journal thread failed: ${event.message}`);
      for (const client of clients.values()) client.onThreadFailure(error);
    };
    thread = worker;
  }
  return thread;
}

function post(request: ThreadRequest, transfer?: ArrayBuffer[]): void {
  journalThread().postMessage(request, transfer ?? []);
}

/**
 * Requests awaiting a reply keep the process alive (as pending I/O does); an idle thread must not.
 * (An unref'd worker's reply would not even wake an otherwise idle event loop.)
 */
let awaitingReplies = 0;
function expectReply(): void {
  if (awaitingReplies++ === 0) journalThread().ref();
}
function gotReply(): void {
  if (--awaitingReplies === 0) thread?.unref();
}

// ---------------------------------------------------------------------------------------------

export interface ThreadedJournalOptions {
  durability?: Durability;
  maxPendingBytes?: number;
  logger: Logger;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ThreadedJournalWriter implements JournalAppender {
  readonly path: string;
  readonly durability: Durability;
  readonly writtenOn = "thread";
  readonly #id = nextId++;
  readonly #control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  readonly #logger: Logger;
  readonly #maxPendingBytes: number;
  /** Name → index, as the thread knows them, and the names this batch introduces. */
  readonly #names = new Map<string, number>();
  #newNames: string[] = [];
  // The batch being filled.
  #nums = new Float64Array(BATCH_EVENTS * STRIDE);
  #count = 0;
  #texts: string[] = [];
  #batchBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // Batches sent and not yet accepted by the thread: numbered from 1, with their sizes.
  #sent = 0;
  #acceptedSeen = 0;
  #inFlight: number[] = [];
  #inFlightBytes = 0;
  #token = 0;
  readonly #waiters = new Map<number, Waiter>();
  #failure: StorageError | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Opens `path` for appending (here, so a failure throws now); `offset` is its valid length. */
  constructor(path: string, offset: number, options: ThreadedJournalOptions) {
    this.path = path;
    this.durability = options.durability ?? "group";
    this.#logger = options.logger;
    this.#maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
    const fd = openJournal(path);
    clients.set(this.#id, this);
    post({
      op: "open",
      id: this.#id,
      path,
      fd,
      offset,
      durability: this.durability,
      maxPendingBytes: this.#maxPendingBytes,
      control: this.#control.buffer as SharedArrayBuffer,
    });
  }

  get pendingBytes(): number {
    return this.#batchBytes + this.#inFlightBytes;
  }

  get fsyncs(): number {
    return Atomics.load(this.#control, FSYNCS);
  }

  append(event: MetricEvent): void {
    if (this.#closing !== undefined) return;
    if (event.type === "tool_call" && event.details === undefined)
      this.#put(this.#nameIndex(event.name), event.seq, event.ts, event.success ? 1 : 0, event.durationMs);
    else {
      const code = PHASE_COUNT_CODES[event.type];
      if (code !== undefined && "phase" in event)
        this.#put(code, event.seq, event.ts, this.#nameIndex(event.phase), 0);
      else this.#putText(event);
    }
  }

  sync(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    return this.#request("sync");
  }

  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = this.#request("close").finally(() => {
        this.#closed = true;
        clients.delete(this.#id);
      });
    }
    return this.#closing;
  }

  writeQueued(): void {
    this.#requestAndWait("write");
  }

  flushSync(): void {
    this.#requestAndWait("flushSync");
  }

  /** A reply from the thread. */
  onReply(reply: ThreadReply): void {
    if (reply.op === "log") {
      this.#logger[reply.level](reply.message);
      return;
    }
    const waiter = this.#waiters.get(reply.token);
    if (waiter === undefined) return;
    this.#waiters.delete(reply.token);
    gotReply();
    if (reply.error === undefined) waiter.resolve();
    else waiter.reject(storageError(reply.error));
  }

  /** The thread died: nothing more reaches the disk; every waiter and later sync() learns it. */
  onThreadFailure(error: StorageError): void {
    this.#failure = error;
    this.#logger.error(error.message);
    for (const waiter of this.#waiters.values()) {
      gotReply();
      waiter.reject(error);
    }
    this.#waiters.clear();
  }

  // -------------------------------------------------------------------------------------------

  #nameIndex(name: string): number {
    let index = this.#names.get(name);
    if (index === undefined) {
      index = this.#names.size;
      this.#names.set(name, index);
      this.#newNames.push(name);
    }
    return index;
  }

  #put(code: number, seq: number, ts: number, a: number, b: number): void {
    const i = this.#count * STRIDE;
    const nums = this.#nums;
    nums[i] = code;
    nums[i + 1] = seq;
    nums[i + 2] = ts;
    nums[i + 3] = a;
    nums[i + 4] = b;
    this.#batchBytes += ESTIMATED_SMALL_EVENT_BYTES;
    if (++this.#count === BATCH_EVENTS) this.#send();
    else if (this.#timer === undefined) this.#arm();
  }

  #putText(event: MetricEvent): void {
    const fields = encodeEventFields(event);
    const i = this.#count * STRIDE;
    const nums = this.#nums;
    nums[i] = TEXT_CODE;
    nums[i + 1] = event.seq;
    nums[i + 2] = event.ts;
    nums[i + 3] = this.#texts.push(fields) - 1;
    this.#batchBytes += fields.length + CHECKSUM_BYTES;
    if (
      ++this.#count === BATCH_EVENTS ||
      this.#batchBytes >= Math.min(BATCH_BYTES, this.#maxPendingBytes / 4)
    )
      this.#send();
    else if (this.#timer === undefined) this.#arm();
  }

  #arm(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#send();
    }, BATCH_DELAY_MS);
    this.#timer.unref?.();
  }

  /** Sends the batch being filled (if any) to the thread; past the bound, waits for it. */
  #send(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#count === 0 || this.#failure !== undefined) return;
    const nums = this.#nums;
    const batch = ++this.#sent;
    post(
      {
        op: "batch",
        id: this.#id,
        batch,
        nums,
        count: this.#count,
        texts: this.#texts,
        names: this.#newNames,
      },
      [nums.buffer as ArrayBuffer],
    );
    this.#inFlight.push(this.#batchBytes);
    this.#inFlightBytes += this.#batchBytes;
    this.#nums = new Float64Array(BATCH_EVENTS * STRIDE);
    this.#count = 0;
    this.#texts = [];
    this.#newNames = [];
    this.#batchBytes = 0;
    this.#settleAccepted();
    if (this.#inFlightBytes > this.#maxPendingBytes)
      this.#waitFor(ACCEPTED_BATCH, () => this.#settleAccepted() <= this.#maxPendingBytes, "drain");
  }

  /** Forgets the batches the thread has accepted; returns the bytes still in flight. */
  #settleAccepted(): number {
    const accepted = Atomics.load(this.#control, ACCEPTED_BATCH);
    while (this.#acceptedSeen < accepted) {
      this.#acceptedSeen++;
      this.#inFlightBytes -= this.#inFlight.shift() ?? 0;
    }
    return this.#inFlightBytes;
  }

  #request(op: "sync" | "close"): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#send();
    const token = ++this.#token;
    const done = new Promise<void>((resolve, reject) => this.#waiters.set(token, { resolve, reject }));
    expectReply();
    post({ op, id: this.#id, token });
    return done;
  }

  /** Sends the batch and a request the thread finishes through DONE_TOKEN; waits for it. */
  #requestAndWait(op: "write" | "flushSync"): void {
    if (this.#closed || this.#closing !== undefined || this.#failure !== undefined) return;
    this.#send();
    const token = ++this.#token;
    post({ op, id: this.#id, token });
    this.#waitFor(DONE_TOKEN, () => Atomics.load(this.#control, DONE_TOKEN) >= token, op);
  }

  /** Blocks until `ready()` holds, waking whenever the thread moves `slot`. */
  #waitFor(slot: number, ready: () => boolean, what: string): void {
    const deadline = performance.now() + WAIT_LIMIT_MS;
    while (!ready()) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.#logger.error(
          new MetricsError(
            `[journal] ${this.path}: the journal thread did not answer a ${what} within ${WAIT_LIMIT_MS} ms; going on without it`,
          ).message,
        );
        return;
      }
      Atomics.wait(this.#control, slot, Atomics.load(this.#control, slot), Math.min(left, 100));
    }
  }
}

/** The thread's StorageError again, with its system error as `cause` (message, code, syscall, errno). */
function storageError(parts: ErrorParts): StorageError {
  const cause = parts.cause && Object.assign(new Error(parts.cause.message), parts.cause);
  return new StorageError(parts.message, { code: parts.code, path: parts.path, cause });
}
