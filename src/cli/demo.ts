/**
 * `demo`: records a simulated multi-phase coding-agent session (three agents calling tools
 * concurrently, LLM turns with time to first token and decode time, a heal and a bisect) into
 * the sessions directory, then shows it. `--live` keeps the session recording until stopped,
 * to watch the dashboard update.
 */
import { hashPrompt } from "../core/hash.ts";
import { Collector } from "../session/collector.ts";
import { noPositionals } from "./args.ts";
import type { Command } from "./context.ts";
import { renderShow } from "./show-tables.ts";

/** Deterministic pseudo-random numbers, so every run tells the same story. */
function randomFrom(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TOOLS = ["Read", "Edit", "Bash", "Grep"];

async function toolCall(c: Collector, random: () => number, name: string, agent: string): Promise<void> {
  const started = new Date();
  const duration = 2 + random() * 18;
  await sleep(duration);
  const ok = random() > 0.1;
  c.recordToolCall(name, ok, duration, {
    agent,
    startedAt: started,
    ...(ok ? {} : { errorClass: "tool_error" }),
  });
}

async function llmTurn(c: Collector, random: () => number, phase: string, model: string): Promise<void> {
  const turn = c.startTurn({ phase });
  const step = turn.startStep();
  step.setModel(model);
  await sleep(15 + random() * 20);
  step.firstToken();
  await sleep(10 + random() * 30);
  const promptTokens = 2000 + Math.floor(random() * 6000);
  step.end({
    promptTokens,
    completionTokens: 200 + Math.floor(random() * 800),
    cacheReadTokens: Math.floor(promptTokens * 0.6),
    reasoningTokens: model.startsWith("o") ? 150 : undefined,
  });
  turn.end();
  c.recordLLMInteractionWithPrompt(phase, null, 0, hashPrompt(`${phase} the change`), false); // a no-op, as in Go
}

export async function recordDemo(sessionsDir: string, sessionId: string, signal?: AbortSignal, live = false) {
  const random = randomFrom(42);
  await using c = await Collector.open({ sessionId, sessionsDir });
  for (const phase of ["plan", "execute", "verify"]) {
    const started = performance.now();
    c.recordPhaseTransition(phase);
    await llmTurn(c, random, phase, phase === "plan" ? "o3" : "gpt-4o");
    await Promise.all(
      ["coder", "reviewer", "tester"].map(async (agent) => {
        for (let i = 0; i < 4; i++) await toolCall(c, random, TOOLS[i % 4]!, agent);
      }),
    );
    c.recordEditStrategy(random() > 0.5 ? "exact_match" : "fuzzy_match");
    if (phase === "execute") {
      c.recordHealTrigger(phase);
      c.recordHealLoop(phase);
      c.recordHealDuration(phase, 42);
      c.recordHealOutcome(phase, true);
    }
    if (phase === "verify") {
      c.recordBisectTrigger(phase);
      c.recordBisectOutcome(phase, false);
    }
    c.recordPhaseDuration(phase, performance.now() - started, true);
    await c.flush();
  }
  if (live) {
    c.recordPhaseTransition("live");
    for (let i = 0; !signal?.aborted; i++) {
      await toolCall(c, random, TOOLS[i % 4]!, "watcher");
      await c.sync();
      await sleep(500);
    }
  }
  await c.flush();
  return { metrics: c.snapshot(), turns: c.turns() };
}

export const demoCommand: Command = {
  name: "demo",
  summary: "record a simulated agent session into the sessions directory and show it",
  usage: "demo [--id <sessionId>] [--live]",
  options: {
    id: { type: "string", value: "<sessionId>", description: "the session id (default demo-<timestamp>)" },
    live: { type: "boolean", description: "keep recording a tool call every half second until stopped" },
  },
  async run(ctx, args) {
    noPositionals(args.positionals);
    const id =
      (args.values.id as string | undefined) ??
      `demo-${new Date()
        .toISOString()
        .replace(/[-:.TZ]/g, "")
        .slice(0, 14)}`;
    if (args.values.live === true) ctx.warn(`session-metrics: recording ${id} into ${ctx.dir} until stopped`);
    const { metrics, turns } = await recordDemo(ctx.dir, id, ctx.signal, args.values.live === true);
    return `${renderShow(metrics, turns, ctx.color)}\n\nrecorded into ${ctx.dir}/${id}/ — try \`session-metrics serve --dir ${ctx.dir}\``;
  },
};
