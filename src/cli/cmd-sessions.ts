/**
 * The commands that read session folders: `list`, `show`, `turns`, `aggregate`, `verify`. They
 * read what another process may be writing (nothing is modified). A journal with bad lines is
 * still read — every valid line counts — but the command warns and exits with 3 (data problem).
 */
import { aggregateJournal } from "../aggregate/session.ts";
import { encodeMetrics } from "../core/go-document.ts";
import { formatCount, formatDuration, formatTime, formatUsd } from "../http/dashboard/format.ts";
import { readSession, type SessionRead, type SessionSummary, summarize } from "../http/session-read.ts";
import { listSessionIds } from "../http/session-source.ts";
import { verifyJournal } from "../journal/verify.ts";
import { choice, intOption, noPositionals, sessionIdArg } from "./args.ts";
import { type Command, type CommandOutput, type Context, EXIT } from "./context.ts";
import { type Column, numberColumn, renderListing } from "./output.ts";
import { renderShow, STEPS, stepsOf } from "./show-tables.ts";

const LISTING = ["table", "json", "csv"] as const;

const SUMMARY: Column<SessionSummary>[] = [
  { header: "id", show: (s) => s.sessionId },
  { header: "started (UTC)", show: (s) => formatTime(s.startedAt), raw: (s) => s.startedAt },
  numberColumn("duration", (s) => s.durationMs, formatDuration),
  numberColumn("tool calls", (s) => s.toolCalls, formatCount),
  {
    ...numberColumn("failures", (s) => s.failures, formatCount),
    tone: (s) => (s.failures > 0 ? "bad" : undefined),
  },
  numberColumn("LLM calls", (s) => s.llmCalls, formatCount),
  numberColumn("tokens", (s) => s.tokens, formatCount),
  numberColumn("cost", (s) => s.cost, formatUsd),
  { header: "models", show: (s) => s.models.join(" "), raw: (s) => s.models.join(" ") },
];

const SORTS = {
  id: (a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0),
  started: (a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt),
  duration: (a, b) => b.durationMs - a.durationMs,
  tools: (a, b) => b.toolCalls - a.toolCalls,
  failures: (a, b) => b.failures - a.failures,
  llm: (a, b) => b.llmCalls - a.llmCalls,
  tokens: (a, b) => b.tokens - a.tokens,
  cost: (a, b) => b.cost - a.cost,
} satisfies Record<string, (a: SessionSummary, b: SessionSummary) => number>;
type SortKey = keyof typeof SORTS;

/** The output, and exit code 3 with a warning when the journal had bad lines. */
function withProblems(ctx: Context, read: SessionRead, out: string): CommandOutput {
  if (read.problems.length === 0) return out;
  const where = read.problems
    .slice(0, 3)
    .map((p) => `line ${p.line}: ${p.reason}`)
    .join("; ");
  ctx.warn(
    `[session-metrics] [journal] session ${read.metrics.sessionId}: ${read.problems.length} bad line(s) or gap(s) skipped (${where}); every valid line was read; see \`session-metrics verify ${read.metrics.sessionId}\``,
  );
  return { out, code: EXIT.data };
}

export const listCommand: Command = {
  name: "list",
  summary: "the sessions in the sessions directory, as a table",
  usage: "list [--sort <column>] [--reverse] [--limit <n>] [--json | --csv]",
  details:
    "Columns for --sort: id, started (the default, newest first), duration, tools, failures, llm, tokens, cost.",
  formats: LISTING,
  options: {
    sort: { type: "string", value: "<column>", description: "sort by a column (numbers: largest first)" },
    reverse: { type: "boolean", description: "reverse the order" },
    limit: { type: "string", value: "<n>", description: "show at most n sessions" },
  },
  async run(ctx, args) {
    noPositionals(args.positionals);
    const sort: SortKey = choice(args.values.sort, "sort", Object.keys(SORTS) as SortKey[]) ?? "started";
    const limit = intOption(args.values.limit, "limit", 1, Number.MAX_SAFE_INTEGER);
    const rows: SessionSummary[] = [];
    let problems = 0;
    for (const id of listSessionIds(ctx.dir)) {
      const read = await readSession(ctx.dir, id);
      if (read.problems.length > 0) problems++;
      rows.push(summarize(read.metrics, read.breakdown.models, read.breakdown.agents));
    }
    rows.sort(SORTS[sort]);
    if (args.values.reverse === true) rows.reverse();
    const shown = limit === undefined ? rows : rows.slice(0, limit);
    if (problems > 0)
      ctx.warn(
        `[session-metrics] [journal] ${problems} session(s) have bad journal lines; run \`session-metrics verify <id>\``,
      );
    return renderListing(ctx.format, shown, SUMMARY, {
      color: ctx.color,
      empty: `no sessions in ${ctx.dir}`,
    });
  },
};

