/**
 * PostgreSQL array literals (`{1,NULL,3}`, `{"a","b \\"c\\""}`) for `unnest` bulk inserts: one
 * text parameter per column whatever the number of rows, instead of 23 parameters per row.
 * Values are already validated (no NUL, finite numbers), so the literal is always well-formed.
 */
import { type Coverage, storedData } from "../session-rows.ts";
import type { EventRow } from "../types.ts";

type Value = string | number | boolean | null;

/** An array literal of `values`, read back as the column's PostgreSQL type. */
export function arrayLiteral(values: readonly Value[]): string {
  return `{${values.map(element).join(",")}}`;
}

function element(value: Value): string {
  if (value === null) return "NULL";
  if (typeof value === "number") return String(value); // shortest round trip: float8 reads it back exactly
  if (typeof value === "boolean") return value ? "t" : "f";
  // Quoted, with backslash and double quote escaped: then commas, braces, spaces and the word
  // NULL are plain text. Most names need no escaping: skip the regex for them.
  if (!value.includes('"') && !value.includes("\\")) return `"${value}"`;
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** Separator of {@link joinedJson}: JSON text never holds a raw U+001E (JSON escapes controls). */
const RECORD_SEPARATOR = "\x1e";

/**
 * The `data` column (JSON text, full of quotes) as one string for `string_to_array(…, chr(30), '')`:
 * nothing to escape, unlike an array literal. A null becomes '' (JSON is never empty).
 */
export function joinedJson(rows: readonly EventRow[], coverage: Coverage): string {
  return rows.map((row) => storedData(row, coverage) ?? "").join(RECORD_SEPARATOR);
}
