/**
 * Benchmark baseline: a line-by-line TypeScript port of the Go M31A `internal/metrics` collector,
 * as naive as the original. One plain object holds the document; every record scans its slice for
 * the key and appends when it is missing (ten copies of find-or-append, as in Go); every applied
 * record stamps `time.Now()` (`new Date()`); `Flush` marshals with indentation and writes the file
 * in place (`os.WriteFile`: no temp file, no fsync). Go's mutex has no JavaScript counterpart.
 * Nothing here validates input, exactly like the original. (Go's omitempty on the heal fields and
 * on `edit_strategies` is not reproduced: it changes a few bytes, not the cost.)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Usage } from "../../src/index.ts";

interface GoToolMetrics {
  name: string;
  call_count: number;
  success_count: number;
  fail_count: number;
  total_duration_ms: number;
  avg_duration_ms: number;
}

interface GoEditStrategyMetrics {
  strategy: string;
  count: number;
}

interface GoLLMMetrics {
  phase: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
  interaction_count: number;
  prompt_hash?: string;
  truncated_input?: boolean;
}

interface GoPhaseMetrics {
  phase: string;
  duration_ms: number;
  transition_count: number;
  heal_trigger_count: number;
  heal_success_count: number;
  heal_fail_count: number;
  heal_duration_ms: number;
  heal_loop_count: number;
  bisect_trigger_count: number;
  bisect_success_count: number;
  bisect_fail_count: number;
  success: boolean;
}

export interface GoSessionMetrics {
  session_id: string;
  started_at: Date;
  updated_at: Date;
  tools: GoToolMetrics[];
  edit_strategies: GoEditStrategyMetrics[];
  llms: GoLLMMetrics[];
  phases: GoPhaseMetrics[];
}

function newPhase(phase: string): GoPhaseMetrics {
  return {
    phase,
    duration_ms: 0,
    transition_count: 0,
    heal_trigger_count: 0,
    heal_success_count: 0,
    heal_fail_count: 0,
    heal_duration_ms: 0,
    heal_loop_count: 0,
    bisect_trigger_count: 0,
    bisect_success_count: 0,
    bisect_fail_count: 0,
    success: false,
  };
}

export class GoCollector {
  readonly metrics: GoSessionMetrics;

  constructor(
    private readonly sessionId: string,
    private readonly sessionsDir: string,
    private readonly enabled = true,
  ) {
    const now = new Date();
    this.metrics = {
      session_id: sessionId,
      started_at: now,
      updated_at: now,
      tools: [],
      edit_strategies: [],
      llms: [],
      phases: [],
    };
  }

  recordToolCall(name: string, success: boolean, durationMs: number): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.tools.length; i++) {
      const t = m.tools[i]!;
      if (t.name === name) {
        t.call_count++;
        if (success) t.success_count++;
        else t.fail_count++;
        t.total_duration_ms += durationMs;
        t.avg_duration_ms = t.total_duration_ms / t.call_count;
        m.updated_at = new Date();
        return;
      }
    }
    m.tools.push({
      name,
      call_count: 1,
      success_count: success ? 1 : 0,
      fail_count: success ? 0 : 1,
      total_duration_ms: durationMs,
      avg_duration_ms: durationMs,
    });
    m.updated_at = new Date();
  }

  recordLLMInteraction(phase: string, usage: Usage | null | undefined, cost: number): void {
    this.recordLLMInteractionWithPrompt(phase, usage, cost, "", false);
  }

  recordLLMInteractionWithPrompt(
    phase: string,
    usage: Usage | null | undefined,
    cost: number,
    promptHash: string,
    truncated: boolean,
  ): void {
    if (!this.enabled || usage == null) return;
    const m = this.metrics;
    const total = usage.totalTokens ?? 0;
    for (let i = 0; i < m.llms.length; i++) {
      const l = m.llms[i]!;
      if (l.phase === phase) {
        l.prompt_tokens += usage.promptTokens;
        l.completion_tokens += usage.completionTokens;
        l.total_tokens += total;
        l.cost += cost;
        l.interaction_count++;
        if (l.prompt_hash === undefined && promptHash !== "") l.prompt_hash = promptHash;
        if (truncated) l.truncated_input = true;
        m.updated_at = new Date();
        return;
      }
    }
    m.llms.push({
      phase,
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: total,
      cost,
      interaction_count: 1,
      prompt_hash: promptHash === "" ? undefined : promptHash,
      truncated_input: truncated ? true : undefined,
    });
    m.updated_at = new Date();
  }

  recordPhaseTransition(phase: string): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.phases.length; i++) {
      if (m.phases[i]!.phase === phase) {
        m.phases[i]!.transition_count++;
        m.updated_at = new Date();
        return;
      }
    }
    const p = newPhase(phase);
    p.transition_count = 1;
    m.phases.push(p);
    m.updated_at = new Date();
  }

  recordPhaseDuration(phase: string, durationMs: number, success: boolean): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.phases.length; i++) {
      if (m.phases[i]!.phase === phase) {
        m.phases[i]!.duration_ms = durationMs;
        m.phases[i]!.success = success;
        m.updated_at = new Date();
        return;
      }
    }
    const p = newPhase(phase);
    p.duration_ms = durationMs;
    p.success = success;
    m.phases.push(p);
    m.updated_at = new Date();
  }

  recordHealTrigger(phase: string): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.phases.length; i++) {
      if (m.phases[i]!.phase === phase) {
        m.phases[i]!.heal_trigger_count++;
        m.updated_at = new Date();
        return;
      }
    }
    const p = newPhase(phase);
    p.heal_trigger_count = 1;
    m.phases.push(p);
    m.updated_at = new Date();
  }

  recordHealOutcome(phase: string, success: boolean): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.phases.length; i++) {
      if (m.phases[i]!.phase === phase) {
        if (success) m.phases[i]!.heal_success_count++;
        else m.phases[i]!.heal_fail_count++;
        m.updated_at = new Date();
        return;
      }
    }
    const p = newPhase(phase);
    if (success) p.heal_success_count = 1;
    else p.heal_fail_count = 1;
    m.phases.push(p);
    m.updated_at = new Date();
  }

  recordHealDuration(phase: string, durationMs: number): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.phases.length; i++) {
      if (m.phases[i]!.phase === phase) {
        m.phases[i]!.heal_duration_ms += durationMs;
        m.updated_at = new Date();
        return;
      }
    }
    const p = newPhase(phase);
    p.heal_duration_ms = durationMs;
    m.phases.push(p);
    m.updated_at = new Date();
  }

  recordHealLoop(phase: string): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.phases.length; i++) {
      if (m.phases[i]!.phase === phase) {
        m.phases[i]!.heal_loop_count++;
        m.updated_at = new Date();
        return;
      }
    }
    const p = newPhase(phase);
    p.heal_loop_count = 1;
    m.phases.push(p);
    m.updated_at = new Date();
  }

  recordBisectTrigger(phase: string): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.phases.length; i++) {
      if (m.phases[i]!.phase === phase) {
        m.phases[i]!.bisect_trigger_count++;
        m.updated_at = new Date();
        return;
      }
    }
    const p = newPhase(phase);
    p.bisect_trigger_count = 1;
    m.phases.push(p);
    m.updated_at = new Date();
  }

  recordBisectOutcome(phase: string, success: boolean): void {
    if (!this.enabled) return;
    const m = this.metrics;
    for (let i = 0; i < m.phases.length; i++) {
      if (m.phases[i]!.phase === phase) {
        if (success) m.phases[i]!.bisect_success_count++;
        else m.phases[i]!.bisect_fail_count++;
        m.updated_at = new Date();
        return;
      }
    }
    const p = newPhase(phase);
    if (success) p.bisect_success_count = 1;
    else p.bisect_fail_count = 1;
    m.phases.push(p);
    m.updated_at = new Date();
  }

  recordEditStrategy(strategy: string): void {
    if (!this.enabled || strategy === "") return;
    const m = this.metrics;
    for (let i = 0; i < m.edit_strategies.length; i++) {
      if (m.edit_strategies[i]!.strategy === strategy) {
        m.edit_strategies[i]!.count++;
        m.updated_at = new Date();
        return;
      }
    }
    m.edit_strategies.push({ strategy, count: 1 });
    m.updated_at = new Date();
  }

  /** Go: `os.MkdirAll` + `json.MarshalIndent(m, "", "  ")` + `os.WriteFile(path, data, 0644)`. */
  flush(): void {
    if (!this.enabled) return;
    const dir = join(this.sessionsDir, this.sessionId);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const data = JSON.stringify(this.metrics, null, 2);
    writeFileSync(join(dir, "METRICS.json"), data, { mode: 0o644 });
  }
}
