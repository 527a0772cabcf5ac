/**
 * The event loop's side of a journal written on the journal thread (`journal-thread.ts`).
 *
 * `append()` stores a common event as five numbers in the current batch (rarer or larger events
 * are encoded here, as text); a batch goes to the thread when it is full, after ~5 ms, or when
 * `sync()`, `writeQueued()` or `flushSync()` asks. The thread encodes, checksums, writes and
 * fsyncs. Past `maxPendingBytes` in flight, `append()` waits for the thread (Atomics.wait), so
 * memory stays bounded and nothing is dropped silently; `writeQueued()` and `flushSync()` wait the
 * same way, which is what exit handlers need.
 *
 * If the thread fails (it throws, is terminated, or never starts), each journal is taken over by
 * the event loop: the thread's claim on the file is revoked, the file's valid prefix is kept, the
 * batches the thread had not accepted are written again from the copies kept here, and writing
 * goes on through an event-loop {@link JournalWriter}. Events the thread had accepted but not
 * written are marked in the journal by a `lost` line and reported by the next `sync()`.
 */
import { dirname } from "node:path";
import type { MetricEvent, PhaseCountType } from "../core/events.ts";
import { StorageError } from "../errors.ts";
import { fs } from "../runtime/lazy-node.ts";
import { encodeEventFields, quote } from "./line-codec.ts";
import { type Logger, recoverJournal } from "./reader.ts";
import {
  ACCEPTED_BATCH,
  CONTROL_SLOTS,
  DONE_TOKEN,
  decodeBatch,
  type ErrorParts,
  FSYNCS,
  IDLE,
  OPENED,
  PHASE_COUNT_CODES,
  REVOKED,
  STATE,
  STRIDE,
  TEXT_CODE,
  type ThreadReply,
  type ThreadRequest,
  WRITING,
} from "./thread-protocol.ts";
import { type Durability, type JournalAppender, JournalWriter, openJournal } from "./writer.ts";

/** Events per batch, and the most bytes one batch may hold before it is sent. */
const BATCH_EVENTS = 4096;
const BATCH_BYTES = 1024 * 1024;
const BATCH_DELAY_MS = 5;
/** A tool-call line without details is ~130 bytes; the bound only needs the right magnitude. */
const ESTIMATED_SMALL_EVENT_BYTES = 160;
const CHECKSUM_BYTES = 20;
/** How long a synchronous wait for a running thread may take before it is reported and given up. */
const WAIT_LIMIT_MS = 30_000;
/** A thread that has not opened a journal this long after being asked to is taken as failed. */
const START_LIMIT_MS = 3_000;

// ---------------------------------------------------------------------------------------------
// The thread, shared by every journal of the process, started with the first.

let thread: Worker | undefined;
/** Why the thread stopped; from then on new journals are written on the event loop. */
let threadFailure: StorageError | undefined;
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

/** Whether new journals can be written on the thread (its module is there and it has not failed). */
export function journalThreadUsable(): boolean {
  return threadFailure === undefined && journalThreadEntry() !== null;
}

function journalThread(): Worker {
  if (thread === undefined) {
    const entry = journalThreadEntry();
    if (entry === null || threadFailure !== undefined)
      throw threadFailure ?? new StorageError("[journal] the journal thread's module is missing");
    const worker = new Worker(entry);
    // Exit handlers write what is queued (flushSync); the thread must not keep the process alive.
    worker.unref();
    worker.onmessage = (event: MessageEvent<ThreadReply>) => clients.get(event.data.id)?.onReply(event.data);
    worker.onerror = (event) => failThread(`it threw: ${event.message}`);
    worker.addEventListener("close", () => failThread("it stopped"));
    thread = worker;
  }
  return thread;
}

/** The thread is gone: every journal it served is taken over by the event loop. */
function failThread(why: string): void {
  if (threadFailure !== undefined) return;
  threadFailure = new StorageError(`[journal] the journal thread failed (${why})`);
  const worker = thread;
  thread = undefined;
  for (const client of [...clients.values()]) client.takeOver(threadFailure);
  worker?.terminate();
}

/**
 * Stops the journal thread as a failure would (for tests of the takeover; an application has no
 * reason to call it).
 * @internal
 */
export function stopJournalThread(): void {
  thread?.terminate();
  failThread("stopped on request");
}

function post(request: ThreadRequest): void {
  journalThread().postMessage(request);
}

