/**
 * One session's span tree, built from its events in `seq` order (live from the sink, or replayed
 * from the journal: the same code, so both give the same trace):
 *
 *   invoke_workflow {workflowName}            root, gen_ai.conversation.id = session id
 *   └─ phase {phase}                          from its transition to its duration (or the next transition)
 *      └─ invoke_agent {agent}                per turn
 *         ├─ chat {model}                     per step or LLM call (CLIENT), usage only here
 *         └─ execute_tool {tool}              per tool call
 *
 * What is recorded is parented to what was current when it was recorded: the latest open turn,
 * else the current phase, else the root. Leaves get their real times (a tool call ends at its
 * event and starts `durationMs` earlier); spans still open when the session ends close at its last
 * event. A step that ends with usage is followed by its LLM event: the two make one `chat` span.
 */
import { type Attributes, type Context, type Span, SpanKind, trace } from "@opentelemetry/api";
import type { MetricEvent, PhaseCountType } from "../../core/events.ts";
import type { StepRecord } from "../../core/turns.ts";
import { hrTime } from "./attributes.ts";
import { llmChat, stepChat } from "./chat-input.ts";
import {
  type ChatInput,
  chatSpan,
  invocationSpan,
  type LeafDeps,
  toolSpan,
  workflowSpan,
} from "./leaf-spans.ts";
import type { PhaseCounterKey } from "./metrics.ts";
import { ATTR, EVENT, OPERATION } from "./names.ts";
import { type Open, PhaseSpans } from "./phase-spans.ts";

export interface TraceDeps extends LeafDeps {
  workflowName: string | undefined;
  /** Agent name of a turn none of whose records names one. */
  agentName: string | undefined;
  /** Parent context of the root span. */
  parent: Context;
}

interface OpenTurn extends Open {
  agent: string | undefined;
}

/** Span event and counter of each phase counter event. */
const PHASE_EVENTS: Readonly<Record<PhaseCountType, [string, PhaseCounterKey, boolean?]>> = {
  phase_transition: ["", "phaseTransitions"],
  heal_trigger: [EVENT.healTrigger, "healTriggers"],
  heal_success: [EVENT.healSuccess, "healOutcomes", true],
  heal_fail: [EVENT.healFail, "healOutcomes", false],
  heal_loop: [EVENT.healLoop, "healLoops"],
  bisect_trigger: [EVENT.bisectTrigger, "bisectTriggers"],
  bisect_success: [EVENT.bisectSuccess, "bisectOutcomes", true],
  bisect_fail: [EVENT.bisectFail, "bisectOutcomes", false],
};

export class SessionTrace {
  #root: (Open & { start: number }) | undefined;
  /** The latest instant seen (event times and leaf ends): where open spans close. */
  #last = Number.NEGATIVE_INFINITY;
  readonly #phases: PhaseSpans;
  /** Open turns, in start order (the last is the current one). */
  readonly #turns = new Map<string, OpenTurn>();
  #step: { record: StepRecord; ts: number } | undefined;

  constructor(private readonly d: TraceDeps) {
    this.#phases = new PhaseSpans(d.tracer, d.metrics, (span, at) => this.#close(span, at));
  }

