/**
 * The METRICS.json codec, byte-compatible with Go's `json.MarshalIndent(m, "", "  ")` of the M31A
 * `SessionMetrics` struct: keys in struct order, snake_case, Go's omitempty rules, Go 1.22+ string
 * escaping, floats in shortest round-trip form with Go's exponent rules, no trailing newline.
 *
 * Decoding accepts anything Go's collector can write and refuses only what cannot be represented
 * exactly (integer fields beyond 2^53−1, `null` lists) or is malformed, with the JSON path.
 */
import { ParseError, SchemaError } from "../errors.ts";
import {
  camelOmits,
  EDIT_STRATEGY_FIELDS,
  type Field,
  fieldList,
  LLM_FIELDS,
  PHASE_FIELDS,
  TOOL_FIELDS,
} from "./document-fields.ts";
import type { EditStrategyMetrics, LLMMetrics, PhaseMetrics, SessionMetrics, ToolMetrics } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// Encoding

const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;
const HEX = "0123456789abcdef";

/** A JSON string literal exactly as Go's encoding/json (1.22+) writes it. */
export function goString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) {
      if (c === 0x08) rep = "\\b";
      else if (c === 0x0c) rep = "\\f";
      else if (c === 0x0a) rep = "\\n";
      else if (c === 0x0d) rep = "\\r";
      else if (c === 0x09) rep = "\\t";
      else rep = `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = "\\\\";
    else if (c === 0x3c) rep = "\\u003c";
    else if (c === 0x3e) rep = "\\u003e";
    else if (c === 0x26) rep = "\\u0026";
    else if (c === 0x2028) rep = "\\u2028";
    else if (c === 0x2029) rep = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair: written as is
        continue;
      }
      rep = "\\ufffd"; // Go writes invalid UTF-8 (what a lone surrogate encodes to) as \ufffd
    }
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** A float64 as Go's encoding/json writes it ('f' or 'e' format, shortest round-trip, keeps -0). */
export function goFloat(f: number): string {
  if (!Number.isFinite(f)) throw new RangeError(`[session-metrics] Go's JSON cannot encode ${f}`);
  if (Object.is(f, -0)) return "-0";
  // JavaScript's Number#toString picks the same shortest digits and switches to exponent form at
  // the same bounds (|f| < 1e-6 or ≥ 1e21) with the same "e-7" / "e+21" spelling Go produces after
  // its exponent clean-up.
  return String(f);
}

/** An integer field (Go int/int64); -0 has no integer form and becomes 0. */
function goInt(n: number): string {
  return n === 0 ? "0" : String(n);
}

// The encoders are written out field by field rather than walking the tables of
// document-fields.ts: a flush of a 2,000-tool session runs on the event loop, and a generic walker
// doubles its encode time (0.55 → 1.2 ms), which alone would push flush() past its 3 ms budget.
// A test holds them to the tables (same keys, same order, same omissions).

const I2 = "\n    ";
const I3 = ",\n      ";

const SEPARATOR = `,${I2}`;

function list<T>(items: readonly T[], encode: (item: T) => string): string {
  if (items.length === 0) return "[]";
  const parts = new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) parts[i] = encode(items[i]!);
  return `[${I2}${parts.join(SEPARATOR)}\n  ]`;
}

function encodeTool(t: ToolMetrics): string {
  return (
    `{\n      "name": ${goString(t.name)}` +
    `${I3}"call_count": ${goInt(t.callCount)}` +
    `${I3}"success_count": ${goInt(t.successCount)}` +
    `${I3}"fail_count": ${goInt(t.failCount)}` +
    `${I3}"total_duration_ms": ${goInt(t.totalDurationMs)}` +
    `${I3}"avg_duration_ms": ${goFloat(t.avgDurationMs)}\n    }`
  );
}

function encodeStrategy(s: EditStrategyMetrics): string {
  return `{\n      "strategy": ${goString(s.strategy)}${I3}"count": ${goInt(s.count)}\n    }`;
}

