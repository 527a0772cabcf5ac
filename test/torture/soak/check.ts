/**
 * The soak's end-of-run checks, session by session: the journal holds every acknowledged record
 * exactly once (and nothing that was never announced), it folds to the counts those records
 * imply, METRICS.json equals the fold, and a fresh SQLite store fed by `ingest` reports the same.
 */
import { existsSync, readFileSync } from "node:fs";
import { journalPath, metricsPath } from "../../../src/core/session-layout.ts";
import { snapshotState } from "../../../src/core/state.ts";
import type { SessionMetrics } from "../../../src/core/types.ts";
import {
  Collector,
  encodeMetrics,
  type MetricEvent,
  streamSession,
  verifyJournal,
} from "../../../src/index.ts";
import { getSession, ingest, report } from "../../../src/store/index.ts";
import { createSqliteStore } from "../../../src/store/sqlite/index.ts";
import { MemoryLogger } from "../../journal/helpers.ts";
import type { AreaTally } from "../harness.ts";
import { SOAK_COST, type SoakRecord, soakRecord } from "./records.ts";
import type { Ledger, SessionLedger } from "./supervisor.ts";

/** What a session's surviving records add up to. */
export interface Expected {
  tools: Map<string, { calls: number; ok: number; fail: number; ms: number }>;
  llms: Map<string, { count: number; prompt: number; completion: number }>;
}

export interface JournalStats {
  tornTailsAtEnd: number;
  present: number;
  acked: number;
}

const TORN = /^torn last line/;
type Violation = (sessionId: string, what: string) => void;

/** Resumes and stops every session once more, then checks its journal and METRICS.json. */
export async function checkJournals(
  sessionsDir: string,
  sessionIds: readonly string[],
  ledger: Ledger,
  tally: AreaTally,
  seed: number,
): Promise<{ expected: Map<string, Expected>; stats: JournalStats }> {
  const violation: Violation = (sid, what) => tally.violation(`${seed}:${sid}`, what);
  const expected = new Map<string, Expected>();
  const stats: JournalStats = { tornTailsAtEnd: 0, present: 0, acked: 0 };
  for (const sid of sessionIds) {
    tally.trials++;
    const entry = ledger.sessions.get(sid) ?? { acked: new Set(), tried: new Set() };
    stats.acked += entry.acked.size;
    try {
      const session = await checkFolder(sessionsDir, sid, entry, violation, stats);
      if (session !== undefined) {
        expected.set(sid, session.expected);
        stats.present += session.present;
      }
    } catch (error) {
      violation(sid, `checking it threw: ${error instanceof Error ? error.message : error}`);
    }
  }
  return { expected, stats };
}

/** The journal before and after one more resume + stop, then its records (see checkSession). */
async function checkFolder(
  sessionsDir: string,
  sid: string,
  entry: SessionLedger,
  violation: Violation,
  stats: JournalStats,
): Promise<{ expected: Expected; present: number } | undefined> {
  if (!existsSync(journalPath(sessionsDir, sid))) {
    if (entry.acked.size > 0) violation(sid, `${entry.acked.size} acknowledged records but no journal`);
    return undefined;
  }
  // Only a torn tail may be left by a kill; recovery on the next open cuts it.
  for (const p of (await verifyJournal(sessionsDir, sid)).problems) {
    if (TORN.test(p.reason)) stats.tornTailsAtEnd++;
    else violation(sid, `journal problem after the soak: line ${p.line}: ${p.reason}`);
  }
  const logger = new MemoryLogger();
  const collector = await Collector.open({ sessionsDir, sessionId: sid, resume: true, logger });
  await collector.stop();
  for (const w of [...logger.warnings, ...logger.errors])
    if (!/torn last line/.test(w)) violation(sid, `final resume warned: ${w}`);
  const after = await verifyJournal(sessionsDir, sid);
  if (after.problems.length > 0)
    violation(sid, `journal problems after recovery: ${JSON.stringify(after.problems)}`);
  return checkSession(sessionsDir, sid, entry, violation);
}

async function checkSession(
  sessionsDir: string,
  sid: string,
  entry: SessionLedger,
  violation: Violation,
): Promise<{ expected: Expected; present: number } | undefined> {
  const seen = new Map<string, number>();
  const records: SoakRecord[] = [];
  const logger = new MemoryLogger();
  const replayed = await streamSession(
    sessionsDir,
    sid,
    (event) => {
      const r = recordOf(event, sid, violation);
      if (r === undefined) return;
      const count = (seen.get(r.rid) ?? 0) + 1;
      seen.set(r.rid, count);
      if (count === 2) violation(sid, `record ${r.rid} is in the journal more than once`);
      else if (!entry.tried.has(r.rid))
        violation(sid, `record ${r.rid} is in the journal but was never announced`);
      else records.push(r);
    },
    { logger },
  );
  if (logger.warnings.length > 0) violation(sid, `replay warned: ${logger.warnings[0]}`);
  let missing = 0;
  for (const r of entry.acked) if (!seen.has(r)) missing++;
  if (missing > 0)
    violation(
      sid,
      `${missing} acknowledged record(s) missing from the journal, e.g. ${firstMissing(entry, seen)}`,
    );
  if (replayed === null) return undefined;
  const expected = expectedOf(records);
  const folded = snapshotState(replayed.state);
  compareFold(folded, expected, (what) => violation(sid, what));
  const onDisk = readFileSync(metricsPath(sessionsDir, sid), "utf8");
  if (onDisk !== encodeMetrics(folded)) violation(sid, "METRICS.json differs from the journal's fold");
  return { expected, present: records.length };
}

