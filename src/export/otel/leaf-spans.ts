/**
 * The leaf spans of a session's trace, each built at once with its real start and end time:
 * `chat {model}` (CLIENT, the only spans with usage, so a backend never counts tokens twice),
 * `execute_tool {tool}` and, for recorded agent invocations, `invoke_agent {agent}`.
 */
import {
  type Attributes,
  type Context,
  type HrTime,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import type { InvocationRecord, ToolCallEvent } from "../../core/events.ts";
import type { NormalizedUsage } from "../../core/state.ts";
import type { StreamStats, Usage } from "../../core/types.ts";
import { hrTime, usageAttributes } from "./attributes.ts";
import type { MetricRecorder } from "./metrics.ts";
import { ATTR, ERROR_OTHER, OPERATION } from "./names.ts";
import {
  recordResponseReceived,
  recordRetry,
  recordStreamFirstToken,
  type SpanEventTarget,
} from "./span-events.ts";

/** What building a leaf needs from its session. */
export interface LeafDeps {
  tracer: Tracer;
  metrics: MetricRecorder;
  sessionId: string;
  /** `gen_ai.provider.name` for a model (user attribute first, then the sink's option or inference). */
  provider(model: string | undefined, attributes: Attributes | undefined): string | undefined;
  /** Called once per span ended. */
  ended(): void;
}

/** One model call: a step (with or without its LLM event) or an LLM interaction on its own. */
export interface ChatInput {
  start: number;
  end: number;
  /** Whether start/end measure the call (false: an LLM event without `startedAt`, a point in time). */
  timed: boolean;
  model?: string;
  phase?: string;
  usage?: NormalizedUsage | Usage;
  cost?: number;
  unpriced?: string;
  ttftMs?: number;
  errorClass?: string;
  turnId?: string;
  stepIndex?: number;
  stream?: StreamStats;
  attempt?: number;
  taskId?: string;
  agent?: string;
  promptHash?: string;
  truncated?: boolean;
  attributes?: Record<string, string | number | boolean>;
}

/** The root of a session's trace: `invoke_workflow {workflowName}`, left open. */
export function workflowSpan(
  d: Pick<LeafDeps, "tracer" | "sessionId">,
  parent: Context,
  workflowName: string | undefined,
  start: HrTime,
): Span {
  const name = workflowName === undefined ? OPERATION.workflow : `${OPERATION.workflow} ${workflowName}`;
  const span = d.tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: start }, parent);
  const attrs: Attributes = { [ATTR.operationName]: OPERATION.workflow, [ATTR.conversationId]: d.sessionId };
  if (workflowName !== undefined) attrs[ATTR.workflowName] = workflowName;
  span.setAttributes(attrs);
  return span;
}

/** A span's events at a given time, for the span-event helpers. */
function at(span: Span, epochMs: number): SpanEventTarget {
  return { addEvent: (name, attributes) => span.addEvent(name, attributes, hrTime(epochMs)) };
}

function fail(span: Span, attrs: Attributes, errorType: string): void {
  attrs[ATTR.errorType] = errorType;
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}

