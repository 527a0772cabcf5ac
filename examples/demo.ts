/**
 * `bun run demo`: a simulated multi-phase coding-agent session recorded into ./sessions
 * (or the folder given as the first argument), then a readable summary of what was recorded.
 */
import { Collector, hashPrompt, loadTurns } from "../src/index.ts";

const sessionsDir = process.argv[2] ?? "sessions";
const sessionId = `demo-${new Date()
  .toISOString()
  .replace(/[-:.TZ]/g, "")
  .slice(0, 14)}`;

/** Deterministic pseudo-random numbers, so every run tells the same story. */
let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function toolCall(collector: Collector, name: string, agent: string): Promise<void> {
  const started = new Date();
  const duration = 2 + random() * 18;
  await sleep(duration);
  const ok = random() > 0.1;
  collector.recordToolCall(name, ok, duration, {
    agent,
    startedAt: started,
    ...(ok ? {} : { errorClass: "tool_error" }),
  });
}

async function llmCall(collector: Collector, phase: string, model: string, prompt: string): Promise<void> {
  const turn = collector.startTurn({ phase });
  const step = turn.startStep();
  step.setModel(model);
  await sleep(15 + random() * 20); // time to first token
  step.firstToken();
  await sleep(10 + random() * 30); // decode
  const promptTokens = 2000 + Math.floor(random() * 6000);
  step.end({
    promptTokens,
    completionTokens: 200 + Math.floor(random() * 800),
    cacheReadTokens: Math.floor(promptTokens * 0.6),
    reasoningTokens: model.startsWith("o") ? 150 : undefined,
  });
  turn.end();
  collector.recordLLMInteractionWithPrompt(phase, null, 0, hashPrompt(prompt), false); // a no-op, as in Go
}

async function main(): Promise<void> {
  await using collector = await Collector.open({ sessionId, sessionsDir });
  const phases = ["plan", "execute", "verify"];
  for (const phase of phases) {
    const started = performance.now();
    collector.recordPhaseTransition(phase);
    await llmCall(collector, phase, phase === "plan" ? "o3" : "gpt-4o", `${phase} the change`);
    // Three agents call tools concurrently.
    await Promise.all(
      ["coder", "reviewer", "tester"].map(async (agent) => {
        for (let i = 0; i < 4; i++)
          await toolCall(collector, ["Read", "Edit", "Bash", "Grep"][i % 4]!, agent);
      }),
    );
    collector.recordEditStrategy(random() > 0.5 ? "exact_match" : "fuzzy_match");
    if (phase === "execute") {
      collector.recordHealTrigger(phase);
      collector.recordHealLoop(phase);
      collector.recordHealDuration(phase, 42);
      collector.recordHealOutcome(phase, true);
    }
    if (phase === "verify") {
      collector.recordBisectTrigger(phase);
      collector.recordBisectOutcome(phase, false);
    }
    collector.recordPhaseDuration(phase, performance.now() - started, true);
    await collector.flush();
  }
  printSummary(collector);
}

function printSummary(collector: Collector): void {
  const m = collector.snapshot();
  const lines = [
    `session ${m.sessionId} → ${sessionsDir}/${m.sessionId}/METRICS.json (+ journal.jsonl)`,
    "",
    "tool        calls  ok  fail  avg ms",
    ...m.tools.map(
      (t) =>
        `${t.name.padEnd(10)} ${String(t.callCount).padStart(6)} ${String(t.successCount).padStart(3)} ${String(t.failCount).padStart(5)} ${t.avgDurationMs.toFixed(1).padStart(7)}`,
    ),
    "",
    "phase      calls  prompt  cache-read  output  cost (USD)",
    ...m.llms.map(
      (l) =>
        `${l.phase.padEnd(10)} ${String(l.interactionCount).padStart(5)} ${String(l.promptTokens).padStart(7)} ${String(l.cacheReadTokens ?? 0).padStart(11)} ${String(l.completionTokens).padStart(7)}  ${l.cost.toFixed(5)}`,
    ),
    "",
    "phase      ms      ok   heal(trigger/ok/fail)  bisect(trigger/ok/fail)",
    ...m.phases.map(
      (p) =>
        `${p.phase.padEnd(10)} ${String(p.durationMs).padStart(5)}  ${p.success ? "yes" : "no "}  ${p.healTriggerCount}/${p.healSuccessCount}/${p.healFailCount}                  ${p.bisectTriggerCount}/${p.bisectSuccessCount}/${p.bisectFailCount}`,
    ),
    "",
    `edit strategies: ${m.editStrategies.map((s) => `${s.strategy} ×${s.count}`).join(", ")}`,
    `dropped records: ${m.droppedRecords ?? 0}`,
  ];
  console.log(lines.join("\n"));
}

await main();
const turns = await loadTurns(sessionsDir, sessionId);
console.log("\nturns (read back from the journal):");
for (const turn of turns)
  for (const step of turn.steps)
    console.log(
      `  ${step.stepId.padEnd(9)} ${turn.phase.padEnd(8)} ${(step.model ?? "").padEnd(7)} ttft ${step.ttftMs?.toFixed(1)} ms  decode ${step.decodeMs?.toFixed(1)} ms  tokens ${step.usage?.totalTokens}`,
    );
