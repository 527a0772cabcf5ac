/**
 * Every single-bit flip of a journal line is detected: in the JSON, in the checksum frame and in
 * the checksum digits themselves. And a flip anywhere in a journal file (newlines included) makes
 * the scanner stop exactly before the line it hit.
 */
import { describe, expect, test } from "bun:test";
import type { MetricEvent } from "../../src/core/events.ts";
import {
  decodeEventLine,
  encodeEventBody,
  encodeEventLine,
  frameLines,
} from "../../src/journal/line-codec.ts";
import { scanJournalBytes } from "../../src/journal/reader.ts";

const TS = Date.parse("2026-11-22T01:42:24.140Z");

const LINES: { name: string; event: MetricEvent }[] = [
  {
    name: "a plain tool call",
    event: { v: 1, seq: 7, ts: TS, type: "tool_call", name: "Read", success: true, durationMs: 12 },
  },
  {
    name: "an LLM call with non-ASCII text, details and attributes",
    event: {
      v: 1,
      seq: 8,
      ts: TS + 1,
      type: "llm",
      phase: "exécution — 日本語",
      usage: {
        promptTokens: 17100,
        completionTokens: 3200,
        totalTokens: 20300,
        cacheReadTokens: 4096,
        cacheWriteTokens: undefined,
        reasoningTokens: undefined,
      },
      cost: 0.30000000000000004,
      promptHash: "9c7898597b84f182",
      truncated: true,
      details: {
        agent: "planner",
        model: "gpt-x",
        attempt: 2,
        attributes: { note: "héllo 😀", n: 3, ok: false },
      },
    },
  },
  {
    name: "a dropped record whose reason needs JSON escapes",
    event: {
      v: 1,
      seq: 9,
      ts: TS + 2,
      type: "dropped",
      method: "recordToolCall",
      reason: 'name "a\\b"\n\ttoo <long> & \u2028 odd',
    },
  },
];

const encoder = new TextEncoder();

/** The line's bytes without its newline. */
function lineBytes(event: MetricEvent): Uint8Array {
  const line = encodeEventLine(event);
  expect(line.endsWith("\n")).toBe(true);
  return encoder.encode(line.slice(0, -1));
}

/** Every (byte, bit) whose flip still decodes, as `byte:bit`. */
function undetectedFlips(bytes: Uint8Array): string[] {
  const missed: string[] = [];
  const copy = Uint8Array.from(bytes);
  for (let i = 0; i < copy.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      copy[i]! ^= 1 << bit;
      if (decodeEventLine(copy).ok) missed.push(`${i}:${bit}`);
      copy[i]! ^= 1 << bit;
    }
  }
  return missed;
}

describe("single-bit flips of an event line", () => {
  for (const { name, event } of LINES) {
    test(`every flip of ${name} is detected`, () => {
      const bytes = lineBytes(event);
      const decoded = decodeEventLine(bytes);
      expect(decoded.ok).toBe(true);
      // The line's `crc` member is checked and removed: the decoded value is exactly the event.
      const decodedEvent = (decoded as { event: MetricEvent & { crc?: string } }).event;
      expect(decodedEvent).not.toHaveProperty("crc");
      expect(decodedEvent).toEqual(event);
      expect(undetectedFlips(bytes)).toEqual([]);
    });
  }

  test("the non-ASCII line really holds multi-byte characters", () => {
    const bytes = lineBytes(LINES[1]!.event);
    expect(bytes.length).toBeGreaterThan(encodeEventLine(LINES[1]!.event).length - 1);
  });

  test("flips in the checksum digits are detected as a mismatch or a malformed checksum", () => {
    for (const { event } of LINES) {
      const bytes = lineBytes(event);
      const digits = bytes.length - 10; // `…,"crc":"` 8 hex digits `"}`
      expect(new TextDecoder().decode(bytes.subarray(digits, digits + 8))).toMatch(/^[0-9a-f]{8}$/);
      for (let i = digits; i < digits + 8; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const copy = Uint8Array.from(bytes);
          copy[i]! ^= 1 << bit;
          const result = decodeEventLine(copy);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(["checksum mismatch", "malformed checksum"]).toContain(result.reason);
        }
      }
    }
  });

  test("frameLines writes the same bytes as encodeEventLine", () => {
    const framed = frameLines(LINES.map(({ event }) => encodeEventBody(event)));
    expect(framed.toString("utf8")).toBe(LINES.map(({ event }) => encodeEventLine(event)).join(""));
  });

  test("a flip anywhere in a journal file, newlines included, costs only the lines it touches", () => {
    const events = LINES.map(({ event }, i) => ({ ...event, seq: i + 1 }) as MetricEvent);
    const file = encoder.encode(events.map(encodeEventLine).join(""));
    const starts = [0];
    for (let i = 0; i < file.length; i++) if (file[i] === 0x0a) starts.push(i + 1);
    expect(scanJournalBytes(file, () => {}).events).toBe(3);

    const wrong: string[] = [];
    const copy = Uint8Array.from(file);
    for (let i = 0; i < copy.length; i++) {
      // The line the byte belongs to (its newline included); a flipped newline joins the next line to it.
      const line = starts.findLastIndex((start) => start <= i);
      const touched = new Set([line + 1]);
      if (file[i] === 0x0a && line + 1 < events.length) touched.add(line + 2);
      const want = events.map((e) => e.seq).filter((seq) => !touched.has(seq));
      for (let bit = 0; bit < 8; bit++) {
        copy[i]! ^= 1 << bit;
        const seen: number[] = [];
        const scan = scanJournalBytes(copy, (event) => seen.push(event.seq));
        const reported = scan.problems.length > 0 || scan.tailReason !== undefined;
        if (JSON.stringify(seen) !== JSON.stringify(want) || !reported)
          wrong.push(`${i}:${bit} → ${JSON.stringify(seen)}`);
        copy[i]! ^= 1 << bit;
      }
    }
    expect(wrong).toEqual([]);
  });
});
