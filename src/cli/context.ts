/**
 * What a command runs with: where the sessions are, how to print, and what the terminal allows.
 * `runCli` builds it from `CliIO`, which `main.ts` fills from the process; tests pass their own.
 */
import type { Logger } from "../logger.ts";
import type { OptionSpecs, Parsed } from "./args.ts";
import type { Format } from "./output.ts";
import { createProgress, type Progress } from "./progress.ts";

/** The process as a command sees it (every field optional: defaults suit a test). */
export interface CliIO {
  /** Environment (`SESSION_METRICS_DIR`, `SESSION_METRICS_TOKEN`, `NO_COLOR`). Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Whether stdout is a terminal (colour). Default false. */
  stdoutIsTTY?: boolean;
  /** Whether stderr is a terminal (progress lines). Default false. */
  stderrIsTTY?: boolean;
  /**
   * Writes to stderr as it happens (progress, a server's address, warnings). Without it, stderr
   * text is collected into the result's `err` and progress is not drawn.
   */
  writeErr?: (text: string) => void;
  /** Ends long-running commands (`serve`, `demo --live`). */
  signal?: AbortSignal;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export type CommandOutput = string | { out: string; code: number };

/** Exit codes: 0 success, 1 runtime error, 2 usage error, 3 data problem. */
export const EXIT = { ok: 0, error: 1, usage: 2, data: 3 } as const;

export interface Context {
  dir: string;
  env: Record<string, string | undefined>;
  format: Format;
  /** Colour in stdout tables: a terminal, and no NO_COLOR. */
  color: boolean;
  signal: AbortSignal | undefined;
  /** A line on stderr (a warning or a note; a newline is added). */
  warn(text: string): void;
  /** A logger for library calls: its messages go to stderr. */
  logger: Logger;
  progress(label: string, unit: string): Progress;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `session-metrics <usage>`. */
  usage: string;
  /** Extra paragraphs of help. */
  details?: string;
  options: OptionSpecs;
  /** Formats this command can print (`--json`, `--csv`); the first is the default. */
  formats?: readonly Format[];
  /** stdout text, or text and an exit code (3 when the output is there but the data had problems). */
  run(ctx: Context, args: Parsed): Promise<CommandOutput> | CommandOutput;
}

export function createContext(io: CliIO, dir: string, format: Format, err: (text: string) => void): Context {
  const env = io.env ?? process.env;
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  const progressWrite = io.stderrIsTTY === true && io.writeErr !== undefined ? io.writeErr : undefined;
  return {
    dir,
    env,
    format,
    color: io.stdoutIsTTY === true && !noColor && format === "table",
    signal: io.signal,
    warn: (text) => err(`${text}\n`),
    logger: { warn: (m) => err(`${m}\n`), error: (m) => err(`${m}\n`) },
    progress: (label, unit) => createProgress({ label, unit, write: progressWrite }),
  };
}
