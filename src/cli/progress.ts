/**
 * A progress line on stderr for long work: `ingest 1,240/10,000 sessions · 412/s · ETA 21 s`,
 * redrawn in place at most ten times a second. Only on a terminal: when stderr is a pipe or a
 * file (CI, scripts) nothing at all is written, so logs stay clean.
 */
import { formatCount } from "../http/dashboard/format.ts";

export interface Progress {
  /** `done` items so far (of `total`, when known). */
  update(done: number, total?: number): void;
  /** Clears the line. Safe to call twice. */
  end(): void;
}

export interface ProgressOptions {
  label: string;
  unit: string;
  /** Where the line goes; undefined disables it. */
  write: ((text: string) => void) | undefined;
}

const NO_PROGRESS: Progress = { update() {}, end() {} };
/** Minimum time between redraws. */
const INTERVAL_MS = 100;

/** `12 s`, `3 min 05 s`. */
function eta(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${String(Math.ceil(seconds % 60)).padStart(2, "0")} s`;
}

export function createProgress(options: ProgressOptions): Progress {
  const write = options.write;
  if (write === undefined) return NO_PROGRESS;
  const started = performance.now();
  let last = Number.NEGATIVE_INFINITY;
  let drawn = false;
  let ended = false;
  return {
    update(done, total) {
      if (ended) return;
      const t = performance.now();
      if (t - last < INTERVAL_MS && done !== total) return;
      last = t;
      const seconds = (t - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      const parts = [
        `${options.label} ${formatCount(done)}${total === undefined ? "" : `/${formatCount(total)}`} ${options.unit}`,
        `${formatCount(Math.round(rate))}/s`,
      ];
      if (total !== undefined) parts.push(`ETA ${rate > 0 ? eta((total - done) / rate) : "—"}`);
      write(`\r\x1b[2K${parts.join(" · ")}`);
      drawn = true;
    },
    end() {
      if (ended) return;
      ended = true;
      if (drawn) write("\r\x1b[2K");
    },
  };
}
