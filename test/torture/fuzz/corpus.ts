/**
 * The real files the mutators start from: the Go fixtures and a session written by a Collector
 * (METRICS.json and journal.jsonl with every common event type), in a temp folder on /dev/shm
 * when there is one, since the fuzzers write thousands of small files and need no durability.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector } from "../../../src/index.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures");

export interface Corpus {
  /** A sessions directory holding the recorded session. */
  dir: string;
  sessionId: string;
  /** METRICS.json documents: the two Go fixtures and the collector's. */
  documents: Uint8Array[];
  /** The collector's journal. */
  journal: Uint8Array;
  /** The journal's lines, newline excluded. */
  journalLines: Uint8Array[];
  /** A fresh temp folder (removed with the corpus). */
  scratch(prefix: string): string;
  remove(): void;
}

export function tempFolder(prefix: string): string {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return mkdtempSync(join(base, `sm-fuzz-${prefix}-`));
}

/** Records a session covering tools, details, LLM calls, turns, phases, heals and bisects. */
async function recordSession(dir: string, sessionId: string): Promise<void> {
  let t = Date.parse("2026-11-22T01:00:00.000Z");
  const quiet = { warn() {}, error() {} };
  const c = new Collector({ sessionId, sessionsDir: dir, now: () => new Date(t), logger: quiet });
  c.recordPhaseTransition("plan");
  t += 1_000;
  c.recordToolCall("Read", true, 12, { agent: "coder", attributes: { file: "a.ts", lines: 3 } });
  c.recordToolCall("Read", false, 30, { agent: "coder", errorClass: "tool_error", attempt: 2 });
  c.recordLLMInteraction(
    "plan",
    { promptTokens: 1_200, completionTokens: 300, cacheReadTokens: 200 },
    0.0125,
    { model: "gpt-4o", agent: "coder", provider: "openai" },
  );
  c.recordLLMInteractionWithPrompt("plan", { promptTokens: 10, completionTokens: 5 }, -0, "9c78", true);
  const turn = c.startTurn({ turnId: "t1", phase: "plan" });
  turn.startStep().end({ promptTokens: 5, completionTokens: 2 });
  turn.end();
  c.recordEditStrategy("exact_match");
  t += 1_000;
  c.recordPhaseDuration("plan", 2_000, true);
  c.recordPhaseTransition("execute");
  c.recordHealTrigger("execute");
  c.recordHealLoop("execute");
  c.recordHealDuration("execute", 42);
  c.recordHealOutcome("execute", true);
  c.recordBisectTrigger("execute");
  c.recordBisectOutcome("execute", false);
  t += 500;
  c.recordToolCall("Edit", true, 40, { agent: "reviewer", taskId: "task-1", startedAt: new Date(t - 40) });
  c.recordToolCall("", true, 1); // dropped: counted in dropped_records
  c.recordPhaseDuration("execute", 500, true);
  await c.stop();
}

export async function createCorpus(): Promise<Corpus> {
  const scratchDirs: string[] = [];
  const dir = tempFolder("corpus");
  scratchDirs.push(dir);
  const sessionId = "fuzz-source";
  await recordSession(dir, sessionId);
  const journal = readFileSync(join(dir, sessionId, "journal.jsonl"));
  const journalLines: Uint8Array[] = [];
  let start = 0;
  for (let end = journal.indexOf(0x0a); end >= 0; end = journal.indexOf(0x0a, start)) {
    journalLines.push(journal.subarray(start, end));
    start = end + 1;
  }
  return {
    dir,
    sessionId,
    documents: [
      readFileSync(join(FIXTURES, "go-metrics.json")),
      readFileSync(join(FIXTURES, "go-edge.json")),
      readFileSync(join(dir, sessionId, "METRICS.json")),
    ],
    journal,
    journalLines,
    scratch(prefix) {
      const folder = tempFolder(prefix);
      scratchDirs.push(folder);
      return folder;
    },
    remove() {
      for (const folder of scratchDirs.splice(0)) rmSync(folder, { recursive: true, force: true });
    },
  };
}
