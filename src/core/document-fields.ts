/**
 * The fields of the METRICS.json document's entries, spelled once: camelCase key (in Go struct
 * order), Go's snake_case key, JSON kind and omission rules. `satisfies` makes the compiler check
 * each table against its interface in `types.ts`: a field added to one and not the other does
 * not compile. The decoder (`go-document.ts`) and the zod schema (`metrics-schema.ts`) are built
 * from the tables. The two hot paths of a flush, the encoder and the state's snapshot, are written
 * out field by field (a generic walker costs 2× and 8× there, past flush()'s budget), and
 * `test/core/document-fields.test.ts` holds them to the tables.
 *
 * The root object (id, timestamps, lists) has rules of its own and is written out where it is used.
 */
import type { EditStrategyMetrics, LLMMetrics, PhaseMetrics, ToolMetrics } from "./types.ts";

export type FieldKind = "string" | "int" | "float" | "bool";

export interface FieldSpec {
  readonly go: string;
  readonly kind: FieldKind;
  /**
   * When Go leaves the field out: `"empty"` is omitempty on a value (0, "", false are left out);
   * `"nil"` is omitempty on a pointer (left out when undefined; 0 is written).
   */
  readonly omit?: "empty" | "nil";
  /** Absent from the camelCase document whenever Go would leave it out of METRICS.json. */
  readonly optional?: true;
  /** Smallest value a present integer may have. */
  readonly min?: number;
}

type Fields<T> = { readonly [K in keyof Required<T>]: FieldSpec };

export const TOOL_FIELDS = {
  name: { go: "name", kind: "string" },
  callCount: { go: "call_count", kind: "int" },
  successCount: { go: "success_count", kind: "int" },
  failCount: { go: "fail_count", kind: "int" },
  totalDurationMs: { go: "total_duration_ms", kind: "int" },
  avgDurationMs: { go: "avg_duration_ms", kind: "float" },
} as const satisfies Fields<ToolMetrics>;

export const EDIT_STRATEGY_FIELDS = {
  strategy: { go: "strategy", kind: "string" },
  count: { go: "count", kind: "int" },
} as const satisfies Fields<EditStrategyMetrics>;

export const LLM_FIELDS = {
  phase: { go: "phase", kind: "string" },
  promptTokens: { go: "prompt_tokens", kind: "int" },
  completionTokens: { go: "completion_tokens", kind: "int" },
  totalTokens: { go: "total_tokens", kind: "int" },
  cost: { go: "cost", kind: "float" },
  interactionCount: { go: "interaction_count", kind: "int" },
  promptHash: { go: "prompt_hash", kind: "string", omit: "empty", optional: true },
  truncatedInput: { go: "truncated_input", kind: "bool", omit: "empty", optional: true },
  cacheReadTokens: { go: "cache_read_tokens", kind: "int", omit: "nil", optional: true },
  cacheWriteTokens: { go: "cache_write_tokens", kind: "int", omit: "nil", optional: true },
  reasoningTokens: { go: "reasoning_tokens", kind: "int", omit: "nil", optional: true },
  unpricedCount: { go: "unpriced_count", kind: "int", omit: "empty", optional: true, min: 1 },
} as const satisfies Fields<LLMMetrics>;

export const PHASE_FIELDS = {
  phase: { go: "phase", kind: "string" },
  durationMs: { go: "duration_ms", kind: "int" },
  transitionCount: { go: "transition_count", kind: "int" },
  healTriggerCount: { go: "heal_trigger_count", kind: "int" },
  healSuccessCount: { go: "heal_success_count", kind: "int" },
  healFailCount: { go: "heal_fail_count", kind: "int" },
  healDurationMs: { go: "heal_duration_ms", kind: "int", omit: "empty" },
  healLoopCount: { go: "heal_loop_count", kind: "int", omit: "empty" },
  bisectTriggerCount: { go: "bisect_trigger_count", kind: "int" },
  bisectSuccessCount: { go: "bisect_success_count", kind: "int" },
  bisectFailCount: { go: "bisect_fail_count", kind: "int" },
  success: { go: "success", kind: "bool" },
} as const satisfies Fields<PhaseMetrics>;

/** A field with its key, as the walkers use it. */
export interface Field extends FieldSpec {
  readonly key: string;
}

/** A table as a list, in Go struct order. */
export function fieldList(table: Readonly<Record<string, FieldSpec>>): readonly Field[] {
  return Object.entries(table).map(([key, spec]) => ({ key, ...spec }));
}

function isEmpty(value: unknown): boolean {
  return value === 0 || value === "" || value === false;
}

/** True when Go's METRICS.json leaves this value of the field out. */
export function goOmits(field: FieldSpec, value: unknown): boolean {
  return value === undefined || (field.omit === "empty" && isEmpty(value));
}

/** True when the camelCase document leaves this value of the field out. */
export function camelOmits(field: FieldSpec, value: unknown): boolean {
  if (field.optional === undefined) return false;
  return field.omit === "nil" ? value === undefined : value === undefined || isEmpty(value);
}
