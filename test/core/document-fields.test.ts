/**
 * The field tables of document-fields.ts are the one list of the document's fields. The decoder
 * and the zod schema are built from them; the encoder and the snapshot are written out by hand for
 * speed, so these tests hold those two (and the state's entry classes) to the tables.
 */
import { describe, expect, test } from "bun:test";
import {
  camelOmits,
  EDIT_STRATEGY_FIELDS,
  type FieldSpec,
  fieldList,
  goOmits,
  LLM_FIELDS,
  PHASE_FIELDS,
  TOOL_FIELDS,
} from "../../src/core/document-fields.ts";
import { decodeMetrics, encodeMetrics } from "../../src/core/go-document.ts";
import { sessionMetricsSchema } from "../../src/core/metrics-schema.ts";
import { LLMEntry, PhaseEntry, snapshotState, stateFromMetrics, ToolEntry } from "../../src/core/state.ts";
import type { SessionMetrics } from "../../src/core/types.ts";

type Table = Readonly<Record<string, FieldSpec>>;

const TABLES: [list: "tools" | "editStrategies" | "llms" | "phases", go: string, table: Table][] = [
  ["tools", "tools", TOOL_FIELDS],
  ["editStrategies", "edit_strategies", EDIT_STRATEGY_FIELDS],
  ["llms", "llms", LLM_FIELDS],
  ["phases", "phases", PHASE_FIELDS],
];

/** An entry whose every field holds a non-empty value of its kind (i + 1 keeps them distinct). */
function fullEntry(table: Table): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fieldList(table).forEach((f, i) => {
    out[f.key] =
      f.kind === "string" ? `v${i}` : f.kind === "bool" ? true : f.kind === "float" ? i + 1.5 : i + 1;
  });
  return out;
}

/** The same entry with every field that may be empty set to its zero value (the key field kept). */
function zeroEntry(table: Table): Record<string, unknown> {
  const out = fullEntry(table);
  for (const f of fieldList(table).slice(1)) {
    if (f.omit === "nil") delete out[f.key];
    else if (f.min === undefined) out[f.key] = f.kind === "string" ? "" : f.kind === "bool" ? false : 0;
    else delete out[f.key];
  }
  return out;
}

function documentWith(entries: Record<string, unknown>): SessionMetrics {
  return {
    sessionId: "fields",
    startedAt: "2026-01-02T03:04:05.006Z",
    updatedAt: "2026-01-02T03:04:05.006Z",
    tools: [],
    editStrategies: [],
    llms: [],
    phases: [],
    ...entries,
  } as SessionMetrics;
}

function keysOf(value: unknown): string[] {
  return Object.keys(value as object);
}

describe("the document's field tables", () => {
  for (const [list, goList, table] of TABLES) {
    const fields = fieldList(table);

    test(`${list}: the encoder writes the table's Go keys, in order, omitting exactly what Go omits`, () => {
      for (const entry of [fullEntry(table), zeroEntry(table)]) {
        const text = encodeMetrics(documentWith({ [list]: [entry] }));
        const written = (JSON.parse(text) as Record<string, unknown[]>)[goList]![0];
        const expected = fields.filter((f) => !goOmits(f, entry[f.key])).map((f) => f.go);
        expect(keysOf(written)).toEqual(expected);
      }
    });

    test(`${list}: decoding gives the table's camelCase keys, in order, omitting what the shape omits`, () => {
      for (const entry of [fullEntry(table), zeroEntry(table)]) {
        const decoded = decodeMetrics(JSON.parse(encodeMetrics(documentWith({ [list]: [entry] }))), "x");
        const expected = fields.filter((f) => !camelOmits(f, entry[f.key])).map((f) => f.key);
        expect(keysOf(decoded[list][0])).toEqual(expected);
      }
    });

    test(`${list}: the zod schema takes every table key and refuses any other`, () => {
      const schema = sessionMetricsSchema();
      expect(schema.safeParse(documentWith({ [list]: [fullEntry(table)] })).success).toBe(true);
      const extra = { ...fullEntry(table), notAField: 1 };
      expect(schema.safeParse(documentWith({ [list]: [extra] })).success).toBe(false);
      for (const f of fields.filter((f) => f.optional === undefined)) {
        const { [f.key]: _dropped, ...missing } = fullEntry(table);
        expect(schema.safeParse(documentWith({ [list]: [missing] })).success).toBe(false);
      }
    });
  }

  test("the state's entry classes hold every field of their tables", () => {
    for (const [entry, table] of [
      [new ToolEntry("t"), TOOL_FIELDS],
      [new LLMEntry("p"), LLM_FIELDS],
      [new PhaseEntry("p"), PHASE_FIELDS],
    ] as const)
      for (const f of fieldList(table)) expect(f.key in entry).toBe(true);
  });

  test("snapshotState writes the table's keys, in order, omitting what the shape omits", () => {
    for (const make of [fullEntry, zeroEntry]) {
      const doc = documentWith({
        tools: [{ ...make(TOOL_FIELDS), callCount: 2 }],
        editStrategies: [make(EDIT_STRATEGY_FIELDS)],
        llms: [make(LLM_FIELDS)],
        phases: [make(PHASE_FIELDS)],
      });
      const snapshot = snapshotState(stateFromMetrics(doc));
      for (const [list, , table] of TABLES) {
        const source = doc[list][0] as unknown as Record<string, unknown>;
        const expected = fieldList(table)
          .filter((f) => !camelOmits(f, source[f.key]))
          .map((f) => f.key);
        expect(keysOf(snapshot[list][0])).toEqual(expected);
      }
    }
  });

  test("a negative unpriced_count is refused with its path, as the schema's minimum says", () => {
    const text = encodeMetrics(documentWith({ llms: [fullEntry(LLM_FIELDS)] })).replace(
      '"unpriced_count": 12',
      '"unpriced_count": -3',
    );
    expect(() => decodeMetrics(JSON.parse(text), "METRICS.json")).toThrow(
      "$.llms[0].unpriced_count: expected an integer ≥ 1, got -3",
    );
  });
});
