/**
 * The OpenTelemetry sink's queue: events written on the record*() path, waiting for their batch.
 *
 * Why it is not an array of events: a recording burst queues many thousands of events before the
 * first batch is built, and whatever the queue keeps alive at a garbage collection is paid for
 * there, on the record path: each kept event object, and each slot of a growing array of strings.
 * Keeping the events made a record with the sink cost 2.2–3.4× one without (bench `export`).
 * So a bare tool call (no details: the hot record) is kept as numbers only: its name, phase and
 * session id as indexes into a table of the distinct strings, its other fields as they are (exact:
 * every one is a safe integer). The event is rebuilt, equal to the one written, when its batch is
 * taken. Any other event is kept as it is.
 *
 * Slots live in fixed-size chunks, so the queue never copies itself to grow; taken chunks are
 * reused, so a steady stream allocates nothing. The room a burst made is kept (at most the sink's
 * `maxQueuedEvents` × 56 bytes) until `release()`.
 */
import type { MetricEvent, ToolCallEvent } from "../../core/events.ts";

/** Numbers per slot: */
const NAME = 0; // the tool name's index, or KEPT: the chunk's next kept event
const SESSION = 1; // the session id's index
const PHASE = 2; // the phase's index, or NONE
const SEQ = 3;
const TS = 4;
const DURATION = 5;
const SUCCESS = 6; // 1 or 0
const FIELDS = 7;
const KEPT = -1;
const NONE = -1;

/** Slots per chunk: 4,096 × 7 numbers = 224 KiB. */
const CHUNK_SLOTS = 4096;

interface Chunk {
  readonly numbers: Float64Array;
  /** Events kept as objects, in slot order. */
  readonly kept: MetricEvent[];
}

const newChunk = (): Chunk => ({ numbers: new Float64Array(CHUNK_SLOTS * FIELDS), kept: [] });

export class EventQueue {
  /** Oldest first: slots are taken from the first chunk and written to the last. */
  #chunks: Chunk[] = [newChunk()];
  #writing: Chunk = this.#chunks[0]!;
  /** Emptied chunks, for reuse. */
  #spare: Chunk[] = [];
  /** The next slot to write in the last chunk, and to take in the first. */
  #writeSlot = 0;
  #takeSlot = 0;
  #keptTaken = 0;
  #size = 0;
  /** The distinct strings of the queued slots (tool names, phases, session ids), and their indexes. */
  #strings: string[] = [];
  readonly #indexes = new Map<string, number>();
  #session: string | undefined;
  #sessionIndex = 0;

  /** Events queued and not yet taken. */
  get size(): number {
    return this.#size;
  }

  push(sessionId: string, event: MetricEvent): void {
    // Kept small so that it is inlined into the record call: the event's fields are then read
    // where they are made, and the event itself is never allocated.
    if (
      event.type !== "tool_call" ||
      event.details !== undefined ||
      sessionId !== this.#session ||
      this.#writeSlot === CHUNK_SLOTS
    )
      return this.#pushSlow(sessionId, event);
    const numbers = this.#writing.numbers;
    const at = this.#writeSlot++ * FIELDS;
    this.#size++;
    numbers[SESSION + at] = this.#sessionIndex;
    numbers[NAME + at] = this.#indexes.get(event.name) ?? this.#add(event.name);
    const phase = event.phase;
    numbers[PHASE + at] = phase === undefined ? NONE : (this.#indexes.get(phase) ?? this.#add(phase));
    numbers[SEQ + at] = event.seq;
    numbers[TS + at] = event.ts;
    numbers[DURATION + at] = event.durationMs;
    numbers[SUCCESS + at] = event.success ? 1 : 0;
  }

  /** Hands up to `max` events to `visit`, oldest first, and forgets them. */
  take(max: number, visit: (sessionId: string, event: MetricEvent) => void): void {
    for (let n = Math.min(max, this.#size); n > 0; n--) {
      if (this.#takeSlot === CHUNK_SLOTS) this.#nextChunk();
      const chunk = this.#chunks[0]!;
      const at = this.#takeSlot++ * FIELDS;
      this.#size--;
      visit(this.#strings[chunk.numbers[SESSION + at]!]!, this.#event(chunk, at));
    }
    if (this.#size === 0) this.#reset();
  }

  /** Forgets every queued event and gives back the room bursts made. */
  release(): void {
    this.#spare = [];
    this.#chunks = [this.#writing];
    this.#reset();
  }

  /** A session change, a full chunk or an event kept as it is. */
  #pushSlow(sessionId: string, event: MetricEvent): void {
    if (sessionId !== this.#session) {
      this.#session = sessionId;
      this.#sessionIndex = this.#indexes.get(sessionId) ?? this.#add(sessionId);
    }
    if (this.#writeSlot === CHUNK_SLOTS) {
      this.#writing = this.#spare.pop() ?? newChunk();
      this.#chunks.push(this.#writing);
      this.#writeSlot = 0;
    }
    if (event.type === "tool_call" && event.details === undefined) return this.push(sessionId, event);
    const at = this.#writeSlot++ * FIELDS;
    this.#size++;
    this.#writing.numbers[SESSION + at] = this.#sessionIndex;
    this.#writing.numbers[NAME + at] = KEPT;
    this.#writing.kept.push(event);
  }

  #add(value: string): number {
    const index = this.#strings.push(value) - 1;
    this.#indexes.set(value, index);
    return index;
  }

  #event(chunk: Chunk, at: number): MetricEvent {
    const numbers = chunk.numbers;
    const name = numbers[NAME + at]!;
    if (name === KEPT) return chunk.kept[this.#keptTaken++]!;
    const event: ToolCallEvent = {
      v: 1,
      seq: numbers[SEQ + at]!,
      ts: numbers[TS + at]!,
      type: "tool_call",
      name: this.#strings[name]!,
      success: numbers[SUCCESS + at] === 1,
      durationMs: numbers[DURATION + at]!,
    };
    const phase = numbers[PHASE + at]!;
    if (phase !== NONE) event.phase = this.#strings[phase]!;
    return event;
  }

  /** The first chunk is all taken: it becomes a spare. */
  #nextChunk(): void {
    const done = this.#chunks.shift()!;
    done.kept.length = 0;
    this.#spare.push(done);
    this.#takeSlot = 0;
    this.#keptTaken = 0;
  }

  /** Empty: write from the start of the current chunk again, the others become spares. */
  #reset(): void {
    for (const chunk of this.#chunks) {
      chunk.kept.length = 0;
      if (chunk !== this.#writing) this.#spare.push(chunk);
    }
    this.#chunks = [this.#writing];
    this.#size = 0;
    this.#writeSlot = 0;
    this.#takeSlot = 0;
    this.#keptTaken = 0;
    this.#strings = [];
    this.#indexes.clear();
    this.#session = undefined;
  }
}
