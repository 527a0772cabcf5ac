/**
 * At most one live collector per session in this process. (Across processes, the journal's lock
 * file does the same job.)
 */
import { resolve } from "node:path";
import { SessionLockedError } from "../errors.ts";

const claims = new Set<string>();

/** Claims `<sessionsDir>/<sessionId>`; throws `SessionLockedError` if a live collector holds it. */
export function claimSession(sessionsDir: string, sessionId: string): () => void {
  const key = resolve(sessionsDir, sessionId);
  if (claims.has(key))
    throw new SessionLockedError(
      `session ${JSON.stringify(sessionId)} in ${sessionsDir} already has a live Collector in this process; stop() it first or share it`,
    );
  claims.add(key);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    claims.delete(key);
  };
}
