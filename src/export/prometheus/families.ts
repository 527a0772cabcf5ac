/**
 * The Prometheus metric families, in exposition order: the one place their names, types, help
 * texts and labels are spelled (the README lists the same table). Base units (seconds), `_total`
 * on counters. `session_id` comes first on every family when sessions are kept apart.
 */

export interface FamilySpec {
  name: string;
  type: "counter" | "gauge";
  help: string;
  /** Labels after `session_id`, in order. */
  labels: readonly string[];
  /**
   * Labels with a small fixed set of values (`outcome`, `type`): kept when the series cap folds a
   * series into `other`, so the folded totals keep their split.
   */
  fixed?: readonly string[];
  /** Only meaningful per session (a timestamp): left out when sessions are summed. */
  perSession?: true;
  /**
   * Values are added in milliseconds (whole numbers, so sums over sessions stay exact) and
   * divided into seconds when written.
   */
  fromMs?: true;
}

const counter = (name: string, help: string, labels: string[], fixed?: string[]): FamilySpec => ({
  name,
  type: "counter",
  help,
  labels,
  fixed,
});
const gauge = (name: string, help: string, labels: string[]): FamilySpec => ({
  name,
  type: "gauge",
  help,
  labels,
});

export const FAMILY = {
  sessions: gauge("session_metrics_sessions", "Sessions in this exposition.", []),
  started: {
    ...gauge("session_metrics_session_start_timestamp_seconds", "When the session started (Unix time).", []),
    perSession: true,
  },
  updated: {
    ...gauge(
      "session_metrics_session_update_timestamp_seconds",
      "When the session last recorded (Unix time).",
      [],
    ),
    perSession: true,
  },
  toolCalls: counter(
    "session_metrics_tool_calls_total",
    "Tool calls, by outcome.",
    ["tool", "outcome"],
    ["outcome"],
  ),
  toolSeconds: {
    ...counter("session_metrics_tool_duration_seconds_total", "Time spent in tool calls.", ["tool"]),
    fromMs: true,
  },
  llmTokens: counter(
    "session_metrics_llm_tokens_total",
    "LLM tokens by phase and type; input includes cache reads and writes, output includes reasoning.",
    ["phase", "type"],
    ["type"],
  ),
  llmCost: counter("session_metrics_llm_cost_usd_total", "LLM cost in US dollars.", ["phase"]),
  llmCalls: counter("session_metrics_llm_interactions_total", "LLM interactions.", ["phase"]),
  llmUnpriced: counter(
    "session_metrics_llm_unpriced_interactions_total",
    "LLM interactions that could not be priced (their cost is not in the cost total).",
    ["phase"],
  ),
  phaseSeconds: {
    ...gauge("session_metrics_phase_duration_seconds", "Duration of the phase (last recorded).", ["phase"]),
    fromMs: true,
  },
  phaseSuccess: gauge("session_metrics_phase_success", "1 when the phase last ended successfully, else 0.", [
    "phase",
  ]),
  transitions: counter("session_metrics_phase_transitions_total", "Transitions into the phase.", ["phase"]),
  healTriggers: counter("session_metrics_heal_triggers_total", "Heal triggers.", ["phase"]),
  healOutcomes: counter(
    "session_metrics_heal_outcomes_total",
    "Heal outcomes (success or failure).",
    ["phase", "outcome"],
    ["outcome"],
  ),
  healLoops: counter("session_metrics_heal_loops_total", "Heal loops.", ["phase"]),
  healSeconds: {
    ...counter("session_metrics_heal_duration_seconds_total", "Time spent healing.", ["phase"]),
    fromMs: true,
  },
  bisectTriggers: counter("session_metrics_bisect_triggers_total", "Bisect triggers.", ["phase"]),
  bisectOutcomes: counter(
    "session_metrics_bisect_outcomes_total",
    "Bisect outcomes (success or failure).",
    ["phase", "outcome"],
    ["outcome"],
  ),
  editStrategies: counter("session_metrics_edit_strategies_total", "Edits, by strategy.", ["strategy"]),
  dropped: counter("session_metrics_dropped_records_total", "Records rejected by validation.", []),
} as const satisfies Record<string, FamilySpec>;

export type FamilyKey = keyof typeof FAMILY;

/** The label value of the series a capped family folds the rest into. */
export const OTHER = "other";
