/**
 * The session listing: newest first (`startedAt`, then session id, both descending), in keyset
 * pages, filtered by start time, model and agent. Sessions come from the sessions directory and,
 * when there is one, the store; a session in both is listed once (the folder's row: it is the
 * fresher). A cursor is the position of the last row of a page, so pages stay stable while new
 * sessions start.
 */
import { ValidationError } from "../errors.ts";
import type { SessionSummary } from "./session-read.ts";

/** A position in the listing order. */
export interface ListKey {
  startedAtMs: number;
  sessionId: string;
}

export interface ListFilter {
  /** Started at or after (epoch ms). */
  since?: number;
  /** Started before (epoch ms). */
  until?: number;
  model?: string;
  agent?: string;
}

/** A listing row: the summary with its position. */
export type ListedSession = SessionSummary & { startedAtMs: number };

/**
 * One source's part of a page: up to `limit` matching rows after `after`, in order, and how far
 * it looked: `end` is the last position it considered (null when it has nothing after the rows).
 */
export interface SourcePage {
  items: ListedSession[];
  end: ListKey | null;
}

export interface ListSource {
  page(after: ListKey | undefined, limit: number, filter: ListFilter): Promise<SourcePage>;
}

export interface SessionListPage {
  sessions: ListedSession[];
  nextCursor: string | null;
}

/** Negative when `a` comes first (newer, or the same start and a larger id in byte order). */
export function compareKeys(a: ListKey, b: ListKey): number {
  if (a.startedAtMs !== b.startedAtMs) return b.startedAtMs - a.startedAtMs;
  return a.sessionId === b.sessionId ? 0 : a.sessionId > b.sessionId ? -1 : 1;
}

export function matches(row: ListedSession, filter: ListFilter): boolean {
  if (filter.since !== undefined && row.startedAtMs < filter.since) return false;
  if (filter.until !== undefined && row.startedAtMs >= filter.until) return false;
  if (filter.model !== undefined && !row.models.includes(filter.model)) return false;
  if (filter.agent !== undefined && !row.agents.includes(filter.agent)) return false;
  return true;
}

export function encodeCursor(key: ListKey): string {
  return Buffer.from(JSON.stringify([key.startedAtMs, key.sessionId])).toString("base64url");
}

/** @throws ValidationError naming `cursor` when it is not one this listing made. */
export function decodeCursor(cursor: string): ListKey {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === "string" &&
      value[1].length > 0 &&
      value[1].length <= 128
    )
      return { startedAtMs: value[0], sessionId: value[1] };
  } catch {
    // reported below
  }
  throw new ValidationError(
    "[list] cursor: is not a cursor of this listing (pass nextCursor as it was given)",
  );
}

/** A source over rows already in memory, sorted in listing order. */
export function arraySource(rows: () => Promise<readonly ListedSession[]>): ListSource {
  return {
    async page(after, limit, filter) {
      const all = await rows();
      const items: ListedSession[] = [];
      let i = after === undefined ? 0 : firstAfter(all, after);
      for (; i < all.length && items.length < limit; i++) if (matches(all[i]!, filter)) items.push(all[i]!);
      // Stopped at the limit with rows left: say how far it looked.
      const end = items.length === limit && i < all.length ? items[items.length - 1]! : null;
      return { items, end: end && { startedAtMs: end.startedAtMs, sessionId: end.sessionId } };
    },
  };
}

/** Index of the first row strictly after `key` (binary search). */
function firstAfter(rows: readonly ListKey[], key: ListKey): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(rows[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Merges the sources' pages into one page of at most `limit` rows. */
export async function listPage(
  sources: readonly ListSource[],
  options: { limit: number; cursor?: string; filter: ListFilter },
): Promise<SessionListPage> {
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  const pages = await Promise.all(sources.map((s) => s.page(after, options.limit, options.filter)));
  // Only rows up to the least advanced source's end are certain to be in order.
  let boundary: ListKey | null = null;
  for (const p of pages)
    if (p.end !== null && (boundary === null || compareKeys(p.end, boundary) < 0)) boundary = p.end;
  const seen = new Set<string>();
  const merged: ListedSession[] = [];
  for (const row of pages.flatMap((p) => p.items).sort(compareKeys)) {
    if (seen.has(row.sessionId)) continue;
    if (boundary !== null && compareKeys(row, boundary) > 0) continue;
    seen.add(row.sessionId);
    merged.push(row);
  }
  const sessions = merged.slice(0, options.limit);
  const last = sessions.at(-1);
  let next: ListKey | null = null;
  if (merged.length > options.limit && last !== undefined) next = last;
  else if (boundary !== null)
    next = sessions.length === options.limit && last !== undefined ? last : boundary;
  return { sessions, nextCursor: next === null ? null : encodeCursor(next) };
}
