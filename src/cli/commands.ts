/**
 * The CLI as plain functions: `runCli(argv, io?)` → `{ code, out, err }`. Only `main.ts` touches
 * the process, so every command is testable without spawning one. Exit codes: 0 success,
 * 1 runtime error, 2 usage error (unknown command or option, invalid session id), 3 data problem
 * (a missing session, bad journal lines, an unreadable METRICS.json).
 */
import pkg from "../../package.json" with { type: "json" };
import { InvalidSessionIdError, MetricsError, ParseError, SchemaError, ValidationError } from "../errors.ts";
import { isNotFound } from "../http/session-source.ts";
import { findCommand, GLOBAL_OPTIONS, type OptionSpecs, optionHelp, parse, UsageError } from "./args.ts";
import { exportCommand } from "./cmd-export.ts";
import { pricesCommand } from "./cmd-prices.ts";
import { serveCommand } from "./cmd-serve.ts";
import { aggregateCommand, listCommand, showCommand, turnsCommand, verifyCommand } from "./cmd-sessions.ts";
import { ingestCommand, reportCommand } from "./cmd-store.ts";
import { type CliIO, type CliResult, type Command, createContext, EXIT } from "./context.ts";
import { demoCommand } from "./demo.ts";
import type { Format } from "./output.ts";

export type { CliIO, CliResult } from "./context.ts";

/** Every command, in help order. */
export const COMMANDS: readonly Command[] = [
  listCommand,
  showCommand,
  turnsCommand,
  aggregateCommand,
  verifyCommand,
  reportCommand,
  ingestCommand,
  exportCommand,
  pricesCommand,
  serveCommand,
  demoCommand,
];

const FORMAT_OPTIONS = {
  json: { type: "boolean", description: "print JSON" },
  csv: { type: "boolean", description: "print CSV" },
} as const satisfies OptionSpecs;

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "usage: session-metrics <command> [options]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "global options:",
    optionHelp(GLOBAL_OPTIONS),
    "",
    "`session-metrics <command> --help` tells more about a command.",
    "Exit codes: 0 success, 1 error, 2 usage error, 3 data problem (missing session, bad journal lines).",
  ].join("\n");
}

function optionsOf(command: Command): OptionSpecs {
  const formats = command.formats ?? [];
  const own: OptionSpecs = { ...command.options };
  if (formats.includes("json")) own.json = FORMAT_OPTIONS.json;
  if (formats.includes("csv")) own.csv = FORMAT_OPTIONS.csv;
  return own;
}

export function commandHelp(command: Command): string {
  const own = optionsOf(command);
  return [
    `usage: session-metrics ${command.usage}`,
    "",
    command.summary,
    ...(command.details === undefined ? [] : ["", command.details]),
    ...(Object.keys(own).length === 0 ? [] : ["", "options:", optionHelp(own)]),
    "",
    "global options:",
    optionHelp(GLOBAL_OPTIONS),
  ].join("\n");
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof InvalidSessionIdError) return EXIT.usage;
  if (isNotFound(error) || error instanceof ParseError || error instanceof SchemaError) return EXIT.data;
  if (error instanceof ValidationError) return EXIT.usage;
  return EXIT.error;
}

/** Runs one command line (argv without the runtime and script). Never throws. */
export async function runCli(argv: readonly string[], io: CliIO = {}): Promise<CliResult> {
  let err = "";
  const writeErr = (text: string) => {
    if (io.writeErr !== undefined) io.writeErr(text);
    else err += text;
  };
  const done = (code: number, out: string): CliResult => ({ code, out, err: err.replace(/\n$/, "") });
  try {
    const { command: name, rest } = findCommand(argv);
    if (name === undefined || name === "help") {
      const global = parse(rest, GLOBAL_OPTIONS, "");
      if (global.values.version === true) return done(EXIT.ok, pkg.version);
      const topic = name === "help" ? global.positionals[0] : undefined;
      const about = COMMANDS.find((c) => c.name === topic);
      if (topic !== undefined && about === undefined) throw unknownCommand(topic);
      if (about !== undefined) return done(EXIT.ok, commandHelp(about));
      if (global.values.help === true || name === "help") return done(EXIT.ok, usage());
      writeErr(`${usage()}\n`);
      return done(EXIT.usage, "");
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (command === undefined) {
      if (rest.includes("--help") || rest.includes("-h")) return done(EXIT.ok, usage());
      throw unknownCommand(name);
    }
    const args = parse(rest, { ...GLOBAL_OPTIONS, ...optionsOf(command) }, command.name);
    if (args.values.help === true) return done(EXIT.ok, commandHelp(command));
    if (args.values.version === true) return done(EXIT.ok, pkg.version);
    if (args.values.json === true && args.values.csv === true)
      throw new UsageError("[cli] --json and --csv exclude each other");
    const format: Format = args.values.json === true ? "json" : args.values.csv === true ? "csv" : "table";
    const env = io.env ?? process.env;
    const dir = (args.values.dir as string | undefined) ?? (env.SESSION_METRICS_DIR || "sessions");
    if (dir === "") throw new UsageError("[cli] --dir needs a folder");
    const ctx = createContext(io, dir, format, writeErr);
    const result = await command.run(ctx, args);
    return typeof result === "string" ? done(EXIT.ok, result) : done(result.code, result.out);
  } catch (error) {
    const message =
      error instanceof MetricsError
        ? error.message
        : `[session-metrics] unexpected error: ${error instanceof Error ? error.message : String(error)}`;
    writeErr(`${message}\n`);
    return done(exitCodeOf(error), "");
  }
}

function unknownCommand(name: string): UsageError {
  return new UsageError(
    `[cli] unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(", ")}; see \`session-metrics --help\``,
  );
}
