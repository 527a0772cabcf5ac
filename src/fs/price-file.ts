/**
 * Price tables from JSON files: `createPriceTable` takes entries or a path (read synchronously),
 * `loadPriceTable` reads a path asynchronously. Validation and pricing are `core/pricing.ts`.
 */
import { type PriceTable, type PriceTableOptions, priceTableFrom } from "../core/pricing.ts";
import { ParseError, StorageError } from "../errors.ts";
import { readTextFile, readTextFileSync } from "./io.ts";

/**
 * A price table from entries (an array, or `{ asOf?, entries }`) or from a JSON file path (read
 * synchronously). User entries are searched before the built-in table unless `builtin: false`.
 */
export function createPriceTable(
  source: readonly unknown[] | { asOf?: string; entries: readonly unknown[] } | string,
  options: PriceTableOptions = {},
): PriceTable {
  if (typeof source !== "string") return priceTableFrom(source, options);
  let text: string;
  try {
    text = readTextFileSync(source);
  } catch (cause) {
    throw unreadable(source, cause);
  }
  return fromJson(text, source, options);
}

/**
 * Reads a JSON price table file: `StorageError` when it cannot be read, `ParseError` when it is not
 * JSON, `ValidationError` naming the first bad entry.
 */
export async function loadPriceTable(path: string, options: PriceTableOptions = {}): Promise<PriceTable> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (cause) {
    throw unreadable(path, cause);
  }
  return fromJson(text, path, options);
}

function unreadable(path: string, cause: unknown): StorageError {
  return new StorageError(`[prices] cannot read the price table ${path}: ${(cause as Error).message}`, {
    cause,
    path,
  });
}

function fromJson(text: string, path: string, options: PriceTableOptions): PriceTable {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new ParseError(path, `price table is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  // Not an array: priceTableFrom checks it as `{ asOf?, entries }` and names the file when it is not.
  return priceTableFrom(data as unknown[], { ...options, source: path });
}