export function chatSpan(d: LeafDeps, parent: Context, c: ChatInput): void {
  const attrs: Attributes = { ...c.attributes };
  const provider = d.provider(c.model, c.attributes);
  attrs[ATTR.operationName] = OPERATION.chat;
  attrs[ATTR.conversationId] = d.sessionId;
  if (provider !== undefined) attrs[ATTR.providerName] = provider;
  if (c.model !== undefined) attrs[ATTR.requestModel] = c.model;
  if (c.phase !== undefined) attrs[ATTR.phase] = c.phase;
  if (c.turnId !== undefined) attrs[ATTR.turnId] = c.turnId;
  if (c.stepIndex !== undefined) attrs[ATTR.stepIndex] = c.stepIndex;
  if (c.agent !== undefined) attrs[ATTR.agentName] = c.agent;
  if (c.taskId !== undefined) attrs[ATTR.taskId] = c.taskId;
  if (c.attempt !== undefined) attrs[ATTR.attempt] = c.attempt;
  if (c.usage !== undefined) usageAttributes(attrs, c.usage);
  if (c.unpriced !== undefined) attrs[ATTR.unpriced] = c.unpriced;
  else if (c.cost !== undefined) attrs[ATTR.cost] = c.cost;
  if (c.ttftMs !== undefined) attrs[ATTR.timeToFirstChunk] = c.ttftMs / 1000;
  if (c.promptHash !== undefined) attrs[ATTR.promptHash] = c.promptHash;
  if (c.truncated === true) attrs[ATTR.promptTruncated] = true;
  if (c.stream !== undefined) {
    attrs[ATTR.streamOutcome] = c.stream.outcome;
    attrs[ATTR.streamChunks] = c.stream.chunks;
  }
  const name = c.model === undefined ? OPERATION.chat : `${OPERATION.chat} ${c.model}`;
  const span = d.tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: hrTime(c.start) }, parent);
  if (c.errorClass !== undefined) fail(span, attrs, c.errorClass);
  span.setAttributes(attrs);
  if (c.attempt !== undefined && c.attempt > 1) recordRetry(at(span, c.start), { attempt: c.attempt });
  if (c.ttftMs !== undefined) {
    // A streamed call: the helpers mark its first token and its complete response on the span.
    recordStreamFirstToken(at(span, c.start + c.ttftMs));
    const u = c.usage;
    recordResponseReceived(at(span, c.end), {
      model: c.model,
      promptTokens: u?.promptTokens,
      completionTokens: u?.completionTokens,
      totalTokens: u === undefined ? undefined : (u.totalTokens ?? u.promptTokens + u.completionTokens),
      cacheReadTokens: u?.cacheReadTokens,
      cacheWriteTokens: u?.cacheWriteTokens,
      reasoningTokens: u?.reasoningTokens,
    });
  }
  span.end(hrTime(c.end));
  d.ended();
  d.metrics.chat({
    model: c.model,
    provider,
    phase: c.phase,
    usage: c.usage,
    cost: c.unpriced === undefined ? c.cost : undefined,
    durationS: c.timed ? (c.end - c.start) / 1000 : undefined,
    ttftS: c.ttftMs === undefined ? undefined : c.ttftMs / 1000,
    errorType: c.errorClass,
  });
}

/** A tool call's span, from `start` (its `startedAt`, else its event time less its duration). */
export function toolSpan(d: LeafDeps, parent: Context, event: ToolCallEvent, start: number): void {
  const t = event.details;
  const attrs: Attributes = { ...t?.attributes };
  attrs[ATTR.operationName] = OPERATION.tool;
  attrs[ATTR.toolName] = event.name;
  if (t?.agent !== undefined) attrs[ATTR.agentName] = t.agent;
  if (t?.taskId !== undefined) attrs[ATTR.taskId] = t.taskId;
  if (t?.attempt !== undefined) attrs[ATTR.attempt] = t.attempt;
  const span = d.tracer.startSpan(
    `${OPERATION.tool} ${event.name}`,
    { kind: SpanKind.INTERNAL, startTime: hrTime(start) },
    parent,
  );
  const errorType = event.success ? undefined : (t?.errorClass ?? ERROR_OTHER);
  if (errorType !== undefined) fail(span, attrs, errorType);
  span.setAttributes(attrs);
  if (t?.attempt !== undefined && t.attempt > 1) recordRetry(at(span, start), { attempt: t.attempt });
  span.end(hrTime(start + event.durationMs));
  d.ended();
  d.metrics.tool(event.name, event.success, event.durationMs, errorType, t?.agent);
}

/** A recorded agent invocation (`recordInvocation`): its aggregates stay off the usage keys. */
export function invocationSpan(d: LeafDeps, parent: Context, m: InvocationRecord): void {
  const start = Date.parse(m.timestamp);
  const attrs: Attributes = {
    [ATTR.operationName]: OPERATION.agent,
    [ATTR.agentName]: m.agent,
    [ATTR.conversationId]: d.sessionId,
    [ATTR.invocationId]: m.invocationId,
    [ATTR.phase]: String(m.phase),
    [ATTR.attempt]: m.attempt,
    [ATTR.invocationTokens]: m.tokens,
    [ATTR.invocationCost]: m.cost,
    [ATTR.exitCode]: m.exitCode,
  };
  if (m.model !== undefined) attrs[ATTR.requestModel] = m.model;
  if (m.taskId !== undefined) attrs[ATTR.taskId] = m.taskId;
  const span = d.tracer.startSpan(
    `${OPERATION.agent} ${m.agent}`,
    { kind: SpanKind.INTERNAL, startTime: hrTime(start) },
    parent,
  );
  if (!m.success) fail(span, attrs, m.errorClass ?? ERROR_OTHER);
  span.setAttributes(attrs);
  span.end(hrTime(start + m.durationMs));
  d.ended();
}
