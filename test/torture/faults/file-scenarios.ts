/**
 * The free functions under faults: the Go-compatible `save()` (over an existing METRICS.json) and
 * `ingest()` of a sessions folder into SQLite (our reads of the folders through `io`, and the
 * database calls through `FaultDatabase`, both counted by the same plan).
 */
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { encodeMetrics } from "../../../src/core/go-document.ts";
import type { SessionMetrics } from "../../../src/core/types.ts";
import { load, save } from "../../../src/fs/metrics-file.ts";
import { replaySession } from "../../../src/journal/replay.ts";
import { Collector } from "../../../src/session/collector.ts";
import { ingest } from "../../../src/store/ingest.ts";
import { createSqliteStore, type SqliteStore } from "../../../src/store/sqlite/index.ts";
import { MemoryLogger } from "../../journal/helpers.ts";
import type { FaultIO } from "../fault-io.ts";
import type { Scenario } from "./collector-scenarios.ts";
import { FaultDatabase } from "./fault-db.ts";
import {
  bytesOf,
  checkMetricsFile,
  DEFAULT_SHAPE,
  leftovers,
  must,
  Probe,
  SESSION,
  sessionDir,
  trialDir,
  unknownLeftovers,
} from "./world.ts";

/** Two documents of the session: the one on disk, and the one `save()` writes over it. */
async function documents(): Promise<[SessionMetrics, SessionMetrics]> {
  const { dir, remove } = trialDir();
  try {
    const probe = await Probe.open(dir, DEFAULT_SHAPE);
    probe.record(3);
    const first = probe.collector.snapshot();
    probe.record(3);
    const second = probe.collector.snapshot();
    await probe.collector.stop();
    return [first, second];
  } finally {
    remove();
  }
}

function saveScenario(first: SessionMetrics, second: SessionMetrics): Scenario {
  const want = encodeMetrics(second);
  return {
    area: "faults: save()",
    async prepare(sessionsDir) {
      await save(sessionsDir, SESSION, first);
      const before = bytesOf(join(sessionDir(sessionsDir), "METRICS.json"));
      return {
        act: () => save(sessionsDir, SESSION, second),
        check: async () => {
          const v = checkMetricsFile(sessionsDir, before);
          const now = new TextDecoder().decode(
            bytesOf(join(sessionDir(sessionsDir), "METRICS.json")) ?? undefined,
          );
          if (now !== encodeMetrics(first) && now !== want) v.push("METRICS.json is neither document");
          const left = unknownLeftovers(sessionsDir);
          if (left.length > 0) v.push(`left behind: ${left.join(", ")}`);
          v.push(...(await must("save()", () => save(sessionsDir, SESSION, second))));
          const after = leftovers(sessionsDir);
          if (after.length > 0) v.push(`left behind after the next save(): ${after.join(", ")}`);
          const loaded = await load(sessionsDir, SESSION);
          if (loaded === null || encodeMetrics(loaded) !== want)
            v.push("load() after save() is not the document");
          return v;
        },
        dispose: async () => {},
      };
    },
  };
}

/** Three sessions (journal and METRICS.json each), made once and copied into every trial. */
async function sessionsTemplate(): Promise<{ dir: string; remove: () => void; events: number }> {
  const template = trialDir();
  let events = 0;
  for (const [i, id] of ["ingest-a", "ingest-b", "ingest-c"].entries()) {
    const logger = new MemoryLogger();
    const c = await Collector.open({ sessionId: id, sessionsDir: template.dir, logger });
    for (let k = 0; k <= i + 2; k++) c.recordToolCall(`tool-${k}`, k % 2 === 0, k);
    await c.stop();
    events += replaySession(template.dir, id, undefined, { logger })?.scan.events ?? 0;
  }
  return { ...template, events };
}

function ingestScenario(fault: FaultIO, template: { dir: string; events: number }): Scenario {
  const ids = ["ingest-a", "ingest-b", "ingest-c"];
  return {
    area: "faults: ingest() into SQLite",
    async prepare(sessionsDir) {
      const sessions = join(sessionsDir, "sessions");
      mkdirSync(sessions);
      cpSync(template.dir, sessions, { recursive: true });
      const client = new FaultDatabase(join(sessionsDir, "metrics.db"), fault);
      const store: SqliteStore = await createSqliteStore({ client });
      const logger = new MemoryLogger();
      const close = async () => {
        await store.close();
        client.close();
      };
      return {
        act: async () => {
          await ingest(store, sessions, { logger, host: "sweep" });
        },
        check: async () => {
          // Once the disk is back the same store imports everything, each event exactly once.
          const v = await must("ingest()", () => ingest(store, sessions, { logger, host: "sweep" }));
          const rows = client.query("select count(*) as n from sessions").get() as { n: number };
          if (rows.n !== ids.length)
            v.push(`the sessions table holds ${rows.n} rows, expected ${ids.length}`);
          const count = client.query("select count(*) as n from events where part = 0").get() as {
            n: number;
          };
          if (count.n !== template.events)
            v.push(`the events table holds ${count.n} rows, expected ${template.events}`);
          return v;
        },
        dispose: close,
      };
    },
  };
}

/** The scenarios and the clean-up of what they share. */
export async function fileScenarios(fault: FaultIO): Promise<{ scenarios: Scenario[]; dispose: () => void }> {
  const [first, second] = await documents();
  const template = await sessionsTemplate();
  return {
    scenarios: [saveScenario(first, second), ingestScenario(fault, template)],
    dispose: template.remove,
  };
}
