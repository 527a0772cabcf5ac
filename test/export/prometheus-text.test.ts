/**
 * `toPrometheusText`: exact text (golden), label escaping, sums across sessions, the series cap;
 * every output also passes the real `promtool check metrics`.
 */
import { describe, expect, test } from "bun:test";
import type { SessionMetrics } from "../../src/core/types.ts";
import { FAMILY, toPrometheusText } from "../../src/export/prometheus.ts";
import { promtoolCheck } from "./promtool.ts";

function session(sessionId: string, over: Partial<SessionMetrics> = {}): SessionMetrics {
  return {
    sessionId,
    startedAt: "2026-03-01T10:00:00.000Z",
    updatedAt: "2026-03-01T10:05:00.500Z",
    tools: [
      {
        name: "Read",
        callCount: 3,
        successCount: 2,
        failCount: 1,
        totalDurationMs: 1500,
        avgDurationMs: 500,
      },
      { name: "Edit", callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 25, avgDurationMs: 25 },
    ],
    editStrategies: [{ strategy: "exact_match", count: 2 }],
    llms: [
      {
        phase: "plan",
        promptTokens: 1000,
        completionTokens: 200,
        totalTokens: 1200,
        cost: 0.015,
        interactionCount: 2,
        cacheReadTokens: 600,
        unpricedCount: 1,
      },
    ],
    phases: [
      {
        phase: "plan",
        durationMs: 65000,
        transitionCount: 1,
        healTriggerCount: 1,
        healSuccessCount: 1,
        healFailCount: 0,
        healDurationMs: 2500,
        healLoopCount: 0,
        bisectTriggerCount: 2,
        bisectSuccessCount: 0,
        bisectFailCount: 1,
        success: true,
      },
    ],
    droppedRecords: 2,
    ...over,
  };
}

/** The text, after checking it with promtool (no error, no lint problem) when it is there. */
function checked(text: string): string {
  const check = promtoolCheck(text);
  if (check !== "skipped") expect(check).toEqual({ code: 0, output: "" });
  return text;
}

const lines = (text: string, family: string) =>
  text.split("\n").filter((l) => l.startsWith(`${family}{`) || l === family || l.startsWith(`${family} `));

