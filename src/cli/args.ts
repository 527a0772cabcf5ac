/**
 * Argument parsing: `node:util` `parseArgs` in strict mode, first to find the command (the first
 * positional), then again with the global options and that command's own. Anything it refuses
 * is a `UsageError` (exit code 2) that says what was wrong and where to look.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { ValidationError } from "../errors.ts";

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends ValidationError {
  override name = "UsageError";
}

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & {
  description: string;
  value?: string;
};
export type OptionSpecs = Record<string, OptionSpec>;

export const GLOBAL_OPTIONS = {
  dir: {
    type: "string",
    value: "<sessionsDir>",
    description: "the sessions directory (default ./sessions, or SESSION_METRICS_DIR)",
  },
  help: { type: "boolean", short: "h", description: "show help" },
  version: { type: "boolean", description: "print the version" },
} as const satisfies OptionSpecs;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** The command name: the first positional, skipping global options and their values. */
export function findCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return { command: argv[i + 1], rest: [...argv.slice(0, i), ...argv.slice(i + 2)] };
    if (arg === "--dir") {
      i++;
      continue;
    }
    if (arg.startsWith("-")) continue;
    return { command: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: [...argv] };
}

/** Parses `argv` against `options` (strict: unknown options and stray values are usage errors). */
export function parse(argv: readonly string[], options: OptionSpecs, where: string): Parsed {
  const config: ParseArgsConfig["options"] = {};
  for (const [name, spec] of Object.entries(options)) {
    const { description: _d, value: _v, ...rest } = spec;
    config[name] = rest;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: config,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Parsed["values"], positionals };
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`[cli] ${message}; see \`session-metrics ${where} --help\``);
  }
}

/** Refuses positional arguments: a command that takes none, or more than the one it takes. */
export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`[cli] unexpected arguments: ${positionals.join(" ")}`);
}

/** The one positional argument a command takes; `missing` is the usage error without it. */
export function onePositional(args: Parsed, missing: string): string {
  const [value, ...extra] = args.positionals;
  if (value === undefined) throw new UsageError(missing);
  noPositionals(extra);
  return value;
}

/** The session id `command` takes as its one positional argument. */
export function sessionIdArg(args: Parsed, command: string): string {
  return onePositional(
    args,
    `[cli] ${command} needs a session id; see \`session-metrics ${command} --help\``,
  );
}

/** A whole number option in [min, max]. */
export function intOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `[cli] --${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  return n;
}

/** A value from a fixed list. */
export function choice<T extends string>(value: unknown, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T))
    throw new UsageError(
      `[cli] --${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(String(value))}`,
    );
  return value as T;
}

/** Renders option help lines, aligned. */
export function optionHelp(options: OptionSpecs): string {
  const rows = Object.entries(options).map(([name, spec]) => {
    const short = "short" in spec && spec.short !== undefined ? `-${spec.short}, ` : "";
    return [
      `  ${short}--${name}${spec.value !== undefined ? ` ${spec.value}` : ""}`,
      spec.description,
    ] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => left.padEnd(width) + right).join("\n");
}
