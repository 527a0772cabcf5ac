/**
 * Session folders for the CLI and HTTP tests, recorded by a real Collector at a fixed clock, and
 * the rule for tests that need a program the machine may lack (chromium, tmux): skipped with a
 * message outside CI, failed under CI=true.
 */
import { appendFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector } from "../../src/index.ts";

export const IN_CI = process.env.CI === "true";
export const CLI = join(import.meta.dir, "../../src/cli/main.ts");

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sm-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A stopped session: 2 Read calls (1 failed), 1 Edit, one LLM call, a turn, two phases. */
export async function recordSession(
  dir: string,
  id: string,
  startIso = "2026-11-22T01:00:00.000Z",
): Promise<void> {
  let t = Date.parse(startIso);
  const c = new Collector({ sessionId: id, sessionsDir: dir, now: () => new Date(t) });
  c.recordPhaseTransition("plan");
  t += 1_000;
  c.recordToolCall("Read", true, 12, { agent: "coder" });
  c.recordToolCall("Read", false, 30, { agent: "coder", errorClass: "tool_error" });
  c.recordLLMInteraction(
    "plan",
    { promptTokens: 1_200, completionTokens: 300, cacheReadTokens: 200 },
    0.0125,
    { model: "gpt-4o", agent: "coder" },
  );
  const turn = c.startTurn({ turnId: "t1", phase: "plan" });
  turn.startStep().end({ promptTokens: 5, completionTokens: 2 });
  turn.end();
  t += 1_000;
  c.recordPhaseDuration("plan", 2_000, true);
  c.recordPhaseTransition("execute");
  t += 500;
  c.recordToolCall("Edit", true, 40, { agent: "reviewer" });
  c.recordPhaseDuration("execute", 500, true);
  await c.stop();
}

/** Appends a line that fails its checksum (a corrupt journal line in the middle once more follow). */
export function corruptJournal(dir: string, id: string): void {
  appendFileSync(
    join(dir, id, "journal.jsonl"),
    '{"v":1,"seq":999,"ts":1,"type":"tool_call","crc":"00000000"}\n',
  );
}

/** Whether `program` can be run; outside CI a missing one skips with `message`, under CI it fails. */
export function needProgram(program: string, packages: string): boolean {
  const found = program.startsWith("/") ? existsSync(program) : Bun.which(program) !== null;
  if (!found && !IN_CI)
    console.warn(
      `[session-metrics] tests that need ${program} skipped: install it (apt-get install -y ${packages}); under CI=true they fail instead`,
    );
  return found || IN_CI;
}