function encodeLLM(l: LLMMetrics): string {
  let out =
    `{\n      "phase": ${goString(l.phase)}` +
    `${I3}"prompt_tokens": ${goInt(l.promptTokens)}` +
    `${I3}"completion_tokens": ${goInt(l.completionTokens)}` +
    `${I3}"total_tokens": ${goInt(l.totalTokens)}` +
    `${I3}"cost": ${goFloat(l.cost)}` +
    `${I3}"interaction_count": ${goInt(l.interactionCount)}`;
  if (l.promptHash) out += `${I3}"prompt_hash": ${goString(l.promptHash)}`;
  if (l.truncatedInput) out += `${I3}"truncated_input": true`;
  if (l.cacheReadTokens !== undefined) out += `${I3}"cache_read_tokens": ${goInt(l.cacheReadTokens)}`;
  if (l.cacheWriteTokens !== undefined) out += `${I3}"cache_write_tokens": ${goInt(l.cacheWriteTokens)}`;
  if (l.reasoningTokens !== undefined) out += `${I3}"reasoning_tokens": ${goInt(l.reasoningTokens)}`;
  if (l.unpricedCount) out += `${I3}"unpriced_count": ${goInt(l.unpricedCount)}`;
  return `${out}\n    }`;
}

function encodePhase(p: PhaseMetrics): string {
  let out =
    `{\n      "phase": ${goString(p.phase)}` +
    `${I3}"duration_ms": ${goInt(p.durationMs)}` +
    `${I3}"transition_count": ${goInt(p.transitionCount)}` +
    `${I3}"heal_trigger_count": ${goInt(p.healTriggerCount)}` +
    `${I3}"heal_success_count": ${goInt(p.healSuccessCount)}` +
    `${I3}"heal_fail_count": ${goInt(p.healFailCount)}`;
  if (p.healDurationMs) out += `${I3}"heal_duration_ms": ${goInt(p.healDurationMs)}`;
  if (p.healLoopCount) out += `${I3}"heal_loop_count": ${goInt(p.healLoopCount)}`;
  return (
    out +
    `${I3}"bisect_trigger_count": ${goInt(p.bisectTriggerCount)}` +
    `${I3}"bisect_success_count": ${goInt(p.bisectSuccessCount)}` +
    `${I3}"bisect_fail_count": ${goInt(p.bisectFailCount)}` +
    `${I3}"success": ${p.success ? "true" : "false"}\n    }`
  );
}

/** Encodes a session document exactly as the Go collector writes METRICS.json. */
export function encodeMetrics(m: SessionMetrics): string {
  let out =
    `{\n  "session_id": ${goString(m.sessionId)}` +
    `,\n  "started_at": ${goString(m.startedAt)}` +
    `,\n  "updated_at": ${goString(m.updatedAt)}` +
    `,\n  "tools": ${list(m.tools, encodeTool)}`;
  if (m.editStrategies.length > 0) out += `,\n  "edit_strategies": ${list(m.editStrategies, encodeStrategy)}`;
  out += `,\n  "llms": ${list(m.llms, encodeLLM)},\n  "phases": ${list(m.phases, encodePhase)}`;
  if (m.droppedRecords) out += `,\n  "dropped_records": ${goInt(m.droppedRecords)}`;
  if (m.unpricedModels?.length)
    out += `,\n  "unpriced_models": [${m.unpricedModels.map((u) => `\n    ${goString(u)}`).join(",")}\n  ]`;
  return `${out}\n}`;
}

// ---------------------------------------------------------------------------------------------
// Decoding

const TOOLS = fieldList(TOOL_FIELDS);
const STRATEGIES = fieldList(EDIT_STRATEGY_FIELDS);
const LLMS = fieldList(LLM_FIELDS);
const PHASES = fieldList(PHASE_FIELDS);

