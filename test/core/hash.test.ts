/** hashPrompt: the first 16 hex characters of SHA-256 of the UTF-8 text, as the Go collector. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { hashPrompt } from "../../src/core/hash.ts";

function expected(text: string): string {
  return createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex").slice(0, 16);
}

describe("hashPrompt", () => {
  test("hashes the empty string", () => {
    expect(hashPrompt("")).toBe("e3b0c44298fc1c14");
    expect(hashPrompt("")).toBe(expected(""));
  });

  test("hashes ASCII text", () => {
    expect(hashPrompt("hello")).toBe("2cf24dba5fb0a30e");
    expect(hashPrompt("hello")).toBe(expected("hello"));
  });

  test.each(["héllo", "中文提示", "emoji 😀 <&>", "line\nbreak\u2028", "a".repeat(100_000)])(
    "hashes %p as UTF-8",
    (text) => {
      expect(hashPrompt(text)).toBe(expected(text));
      expect(hashPrompt(text)).toMatch(/^[0-9a-f]{16}$/);
    },
  );

  test("differs from a Latin-1 or UTF-16 hash of non-ASCII text", () => {
    const text = "héllo";
    expect(hashPrompt(text)).not.toBe(
      createHash("sha256").update(Buffer.from(text, "latin1")).digest("hex").slice(0, 16),
    );
    expect(hashPrompt(text)).not.toBe(
      createHash("sha256").update(Buffer.from(text, "utf16le")).digest("hex").slice(0, 16),
    );
  });
});