function firstMissing(entry: SessionLedger, seen: Map<string, number>): string {
  for (const r of entry.acked) if (!seen.has(r)) return r;
  return "";
}

/** The soak record a journal event carries (checked against what its rid implies), if any. */
function recordOf(event: MetricEvent, sid: string, violation: Violation): SoakRecord | undefined {
  if (event.type !== "tool_call" && event.type !== "llm") return undefined;
  const id = event.details?.attributes?.rid;
  const match = typeof id === "string" ? /^(\d+)\.(\d+)$/.exec(id) : null;
  if (match === null) {
    violation(sid, `event seq ${event.seq} (${event.type}) carries no valid rid`);
    return undefined;
  }
  const r = soakRecord(Number(match[1]), Number(match[2]));
  const same =
    r.kind === "tool"
      ? event.type === "tool_call" &&
        event.name === r.name &&
        event.success === r.success &&
        event.durationMs === r.durationMs
      : event.type === "llm" &&
        event.phase === r.phase &&
        event.usage.promptTokens === r.promptTokens &&
        event.usage.completionTokens === r.completionTokens &&
        event.cost === SOAK_COST;
  if (!same) violation(sid, `event seq ${event.seq} does not hold what record ${r.rid} recorded`);
  return same ? r : undefined;
}

function expectedOf(records: readonly SoakRecord[]): Expected {
  const out: Expected = { tools: new Map(), llms: new Map() };
  for (const r of records) {
    if (r.kind === "tool") {
      const e = out.tools.get(r.name) ?? { calls: 0, ok: 0, fail: 0, ms: 0 };
      e.calls++;
      if (r.success) e.ok++;
      else e.fail++;
      e.ms += r.durationMs;
      out.tools.set(r.name, e);
    } else {
      const e = out.llms.get(r.phase) ?? { count: 0, prompt: 0, completion: 0 };
      e.count++;
      e.prompt += r.promptTokens;
      e.completion += r.completionTokens;
      out.llms.set(r.phase, e);
    }
  }
  return out;
}

/** The document's tools and LLM phases are exactly the surviving records' totals. */
function compareFold(m: SessionMetrics, expected: Expected, fail: (what: string) => void): void {
  const tools = Object.fromEntries(
    m.tools.map((t) => [
      t.name,
      { calls: t.callCount, ok: t.successCount, fail: t.failCount, ms: t.totalDurationMs },
    ]),
  );
  same("fold's tools", tools, Object.fromEntries(expected.tools), fail);
  const llms = Object.fromEntries(
    m.llms.map((l) => [
      l.phase,
      { count: l.interactionCount, prompt: l.promptTokens, completion: l.completionTokens },
    ]),
  );
  same("fold's LLM phases", llms, Object.fromEntries(expected.llms), fail);
  for (const l of m.llms)
    if (l.cost !== l.interactionCount * SOAK_COST)
      fail(`phase ${l.phase} cost ${l.cost} ≠ ${l.interactionCount} × ${SOAK_COST}`);
}

/** JSON of a name → totals map with its names sorted, so that first-seen order does not matter. */
function canonical(o: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : 1))));
}

/** Fails with both sides when `actual` and the records' totals differ. */
function same(
  what: string,
  actual: Record<string, unknown>,
  records: Record<string, unknown>,
  fail: (what: string) => void,
): void {
  const a = canonical(actual);
  const b = canonical(records);
  if (a !== b) fail(`${what} ${a} ≠ the records' ${b}`);
}

/** Ingests every soaked session into a fresh SQLite store and compares per session and tool. */
export async function checkStore(
  sessionsDir: string,
  expected: ReadonlyMap<string, Expected>,
  tally: AreaTally,
  seed: number,
): Promise<void> {
  const logger = new MemoryLogger();
  await using store = await createSqliteStore({ path: ":memory:" });
  const result = await ingest(store, sessionsDir, { logger, host: null });
  for (const w of logger.warnings) tally.violation(seed, `ingest warned: ${w}`);
  if (result.sessions !== expected.size)
    tally.violation(seed, `ingest imported ${result.sessions} sessions, ${expected.size} have a journal`);
  for (const [sid, e] of expected) {
    tally.trials++;
    const fail = (what: string) => tally.violation(`${seed}:${sid}`, what);
    const toolRows = await report(store, { groupBy: ["tool"], kind: "tool", where: { sessionId: sid } });
    const tools = Object.fromEntries(
      toolRows.map((r) => [r.tool ?? "(null)", { calls: r.toolCalls, fail: r.failures }]),
    );
    const wantTools = Object.fromEntries(
      [...e.tools].map(([name, t]) => [name, { calls: t.calls, fail: t.fail }]),
    );
    same("store tools", tools, wantTools, fail);
    const llmRows = await report(store, { groupBy: ["phase"], kind: "llm", where: { sessionId: sid } });
    const llms = Object.fromEntries(
      llmRows.map((r) => [
        r.phase ?? "(null)",
        { count: r.llmCalls, prompt: r.promptTokens, completion: r.completionTokens, cost: r.cost },
      ]),
    );
    const wantLlms = Object.fromEntries(
      [...e.llms].map(([phase, l]) => [phase, { ...l, cost: l.count * SOAK_COST }]),
    );
    same("store LLM phases", llms, wantLlms, fail);
    const doc = await getSession(store, sid);
    const onDisk = readFileSync(metricsPath(sessionsDir, sid), "utf8");
    if (doc === null || encodeMetrics(doc) !== onDisk)
      fail("the store's session document differs from METRICS.json");
  }
}
