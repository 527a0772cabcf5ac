/**
 * Listings in three forms: a readable table (the default; numbers right-aligned and formatted
 * for people, colour only when asked for), `--json` (the values as the library returns them)
 * and `--csv` (RFC 4180, raw numbers, one header row).
 */

export type Format = "table" | "json" | "csv";

export interface Column<T> {
  header: string;
  /** The cell as shown in a table. */
  show: (row: T) => string;
  /** The raw value for CSV (default: the shown text). */
  raw?: (row: T) => string | number | boolean | null | undefined;
  align?: "left" | "right";
  /** Colour of the cell in a table (when colour is on). */
  tone?: (row: T) => Tone | undefined;
}

export type Tone = "bad" | "good" | "dim";

/** A right-aligned number column: `format`ted in a table, the number itself in CSV. */
export function numberColumn<T, V extends number | null | undefined>(
  header: string,
  value: (row: T) => V,
  format: (v: V) => string,
): Column<T> {
  return { header, show: (row) => format(value(row)), raw: value, align: "right" };
}

const CODES: Record<Tone | "bold", [string, string]> = {
  bad: ["\x1b[31m", "\x1b[39m"],
  good: ["\x1b[32m", "\x1b[39m"],
  dim: ["\x1b[2m", "\x1b[22m"],
  bold: ["\x1b[1m", "\x1b[22m"],
};

export function paint(text: string, tone: Tone | "bold" | undefined, color: boolean): string {
  if (!color || tone === undefined) return text;
  const [on, off] = CODES[tone];
  return `${on}${text}${off}`;
}

/** A table with a header row, columns padded to their widest cell. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], color = false): string {
  const cells = rows.map((row) => columns.map((c) => c.show(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const pad = (text: string, i: number) =>
    columns[i]!.align === "right" ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const head = columns.map((c, i) => pad(c.header, i)).join("  ");
  const body = cells.map((r, k) =>
    r
      .map((text, i) => paint(pad(text, i), columns[i]!.tone?.(rows[k]!), color))
      .join("  ")
      .trimEnd(),
  );
  return [paint(head.trimEnd(), "bold", color), ...body].join("\n");
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. */
export function renderCsv<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const field = (v: unknown) => {
    const text = v === null || v === undefined ? "" : String(v);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [columns.map((c) => field(c.header)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => field(c.raw ? c.raw(row) : c.show(row))).join(","));
  return lines.join("\n");
}

/** A listing in the chosen form; `json` is what `--json` prints (default: the rows). */
export function renderListing<T>(
  format: Format,
  rows: readonly T[],
  columns: readonly Column<T>[],
  options: { color?: boolean; json?: unknown; empty?: string } = {},
): string {
  if (format === "json") return JSON.stringify(options.json ?? rows, null, 2);
  if (format === "csv") return renderCsv(rows, columns);
  if (rows.length === 0 && options.empty !== undefined) return options.empty;
  return renderTable(rows, columns, options.color);
}

/** A heading above a table section. */
export function heading(text: string, color: boolean): string {
  return paint(text, "bold", color);
}
