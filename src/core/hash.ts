/** First 16 hex characters of the SHA-256 of the UTF-8 text, as the Go collector's prompt hash. */
export function hashPrompt(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex").slice(0, 16);
}