describe("toPrometheusText", () => {
  test("writes one session exactly: HELP/TYPE, base units, _total counters, absent kinds left out", () => {
    expect(checked(toPrometheusText(session("s1")))).toBe(GOLDEN);
  });

  test("escapes backslashes, quotes and newlines in label values", () => {
    const text = checked(
      toPrometheusText(
        session("s1", {
          tools: [
            {
              name: 'say "hi"\\\nbye',
              callCount: 1,
              successCount: 1,
              failCount: 0,
              totalDurationMs: 1,
              avgDurationMs: 1,
            },
          ],
        }),
      ),
    );
    expect(lines(text, "session_metrics_tool_calls_total")).toEqual([
      'session_metrics_tool_calls_total{session_id="s1",tool="say \\"hi\\"\\\\\\nbye",outcome="success"} 1',
      'session_metrics_tool_calls_total{session_id="s1",tool="say \\"hi\\"\\\\\\nbye",outcome="failure"} 0',
    ]);
  });

  test("keeps sessions apart by session_id, or sums across them with includeSessionId: false", () => {
    const two = [session("a"), session("b")];
    const apart = checked(toPrometheusText(two));
    expect(lines(apart, "session_metrics_llm_tokens_total")).toEqual([
      'session_metrics_llm_tokens_total{session_id="a",phase="plan",type="input"} 1000',
      'session_metrics_llm_tokens_total{session_id="a",phase="plan",type="output"} 200',
      'session_metrics_llm_tokens_total{session_id="a",phase="plan",type="cache_read"} 600',
      'session_metrics_llm_tokens_total{session_id="b",phase="plan",type="input"} 1000',
      'session_metrics_llm_tokens_total{session_id="b",phase="plan",type="output"} 200',
      'session_metrics_llm_tokens_total{session_id="b",phase="plan",type="cache_read"} 600',
    ]);
    const fleet = checked(toPrometheusText(two, { includeSessionId: false }));
    expect(fleet).not.toContain("session_id");
    expect(fleet).not.toContain("timestamp_seconds");
    expect(lines(fleet, "session_metrics_sessions")).toEqual(["session_metrics_sessions 2"]);
    expect(lines(fleet, "session_metrics_tool_calls_total")).toEqual([
      'session_metrics_tool_calls_total{tool="Read",outcome="success"} 4',
      'session_metrics_tool_calls_total{tool="Read",outcome="failure"} 2',
      'session_metrics_tool_calls_total{tool="Edit",outcome="success"} 2',
      'session_metrics_tool_calls_total{tool="Edit",outcome="failure"} 0',
    ]);
    expect(lines(fleet, "session_metrics_tool_duration_seconds_total")).toEqual([
      'session_metrics_tool_duration_seconds_total{tool="Read"} 3',
      'session_metrics_tool_duration_seconds_total{tool="Edit"} 0.05',
    ]);
    expect(lines(fleet, "session_metrics_llm_cost_usd_total")).toEqual([
      'session_metrics_llm_cost_usd_total{phase="plan"} 0.03',
    ]);
    expect(lines(fleet, "session_metrics_dropped_records_total")).toEqual([
      "session_metrics_dropped_records_total 4",
    ]);
  });

  test("folds the series past maxSeries into other, keeping fixed labels, and says so", () => {
    const tools = Array.from({ length: 5 }, (_, i) => ({
      name: `tool-${i}`,
      callCount: 2,
      successCount: 1,
      failCount: 1,
      totalDurationMs: 100,
      avgDurationMs: 50,
    }));
    const text = checked(toPrometheusText(session("s1", { tools }), { maxSeries: 4 }));
    expect(text).toContain(
      '# session_metrics_tool_calls_total: 6 series past maxSeries (4) folded into label value "other"\n',
    );
    expect(lines(text, "session_metrics_tool_calls_total")).toEqual([
      'session_metrics_tool_calls_total{session_id="s1",tool="tool-0",outcome="success"} 1',
      'session_metrics_tool_calls_total{session_id="s1",tool="tool-0",outcome="failure"} 1',
      'session_metrics_tool_calls_total{session_id="s1",tool="tool-1",outcome="success"} 1',
      'session_metrics_tool_calls_total{session_id="s1",tool="tool-1",outcome="failure"} 1',
      'session_metrics_tool_calls_total{session_id="other",tool="other",outcome="success"} 3',
      'session_metrics_tool_calls_total{session_id="other",tool="other",outcome="failure"} 3',
    ]);
    expect(lines(text, "session_metrics_tool_duration_seconds_total")).toEqual([
      'session_metrics_tool_duration_seconds_total{session_id="s1",tool="tool-0"} 0.1',
      'session_metrics_tool_duration_seconds_total{session_id="s1",tool="tool-1"} 0.1',
      'session_metrics_tool_duration_seconds_total{session_id="s1",tool="tool-2"} 0.1',
      'session_metrics_tool_duration_seconds_total{session_id="s1",tool="tool-3"} 0.1',
      'session_metrics_tool_duration_seconds_total{session_id="other",tool="other"} 0.1',
    ]);
  });

  test("adds up a session given twice and a name repeated in a document, as one series each", () => {
    const doubled = session("s1", {
      tools: [
        { name: "Read", callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 10, avgDurationMs: 10 },
        { name: "Read", callCount: 1, successCount: 1, failCount: 0, totalDurationMs: 20, avgDurationMs: 20 },
      ],
    });
    const text = checked(toPrometheusText([doubled, session("s1")]));
    expect(lines(text, "session_metrics_tool_calls_total")).toEqual([
      'session_metrics_tool_calls_total{session_id="s1",tool="Read",outcome="success"} 4',
      'session_metrics_tool_calls_total{session_id="s1",tool="Read",outcome="failure"} 1',
      'session_metrics_tool_calls_total{session_id="s1",tool="Edit",outcome="success"} 1',
      'session_metrics_tool_calls_total{session_id="s1",tool="Edit",outcome="failure"} 0',
    ]);
    expect(lines(text, "session_metrics_sessions")).toEqual(["session_metrics_sessions 1"]);
  });

  test("adds a folded series into a kept one whose labels already read other", () => {
    const tool = (name: string) => ({
      name,
      callCount: 1,
      successCount: 1,
      failCount: 0,
      totalDurationMs: 1,
      avgDurationMs: 1,
    });
    const text = checked(
      toPrometheusText(session("other", { tools: [tool("other"), tool("x"), tool("y")] }), { maxSeries: 1 }),
    );
    expect(lines(text, "session_metrics_tool_duration_seconds_total")).toEqual([
      'session_metrics_tool_duration_seconds_total{session_id="other",tool="other"} 0.003',
    ]);
  });

  test("caps at 10,000 series per family by default", () => {
    const tools = Array.from({ length: 6_000 }, (_, i) => ({
      name: `t${i}`,
      callCount: 1,
      successCount: 1,
      failCount: 0,
      totalDurationMs: 1,
      avgDurationMs: 1,
    }));
    const text = checked(toPrometheusText(session("s1", { tools })));
    expect(lines(text, "session_metrics_tool_calls_total").length).toBe(10_002);
    expect(text).toContain("# session_metrics_tool_calls_total: 2000 series past maxSeries (10000)");
    expect(lines(text, "session_metrics_tool_duration_seconds_total").length).toBe(6_000);
  });

  test("writes an empty exposition for no session but the session count", () => {
    expect(checked(toPrometheusText([]))).toBe(
      "# HELP session_metrics_sessions Sessions in this exposition.\n# TYPE session_metrics_sessions gauge\nsession_metrics_sessions 0\n",
    );
  });

  test("names every family in one table, counters ending in _total", () => {
    for (const spec of Object.values(FAMILY))
      expect([spec.name, spec.type === "counter"]).toEqual([spec.name, spec.name.endsWith("_total")]);
  });
});

