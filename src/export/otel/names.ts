/**
 * The one mapping table of the OpenTelemetry export: every span, attribute, event and metric
 * name it emits is spelled here and imported everywhere else (the README lists the same table).
 *
 * GenAI names come from the OpenTelemetry GenAI semantic conventions ({@link SEMCONV_SOURCE}),
 * which are in development status: a rename upstream is a change here, and only here. Names
 * the conventions do not define (phases, heal/bisect, cost counters) live in `session_metrics.*`,
 * so they can never collide with a future convention.
 */

/** Where the `gen_ai.*` names below were copied from. */
export const SEMCONV_SOURCE =
  "OpenTelemetry semantic conventions 1.42.0, GenAI (development; open-telemetry/semantic-conventions-genai)";

/** The instrumentation scope of every tracer and meter this library creates. */
export const SCOPE_NAME = "session-metrics";

/** `gen_ai.operation.name` values, which are also the first word of each span's name. */
export const OPERATION = {
  workflow: "invoke_workflow",
  agent: "invoke_agent",
  chat: "chat",
  tool: "execute_tool",
} as const;

/** Our own span for a workflow phase: `phase {phase}`. */
export const PHASE_SPAN = "phase";

export const ATTR = {
  // GenAI semantic conventions
  operationName: "gen_ai.operation.name",
  conversationId: "gen_ai.conversation.id",
  workflowName: "gen_ai.workflow.name",
  agentName: "gen_ai.agent.name",
  providerName: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  responseModel: "gen_ai.response.model",
  messageCount: "gen_ai.request.message_count",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  totalTokens: "gen_ai.usage.total_tokens",
  cacheReadTokens: "gen_ai.usage.cache_read.input_tokens",
  cacheWriteTokens: "gen_ai.usage.cache_creation.input_tokens",
  reasoningTokens: "gen_ai.usage.reasoning.output_tokens",
  /** Not in the conventions: the attribute Langfuse reads for cost (USD). */
  cost: "gen_ai.usage.cost",
  timeToFirstChunk: "gen_ai.response.time_to_first_chunk",
  finishReasons: "gen_ai.response.finish_reasons",
  tokenType: "gen_ai.token.type",
  toolName: "gen_ai.tool.name",
  toolCallId: "gen_ai.tool.call.id",
  toolArguments: "gen_ai.tool.arguments",
  streamTokensSoFar: "gen_ai.stream.tokens_so_far",
  errorType: "error.type",
  retryAttempt: "retry.attempt",
  retryReason: "retry.reason",
  retryDelayMs: "retry.delay_ms",
  httpStatusCode: "http.response.status_code",
  // Ours
  phase: "session_metrics.phase",
  phaseSuccess: "session_metrics.phase.success",
  turnId: "session_metrics.turn.id",
  stepIndex: "session_metrics.step.index",
  taskId: "session_metrics.task.id",
  attempt: "session_metrics.attempt",
  outcome: "session_metrics.outcome",
  promptHash: "session_metrics.prompt.hash",
  promptTruncated: "session_metrics.prompt.truncated",
  unpriced: "session_metrics.cost.unpriced",
  streamOutcome: "session_metrics.stream.outcome",
  streamChunks: "session_metrics.stream.chunks",
  invocationId: "session_metrics.invocation.id",
  invocationTokens: "session_metrics.invocation.tokens",
  invocationCost: "session_metrics.invocation.cost",
  exitCode: "session_metrics.invocation.exit_code",
  strategy: "session_metrics.edit_strategy",
  healDurationMs: "session_metrics.heal.duration_ms",
  lostEvents: "session_metrics.lost.count",
  method: "session_metrics.method",
} as const;

/** `error.type` when a failure has no class of its own (the conventions' fallback value). */
export const ERROR_OTHER = "_OTHER";

