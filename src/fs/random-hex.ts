/**
 * Random hex for file names, from the global Web Crypto (importing node:crypto costs ~10 ms of
 * start-up here, half the package's budget).
 */
export function randomHex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const b of buffer) out += (b < 16 ? "0" : "") + b.toString(16);
  return out;
}