/**
 * Requests awaiting a reply keep the process alive (as pending I/O does); an idle thread must not.
 * (An unref'd worker's reply would not even wake an otherwise idle event loop.)
 */
let awaitingReplies = 0;
function expectReply(): void {
  if (awaitingReplies++ === 0) thread?.ref();
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

/** A batch sent and not yet accepted: kept so that a takeover can write it again. */
interface SentBatch {
  nums: Float64Array;
  count: number;
  texts: string[];
  bytes: number;
}

export class ThreadedJournalWriter implements JournalAppender {
  readonly path: string;
  readonly durability: Durability;
  readonly #id = nextId++;
  readonly #control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  readonly #logger: Logger;
  readonly #maxPendingBytes: number;
  readonly #fd: number;
  /** Name → index, as the thread knows them, and the names this batch introduces. */
  readonly #names = new Map<string, number>();
  #newNames: string[] = [];
  // The batch being filled.
  readonly #nums = new Float64Array(BATCH_EVENTS * STRIDE);
  #count = 0;
  #texts: string[] = [];
  #batchBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // Batches sent and not yet accepted by the thread, oldest first (numbered from 1).
  #acceptedSeen = 0;
  #inFlight: SentBatch[] = [];
  #inFlightBytes = 0;
  #openedAt = performance.now();
  #token = 0;
  readonly #waiters = new Map<number, Waiter>();
  #closing: Promise<void> | undefined;
  /** Set when the event loop has taken the journal over from a failed thread. */
  #inline: JournalWriter | undefined;
  #fsyncsBefore = 0;
  /** Events the failed thread had accepted but not written: the next sync() reports them. */
  #lossToReport: StorageError | undefined;

  /** Opens `path` for appending (here, so a failure throws now); `offset` is its valid length. */
  constructor(path: string, offset: number, options: ThreadedJournalOptions) {
    this.path = path;
    this.durability = options.durability ?? "group";
    this.#logger = options.logger;
    this.#maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
    this.#fd = openJournal(path);
    try {
      post({
        op: "open",
        id: this.#id,
        path,
        fd: this.#fd,
        offset,
        durability: this.durability,
        maxPendingBytes: this.#maxPendingBytes,
        control: this.#control.buffer as SharedArrayBuffer,
      });
    } catch (error) {
      fs.closeSync(this.#fd);
      throw error;
    }
    clients.set(this.#id, this);
  }

  get writtenOn(): "thread" | "event-loop" {
    return this.#inline === undefined ? "thread" : "event-loop";
  }

  get pendingBytes(): number {
    if (this.#inline !== undefined) return this.#inline.pendingBytes;
    return this.#batchBytes + this.#settleAccepted();
  }

  get fsyncs(): number {
    if (this.#inline !== undefined) return this.#fsyncsBefore + this.#inline.fsyncs;
    return Atomics.load(this.#control, FSYNCS);
  }

  append(event: MetricEvent): void {
    if (this.#closing !== undefined) return;
    if (this.#inline !== undefined) return this.#inline.append(event);
    if (event.type === "tool_call" && event.details === undefined)
      this.#put(
        this.#nameIndex(event.name),
        event.seq,
        event.ts,
        event.success ? 1 : 0,
        event.durationMs,
        null,
      );
    else {
      const code = PHASE_COUNT_CODES[event.type];
      if (code !== undefined && "phase" in event)
        this.#put(code, event.seq, event.ts, this.#nameIndex(event.phase), 0, null);
      else this.#put(TEXT_CODE, event.seq, event.ts, this.#texts.length, 0, encodeEventFields(event));
    }
  }

  appendToolCall(seq: number, ts: number, name: string, success: boolean, durationMs: number): void {
    if (this.#closing !== undefined) return;
    if (this.#inline !== undefined) return this.#inline.appendToolCall(seq, ts, name, success, durationMs);
    this.#put(this.#nameIndex(name), seq, ts, success ? 1 : 0, durationMs, null);
  }

  appendPhaseCount(type: PhaseCountType, seq: number, ts: number, phase: string): void {
    if (this.#closing !== undefined) return;
    if (this.#inline !== undefined) return this.#inline.appendPhaseCount(type, seq, ts, phase);
    this.#put(PHASE_COUNT_CODES[type]!, seq, ts, this.#nameIndex(phase), 0, null);
  }

  sync(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    return this.#request("sync");
  }

  close(): Promise<void> {
    this.#closing ??= this.#request("close").finally(() => {
      clients.delete(this.#id);
      return this.#inline?.close();
    });
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

  /**
   * The thread failed: revoke its claim on the file, keep the file's valid prefix, write again
   * what it had not accepted, and carry on writing on the event loop.
   */
  takeOver(why: StorageError): void {
    if (this.#inline !== undefined) return;
    this.#revoke();
    this.#settleAccepted();
    let lost = "";
    let rewritten = 0;
    try {
      const scan = recoverJournal(dirname(this.path), () => {}, this.#logger);
      this.#fsyncsBefore = Atomics.load(this.#control, FSYNCS);
      const writer = new JournalWriter(this.path, scan.validBytes, {
        fd: this.#fd,
        durability: this.durability,
        maxPendingBytes: this.#maxPendingBytes,
        logger: this.#logger,
      });
      this.#inline = writer;
      const quoted = [...this.#names.keys()].map(quote);
      const batches: SentBatch[] = [
        ...this.#inFlight,
        { nums: this.#nums, count: this.#count, texts: this.#texts, bytes: this.#batchBytes },
      ];
      let next = scan.lastSeq + 1;
      const fields: string[] = [];
      let firstSeq = 0;
      for (const b of batches) {
        const decoded = decodeBatch(b.nums, b.count, b.texts, quoted);
        for (let k = 0; k < b.count; k++) {
          const seq = b.nums[k * STRIDE + 1]!;
          if (seq < next) continue; // on disk already
          if (fields.length === 0) {
            firstSeq = next;
            // Accepted by the thread, not on disk: say so in the journal, so seq stays checkable.
            if (seq > next) {
              fields.push(`{"v":1,"seq":${next},"ts":${Date.now()},"type":"lost","count":${seq - next}`);
              lost = `; ${seq - next} events it had taken were lost (seq ${next}–${seq - 1}), marked in the journal`;
              this.#lossToReport = new StorageError(
                `[journal] ${this.path}: ${seq - next} events (seq ${next}–${seq - 1}) were lost with the journal thread`,
                { cause: why, path: this.path },
              );
            } else firstSeq = seq;
          }
          fields.push(decoded[k]!);
          rewritten++;
          next = seq + 1;
        }
      }
      writer.appendGroup(fields, firstSeq);
    } catch (error) {
      this.#logger.error(
        `[session-metrics] [journal] ${this.path}: ${why.message}, and taking the journal over failed: ${(error as Error).message}`,
      );
      this.#lossToReport = error instanceof StorageError ? error : new StorageError(String(error));
    }
    this.#count = 0;
    this.#texts = [];
    this.#newNames = [];
    this.#batchBytes = 0;
    this.#inFlight = [];
    this.#inFlightBytes = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#logger.error(
      `[session-metrics] [journal] ${this.path}: ${why.message.replace(/^\[session-metrics\] /, "")}; this journal is written on the event loop from now on${lost || "; nothing was lost"} (${rewritten} events it had not written were written here)`,
    );
    // Whoever waits for the thread now waits for the event-loop writer.
    for (const waiter of this.#waiters.values()) {
      gotReply();
      this.#inlineSync().then(waiter.resolve, waiter.reject);
    }
    this.#waiters.clear();
  }

  // -------------------------------------------------------------------------------------------

  /** Takes the file from the thread: once REVOKED, it never writes or truncates it again. */
  #revoke(): void {
    const control = this.#control;
    const deadline = performance.now() + 1000;
    // A write in progress finishes first (a dead thread's claim is given up on after a second).
    while (Atomics.compareExchange(control, STATE, IDLE, REVOKED) === WRITING) {
      if (performance.now() > deadline) break;
      Atomics.wait(control, STATE, WRITING, 10);
    }
    Atomics.store(control, STATE, REVOKED);
  }

  #inlineSync(): Promise<void> {
    const loss = this.#lossToReport;
    if (loss !== undefined) {
      this.#lossToReport = undefined;
      return Promise.reject(loss);
    }
    return this.#inline?.sync() ?? Promise.resolve();
  }

  #nameIndex(name: string): number {
    let index = this.#names.get(name);
    if (index === undefined) {
      index = this.#names.size;
      this.#names.set(name, index);
      this.#newNames.push(name);
    }
    return index;
  }

  /** One event into the batch: `text` is its encoded fields when it does not travel as numbers. */
  #put(code: number, seq: number, ts: number, a: number, b: number, text: string | null): void {
    const i = this.#count * STRIDE;
    const nums = this.#nums;
    nums[i] = code;
    nums[i + 1] = seq;
    nums[i + 2] = ts;
    nums[i + 3] = a;
    nums[i + 4] = b;
    if (text === null) this.#batchBytes += ESTIMATED_SMALL_EVENT_BYTES;
    else {
      this.#texts.push(text);
      this.#batchBytes += text.length + CHECKSUM_BYTES;
    }
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
    if (this.#count === 0 || this.#inline !== undefined) return;
    // The thread gets a copy; this one stays until the thread has accepted the batch.
    const sent: SentBatch = {
      nums: this.#nums.slice(0, this.#count * STRIDE),
      count: this.#count,
      texts: this.#texts,
      bytes: this.#batchBytes,
    };
    const names = this.#newNames;
    this.#inFlight.push(sent);
    this.#inFlightBytes += sent.bytes;
    this.#count = 0;
    this.#texts = [];
    this.#newNames = [];
    this.#batchBytes = 0;
    const batch = this.#acceptedSeen + this.#inFlight.length;
    try {
      post({
        op: "batch",
        id: this.#id,
        batch,
        nums: sent.nums,
        count: sent.count,
        texts: sent.texts,
        names,
      });
    } catch (error) {
      return this.takeOver(error instanceof StorageError ? error : new StorageError(String(error)));
    }
    if (this.#settleAccepted() > this.#maxPendingBytes)
      this.#waitFor(ACCEPTED_BATCH, () => this.#settleAccepted() <= this.#maxPendingBytes, "drain");
  }

  /** Forgets the batches the thread has accepted; returns the bytes still in flight. */
  #settleAccepted(): number {
    const accepted = Atomics.load(this.#control, ACCEPTED_BATCH);
    while (this.#acceptedSeen < accepted && this.#inFlight.length > 0) {
      this.#acceptedSeen++;
      this.#inFlightBytes -= this.#inFlight.shift()!.bytes;
    }
    return this.#inFlightBytes;
  }

  #request(op: "sync" | "close"): Promise<void> {
    if (this.#inline === undefined) this.#send();
    if (this.#inline !== undefined) return this.#inlineSync();
    const token = ++this.#token;
    const done = new Promise<void>((resolve, reject) => this.#waiters.set(token, { resolve, reject }));
    expectReply();
    post({ op, id: this.#id, token });
    return done;
  }

  /** Sends the batch and a request the thread finishes through DONE_TOKEN; waits for it. */
  #requestAndWait(op: "write" | "flushSync"): void {
    if (this.#closing !== undefined) return;
    if (this.#inline === undefined) this.#send();
    if (this.#inline === undefined) {
      const token = ++this.#token;
      post({ op, id: this.#id, token });
      this.#waitFor(DONE_TOKEN, () => Atomics.load(this.#control, DONE_TOKEN) >= token, op);
    }
    // Taken over (before or during the wait): the event-loop writer does it.
    if (this.#inline !== undefined) {
      if (op === "write") this.#inline.writeQueued();
      else this.#inline.flushSync();
    }
  }

  /**
   * Blocks until `ready()` holds, waking whenever the thread moves `slot`. A thread that has not
   * even opened the journal within START_LIMIT_MS of being asked is taken as failed.
   */
  #waitFor(slot: number, ready: () => boolean, what: string): void {
    const control = this.#control;
    const deadline = performance.now() + WAIT_LIMIT_MS;
    for (;;) {
      const seen = Atomics.load(control, slot);
      if (ready() || this.#inline !== undefined) return;
      const now = performance.now();
      if (Atomics.load(control, OPENED) === 0 && now - this.#openedAt > START_LIMIT_MS) {
        failThread(`it did not start within ${START_LIMIT_MS} ms`);
        return;
      }
      if (now > deadline) {
        // Stuck or dead (a dead thread's `close` event cannot arrive while this thread waits).
        failThread(`it did not answer a ${what} within ${WAIT_LIMIT_MS} ms`);
        return;
      }
      Atomics.wait(control, slot, seen, 50);
    }
  }
}

/** The thread's StorageError again, with its system error as `cause` (message, code, syscall, errno). */
function storageError(parts: ErrorParts): StorageError {
  const cause = parts.cause && Object.assign(new Error(parts.cause.message), parts.cause);
  return new StorageError(parts.message, { code: parts.code, path: parts.path, cause });
}
