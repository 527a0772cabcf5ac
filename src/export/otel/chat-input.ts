/**
 * What a `chat` span is made of, from the events that describe one model call: an LLM event on
 * its own, or a step's `step_end` merged with the LLM event that follows it when it had usage.
 */
import type { MetricEvent } from "../../core/events.ts";
import type { StepRecord } from "../../core/turns.ts";
import type { ChatInput } from "./leaf-spans.ts";

type LLMEvent = Extract<MetricEvent, { type: "llm" }>;

/** The chat fields an LLM event gives, over the call's times. */
export function llmChat(event: LLMEvent, times: Pick<ChatInput, "start" | "end" | "timed">): ChatInput {
  const d = event.details;
  return {
    ...times,
    model: d?.model,
    phase: event.phase,
    usage: event.usage,
    cost: event.cost,
    unpriced: event.unpriced,
    errorClass: d?.errorClass,
    attempt: d?.attempt,
    taskId: d?.taskId,
    agent: d?.agent,
    promptHash: event.promptHash,
    truncated: event.truncated,
    attributes: d?.attributes,
  };
}

/**
 * A step's chat, merged with its LLM event when there is one: from the step's wall-clock start
 * (carried by the LLM event; without one, the step's end less its generation time) to its end.
 */
export function stepChat(r: StepRecord, endedAt: number, llm: LLMEvent | undefined): ChatInput {
  const start = Math.min(llm?.details?.startedAt ?? endedAt - (r.genTotalMs ?? 0), endedAt);
  const times = { start, end: endedAt, timed: true };
  const input: ChatInput = llm === undefined ? { ...times, usage: r.usage } : llmChat(llm, times);
  input.model = r.model ?? input.model;
  input.errorClass = r.errorClass ?? input.errorClass;
  input.turnId = r.turnId;
  input.stepIndex = r.stepIndex;
  input.ttftMs = r.ttftMs;
  input.stream = r.stream;
  return input;
}
