/**
 * Where a resumed session continues from, decided by journal position, never by wall clock: the
 * journal wins when METRICS.json is the fold of one of its prefixes (the document a journaled run
 * flushed, perhaps before more events were journaled and the process died); otherwise the
 * document came from elsewhere (a `journal: false` run, the Go collector, a copy) after the
 * journal's last event, and the session continues from it.
 */
import { encodeMetrics } from "../core/go-document.ts";
import { formatTimestamp, type SessionState, snapshotState } from "../core/state.ts";
import type { SessionMetrics } from "../core/types.ts";

export interface DocumentWatch {
  /** Give it every replayed event's state, in order. */
  visit(state: SessionState): void;
  /** Whether some prefix of the journal folded to the document. */
  readonly found: boolean;
}

/** Watches a replay for a prefix whose fold encodes to exactly `doc`'s bytes. */
export function watchForDocument(doc: SessionMetrics): DocumentWatch {
  let target: string | undefined;
  let found = false;
  return {
    visit(state) {
      if (found || formatTimestamp(state.updatedAt) !== doc.updatedAt) return;
      // Cheap checks first: the full encode runs only where the entry counts agree too.
      if (
        state.tools.size !== doc.tools.length ||
        state.llms.size !== doc.llms.length ||
        state.phases.size !== doc.phases.length ||
        state.droppedRecords !== (doc.droppedRecords ?? 0)
      )
        return;
      target ??= encodeMetrics(doc);
      found = encodeMetrics(snapshotState(state)) === target;
    },
    get found() {
      return found;
    },
  };
}
