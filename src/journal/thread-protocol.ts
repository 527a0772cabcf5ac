/**
 * What the event loop and the journal thread say to each other.
 *
 * Events travel in batches. The common events (a tool call without details, a phase counter) go
 * as numbers, five to an event in a Float64Array, so recording one costs a few stores; the journal
 * thread turns them into lines. Everything else is encoded on the event loop (it is rare, and may
 * be large) and travels as text. Names travel once per journal: each batch carries the names first
 * used in it, and the numbers refer to them by index.
 */
import { PHASE_COUNTERS, type PhaseCountType } from "../core/events.ts";
import { phaseCountFields, toolCallFields } from "./line-codec.ts";
import type { Durability } from "./writer.ts";

/** Numbers per event: code, seq, ts, a, b. */
export const STRIDE = 5;
/**
 * `code` of an event encoded on the event loop: `a` indexes the batch's `texts`. A code ≥ 0 is a
 * tool call (code = name index, a = success 0/1, b = durationMs); -1 - i is the phase counter
 * `PHASE_COUNT_TYPES[i]` (a = phase name index).
 */
export const TEXT_CODE = -100;
export const PHASE_COUNT_TYPES = Object.keys(PHASE_COUNTERS) as PhaseCountType[];
export const PHASE_COUNT_CODES: Readonly<Record<string, number>> = Object.fromEntries(
  PHASE_COUNT_TYPES.map((type, i) => [type, -1 - i]),
);

/** Slots of a journal's shared Int32Array. */
export const ACCEPTED_BATCH = 0; // last batch the thread has written (or, on a refusing disk, queued)
export const DONE_TOKEN = 1; // last synchronous request (`write`, `flushSync`) the thread finished
export const FSYNCS = 2; // fsyncs of the journal that succeeded
/**
 * Who may touch the file: the thread sets WRITING around each write (from IDLE); the event loop
 * sets REVOKED (from IDLE) when it takes the journal over from a thread that failed, after which
 * the thread never touches the file again.
 */
export const STATE = 3;
export const OPENED = 4; // 1 once the thread has opened the journal (it is up and running)
export const CONTROL_SLOTS = 5;
export const IDLE = 0;
export const WRITING = 1;
export const REVOKED = 2;

export interface OpenRequest {
  op: "open";
  id: number;
  path: string;
  fd: number;
  offset: number;
  durability: Durability;
  maxPendingBytes: number;
  control: SharedArrayBuffer;
}

export interface BatchRequest {
  op: "batch";
  id: number;
  batch: number;
  nums: Float64Array;
  count: number;
  texts: string[];
  names: string[];
}

/** `sync` and `close` are answered with a `done` message; `write` and `flushSync` through DONE_TOKEN. */
export interface ControlRequest {
  op: "sync" | "close" | "write" | "flushSync";
  id: number;
  token: number;
}

export type ThreadRequest = OpenRequest | BatchRequest | ControlRequest;

/** A StorageError's parts (errors do not cross threads with their class). */
export interface ErrorParts {
  message: string;
  code: string | undefined;
  path: string | undefined;
  /** The system error underneath (ENOSPC, EIO, ...), when there is one. */
  cause?: {
    message: string;
    code: string | undefined;
    syscall: string | undefined;
    errno: number | undefined;
  };
}

export type ThreadReply =
  | { op: "done"; id: number; token: number; error?: ErrorParts }
  | { op: "log"; id: number; level: "warn" | "error"; message: string };

/**
 * A batch's events as encoded fields (`encodeEventFields`), in order, from `from` on; `names`
 * are the journal's names as JSON strings (the batch's new names appended first).
 */
export function decodeBatch(
  nums: Float64Array,
  count: number,
  texts: readonly string[],
  names: readonly string[],
): string[] {
  const fields = new Array<string>(count);
  for (let k = 0, i = 0; k < count; k++, i += STRIDE) {
    const code = nums[i]!;
    if (code >= 0)
      fields[k] = toolCallFields(nums[i + 1]!, nums[i + 2]!, names[code]!, nums[i + 3] === 1, nums[i + 4]!);
    else if (code === TEXT_CODE) fields[k] = texts[nums[i + 3]!]!;
    else
      fields[k] = phaseCountFields(
        PHASE_COUNT_TYPES[-1 - code]!,
        nums[i + 1]!,
        nums[i + 2]!,
        names[nums[i + 3]!]!,
      );
  }
  return fields;
}