/** An integer literal too large for a double to hold exactly; kept as its source text. */
class UnsafeIntegerLiteral {
  constructor(readonly source: string) {}
}

const INTEGER_LITERAL = /^-?\d+$/;

function reviveNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    const source = context?.source;
    if (source !== undefined && INTEGER_LITERAL.test(source)) return new UnsafeIntegerLiteral(source);
  }
  return value;
}

/** A JSON Pointer-ish path for messages: `$.tools[2].call_count`. */
type Path = string;

class Reader {
  constructor(readonly file: string) {}

  fail(path: Path, message: string): never {
    throw new SchemaError(this.file, path, message);
  }

  object(value: unknown, path: Path): Record<string, unknown> {
    if (
      typeof value !== "object" ||
      value === null ||
      Array.isArray(value) ||
      value instanceof UnsafeIntegerLiteral
    )
      this.fail(path, `expected an object, got ${describe(value)}`);
    return value as Record<string, unknown>;
  }

  list(obj: Record<string, unknown>, key: string, path: Path, omitEmpty = false): unknown[] {
    const value = own(obj, key);
    if (value === undefined && omitEmpty) return [];
    if (value === undefined)
      this.fail(`${path}.${key}`, "missing (Go writes every list; a missing one re-saves as null)");
    if (value === null)
      this.fail(
        `${path}.${key}`,
        "null list: Go would keep it as nil, which this library cannot tell from []",
      );
    if (!Array.isArray(value)) this.fail(`${path}.${key}`, `expected an array, got ${describe(value)}`);
    return value;
  }

  string(obj: Record<string, unknown>, key: string, path: Path, required = false): string {
    const value = own(obj, key);
    if (value === undefined) {
      if (required) this.fail(`${path}.${key}`, "missing");
      return "";
    }
    if (typeof value !== "string") this.fail(`${path}.${key}`, `expected a string, got ${describe(value)}`);
    return goText(value);
  }

  int(obj: Record<string, unknown>, key: string, path: Path): number {
    const value = own(obj, key);
    if (value === undefined) return 0;
    if (value instanceof UnsafeIntegerLiteral)
      this.fail(`${path}.${key}`, `integer ${value.source} is beyond 2^53−1 and cannot be held exactly`);
    if (typeof value !== "number" || !Number.isInteger(value))
      this.fail(`${path}.${key}`, `expected an integer, got ${describe(value)}`);
    if (!Number.isSafeInteger(value)) this.fail(`${path}.${key}`, `integer ${value} is beyond 2^53−1`);
    return value === 0 ? 0 : value;
  }

  optionalInt(obj: Record<string, unknown>, key: string, path: Path): number | undefined {
    return own(obj, key) === undefined ? undefined : this.int(obj, key, path);
  }

  float(obj: Record<string, unknown>, key: string, path: Path): number {
    const value = own(obj, key);
    if (value === undefined) return 0;
    if (value instanceof UnsafeIntegerLiteral) {
      // A float field may hold a large integer literal (Go writes 1e21 and up that way), but one
      // past float64's range would load as Infinity, which no later flush can write.
      const f = Number(value.source);
      if (!Number.isFinite(f)) {
        const text =
          value.source.length > 40
            ? `${value.source.slice(0, 24)}… (${value.source.length} digits)`
            : value.source;
        this.fail(`${path}.${key}`, `${text} is out of float64 range`);
      }
      return f;
    }
    if (typeof value !== "number") this.fail(`${path}.${key}`, `expected a number, got ${describe(value)}`);
    if (!Number.isFinite(value)) this.fail(`${path}.${key}`, `${value} is out of float64 range`);
    return value;
  }

  bool(obj: Record<string, unknown>, key: string, path: Path): boolean {
    const value = own(obj, key);
    if (value === undefined) return false;
    if (typeof value !== "boolean") this.fail(`${path}.${key}`, `expected a boolean, got ${describe(value)}`);
    return value;
  }

