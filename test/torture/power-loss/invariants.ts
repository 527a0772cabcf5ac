/**
 * The invariants of one crash point (see checks.ts, which runs them in order): each appends what
 * it finds broken to `violations`.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type MetricEvent, reduce } from "../../../src/core/events.ts";
import { encodeMetrics } from "../../../src/core/go-document.ts";
import { CORRUPT_PREFIX } from "../../../src/core/session-layout.ts";
import { createState, snapshotState } from "../../../src/core/state.ts";
import type { SessionMetrics } from "../../../src/core/types.ts";
import { encodeEventLine } from "../../../src/journal/line-codec.ts";
import type { checkLines, MemoryLogger } from "../../journal/helpers.ts";
import type { Prepared } from "./checks.ts";
import type { Workload } from "./workload.ts";

export function checkJournalEvents(p: Prepared, events: readonly MetricEvent[], violations: string[]): void {
  let previous = 0;
  for (const event of events) {
    if (encodeEventLine(event) !== p.lines[event.seq - 1])
      violations.push(`the journal holds a seq ${event.seq} that was never recorded as such`);
    if (event.seq <= previous) violations.push(`seq ${event.seq} follows ${previous}`);
    previous = event.seq;
  }
}

export function checkDocument(p: Prepared, at: number, doc: string | null, violations: string[]): void {
  const flushed = p.workload.flushAcks.filter((a) => a <= at).at(-1);
  // The newest document renamed into place before the last acknowledged flush resolved.
  const required = flushed === undefined ? undefined : p.documents.filter((d) => d.at <= flushed).at(-1);
  if (doc === null) {
    if (required !== undefined || p.workload.initialMetrics !== null)
      violations.push("METRICS.json is gone though a flush had made it durable");
    return;
  }
  const index = p.documents.findLastIndex((d) => d.at <= at && d.text === doc);
  if (index < 0) violations.push("METRICS.json is not a complete document that a flush wrote");
  else if (required !== undefined && p.documents[index]!.at < required.at)
    violations.push("METRICS.json is older than the last acknowledged flush");
}

/** The recorded events the resumed state is the fold of, and whence (undefined when neither). */
export function resumedFrom(
  p: Prepared,
  journal: readonly MetricEvent[],
  doc: string | null,
  snapshot: SessionMetrics,
  violations: string[],
): { events: readonly MetricEvent[]; from: "journal" | "document" | "fresh" } | undefined {
  const text = encodeMetrics(snapshot);
  const state = createState(p.workload.sessionId, 0);
  for (const event of journal) reduce(state, event);
  if (journal.length > 0 && text === encodeMetrics(snapshotState(state)))
    return { events: journal, from: "journal" };
  if (doc !== null && text === doc) {
    const n = p.prefixOf.get(doc);
    if (n !== undefined) return { events: p.workload.events.slice(0, n), from: "document" };
    violations.push("resumed from a METRICS.json that is no fold of the recorded events");
    return undefined;
  }
  // Nothing survived: a fresh run.
  if (journal.length === 0 && doc === null && snapshot.tools.length === 0 && snapshot.llms.length === 0)
    return { events: [], from: "fresh" };
  violations.push("the resumed state is neither the fold of the surviving journal nor METRICS.json");
  return undefined;
}

export function checkAcknowledged(
  w: Workload,
  at: number,
  basis: readonly MetricEvent[],
  violations: string[],
): void {
  const acked = Math.max(0, ...w.acks.filter((a) => a.at <= at).map((a) => a.seq));
  const seqs = new Set(basis.map((e) => e.seq));
  for (let seq = 1; seq <= acked; seq++)
    if (!seqs.has(seq)) {
      violations.push(`acknowledged event seq ${seq} (of ${acked} acknowledged) is lost`);
      return;
    }
}

/** Tool counts and token sums, counted here from the events (not by the library's fold). */
export function checkCounts(
  basis: readonly MetricEvent[],
  snapshot: SessionMetrics,
  violations: string[],
): void {
  const start = basis.findLastIndex((e) => e.type === "session_start");
  const tools = new Map<string, [number, number, number]>();
  const llms = new Map<string, [number, number, number]>();
  for (const e of basis.slice(Math.max(0, start))) {
    if (e.type === "tool_call") {
      const t = tools.get(e.name) ?? [0, 0, 0];
      tools.set(e.name, [t[0] + 1, t[1] + (e.success ? 1 : 0), t[2] + e.durationMs]);
    } else if (e.type === "llm") {
      const l = llms.get(e.phase) ?? [0, 0, 0];
      llms.set(e.phase, [l[0] + 1, l[1] + e.usage.promptTokens, l[2] + e.usage.completionTokens]);
    }
  }
  const got = {
    tools: new Map(snapshot.tools.map((t) => [t.name, [t.callCount, t.successCount, t.totalDurationMs]])),
    llms: new Map(
      snapshot.llms.map((l) => [l.phase, [l.interactionCount, l.promptTokens, l.completionTokens]]),
    ),
  };
  if (!Bun.deepEquals(got.tools, tools)) violations.push("tool counts differ from the surviving events'");
  if (!Bun.deepEquals(got.llms, llms)) violations.push("LLM token sums differ from the surviving events'");
}

export function checkReports(
  journal: ReturnType<typeof checkLines>,
  totalBytes: number,
  dir: string,
  logger: MemoryLogger,
  violations: string[],
): void {
  const said = logger.warnings.join("\n");
  let previous = 0;
  for (const event of journal.events) {
    if (event.seq > previous + 1 && !said.includes(`between seq ${previous} and seq ${event.seq}`))
      violations.push(`the gap between seq ${previous} and ${event.seq} was not reported`);
    previous = event.seq;
  }
  if (journal.tail.length > 0 && !said.includes(`remaining ${journal.tail.length} bytes`))
    violations.push(`the torn tail of ${journal.tail.length} bytes was not reported`);
  let valid = 0;
  const bad = new Set(journal.bad.map((b) => b.line));
  journal.ends.forEach((end, i) => {
    if (!bad.has(i + 1)) valid += end - (journal.ends[i - 1] ?? 0);
  });
  const aside = readdirSync(dir).filter((name) => name.startsWith(CORRUPT_PREFIX));
  const expected = totalBytes - valid;
  if (expected === 0) {
    if (aside.length > 0) violations.push("bytes were set aside from a journal without a bad one");
  } else if (aside.length !== 1 || statSync(join(dir, aside[0]!)).size !== expected)
    violations.push(`expected the ${expected} bad bytes set aside in one ${CORRUPT_PREFIX}* file`);
}
