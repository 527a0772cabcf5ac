/**
 * Byte mutators applied to real files: the classic ones (bit flips, insertions, deletions,
 * truncation), splices of fragments cut from valid inputs, and replacements of one JSON value by
 * a hostile one, so that most mutants stay close enough to the format to go deep.
 */
import { rng } from "../harness.ts";

const encoder = new TextEncoder();

/** Tokens that tend to reach corners of JSON readers and of this library's checks. */
export const HOSTILE_TOKENS = [
  "__proto__",
  '"__proto__":{"polluted":1},',
  '"constructor":{"prototype":{"polluted":1}},',
  "9007199254740993",
  "1e309",
  "-1e309",
  "-0",
  "1e-400",
  "123456789012345678901234567890",
  "NaN",
  "null",
  "true",
  "[]",
  "{}",
  '""',
  "\\ud800",
  "\\u0000",
  "\u2028",
  "\ufeff",
  "..",
  "%00",
  '"',
  "\\",
  ",",
  ":",
  "}",
  "]",
  "\n",
  "-1",
  "0.5",
  "99999999999999999999999",
].map((t) => encoder.encode(t));

export type Random = () => number;

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

export function int(random: Random, below: number): number {
  return Math.floor(random() * below);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** JSON number and string tokens (good enough to find them in the files mutated here). */
const NUMBER_TOKEN = /-?\d+(\.\d+)?([eE][-+]?\d+)?/g;
const STRING_TOKEN = /"(?:[^"\\]|\\.)*"/g;
const HOSTILE_NUMBERS = [
  "-0",
  "-1",
  "0.5",
  "1e309",
  "-1e309",
  "9007199254740992",
  "9007199254740993",
  "1e21",
  "123456789012345678901234567890",
  "253402300800000",
  "-62167219200001",
  "1e-400",
  "true",
  "null",
  '"1"',
];
const HOSTILE_STRINGS = [
  '""',
  '"__proto__"',
  '"constructor"',
  '"\\ud800"',
  '"\\u0000"',
  '"a\\u0000b"',
  `"${"n".repeat(5_000)}"`,
  '".."',
  '"%00"',
  '"\\u2028"',
  "null",
  "0",
  "[]",
  "{}",
  '"x\\udfff"',
];

/** Replaces one token matching `pattern` with one of `replacements` (keeps the JSON well-formed). */
function replaceToken(
  b: Uint8Array,
  r: Random,
  pattern: RegExp,
  replacements: readonly string[],
): Uint8Array {
  const text = decoder.decode(b);
  const tokens = [...text.matchAll(pattern)];
  if (tokens.length === 0) return b;
  const token = pick(r, tokens);
  const at = token.index;
  return encoder.encode(text.slice(0, at) + pick(r, replacements) + text.slice(at + token[0].length));
}

const decoder = new TextDecoder();

type Mutator = (bytes: Uint8Array, random: Random, donors: readonly Uint8Array[]) => Uint8Array;

const MUTATORS: readonly Mutator[] = [
  // a value replaced, twice as likely as any other mutator: most mutants then stay well-formed
  (b, r) => replaceToken(b, r, NUMBER_TOKEN, HOSTILE_NUMBERS),
  (b, r) => replaceToken(b, r, NUMBER_TOKEN, HOSTILE_NUMBERS),
  (b, r) => replaceToken(b, r, STRING_TOKEN, HOSTILE_STRINGS),
  (b, r) => replaceToken(b, r, STRING_TOKEN, HOSTILE_STRINGS),
  // one to eight bit flips
  (b, r) => {
    const out = b.slice();
    for (let n = 1 + int(r, 8); n > 0 && out.length > 0; n--) out[int(r, out.length)]! ^= 1 << int(r, 8);
    return out;
  },
  // random bytes inserted
  (b, r) => {
    const at = int(r, b.length + 1);
    const junk = Uint8Array.from({ length: 1 + int(r, 16) }, () => int(r, 256));
    return concat(b.subarray(0, at), junk, b.subarray(at));
  },
  // a hostile token inserted
  (b, r) => {
    const at = int(r, b.length + 1);
    return concat(b.subarray(0, at), pick(r, HOSTILE_TOKENS), b.subarray(at));
  },
  // a hostile token over a range
  (b, r) => {
    const at = int(r, b.length + 1);
    const end = Math.min(b.length, at + 1 + int(r, 12));
    return concat(b.subarray(0, at), pick(r, HOSTILE_TOKENS), b.subarray(end));
  },
  // a range deleted
  (b, r) => {
    const at = int(r, b.length + 1);
    const end = Math.min(b.length, at + 1 + int(r, 64));
    return concat(b.subarray(0, at), b.subarray(end));
  },
  // truncated
  (b, r) => b.slice(0, int(r, b.length + 1)),
  // a fragment of a valid input spliced in
  (b, r, donors) => {
    const donor = pick(r, donors);
    const from = int(r, donor.length + 1);
    const fragment = donor.subarray(from, Math.min(donor.length, from + 1 + int(r, 200)));
    const at = int(r, b.length + 1);
    const end = r() < 0.5 ? at : Math.min(b.length, at + int(r, 200));
    return concat(b.subarray(0, at), fragment, b.subarray(end));
  },
  // a range duplicated
  (b, r) => {
    const at = int(r, b.length + 1);
    const piece = b.subarray(at, Math.min(b.length, at + 1 + int(r, 300)));
    return concat(b.subarray(0, at), piece, b.subarray(at));
  },
];

/**
 * One to three mutations of a random donor, reproducible from `seed`. `valuesOnly` uses only the
 * token replacements (well-formed JSON with hostile values).
 */
export function mutate(seed: number, donors: readonly Uint8Array[], valuesOnly = false): Uint8Array {
  const random = rng(seed);
  const mutators = valuesOnly ? MUTATORS.slice(0, 4) : MUTATORS;
  let bytes: Uint8Array = pick(random, donors);
  for (let n = 1 + int(random, 3); n > 0; n--) bytes = pick(random, mutators)(bytes, random, donors);
  return bytes;
}