export const showCommand: Command = {
  name: "show",
  summary: "a session's tools, LLM calls, phases and turns (--json: the Go METRICS.json document)",
  usage: "show <sessionId> [--json]",
  details:
    "The document is the one a resumed collector continues from: the journal's, unless METRICS.json is newer.",
  formats: ["table", "json"],
  options: {},
  async run(ctx, args) {
    const read = await readSession(ctx.dir, sessionIdArg(args, "show"));
    const out =
      ctx.format === "json" ? encodeMetrics(read.metrics) : renderShow(read.metrics, read.turns, ctx.color);
    return withProblems(ctx, read, out);
  },
};

export const turnsCommand: Command = {
  name: "turns",
  summary: "a session's turns and steps: time to first token, decode time, tokens",
  usage: "turns <sessionId> [--json | --csv]",
  formats: LISTING,
  options: {},
  async run(ctx, args) {
    const read = await readSession(ctx.dir, sessionIdArg(args, "turns"));
    const out = renderListing(ctx.format, stepsOf(read.turns), STEPS, {
      color: ctx.color,
      json: read.turns,
      empty: "no turns recorded",
    });
    return withProblems(ctx, read, out);
  },
};

export const aggregateCommand: Command = {
  name: "aggregate",
  summary: "invocation analytics: retries, parallelism, tokens and cost by agent",
  usage: "aggregate <sessionId> [--json | --csv]",
  formats: LISTING,
  options: {},
  async run(ctx, args) {
    const id = sessionIdArg(args, "aggregate");
    const read = await readSession(ctx.dir, id); // validates, and tells a missing session
    // `await` keeps this right when the aggregate becomes a streaming (async) fold.
    const a = await aggregateJournal(ctx.dir, id, undefined);
    const agents = Object.keys(a.invocationsByAgent).map((agent) => ({
      agent,
      invocations: a.invocationsByAgent[agent] ?? 0,
      retries: a.retriesByAgent[agent] ?? 0,
      tokens: a.tokensByAgent[agent] ?? 0,
      cost: a.costByAgent[agent] ?? 0,
      avgMs: a.avgDurationByAgent[agent] ?? 0,
      p50: a.durationPercentilesByAgent[agent]?.p50,
      p99: a.durationPercentilesByAgent[agent]?.p99,
    }));
    type Row = (typeof agents)[number];
    const columns: Column<Row>[] = [
      { header: "agent", show: (r) => r.agent },
      numberColumn("invocations", (r) => r.invocations, formatCount),
      numberColumn("retries", (r) => r.retries, formatCount),
      numberColumn("tokens", (r) => r.tokens, formatCount),
      numberColumn("cost", (r) => r.cost, formatUsd),
      numberColumn("avg", (r) => r.avgMs, formatDuration),
      numberColumn("p50", (r) => r.p50, formatDuration),
      numberColumn("p99", (r) => r.p99, formatDuration),
    ];
    let out = renderListing(ctx.format, agents, columns, {
      color: ctx.color,
      json: a,
      empty: "no invocations",
    });
    if (ctx.format === "table")
      out += `\n\n${formatCount(a.totalInvocations)} invocations · ${formatCount(a.totalRetries)} retries (${formatCount(a.infraRetries)} infrastructure) · ${formatCount(a.escalationCount)} escalations · peak parallelism ${a.peakParallelInvocations} · success ${(a.successRate * 100).toFixed(1)}% · ${formatUsd(a.totalCost)}`;
    return withProblems(ctx, read, out);
  },
};

export const verifyCommand: Command = {
  name: "verify",
  summary: "check a session's journal: checksums, seq gaps, torn lines (exit 3 when it finds problems)",
  usage: "verify <sessionId> [--json | --csv]",
  formats: LISTING,
  options: {},
  async run(ctx, args) {
    const id = sessionIdArg(args, "verify");
    const result = await verifyJournal(ctx.dir, id);
    type Problem = (typeof result.problems)[number];
    const columns: Column<Problem>[] = [
      numberColumn("line", (p) => p.line, String),
      numberColumn("offset", (p) => p.offset, String),
      numberColumn("after seq", (p) => p.seqBefore, String),
      numberColumn(
        "before seq",
        (p) => p.seqAfter,
        (seq) => (seq === 0 ? "—" : String(seq)),
      ),
      { header: "reason", show: (p) => p.reason, tone: () => "bad" },
    ];
    const summary = `${formatCount(result.events)} valid events, last seq ${result.lastSeq}, ${result.problems.length} problem(s)`;
    const out =
      ctx.format === "table"
        ? result.problems.length === 0
          ? `journal of ${id}: ok (${summary})`
          : `${renderListing("table", result.problems, columns, { color: ctx.color })}\n\n${summary}`
        : renderListing(ctx.format, result.problems, columns, { json: result });
    if (result.problems.length === 0) return out;
    ctx.warn(`[session-metrics] [verify] the journal of ${id} has ${result.problems.length} problem(s)`);
    return { out, code: EXIT.data };
  },
};
