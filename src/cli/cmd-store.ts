/**
 * Cross-session commands: `ingest` (session folders → a store) and `report` (aggregates by model,
 * tool, agent, phase or day). `--store` takes a SQLite path or a PostgreSQL URL; the drivers are
 * loaded only by these commands. Without `--store`, `report` folds the sessions directory into a
 * private in-memory SQLite store first (always current, with progress on a terminal).
 */
import { join } from "node:path";
import { io } from "../fs/io.ts";
import { formatCount, formatDuration, formatUsd } from "../http/dashboard/format.ts";
import type { ReportRow } from "../store/report.ts";
import { GROUP_KEYS, type GroupKey, type MetricsStore } from "../store/types.ts";
import { intOption, noPositionals, UsageError } from "./args.ts";
import type { Command, Context } from "./context.ts";
import { type Column, numberColumn, renderListing } from "./output.ts";

const STORE_OPTION = {
  type: "string",
  value: "<path | postgres URL>",
  description: "a SQLite file or a postgres:// URL",
} as const;

/** Opens the store a `--store` value names (PostgreSQL for postgres:// URLs, SQLite otherwise). */
export async function openStore(spec: string): Promise<MetricsStore> {
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { createPostgresStore } = await import("../store/postgres/index.ts");
    return createPostgresStore({ url: spec });
  }
  const { createSqliteStore } = await import("../store/sqlite/index.ts");
  return createSqliteStore({ path: spec });
}

/** Folders in the directory: the ingest's unit of progress. */
function folderCount(dir: string): number {
  try {
    return io.readdirEntriesSync(dir).filter((d) => d.isDirectory()).length;
  } catch {
    return 0;
  }
}

async function ingestWithProgress(ctx: Context, store: MetricsStore) {
  const { ingest } = await import("../store/ingest.ts");
  const total = folderCount(ctx.dir);
  const progress = ctx.progress("ingest", "sessions");
  try {
    return await ingest(store, ctx.dir, {
      logger: ctx.logger,
      onProgress: (p) => progress.update(p.sessions + p.skipped, total),
    });
  } finally {
    progress.end();
  }
}

export const ingestCommand: Command = {
  name: "ingest",
  summary: "import the session folders into a store (idempotent: a second run adds nothing)",
  usage: "ingest [--store <path | postgres URL>] [--json]",
  details: "--store defaults to <sessionsDir>/metrics.db.",
  formats: ["table", "json"],
  options: { store: STORE_OPTION },
  async run(ctx, args) {
    noPositionals(args.positionals);
    const spec = (args.values.store as string | undefined) ?? join(ctx.dir, "metrics.db");
    await using store = await openStore(spec);
    const result = await ingestWithProgress(ctx, store);
    if (ctx.format === "json") return JSON.stringify(result, null, 2);
    return `ingested ${formatCount(result.sessions)} sessions (${formatCount(result.events)} events, ${formatCount(result.inserted)} new) into ${spec}; skipped ${formatCount(result.skipped)} folders`;
  },
};

const count = (key: keyof ReportRow, header: string) =>
  numberColumn(
    header,
    (r: ReportRow) => r[key] as number | null,
    (n) => (n === null ? "—" : formatCount(n)),
  );
const ms = (key: "durationP50" | "durationP90" | "durationP99", header: string) =>
  numberColumn(header, (r: ReportRow) => r[key], formatDuration);

export const reportCommand: Command = {
  name: "report",
  summary: "aggregates across sessions by model, tool, agent, phase or day",
  usage:
    "report [--by model,tool,agent,phase,day] [--kind tool|llm] [--since <time>] [--until <time>] [--store <path | URL>] [--json | --csv]",
  details:
    "Times are ISO 8601 (2026-11-22, 2026-11-22T08:00:00Z) or epoch milliseconds. Without --store the sessions directory is read into memory first.",
  formats: ["table", "json", "csv"],
  options: {
    by: {
      type: "string",
      value: "<keys>",
      description: `group keys, comma-separated: ${GROUP_KEYS.join(", ")}`,
    },
    kind: { type: "string", value: "tool|llm", description: "only tool calls, or only LLM calls" },
    since: { type: "string", value: "<time>", description: "calls at or after this time" },
    until: { type: "string", value: "<time>", description: "calls before this time" },
    store: STORE_OPTION,
  },
  async run(ctx, args) {
    noPositionals(args.positionals);
    const by = String(args.values.by ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter((k) => k !== "");
    const bad = by.find((k) => !GROUP_KEYS.includes(k as GroupKey));
    if (bad !== undefined)
      throw new UsageError(`[cli] --by: ${JSON.stringify(bad)} is not one of ${GROUP_KEYS.join(", ")}`);
    const time = (name: "since" | "until") => {
      const v = args.values[name] as string | undefined;
      if (v === undefined) return undefined;
      const n = /^\d+$/.test(v) ? intOption(v, name, 0, Number.MAX_SAFE_INTEGER) : Date.parse(v);
      if (!Number.isFinite(n)) throw new UsageError(`[cli] --${name}: ${JSON.stringify(v)} is not a time`);
      return n;
    };
    const since = time("since");
    const until = time("until");
    const kind = args.values.kind as string | undefined;
    if (kind !== undefined && kind !== "tool" && kind !== "llm")
      throw new UsageError(`[cli] --kind: ${JSON.stringify(kind)} is not one of tool, llm`);
    const spec = args.values.store as string | undefined;
    await using store = await openStore(spec ?? ":memory:");
    if (spec === undefined) await ingestWithProgress(ctx, store);
    const { report } = await import("../store/report.ts");
    const rows = await report(store, {
      groupBy: by as GroupKey[],
      since,
      until,
      ...(kind === undefined ? {} : { kind: kind as "tool" | "llm" }),
    });
    const columns: Column<ReportRow>[] = [
      ...by.map((k): Column<ReportRow> => ({ header: k, show: (r) => String(r[k as GroupKey] ?? "—") })),
      count("sessions", "sessions"),
      count("calls", "calls"),
      count("toolCalls", "tool calls"),
      count("llmCalls", "LLM calls"),
      { ...count("failures", "failures"), tone: (r) => (r.failures > 0 ? "bad" : undefined) },
      count("promptTokens", "prompt"),
      count("completionTokens", "completion"),
      count("cacheReadTokens", "cache read"),
      count("cacheWriteTokens", "cache write"),
      count("reasoningTokens", "reasoning"),
      numberColumn("cost", (r) => r.cost, formatUsd),
      ms("durationP50", "p50"),
      ms("durationP90", "p90"),
      ms("durationP99", "p99"),
    ];
    return renderListing(ctx.format, rows, columns, { color: ctx.color, empty: "no calls in range" });
  },
};
