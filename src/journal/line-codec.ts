/**
 * One journal line per event: the event as a JSON object whose last member is a CRC-32 of
 * everything before it, `{"v":1,"seq":7,"ts":…,"type":"tool_call",…,"crc":"8c736521"}\n`.
 * CRC-32 detects every single-bit flip (indeed every burst up to 32 bits) of the covered bytes,
 * and a flip inside the crc digits themselves makes it mismatch too.
 */
import { checkEventContent } from "../core/event-check.ts";
import { isPhaseCountEvent, type MetricEvent, type PhaseCountType } from "../core/events.ts";

const CRC_PREFIX = ',"crc":"';
/** `,"crc":"` + 8 hex digits + `"}` */
const CRC_SUFFIX_LENGTH = CRC_PREFIX.length + 8 + 2;

/** Number → text is slow here (~100 ns); timestamps repeat for a millisecond at a time. */
let lastTs = Number.NaN;
let lastTsText = "";
function tsText(ts: number): string {
  if (ts !== lastTs) {
    lastTs = ts;
    lastTsText = String(ts);
  }
  return lastTsText;
}

/** JSON string literals of recently seen names: tool and phase names repeat endlessly. */
const quoted = new Map<string, string>();
export function quote(s: string): string {
  let q = quoted.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (quoted.size >= 4096) quoted.clear();
    quoted.set(s, q);
  }
  return q;
}

/**
 * The event's JSON with the envelope first, `{"v":1,"seq":…,"ts":…,"type":…,…`, WITHOUT its
 * closing brace (the checksum goes there). The common types are written by hand (JSON.stringify
 * costs ~0.5 µs per event on these machines); the rest go through JSON.stringify. A cost of -0
 * is kept in METRICS.json (as Go does) but JSON writes 0, so the journal spells it "-0".
 */
export function encodeEventFields(event: MetricEvent): string {
  switch (event.type) {
    case "tool_call": {
      let fields = toolCallFields(event.seq, event.ts, quote(event.name), event.success, event.durationMs);
      if (event.phase !== undefined) fields += `,"phase":${quote(event.phase)}`;
      return event.details === undefined ? fields : `${fields},"details":${JSON.stringify(event.details)}`;
    }
    default: {
      if (isPhaseCountEvent(event))
        return phaseCountFields(event.type, event.seq, event.ts, quote(event.phase));
      const head = `{"v":1,"seq":${event.seq},"ts":${tsText(event.ts)},"type":"${event.type}"`;
      const { v: _v, seq: _s, ts: _t, type: _type, ...body } = event;
      if (event.type === "llm" && Object.is(event.cost, -0)) (body as { cost: unknown }).cost = "-0";
      const rest = JSON.stringify(body);
      return rest === "{}" ? head : `${head},${rest.slice(1, -1)}`;
    }
  }
}

/**
 * A tool call without details, from its parts (`quotedName` is the name as a JSON string). The
 * journal thread encodes from these parts; `encodeEventFields` goes through here too, so both
 * spell a line the same way.
 */
export function toolCallFields(
  seq: number,
  ts: number,
  quotedName: string,
  success: boolean,
  durationMs: number,
): string {
  return `{"v":1,"seq":${seq},"ts":${tsText(ts)},"type":"tool_call","name":${quotedName},"success":${success},"durationMs":${durationMs}`;
}

/** A phase counter event (`phase_transition`, `heal_trigger`, ...) from its parts. */
export function phaseCountFields(type: PhaseCountType, seq: number, ts: number, quotedPhase: string): string {
  return `{"v":1,"seq":${seq},"ts":${tsText(ts)},"type":"${type}","phase":${quotedPhase}`;
}

/** Two lowercase hex digits for each byte value. */
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex8(n: number): string {
  return HEX2[n >>> 24]! + HEX2[(n >>> 16) & 255]! + HEX2[(n >>> 8) & 255]! + HEX2[n & 255]!;
}

/** The event's JSON, envelope first (`encodeEventFields` closed). */
export function encodeEventBody(event: MetricEvent): string {
  return `${encodeEventFields(event)}}`;
}

/** One journal line from an event's JSON (`encodeEventBody`), newline excluded. */
export function frameLine(body: string): string {
  const fields = body.slice(0, -1);
  // Bun's crc32 of a string covers its UTF-8 bytes, which is what the reader checks.
  return `${fields}${CRC_PREFIX}${hex8(Bun.hash.crc32(fields))}"}`;
}

/** Frames event JSON bodies into journal lines, as one buffer ready to append. */
export function frameLines(bodies: readonly string[]): Buffer {
  const lines = new Array<string>(bodies.length + 1);
  for (let i = 0; i < bodies.length; i++) lines[i] = frameLine(bodies[i]!);
  lines[bodies.length] = "";
  return Buffer.from(lines.join("\n"));
}

