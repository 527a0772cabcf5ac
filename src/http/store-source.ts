/**
 * Listing rows from a metrics store. The store's own rows carry no totals, so each session's
 * summary is folded once (its document through `getSession`, its models and agents through a
 * one-session `report`) and kept while the session's `lastSeq` and `updatedAt` stay the same:
 * a page of sessions already seen costs one indexed query.
 */
import { getSession, report } from "../store/report.ts";
import type { MetricsStore, SessionRow } from "../store/types.ts";
import type { ListedSession, ListFilter, ListKey, ListSource } from "./session-list.ts";
import { matches } from "./session-list.ts";
import { summarize } from "./session-read.ts";

/** Summaries kept in memory. */
const MAX_ENTRIES = 20_000;
/** With a model or agent filter, at most this many rows are examined per page. */
const MAX_SCAN = 5_000;

export function createStoreSource(store: MetricsStore): ListSource {
  const summaries = new Map<string, { version: string; row: ListedSession }>();

  async function rowOf(session: SessionRow): Promise<ListedSession | null> {
    const version = `${session.lastSeq}:${session.updatedAt}`;
    const hit = summaries.get(session.sessionId);
    if (hit?.version === version) return hit.row;
    const metrics = await getSession(store, session.sessionId);
    if (metrics === null) return null;
    const groups = await report(store, {
      groupBy: ["model", "agent"],
      where: { sessionId: session.sessionId },
    });
    const models = new Set<string>();
    const agents = new Set<string>();
    for (const g of groups) {
      if (g.model != null) models.add(g.model);
      if (g.agent != null) agents.add(g.agent);
    }
    const row = { ...summarize(metrics, [...models], [...agents]), startedAtMs: session.startedAt };
    summaries.delete(session.sessionId);
    summaries.set(session.sessionId, { version, row });
    if (summaries.size > MAX_ENTRIES) summaries.delete(summaries.keys().next().value!);
    return row;
  }

  return {
    async page(after: ListKey | undefined, limit: number, filter: ListFilter) {
      const items: ListedSession[] = [];
      let cursor = after && { startedAt: after.startedAtMs, sessionId: after.sessionId };
      let scanned = 0;
      const batch = filter.model === undefined && filter.agent === undefined ? limit : Math.max(limit, 200);
      for (;;) {
        const rows = await store.listSessionRows({
          limit: batch,
          after: cursor,
          since: filter.since,
          until: filter.until,
        });
        for (const r of rows) {
          scanned++;
          cursor = { startedAt: r.startedAt, sessionId: r.sessionId };
          const row = await rowOf(r);
          if (row !== null && matches(row, filter)) items.push(row);
          if (items.length === limit || scanned >= MAX_SCAN) {
            const more = rows.length === batch || r !== rows[rows.length - 1];
            return { items, end: more ? { startedAtMs: r.startedAt, sessionId: r.sessionId } : null };
          }
        }
        if (rows.length < batch) return { items, end: null };
      }
    },
  };
}