  apply(event: MetricEvent): void {
    if (this.#step !== undefined && event.type !== "llm") this.#chatFromStep(undefined);
    if ((event.type === "session_start" || event.type === "restore") && this.#root !== undefined) this.end();
    const ts = event.ts;
    this.#seen(ts);
    switch (event.type) {
      case "session_start":
      case "restore":
        this.#ensureRoot(ts);
        break;
      case "tool_call": {
        const d = event.details;
        const start = d?.startedAt ?? ts - event.durationMs;
        const parent = this.#parent(start);
        const turn = this.#currentTurn();
        if (turn !== undefined && turn.agent === undefined) turn.agent = d?.agent;
        this.#seen(start + event.durationMs);
        toolSpan(this.d, parent, event, start);
        break;
      }
      case "step_end":
        // Usage means an LLM event follows at once; wait for it to make one span of the two.
        if (event.step.usage !== undefined) this.#step = { record: event.step, ts };
        else this.#chatFromStep(undefined, { record: event.step, ts });
        break;
      case "llm":
        if (this.#step !== undefined) this.#chatFromStep(event);
        else {
          const d = event.details;
          const start = Math.min(d?.startedAt ?? ts, ts);
          this.#chat(
            this.#parent(start),
            llmChat(event, { start, end: ts, timed: d?.startedAt !== undefined }),
          );
        }
        break;
      case "turn_start": {
        const root = this.#ensureRoot(ts);
        const parent = this.#phases.current ?? root;
        const span = this.d.tracer.startSpan(
          OPERATION.agent,
          { kind: SpanKind.INTERNAL, startTime: hrTime(ts) },
          parent.ctx,
        );
        span.setAttributes({
          [ATTR.operationName]: OPERATION.agent,
          [ATTR.conversationId]: this.d.sessionId,
          [ATTR.turnId]: event.turnId,
          [ATTR.phase]: event.phase,
        });
        this.#turns.set(event.turnId, { span, ctx: trace.setSpan(parent.ctx, span), agent: undefined });
        break;
      }
      case "turn_end": {
        const turn = this.#turns.get(event.turnId);
        if (turn === undefined) break;
        this.#turns.delete(event.turnId);
        this.#endTurn(turn, ts);
        break;
      }
      case "phase_transition":
        this.#phases.enter(event.phase, ts, this.#ensureRoot(ts));
        this.#phaseEvent(event.type, event.phase, ts);
        break;
      case "phase_duration":
        this.#phases.end(
          event.phase,
          ts,
          event.durationMs,
          event.success,
          this.#ensureRoot(ts - event.durationMs),
        );
        break;
      case "heal_duration":
        this.#eventOn(event.phase, EVENT.healDuration, ts, { [ATTR.healDurationMs]: event.durationMs });
        this.d.metrics.healTime(event.phase, event.durationMs);
        break;
      case "edit_strategy":
        this.#eventOn(undefined, EVENT.editStrategy, ts, { [ATTR.strategy]: event.strategy });
        break;
      case "invocation": {
        const start = Date.parse(event.metric.timestamp);
        const parent = (this.#phases.current ?? this.#ensureRoot(start)).ctx;
        this.#seen(start + event.metric.durationMs);
        invocationSpan(this.d, parent, event.metric);
        break;
      }
      case "dropped":
        this.d.metrics.dropped(1, event.method);
        break;
      case "lost":
        this.#eventOn(undefined, EVENT.lost, ts, { [ATTR.lostEvents]: event.count });
        break;
      default:
        this.#phaseEvent(event.type, event.phase, ts);
    }
  }

  /** Ends every open span of the session at its last instant (and records the workflow duration). */
  end(): void {
    if (this.#step !== undefined) this.#chatFromStep(undefined);
    const root = this.#root;
    if (root === undefined) return;
    const at = this.#last;
    for (const turn of this.#turns.values()) this.#endTurn(turn, at);
    this.#turns.clear();
    this.#phases.closeAll(at);
    this.#close(root.span, at);
    this.d.metrics.workflow((at - root.start) / 1000, this.d.workflowName);
    this.#root = undefined;
    this.#last = Number.NEGATIVE_INFINITY;
  }

  #seen(t: number): void {
    if (t > this.#last) this.#last = t;
  }

  #close(span: Span, at: number): void {
    span.end(hrTime(at));
    this.d.ended();
  }

  #ensureRoot(start: number): Open & { start: number } {
    if (this.#root !== undefined) return this.#root;
    const span = workflowSpan(this.d, this.d.parent, this.d.workflowName, hrTime(start));
    this.#root = { span, ctx: trace.setSpan(this.d.parent, span), start };
    return this.#root;
  }

  #currentTurn(): OpenTurn | undefined {
    let last: OpenTurn | undefined;
    for (const turn of this.#turns.values()) last = turn;
    return last;
  }

  /** The context a record made now is parented to; `start` opens the root when there is none. */
  #parent(start: number): Context {
    const root = this.#ensureRoot(start);
    return (this.#currentTurn() ?? this.#phases.current ?? root).ctx;
  }

  #endTurn(turn: OpenTurn, at: number): void {
    const agent = turn.agent ?? this.d.agentName;
    if (agent !== undefined) {
      turn.span.updateName(`${OPERATION.agent} ${agent}`);
      turn.span.setAttribute(ATTR.agentName, agent);
    }
    this.#close(turn.span, at);
  }

  #phaseEvent(type: PhaseCountType, phase: string, ts: number): void {
    const [name, counter, outcome] = PHASE_EVENTS[type];
    if (name !== "") this.#eventOn(phase, name, ts, { [ATTR.phase]: phase });
    this.d.metrics.count(counter, phase, 1, outcome);
  }

  /** An event on the phase's open span, else the current phase's, else the root's. */
  #eventOn(phase: string | undefined, name: string, ts: number, attrs: Attributes): void {
    const root = this.#ensureRoot(ts);
    const target = this.#phases.target(phase) ?? root;
    target.span.addEvent(name, attrs, hrTime(ts));
  }

  /** A step's `chat` span, merged with its LLM event when there is one. */
  #chatFromStep(
    llm: Extract<MetricEvent, { type: "llm" }> | undefined,
    step: { record: StepRecord; ts: number } | undefined = this.#step,
  ): void {
    this.#step = undefined;
    if (step === undefined) return;
    const r = step.record;
    const input = stepChat(r, step.ts, llm);
    const turn = this.#turns.get(r.turnId);
    this.#chat(turn?.ctx ?? this.#parent(input.start), input);
  }

  #chat(parent: Context, input: ChatInput): void {
    this.#seen(input.end);
    chatSpan(this.d, parent, input);
  }
}
