/**
 * The CLI as plain functions: argv in, text and an exit code out. Only `main.ts` touches the
 * process (stdout, exit code), so every command is testable without spawning one.
 */
import { readdir } from "node:fs/promises";
import { aggregateJournal } from "../aggregate/session.ts";
import { encodeMetrics } from "../core/go-document.ts";
import { ValidationError } from "../errors.ts";
import { load } from "../fs/metrics-file.ts";
import { loadTurns, replayMetrics } from "../journal/replay.ts";

export interface CliResult {
  code: number;
  out: string;
}

export const USAGE = `usage: session-metrics <command> [--dir <sessionsDir>] [<sessionId>]

commands:
  list                 the sessions in the sessions directory
  show <sessionId>     METRICS.json (or, when it is missing, the document the journal folds to)
  turns <sessionId>    turns and steps (time to first token, decode time, usage) from the journal
  aggregate <sessionId> invocation analytics from the journal (retries, parallelism, cost by agent)

--dir defaults to ./sessions`;

interface Parsed {
  command: string;
  dir: string;
  sessionId: string | undefined;
}

/** Parses argv (without the runtime and script); throws ValidationError on bad flags. */
export function parseArgs(argv: readonly string[]): Parsed {
  let dir = "sessions";
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--dir") {
      const value = argv[++i];
      if (value === undefined || value === "") throw new ValidationError("[cli] --dir needs a folder");
      dir = value;
    } else if (arg.startsWith("--dir=")) dir = arg.slice("--dir=".length);
    else if (arg.startsWith("-")) throw new ValidationError(`[cli] unknown option ${arg}\n${USAGE}`);
    else positional.push(arg);
  }
  const [command, sessionId, ...extra] = positional;
  if (command === undefined) throw new ValidationError(`[cli] no command given\n${USAGE}`);
  if (extra.length > 0) throw new ValidationError(`[cli] unexpected arguments: ${extra.join(" ")}`);
  return { command, dir, sessionId };
}

function needId(p: Parsed): string {
  if (p.sessionId === undefined) throw new ValidationError(`[cli] ${p.command} needs a session id\n${USAGE}`);
  return p.sessionId;
}

/** Runs one command. Errors of this library become exit code 1 with their message. */
export async function runCli(argv: readonly string[]): Promise<CliResult> {
  const p = parseArgs(argv);
  switch (p.command) {
    case "list": {
      const entries = await readdir(p.dir, { withFileTypes: true }).catch(() => []);
      const ids = entries.filter((e) => e.isDirectory()).map((e) => e.name);
      return { code: 0, out: ids.sort().join("\n") };
    }
    case "show": {
      const id = needId(p);
      const metrics = (await load(p.dir, id)) ?? (await replayMetrics(p.dir, id));
      if (metrics === null)
        return { code: 1, out: `[session-metrics] no session ${JSON.stringify(id)} in ${p.dir}` };
      return { code: 0, out: encodeMetrics(metrics) };
    }
    case "turns":
      return { code: 0, out: JSON.stringify(await loadTurns(p.dir, needId(p)), null, 2) };
    case "aggregate":
      return { code: 0, out: JSON.stringify(aggregateJournal(p.dir, needId(p)), null, 2) };
    case "help":
      return { code: 0, out: USAGE };
    default:
      throw new ValidationError(`[cli] unknown command ${JSON.stringify(p.command)}\n${USAGE}`);
  }
}