export const EVENT = {
  // autotel's GenAI span events
  promptSent: "gen_ai.prompt.sent",
  responseReceived: "gen_ai.response.received",
  retry: "gen_ai.retry",
  toolCall: "gen_ai.tool.call",
  streamFirstToken: "gen_ai.stream.first_token",
  // Ours, on phase spans
  healTrigger: "session_metrics.heal.trigger",
  healSuccess: "session_metrics.heal.success",
  healFail: "session_metrics.heal.fail",
  healLoop: "session_metrics.heal.loop",
  healDuration: "session_metrics.heal.duration",
  bisectTrigger: "session_metrics.bisect.trigger",
  bisectSuccess: "session_metrics.bisect.success",
  bisectFail: "session_metrics.bisect.fail",
  editStrategy: "session_metrics.edit_strategy",
  lost: "session_metrics.lost",
} as const;

export interface MetricSpec {
  name: string;
  kind: "histogram" | "counter";
  unit: string;
  description: string;
  /** The conventions' recommended explicit bucket boundaries (histograms). */
  buckets?: readonly number[];
}

const SECONDS_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const WORKFLOW_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

const histogram = (name: string, unit: string, description: string, buckets: readonly number[]) =>
  ({ name, kind: "histogram", unit, description, buckets }) as const satisfies MetricSpec;
const counter = (name: string, unit: string, description: string) =>
  ({ name, kind: "counter", unit, description }) as const satisfies MetricSpec;

export const METRIC = {
  // GenAI semantic conventions (all histograms, with the recommended buckets)
  tokenUsage: histogram(
    "gen_ai.client.token.usage",
    "{token}",
    "Number of input and output tokens used.",
    TOKEN_BUCKETS,
  ),
  operationDuration: histogram(
    "gen_ai.client.operation.duration",
    "s",
    "GenAI operation duration.",
    SECONDS_BUCKETS,
  ),
  timeToFirstChunk: histogram(
    "gen_ai.client.operation.time_to_first_chunk",
    "s",
    "Time to receive the first chunk of a streamed response.",
    SECONDS_BUCKETS,
  ),
  toolDuration: histogram(
    "gen_ai.execute_tool.duration",
    "s",
    "The duration of a single tool execution.",
    SECONDS_BUCKETS,
  ),
  workflowDuration: histogram("gen_ai.workflow.duration", "s", "GenAI workflow duration.", WORKFLOW_BUCKETS),
  // Ours: also what a session recorded without a journal (a Go session) can give
  phaseDuration: histogram(
    "session_metrics.phase.duration",
    "s",
    "Duration of a workflow phase.",
    WORKFLOW_BUCKETS,
  ),
  toolCalls: counter("session_metrics.tool.calls", "{call}", "Tool calls, by outcome."),
  toolTime: counter("session_metrics.tool.time", "s", "Total time spent in tool calls."),
  llmTokens: counter(
    "session_metrics.llm.tokens",
    "{token}",
    "LLM tokens by phase and type (input includes cache).",
  ),
  llmCost: counter("session_metrics.llm.cost", "USD", "LLM cost in US dollars."),
  llmInteractions: counter("session_metrics.llm.interactions", "{interaction}", "LLM interactions."),
  phaseTransitions: counter("session_metrics.phase.transitions", "{transition}", "Phase transitions."),
  healTriggers: counter("session_metrics.heal.triggers", "{trigger}", "Heal triggers."),
  healOutcomes: counter("session_metrics.heal.outcomes", "{outcome}", "Heal outcomes (success or failure)."),
  healLoops: counter("session_metrics.heal.loops", "{loop}", "Heal loops."),
  healTime: counter("session_metrics.heal.time", "s", "Total time spent healing."),
  bisectTriggers: counter("session_metrics.bisect.triggers", "{trigger}", "Bisect triggers."),
  bisectOutcomes: counter(
    "session_metrics.bisect.outcomes",
    "{outcome}",
    "Bisect outcomes (success or failure).",
  ),
  droppedRecords: counter("session_metrics.dropped_records", "{record}", "Records rejected by validation."),
} as const;

export type MetricKey = keyof typeof METRIC;

/** `gen_ai.token.type` values and our extra token kinds (`session_metrics.llm.tokens`). */
export const TOKEN_TYPE = {
  input: "input",
  output: "output",
  cacheRead: "cache_read",
  cacheWrite: "cache_write",
  reasoning: "reasoning",
} as const;

/** `session_metrics.outcome` values. */
export const OUTCOME = { success: "success", failure: "failure" } as const;
