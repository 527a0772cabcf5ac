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
}