  /** A list entry: every field of the table, read by its kind, left out as the camelCase shape omits it. */
  entry<T>(item: unknown, path: Path, fields: readonly Field[]): T {
    const obj = this.object(item, path);
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const value = this.field(obj, f, path);
      if (camelOmits(f, value)) continue;
      if (f.min !== undefined && (value as number) < f.min)
        this.fail(`${path}.${f.go}`, `expected an integer ≥ ${f.min}, got ${value}`);
      out[f.key] = value;
    }
    return out as T;
  }

  field(obj: Record<string, unknown>, f: Field, path: Path): unknown {
    switch (f.kind) {
      case "string":
        return this.string(obj, f.go, path);
      case "int":
        return f.omit === "nil" ? this.optionalInt(obj, f.go, path) : this.int(obj, f.go, path);
      case "float":
        return this.float(obj, f.go, path);
      case "bool":
        return this.bool(obj, f.go, path);
    }
  }

  timestamp(obj: Record<string, unknown>, key: string, path: Path): string {
    const value = this.string(obj, key, path, true);
    if (!RFC3339.test(value) || Number.isNaN(Date.parse(value)))
      this.fail(`${path}.${key}`, `expected an RFC 3339 timestamp, got ${JSON.stringify(value)}`);
    return value;
  }
}

export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A string as Go's decoder reads it: a lone surrogate escape (`"\ud800"`) becomes U+FFFD. Kept
 * as it was, it would re-save as `\ufffd` but load back as U+FFFD (so the document never settles),
 * and the stores refuse lone surrogates.
 */
function goText(value: string): string {
  return value.isWellFormed() ? value : value.toWellFormed();
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof UnsafeIntegerLiteral) return value.source;
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `a string`;
  return `${typeof value} ${String(value)}`;
}

/** Parses JSON text; a syntax error is a `ParseError` naming `file`. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text, reviveNumbers as (key: string, value: unknown) => unknown);
  } catch (error) {
    throw new ParseError(file, `malformed JSON (${(error as Error).message})`, { cause: error });
  }
}

/** Validates a parsed METRICS.json value into the camelCase shape. */
export function decodeMetrics(value: unknown, file: string): SessionMetrics {
  const r = new Reader(file);
  const root = r.object(value, "$");
  const tools = r
    .list(root, "tools", "$")
    .map((item, i) => r.entry<ToolMetrics>(item, `$.tools[${i}]`, TOOLS));
  const editStrategies = r
    .list(root, "edit_strategies", "$", true)
    .map((item, i) => r.entry<EditStrategyMetrics>(item, `$.edit_strategies[${i}]`, STRATEGIES));
  const llms = r.list(root, "llms", "$").map((item, i) => r.entry<LLMMetrics>(item, `$.llms[${i}]`, LLMS));
  const phases = r
    .list(root, "phases", "$")
    .map((item, i) => r.entry<PhaseMetrics>(item, `$.phases[${i}]`, PHASES));
  const metrics: SessionMetrics = {
    sessionId: r.string(root, "session_id", "$", true),
    startedAt: r.timestamp(root, "started_at", "$"),
    updatedAt: r.timestamp(root, "updated_at", "$"),
    tools,
    editStrategies,
    llms,
    phases,
  };
  const dropped = r.int(root, "dropped_records", "$");
  if (dropped < 0) r.fail("$.dropped_records", `expected a count ≥ 0, got ${dropped}`);
  if (dropped > 0) metrics.droppedRecords = dropped;
  const unpriced = r.list(root, "unpriced_models", "$", true).map((item, i) => {
    if (typeof item !== "string")
      r.fail(`$.unpriced_models[${i}]`, `expected a string, got ${describe(item)}`);
    return goText(item as string);
  });
  if (unpriced.length > 0) metrics.unpricedModels = unpriced;
  return metrics;
}
