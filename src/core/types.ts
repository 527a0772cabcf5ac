/**
 * The public data shapes. `SessionMetrics` is the camelCase TypeScript view of the Go
 * `METRICS.json` document; fields the Go version lacks are optional and omitted when absent.
 */

/** Token usage of one LLM call. Input includes cache reads/writes; output includes reasoning. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Defaults to `promptTokens + completionTokens`. */
  totalTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

/** Optional context for a tool call or an LLM interaction; feeds invocation analytics. */
export interface RecordDetails {
  agent?: string;
  taskId?: string;
  model?: string;
  /** When the call started (ISO 8601 or a Date); defaults to `now - durationMs`. */
  startedAt?: string | Date;
  /** 1 = first try. */
  attempt?: number;
  /** Why the call failed (`rate_limit`, `timeout`, ...). */
  errorClass?: string;
  /** The provider that served the call (`openai`, `anthropic`, `aws`, ...): a hint for pricing. */
  provider?: string;
  /**
   * Free-form context kept with the event in the journal (not aggregated): string, finite
   * number or boolean values, at most 1 MiB as JSON.
   */
  attributes?: Record<string, string | number | boolean>;
}

export interface ToolMetrics {
  name: string;
  callCount: number;
  successCount: number;
  failCount: number;
  totalDurationMs: number;
  avgDurationMs: number;
}

export interface EditStrategyMetrics {
  strategy: string;
  count: number;
}

export interface LLMMetrics {
  phase: string;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number;
  interactionCount: number;
  /** First non-empty prompt hash seen for the phase. */
  promptHash?: string;
  /** Sticky: true once any interaction of the phase had truncated input. */
  truncatedInput?: boolean;
  /** Absent when no interaction of the phase reported it (distinct from 0). */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
  /** Interactions whose cost was neither given nor found in the price table (their cost is not in `cost`). */
  unpricedCount?: number;
}

export interface PhaseMetrics {
  phase: string;
  /** Last write wins. */
  durationMs: number;
  transitionCount: number;
  healTriggerCount: number;
  healSuccessCount: number;
  healFailCount: number;
  /** Additive. */
  healDurationMs: number;
  healLoopCount: number;
  bisectTriggerCount: number;
  bisectSuccessCount: number;
  bisectFailCount: number;
  /** Last write wins. */
  success: boolean;
}

export interface SessionMetrics {
  sessionId: string;
  /** RFC 3339. Written by this library as UTC with milliseconds; read ones are kept verbatim. */
  startedAt: string;
  updatedAt: string;
  tools: ToolMetrics[];
  editStrategies: EditStrategyMetrics[];
  llms: LLMMetrics[];
  phases: PhaseMetrics[];
  /** Records rejected by validation (or made after stop). Absent when zero. */
  droppedRecords?: number;
  /** Models (or `"(no model)"`) of interactions that could not be priced, first-seen order. Absent when none. */
  unpricedModels?: string[];
}

/** How a streamed generation went, as measured by `timeStream`. */
export interface StreamStats {
  /** Chunks the consumer received. */
  chunks: number;
  /** Inter-chunk gaps (ms), nearest-rank percentiles; absent with fewer than two chunks. */
  interChunkP50Ms?: number;
  interChunkP90Ms?: number;
  /** Output tokens per second of decode time; absent when unknown. */
  outputTokensPerSecond?: number;
  /** `completed`: ran to its end; `break`: the consumer stopped early; `error`: the stream threw; `abort`: it was aborted. */
  outcome: "completed" | "break" | "error" | "abort";
}

/** One model call inside a turn. `stepId` is `<turnId>#<stepIndex>` (0-based). */
export interface StepMetrics {
  stepId: string;
  /** Sum of the usage reports the step received; absent when none (not zeros). */
  usage?: Usage;
  /** Step start → first content token (text or reasoning). */
  ttftMs?: number;
  /** First token → end of generation. */
  decodeMs?: number;
  /** Step start → end of generation. */
  genTotalMs?: number;
  model?: string;
  errorClass?: string;
  stream?: StreamStats;
}

/** One conversational turn: its steps in order, and usage summed over the steps that reported it. */
export interface TurnMetrics {
  turnId: string;
  phase: string;
  usage?: Usage;
  durationMs?: number;
  steps: StepMetrics[];
}

/**
 * What stream timers and provider instrumentation need from a step (implemented by the
 * collector's steps). Times are taken when each method is called.
 */
export interface StepRecorder {
  readonly stepId: string;
  /** Marks the first content token; only the first call counts. */
  firstToken(): void;
  /** Marks the end of generation (the stream's end); `end()` then uses it for timing. */
  generationEnd(): void;
  /** Adds a usage report (several add up). */
  reportUsage(usage: Usage): void;
  setModel(model: string): void;
  /** Marks the step as failed with an error class (`rate_limit`, `provider_error`, `timeout`, `network`, ...). */
  fail(errorClass: string): void;
  /**
   * The stream's statistics, and the usage it reported, if any: that usage counts when the step
   * ends without a usage report of its own, so it is never lost (and never counted twice).
   */
  recordStream(stats: StreamStats, usage?: Usage): void;
  /** Closes the step, adding `usage` if given; `cost` overrides the price table. Later calls do nothing. */
  end(usage?: Usage | null, options?: { cost?: number }): void;
}

export interface TurnRecorder {
  readonly turnId: string;
  startStep(): StepRecorder;
  end(): void;
}
