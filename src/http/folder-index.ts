/**
 * The listing rows of every session folder, kept in memory and revalidated lazily: a request
 * finds the index at most `MAX_AGE_MS` (1 s) old, and a refresh re-reads only the
 * sessions whose files changed. No timer runs: an idle server does nothing. A first build over
 * thousands of folders yields to the event loop every few milliseconds so other requests go on.
 */
import { MetricsError } from "../errors.ts";
import { compareKeys, type ListedSession } from "./session-list.ts";
import { readSession, summarize } from "./session-read.ts";
import { listSessionIds, sessionIdentity } from "./session-source.ts";

export interface FolderIndex {
  /** Every session's row, in listing order. */
  rows(): Promise<readonly ListedSession[]>;
}

/** How old the index may be before a request revalidates it. */
const MAX_AGE_MS = 1_000;
const SLICE_MS = 8;

export function createFolderIndex(sessionsDir: string): FolderIndex {
  const known = new Map<string, { identity: string; row: ListedSession }>();
  let sorted: ListedSession[] = [];
  let checkedAt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | undefined;

  async function refresh(): Promise<void> {
    const ids = listSessionIds(sessionsDir);
    const present = new Set(ids);
    for (const id of known.keys()) if (!present.has(id)) known.delete(id);
    let sliceStart = performance.now();
    for (const id of ids) {
      const identity = sessionIdentity(sessionsDir, id);
      if (known.get(id)?.identity === identity) continue;
      try {
        const read = await readSession(sessionsDir, id);
        const summary = summarize(read.metrics, read.breakdown.models, read.breakdown.agents);
        known.set(id, {
          identity: read.identity,
          row: { ...summary, startedAtMs: startMs(summary.startedAt) },
        });
      } catch (error) {
        // Gone meanwhile, or unreadable: not listed (its own page says why).
        known.delete(id);
        if (!(error instanceof MetricsError)) throw error;
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    sorted = [...known.values()].map((k) => k.row).sort(compareKeys);
    checkedAt = Date.now();
  }

  return {
    async rows() {
      if (Date.now() - checkedAt >= MAX_AGE_MS) {
        refreshing ??= refresh().finally(() => {
          refreshing = undefined;
        });
        await refreshing;
      }
      return sorted;
    },
  };
}

/** Epoch ms of an RFC 3339 start (0 when it cannot be parsed, so it sorts last). */
function startMs(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.trunc(ms) : 0;
}
