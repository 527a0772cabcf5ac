/**
 * Reads of session folders, kept while the files do not change. Each request costs two `lstat`
 * calls to revalidate (a few µs), so a document is served from memory at close to a static
 * server's rate, and a changed journal is seen by the very next request. Entries are evicted
 * least-recently-used; concurrent reads of one session share one pass over its journal.
 */
import { readSession, type SessionRead } from "./session-read.ts";
import { requireSession } from "./session-source.ts";

export interface CachedSession {
  read: SessionRead;
  /** Memoised encodings of the views (document bytes, JSON of the turns, …) with their ETags. */
  encoded: Map<string, { body: Uint8Array; etag: string }>;
}

export interface SessionCache {
  /** The session's read, from memory when its files are unchanged. */
  get(sessionId: string): Promise<CachedSession>;
  /** A view's bytes and ETag, encoded once per version of the session. */
  encode(
    entry: CachedSession,
    view: string,
    make: (read: SessionRead) => string,
  ): { body: Uint8Array; etag: string };
}

/** Strong ETag of bytes (a 64-bit hash: collisions are not a concern for cache validation). */
export function etagOf(body: Uint8Array | string): string {
  return `"${Bun.hash(body).toString(36)}"`;
}

const encoder = new TextEncoder();
const MAX_ENTRIES = 256;

export function createSessionCache(sessionsDir: string): SessionCache {
  const entries = new Map<string, CachedSession>();
  const pending = new Map<string, Promise<CachedSession>>();

  async function load(sessionId: string, identity: string): Promise<CachedSession> {
    const key = `${sessionId}\0${identity}`;
    const running = pending.get(key);
    if (running !== undefined) return running;
    const promise = readSession(sessionsDir, sessionId).then((read) => {
      const entry: CachedSession = { read, encoded: new Map() };
      // The read may have seen a newer version than `identity`: keep what it says it saw.
      entries.delete(sessionId);
      entries.set(sessionId, entry);
      if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      return entry;
    });
    pending.set(key, promise);
    try {
      return await promise;
    } finally {
      pending.delete(key);
    }
  }

  return {
    async get(sessionId) {
      const identity = requireSession(sessionsDir, sessionId);
      const hit = entries.get(sessionId);
      if (hit !== undefined && hit.read.identity === identity) {
        // Refresh its place in the LRU order.
        entries.delete(sessionId);
        entries.set(sessionId, hit);
        return hit;
      }
      return load(sessionId, identity);
    },
    encode(entry, view, make) {
      let done = entry.encoded.get(view);
      if (done === undefined) {
        const body = encoder.encode(make(entry.read));
        done = { body, etag: etagOf(body) };
        entry.encoded.set(view, done);
      }
      return done;
    },
  };
}