describe("toPrometheusText refuses", () => {
  test("what is not a session document, and a bad maxSeries", () => {
    expect(() => toPrometheusText({} as SessionMetrics)).toThrow(
      "[session-metrics] [prometheus] toPrometheusText takes a SessionMetrics (collector.snapshot(), load()) or an array of them, got a object",
    );
    expect(() => toPrometheusText([], { maxSeries: 0 })).toThrow(
      "[session-metrics] [prometheus] maxSeries must be a whole number ≥ 1, got 0",
    );
  });
});

const GOLDEN = `# HELP session_metrics_sessions Sessions in this exposition.
# TYPE session_metrics_sessions gauge
session_metrics_sessions 1
# HELP session_metrics_session_start_timestamp_seconds When the session started (Unix time).
# TYPE session_metrics_session_start_timestamp_seconds gauge
session_metrics_session_start_timestamp_seconds{session_id="s1"} 1772359200
# HELP session_metrics_session_update_timestamp_seconds When the session last recorded (Unix time).
# TYPE session_metrics_session_update_timestamp_seconds gauge
session_metrics_session_update_timestamp_seconds{session_id="s1"} 1772359500.5
# HELP session_metrics_tool_calls_total Tool calls, by outcome.
# TYPE session_metrics_tool_calls_total counter
session_metrics_tool_calls_total{session_id="s1",tool="Read",outcome="success"} 2
session_metrics_tool_calls_total{session_id="s1",tool="Read",outcome="failure"} 1
session_metrics_tool_calls_total{session_id="s1",tool="Edit",outcome="success"} 1
session_metrics_tool_calls_total{session_id="s1",tool="Edit",outcome="failure"} 0
# HELP session_metrics_tool_duration_seconds_total Time spent in tool calls.
# TYPE session_metrics_tool_duration_seconds_total counter
session_metrics_tool_duration_seconds_total{session_id="s1",tool="Read"} 1.5
session_metrics_tool_duration_seconds_total{session_id="s1",tool="Edit"} 0.025
# HELP session_metrics_llm_tokens_total LLM tokens by phase and type; input includes cache reads and writes, output includes reasoning.
# TYPE session_metrics_llm_tokens_total counter
session_metrics_llm_tokens_total{session_id="s1",phase="plan",type="input"} 1000
session_metrics_llm_tokens_total{session_id="s1",phase="plan",type="output"} 200
session_metrics_llm_tokens_total{session_id="s1",phase="plan",type="cache_read"} 600
# HELP session_metrics_llm_cost_usd_total LLM cost in US dollars.
# TYPE session_metrics_llm_cost_usd_total counter
session_metrics_llm_cost_usd_total{session_id="s1",phase="plan"} 0.015
# HELP session_metrics_llm_interactions_total LLM interactions.
# TYPE session_metrics_llm_interactions_total counter
session_metrics_llm_interactions_total{session_id="s1",phase="plan"} 2
# HELP session_metrics_llm_unpriced_interactions_total LLM interactions that could not be priced (their cost is not in the cost total).
# TYPE session_metrics_llm_unpriced_interactions_total counter
session_metrics_llm_unpriced_interactions_total{session_id="s1",phase="plan"} 1
# HELP session_metrics_phase_duration_seconds Duration of the phase (last recorded).
# TYPE session_metrics_phase_duration_seconds gauge
session_metrics_phase_duration_seconds{session_id="s1",phase="plan"} 65
# HELP session_metrics_phase_success 1 when the phase last ended successfully, else 0.
# TYPE session_metrics_phase_success gauge
session_metrics_phase_success{session_id="s1",phase="plan"} 1
# HELP session_metrics_phase_transitions_total Transitions into the phase.
# TYPE session_metrics_phase_transitions_total counter
session_metrics_phase_transitions_total{session_id="s1",phase="plan"} 1
# HELP session_metrics_heal_triggers_total Heal triggers.
# TYPE session_metrics_heal_triggers_total counter
session_metrics_heal_triggers_total{session_id="s1",phase="plan"} 1
# HELP session_metrics_heal_outcomes_total Heal outcomes (success or failure).
# TYPE session_metrics_heal_outcomes_total counter
session_metrics_heal_outcomes_total{session_id="s1",phase="plan",outcome="success"} 1
session_metrics_heal_outcomes_total{session_id="s1",phase="plan",outcome="failure"} 0
# HELP session_metrics_heal_loops_total Heal loops.
# TYPE session_metrics_heal_loops_total counter
session_metrics_heal_loops_total{session_id="s1",phase="plan"} 0
# HELP session_metrics_heal_duration_seconds_total Time spent healing.
# TYPE session_metrics_heal_duration_seconds_total counter
session_metrics_heal_duration_seconds_total{session_id="s1",phase="plan"} 2.5
# HELP session_metrics_bisect_triggers_total Bisect triggers.
# TYPE session_metrics_bisect_triggers_total counter
session_metrics_bisect_triggers_total{session_id="s1",phase="plan"} 2
# HELP session_metrics_bisect_outcomes_total Bisect outcomes (success or failure).
# TYPE session_metrics_bisect_outcomes_total counter
session_metrics_bisect_outcomes_total{session_id="s1",phase="plan",outcome="success"} 0
session_metrics_bisect_outcomes_total{session_id="s1",phase="plan",outcome="failure"} 1
# HELP session_metrics_edit_strategies_total Edits, by strategy.
# TYPE session_metrics_edit_strategies_total counter
session_metrics_edit_strategies_total{session_id="s1",strategy="exact_match"} 2
# HELP session_metrics_dropped_records_total Records rejected by validation.
# TYPE session_metrics_dropped_records_total counter
session_metrics_dropped_records_total{session_id="s1"} 2
`;
