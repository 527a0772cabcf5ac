/**
 * The one place the read API and the CLI meet features owned by other modules: the journal check
 * (`src/journal/verify.ts`) and the Prometheus exporter (`src/export/prometheus.ts`). Each is
 * wrapped in the shape the routes and commands need, so wiring a changed signature is one edit.
 */
import type { SessionMetrics } from "../core/types.ts";
import { MetricsError } from "../errors.ts";
import { type JournalVerification, verifyJournal } from "../journal/verify.ts";

export type { JournalVerification };

/** `verifyJournal`; a missing session rejects with a StorageError (code ENOENT). */
export function verifySession(sessionsDir: string, sessionId: string): Promise<JournalVerification> {
  return verifyJournal(sessionsDir, sessionId);
}

/** The parts of `src/export/prometheus.ts` used here. */
interface PrometheusModule {
  toPrometheusText(input: SessionMetrics | SessionMetrics[], options?: unknown): string;
  createPrometheusHandler(options: {
    sessionsDir: string;
  }): (request: Request) => Response | Promise<Response>;
}

/** Thrown when an exporter module is not part of this build. */
export class ExporterMissingError extends MetricsError {
  override name = "ExporterMissingError";
}

let prometheus: Promise<PrometheusModule> | undefined;

/**
 * The Prometheus exporter module, loaded on first use (the read API does not pay for it until
 * `/metrics` is scraped).
 * TODO(src/export/prometheus.ts): a static import once that file has landed.
 */
export function loadPrometheus(): Promise<PrometheusModule> {
  prometheus ??= import(new URL("../export/prometheus.ts", import.meta.url).href).then(
    (m) => m as PrometheusModule,
    (error) => {
      prometheus = undefined;
      throw new ExporterMissingError(
        `[export] the Prometheus exporter (src/export/prometheus.ts) is not available: ${(error as Error).message}`,
        { cause: error },
      );
    },
  );
  return prometheus;
}
