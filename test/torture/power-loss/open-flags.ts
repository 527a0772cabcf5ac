/** Node's string open flags as open(2) bits: only the bits the crash model needs. */
import { constants } from "node:fs";

const { O_APPEND, O_CREAT, O_EXCL, O_SYNC, O_TRUNC } = constants;

const STRING_FLAGS: Record<string, number> = {
  r: 0,
  "r+": 0,
  "rs+": O_SYNC,
  w: O_CREAT | O_TRUNC,
  wx: O_CREAT | O_TRUNC | O_EXCL,
  "w+": O_CREAT | O_TRUNC,
  "wx+": O_CREAT | O_TRUNC | O_EXCL,
  a: O_CREAT | O_APPEND,
  ax: O_CREAT | O_APPEND | O_EXCL,
  "a+": O_CREAT | O_APPEND,
  "ax+": O_CREAT | O_APPEND | O_EXCL,
  as: O_CREAT | O_APPEND | O_SYNC,
  "as+": O_CREAT | O_APPEND | O_SYNC,
};

/** `flags` as open(2) bits. */
export function openFlags(flags: number | string): number {
  if (typeof flags === "number") return flags;
  const bits = STRING_FLAGS[flags];
  if (bits === undefined) throw new Error(`crash-io: unknown open flags ${JSON.stringify(flags)}`);
  return bits;
}
