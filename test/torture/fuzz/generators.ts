/**
 * fast-check generators of hostile values, shared by the targets. JSON is generated as TEXT, so
 * a document can hold what `JSON.stringify` never writes: integers past 2^53, `1e309`, `-0`,
 * duplicate keys, `__proto__` members and lone surrogate escapes.
 */
import fc from "fast-check";

const SPECIAL_STRINGS = [
  "",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "..",
  "../..",
  "%00",
  "%2e%2e",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x\ud83d",
  "\u2028\u2029",
  "\ufeff",
  "<script>",
  " ",
  "\t\n",
  "😀",
  "é",
  "NaN",
  "Infinity",
  "-0",
  "1e309",
  "null",
  "x".repeat(257),
  "é".repeat(129),
  "n".repeat(5_000),
];

/** Strings that reach the corners of name checks, paths and encoders. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/) },
);

/** Number literals as JSON text, including ones no double holds exactly. */
export const numberLiteral: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "1e21",
    "1e-7",
    "1e309",
    "-1e309",
    "1e-400",
    "9007199254740991",
    "9007199254740992",
    "9007199254740993",
    "-9007199254740993",
    "123456789012345680000",
    "-4611686018427388000",
    "1".repeat(400),
    "253402300800000",
    "-62167219200001",
    "1.5e300",
  ),
  fc.integer().map(String),
  fc.maxSafeInteger().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? "-0" : String(d))),
);

/** A JSON string literal (with `\ud800`-style escapes for lone surrogates, as JSON.stringify writes). */
export const stringLiteral: fc.Arbitrary<string> = hostileString.map((s) => JSON.stringify(s));

const KEYS = ["__proto__", "constructor", "prototype", "polluted", "isAdmin", "toString"];

/** Any JSON value as text, of bounded depth. */
export const jsonValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    numberLiteral,
    stringLiteral,
    fc.constantFrom("true", "false", "null"),
    fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), hostileString), tie("value")), { maxLength: 4 })
      .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
  ),
})).value;

/** `{"__proto__":{"polluted":1}}`-style members, to mix into generated objects. */
export const pollutingMember: fc.Arbitrary<string> = fc
  .constantFrom("__proto__", "constructor", "prototype")
  .map((k) =>
    k === "constructor"
      ? `"constructor":{"prototype":{"polluted":1}}`
      : `"${k}":{"polluted":1,"isAdmin":true}`,
  );

/**
 * An object as JSON text: each of `fields` present with probability 3/4 (its value well-typed
 * most of the time, any JSON value otherwise), sometimes a polluting member, sometimes a stray key.
 */
export function objectText(
  fields: Record<string, fc.Arbitrary<string>>,
  /** `required` keys are always present; one value in `noise` is any JSON value (0: none). */
  options: { required?: readonly string[]; noise?: number } = {},
): fc.Arbitrary<string> {
  const noise = options.noise ?? 6;
  const members = Object.entries(fields).map(([key, typed]) => {
    // noise 0: always the typed value (hostile within its type)
    const value =
      noise === 0
        ? typed
        : fc.oneof({ weight: noise - 1, arbitrary: typed }, { weight: 1, arbitrary: jsonValue });
    const member = value.map((v) => `${JSON.stringify(key)}:${v}`);
    return options.required?.includes(key) ? member : fc.option(member, { freq: 4 });
  });
  return fc
    .tuple(
      fc.tuple(...members),
      fc.option(pollutingMember, { freq: noise || 4 }),
      fc.option(fc.tuple(hostileString, jsonValue), { freq: (noise || 4) + 2 }),
    )
    .map(([present, polluting, stray]) => {
      const parts = present.filter((m): m is string => m !== null);
      if (polluting !== null) parts.splice(parts.length >> 1, 0, polluting);
      if (stray !== null) parts.push(`${JSON.stringify(stray[0])}:${stray[1]}`);
      return `{${parts.join(",")}}`;
    });
}

/** A list of `item` as JSON text. */
export function listText(item: fc.Arbitrary<string>, maxLength = 4): fc.Arbitrary<string> {
  return fc.array(item, { maxLength }).map((items) => `[${items.join(",")}]`);
}

/** Whole numbers as JSON text, mostly small and valid. */
export const countLiteral: fc.Arbitrary<string> = fc.oneof(
  { weight: 15, arbitrary: fc.nat({ max: 1_000_000 }).map(String) },
  { weight: 1, arbitrary: numberLiteral },
);

/** `count` values from fast-check, reproducible from `seed`. */
export function samples<T>(arbitrary: fc.Arbitrary<T>, seed: number, count: number): T[] {
  return count <= 0 ? [] : fc.sample(arbitrary, { seed, numRuns: count });
}