/**
 * Journal lines (checksum and newline included) for encoded event fields (`encodeEventFields`),
 * as one buffer ready to append. One string and one conversion for the whole group: per-line
 * buffer writes cost more than the encoding itself on these machines.
 */
export function linesBuffer(fields: readonly string[]): Buffer {
  const lines = new Array<string>(fields.length + 1);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    lines[i] = `${f}${CRC_PREFIX}${hex8(Bun.hash.crc32(f))}"}`;
  }
  lines[fields.length] = "";
  return Buffer.from(lines.join("\n"));
}

/** Encodes one event as a journal line, newline included. */
export function encodeEventLine(event: MetricEvent): string {
  return `${frameLine(encodeEventBody(event))}\n`;
}

export type LineResult = { ok: true; event: MetricEvent } | { ok: false; reason: string };

/**
 * Checks and decodes one line (UTF-8 bytes, without its newline). The checksum is verified over
 * the raw bytes before anything is parsed.
 */
export function decodeEventLine(line: Uint8Array): LineResult {
  const n = line.length;
  if (n < CRC_SUFFIX_LENGTH + 2) return { ok: false, reason: "line too short" };
  // `,"crc":"` + 8 hex + `"}`: check the frame byte by byte (cheaper than decoding a string).
  const start = n - CRC_SUFFIX_LENGTH;
  for (let i = 0; i < CRC_PREFIX.length; i++)
    if (line[start + i] !== CRC_PREFIX.charCodeAt(i)) return { ok: false, reason: "no checksum" };
  if (line[n - 2] !== 0x22 || line[n - 1] !== 0x7d) return { ok: false, reason: "no checksum" };
  let stored = 0;
  for (let i = n - 10; i < n - 2; i++) {
    const c = line[i]!;
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return { ok: false, reason: "malformed checksum" };
    stored = stored * 16 + digit;
  }
  const fields = line.subarray(0, start);
  if (Bun.hash.crc32(fields) !== stored) return { ok: false, reason: "checksum mismatch" };
  return parseFields(decoder.decode(fields));
}

const decoder = new TextDecoder();

/**
 * The same check as {@link decodeEventLine} on a line already decoded to text (the reader decodes
 * a whole journal at once: per-line byte views cost more than the parse here). The checksum is
 * computed over the line's UTF-8, so any byte that decoded differently fails it.
 */
export function decodeEventText(line: string): LineResult {
  const decoded = decodeEventAt(line, 0, line.length);
  return typeof decoded === "string" ? { ok: false, reason: decoded } : { ok: true, event: decoded };
}

/**
 * {@link decodeEventText} for the line `text[start, end)`, without cutting the line out first:
 * the event, or why the line is refused. (Replay's inner loop: one substring and no result
 * object per line.)
 */
export function decodeEventAt(text: string, start: number, end: number): MetricEvent | string {
  if (end - start < CRC_SUFFIX_LENGTH + 2) return "line too short";
  const crcAt = end - CRC_SUFFIX_LENGTH;
  if (
    !text.startsWith(CRC_PREFIX, crcAt) ||
    text.charCodeAt(end - 2) !== 0x22 ||
    text.charCodeAt(end - 1) !== 0x7d
  )
    return "no checksum";
  let stored = 0;
  for (let i = end - 10; i < end - 2; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return "malformed checksum";
    stored = stored * 16 + digit;
  }
  const fields = text.slice(start, crcAt);
  if (Bun.hash.crc32(fields) !== stored) return "checksum mismatch";
  let value: unknown;
  try {
    value = JSON.parse(`${fields}}`);
  } catch {
    return "malformed JSON";
  }
  return checkEvent(value) ?? (value as MetricEvent);
}

/**
 * Parses a line's checked fields (the line without its checksum member) as the event. Parsing
 * them closed, rather than the whole line and then deleting `crc`, halves the cost: the crc
 * string and the extra member are most of a small event's parse.
 */
function parseFields(fields: string): LineResult {
  let value: unknown;
  try {
    value = JSON.parse(`${fields}}`);
  } catch {
    return { ok: false, reason: "malformed JSON" };
  }
  const reason = checkEvent(value);
  if (reason !== undefined) return { ok: false, reason };
  return { ok: true, event: value as MetricEvent };
}

/**
 * Checks a decoded event against the recorder's bounds (`checkEventContent`), first turning a
 * `"-0"` cost (how the encoder spells -0) back into -0. Returns a reason, or undefined when fine.
 */
export function checkEvent(value: unknown): string | undefined {
  if (typeof value === "object" && value !== null) {
    const e = value as { type?: unknown; cost?: unknown };
    if (e.type === "llm" && e.cost === "-0") e.cost = -0;
  }
  return checkEventContent(value);
}
