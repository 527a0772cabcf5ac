/**
 * What the soak's workers record and how they report it, shared by the worker and the supervisor
 * so that both derive the same facts from a record's identity.
 *
 * A record is named by its incarnation (one run of one worker process, numbered by the supervisor
 * across the whole soak) and its number inside that run: rid `"<incarnation>.<n>"`. Everything
 * else about it (tool or LLM call, name, outcome, tokens) follows from `n`, and the rid travels
 * in the event's `details.attributes.rid`, so a journal event can be traced to exactly one record.
 */

export type SoakRecord =
  | { kind: "tool"; rid: string; name: string; success: boolean; durationMs: number }
  | { kind: "llm"; rid: string; phase: string; promptTokens: number; completionTokens: number };

/** Exact in binary, so sums agree in any order. */
export const SOAK_COST = 0.125;
export const SOAK_TOOLS = 4;
export const SOAK_PHASES = 2;

export function rid(incarnation: number, n: number): string {
  return `${incarnation}.${n}`;
}

/** The record `n` of `incarnation`: every third one an LLM call, the others tool calls. */
export function soakRecord(incarnation: number, n: number): SoakRecord {
  const id = rid(incarnation, n);
  if (n % 3 === 2)
    return {
      kind: "llm",
      rid: id,
      phase: `phase-${n % SOAK_PHASES}`,
      promptTokens: 10 + (n % 13),
      completionTokens: 1 + (n % 5),
    };
  return { kind: "tool", rid: id, name: `tool-${n % SOAK_TOOLS}`, success: n % 5 !== 0, durationMs: n % 17 };
}

/** Records `from` … `to` (inclusive) of one incarnation, made in one session between two syncs. */
export interface Batch {
  sessionId: string;
  incarnation: number;
  from: number;
  to: number;
}

export function batchRids(batch: Batch): string[] {
  const out: string[] = [];
  for (let n = batch.from; n <= batch.to; n++) out.push(rid(batch.incarnation, n));
  return out;
}

/**
 * One line of a worker's stdout. Each is written whole with one `writeSync` (far below the pipe's
 * atomic size), before the fact for `try` and only after it for `ack`:
 * - `try <sid> <inc>.<from>-<to>`: about to record these (they may reach the journal or not);
 * - `ack <sid> <inc>.<from>-<to>`: `sync()` (or `flush()`) resolved after recording them;
 * - `open <sid> <fresh|stale-lock>`: opened with `resume: true` (a `.lock` was there before);
 * - `locked <sid>`: the open was refused with `SessionLockedError` (a live holder);
 * - `warn <sid> <text>`: a logger warning (journal recovery);
 * - `error <text>`: an unexpected failure (the worker then exits 1);
 * - `done`: a graceful stop finished.
 */
export type SoakLine =
  | { kind: "try" | "ack"; batch: Batch }
  | { kind: "open"; sessionId: string; staleLock: boolean }
  | { kind: "locked"; sessionId: string }
  | { kind: "warn"; sessionId: string; text: string }
  | { kind: "error"; text: string }
  | { kind: "done" };

export function batchLine(kind: "try" | "ack", b: Batch): string {
  return `${kind} ${b.sessionId} ${b.incarnation}.${b.from}-${b.to}\n`;
}

const BATCH_LINE = /^(try|ack) (\S+) (\d+)\.(\d+)-(\d+)$/;
const OPEN_LINE = /^open (\S+) (fresh|stale-lock)$/;

/** Parses one complete line; `undefined` when it is not one the protocol allows. */
export function parseLine(line: string): SoakLine | undefined {
  const batch = BATCH_LINE.exec(line);
  if (batch !== null) {
    const [, kind, sessionId, inc, from, to] = batch as unknown as [
      string,
      "try" | "ack",
      string,
      string,
      string,
      string,
    ];
    return { kind, batch: { sessionId, incarnation: Number(inc), from: Number(from), to: Number(to) } };
  }
  const open = OPEN_LINE.exec(line);
  if (open !== null) return { kind: "open", sessionId: open[1]!, staleLock: open[2] === "stale-lock" };
  const [word, rest = ""] = splitFirst(line);
  if (word === "locked" && rest !== "") return { kind: "locked", sessionId: rest };
  if (word === "warn") {
    const [sessionId, text = ""] = splitFirst(rest);
    return { kind: "warn", sessionId, text };
  }
  if (word === "error") return { kind: "error", text: rest };
  if (line === "done") return { kind: "done" };
  return undefined;
}

function splitFirst(text: string): [string, string | undefined] {
  const space = text.indexOf(" ");
  return space < 0 ? [text, undefined] : [text.slice(0, space), text.slice(space + 1)];
}
