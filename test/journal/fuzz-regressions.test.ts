/** Bugs the fuzzers (test/torture/fuzz/) found in journal decoding, each pinned by its smallest case. */
import { expect, test } from "bun:test";
import { decodeEventLine, decodeEventText, frameLine } from "../../src/journal/line-codec.ts";

test("a checksum-valid line whose version has no string form is refused with a reason, not a TypeError", () => {
  // String({"toString":1}) throws "No default value"; the reason must not call it.
  const line = frameLine('{"v":{"toString":1},"seq":1,"ts":1,"type":"tool_call"}');
  expect(decodeEventText(line)).toEqual({ ok: false, reason: "unknown version a object" });
  expect(decodeEventLine(new TextEncoder().encode(line))).toEqual({
    ok: false,
    reason: "unknown version a object",
  });
});
