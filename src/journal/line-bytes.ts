/**
 * Journal lines written straight into bytes, for the journal thread: the common events (a tool
 * call without details, a phase counter) go from their numbers to ASCII without a single string,
 * and every line gets its checksum and newline here. The bytes are exactly those of
 * `linesBuffer([encodeEventFields(event)])` (test/journal/thread.test.ts compares the two writers).
 */
import type { PhaseCountType } from "../core/events.ts";
import { quote } from "./line-codec.ts";

const utf8 = new TextEncoder();
const ascii = (text: string) => utf8.encode(text);

const SEQ = ascii('{"v":1,"seq":');
const TS = ascii(',"ts":');
const TOOL_CALL_NAME = ascii(',"type":"tool_call","name":');
const SUCCESS_TRUE = ascii(',"success":true');
const SUCCESS_FALSE = ascii(',"success":false');
const DURATION = ascii(',"durationMs":');
const CRC = ascii(',"crc":"');
const HEX = ascii("0123456789abcdef");
const PHASE_HEADS = new Map<string, Uint8Array>();

/** The JSON string of a name, as UTF-8 bytes. */
export function quotedNameBytes(name: string): Uint8Array {
  return utf8.encode(quote(name));
}

export class LineBytes {
  #buf = new Uint8Array(1 << 20);
  #pos = 0;
  // The last timestamp's digits: timestamps repeat for a millisecond at a time.
  #lastTs = -1;
  readonly #tsDigits = new Uint8Array(24);
  #tsLength = 0;
  readonly #scratch = new Uint8Array(24);

  /** Bytes written since the last `take()`. */
  get length(): number {
    return this.#pos;
  }

  /** The lines written so far, as a new array; starts over. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#pos);
    this.#pos = 0;
    return out;
  }

  toolCall(seq: number, ts: number, quotedName: Uint8Array, success: boolean, durationMs: number): void {
    this.#reserve(128 + quotedName.length);
    const start = this.#head(seq, ts);
    this.#bytes(TOOL_CALL_NAME);
    this.#bytes(quotedName);
    this.#bytes(success ? SUCCESS_TRUE : SUCCESS_FALSE);
    this.#bytes(DURATION);
    this.#number(durationMs);
    this.#close(start);
  }

  phaseCount(type: PhaseCountType, seq: number, ts: number, quotedPhase: Uint8Array): void {
    let head = PHASE_HEADS.get(type);
    if (head === undefined) {
      head = ascii(`,"type":"${type}","phase":`);
      PHASE_HEADS.set(type, head);
    }
    this.#reserve(128 + quotedPhase.length);
    const start = this.#head(seq, ts);
    this.#bytes(head);
    this.#bytes(quotedPhase);
    this.#close(start);
  }

  /** A line from encoded fields (`encodeEventFields`). */
  fields(text: string): void {
    this.#reserve(text.length * 3 + 32);
    const start = this.#pos;
    this.#pos += utf8.encodeInto(text, this.#buf.subarray(this.#pos)).written;
    this.#close(start);
  }

  #head(seq: number, ts: number): number {
    const start = this.#pos;
    this.#bytes(SEQ);
    this.#number(seq);
    this.#bytes(TS);
    if (ts !== this.#lastTs) {
      this.#lastTs = ts;
      const at = this.#pos;
      this.#number(ts);
      this.#tsLength = this.#pos - at;
      this.#tsDigits.set(this.#buf.subarray(at, this.#pos));
    } else {
      const buf = this.#buf;
      const digits = this.#tsDigits;
      let pos = this.#pos;
      for (let i = 0; i < this.#tsLength; i++) buf[pos++] = digits[i]!;
      this.#pos = pos;
    }
    return start;
  }

  /** `,"crc":"<8 hex>"}` and a newline after the fields that began at `start`. */
  #close(start: number): void {
    const crc = Bun.hash.crc32(this.#buf.subarray(start, this.#pos));
    this.#bytes(CRC);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let shift = 28; shift >= 0; shift -= 4) buf[pos++] = HEX[(crc >>> shift) & 15]!;
    buf[pos++] = 0x22; // "
    buf[pos++] = 0x7d; // }
    buf[pos++] = 0x0a; // \n
    this.#pos = pos;
  }

  #bytes(src: Uint8Array): void {
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < src.length; i++) buf[pos++] = src[i]!;
    this.#pos = pos;
  }

  /** A number as JSON writes it: whole numbers digit by digit, anything else through String(). */
  #number(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) return this.#bytes(ascii(String(n)));
    const buf = this.#buf;
    if (n < 10) {
      buf[this.#pos++] = 0x30 + n;
      return;
    }
    const scratch = this.#scratch;
    let i = 0;
    while (n > 0) {
      const q = Math.floor(n / 10);
      scratch[i++] = 0x30 + (n - q * 10);
      n = q;
    }
    let pos = this.#pos;
    while (i > 0) buf[pos++] = scratch[--i]!;
    this.#pos = pos;
  }

  #reserve(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + bytes));
    bigger.set(this.#buf.subarray(0, this.#pos));
    this.#buf = bigger;
  }
}
