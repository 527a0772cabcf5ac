/**
 * `toPrometheusText()`: session documents in the Prometheus text exposition format 0.0.4, a pure
 * formatter (no registry, no state between calls). Every family is in `families.ts`; series
 * appear in first-seen order, label values escaped (`\\`, `\"`, `\n`).
 *
 * A family holding more than `maxSeries` series keeps the first ones and folds the rest into
 * series whose open labels read `other` (fixed labels such as `outcome` keep their value, so the
 * folded totals keep their split), and says so in a comment line: a runaway label (thousands of
 * tool names) costs one series, not a scrape the server refuses.
 */

import type { SessionMetrics } from "../../core/types.ts";
import { describeValue, ValidationError } from "../../errors.ts";
import { parseTimestamp } from "../time.ts";
import { FAMILY, type FamilyKey, type FamilySpec, OTHER } from "./families.ts";

export interface PrometheusTextOptions {
  /**
   * Label every series with `session_id` (default `true`). `false` sums across sessions, for
   * fleet-wide scrapes (one series per tool or phase, whatever the number of sessions).
   */
  includeSessionId?: boolean;
  /** Series per metric family before the rest is folded into `other`. Default 10,000. */
  maxSeries?: number;
}

/** The `Content-Type` of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeLabel(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v); // NaN prints as "NaN", which the format accepts
}

class Family {
  readonly keys: string[] = [];
  readonly values: number[] = [];
  /** Series index by label set: only in `dedupe` mode (see `Exposition`). */
  readonly index = new Map<string, number>();
  /** Indexes of the `other` series (always looked up: several folded series add into one). */
  readonly others = new Map<string, number>();
  folded = 0;
  readonly fixed: readonly boolean[];
  constructor(readonly spec: FamilySpec) {
    this.fixed = spec.labels.map((l) => spec.fixed?.includes(l) === true);
  }
}

/** Whether some name occurs twice in `list` (a hand-edited document could hold that). */
function repeats<T>(list: readonly T[], name: (item: T) => string): boolean {
  if (list.length < 2) return false;
  const seen = new Set<string>();
  for (const item of list) {
    const n = name(item);
    if (seen.has(n)) return true;
    seen.add(n);
  }
  return false;
}

class Exposition {
  readonly #families = new Map<FamilyKey, Family>();
  readonly #sessions = new Set<string>();
  #sid = "";

  constructor(
    readonly withId: boolean,
    readonly max: number,
    /**
     * Look every series up before adding it. Needed when two records can name one series (sums
     * across sessions, a session given twice, a name repeated in a document); otherwise each
     * record is its own series and a lookup per series would be most of the cost.
     */
    readonly dedupe: boolean,
  ) {
    for (const key of Object.keys(FAMILY) as FamilyKey[])
      if (withId || !("perSession" in FAMILY[key])) this.#families.set(key, new Family(FAMILY[key]));
  }

  session(m: SessionMetrics): void {
    this.#sessions.add(m.sessionId);
    this.#sid = this.withId ? `session_id="${escapeLabel(m.sessionId)}"` : "";
    const time = (text: string) => {
      const t = parseTimestamp(text);
      return t === undefined ? undefined : t[0] + t[1] / 1e9;
    };
    this.#add("started", time(m.startedAt));
    this.#add("updated", time(m.updatedAt));
    for (const t of m.tools) {
      this.#add("toolCalls", t.successCount, t.name, "success");
      this.#add("toolCalls", t.failCount, t.name, "failure");
      this.#add("toolSeconds", t.totalDurationMs, t.name);
    }
    for (const l of m.llms) {
      this.#add("llmTokens", l.promptTokens, l.phase, "input");
      this.#add("llmTokens", l.completionTokens, l.phase, "output");
      this.#add("llmTokens", l.cacheReadTokens, l.phase, "cache_read");
      this.#add("llmTokens", l.cacheWriteTokens, l.phase, "cache_write");
      this.#add("llmTokens", l.reasoningTokens, l.phase, "reasoning");
      this.#add("llmCost", l.cost, l.phase);
      this.#add("llmCalls", l.interactionCount, l.phase);
      this.#add("llmUnpriced", l.unpricedCount, l.phase);
    }
    for (const p of m.phases) {
      this.#add("phaseSeconds", p.durationMs, p.phase);
      this.#add("phaseSuccess", p.success ? 1 : 0, p.phase);
      this.#add("transitions", p.transitionCount, p.phase);
      this.#add("healTriggers", p.healTriggerCount, p.phase);
      this.#add("healOutcomes", p.healSuccessCount, p.phase, "success");
      this.#add("healOutcomes", p.healFailCount, p.phase, "failure");
      this.#add("healLoops", p.healLoopCount, p.phase);
      this.#add("healSeconds", p.healDurationMs, p.phase);
      this.#add("bisectTriggers", p.bisectTriggerCount, p.phase);
      this.#add("bisectOutcomes", p.bisectSuccessCount, p.phase, "success");
      this.#add("bisectOutcomes", p.bisectFailCount, p.phase, "failure");
    }
    for (const e of m.editStrategies) this.#add("editStrategies", e.count, e.strategy);
    this.#add("dropped", m.droppedRecords ?? 0);
  }

  render(): string {
    this.#sid = "";
    this.#add("sessions", this.#sessions.size);
    let out = "";
    for (const f of this.#families.values()) {
      if (f.keys.length === 0) continue;
      const skip = f.folded > 0 && !this.dedupe ? this.#mergeOthers(f) : undefined;
      const { name } = f.spec;
      out += `# HELP ${name} ${f.spec.help}\n# TYPE ${name} ${f.spec.type}\n`;
      if (f.folded > 0)
        out += `# ${name}: ${f.folded} series past maxSeries (${this.max}) folded into label value "${OTHER}"\n`;
      const fromMs = "fromMs" in f.spec;
      const { keys, values } = f;
      for (let i = 0; i < keys.length; i++) {
        if (skip?.has(i)) continue;
        const value = values[i]!;
        out += `${name}${keys[i]} ${formatValue(fromMs ? value / 1000 : value)}\n`;
      }
    }
    return out;
  }

  /** Adds `value` to a series (absent values are skipped: absent is not zero). */
  #add(key: FamilyKey, value: number | undefined, a?: string, b?: string): void {
    if (value === undefined) return;
    const f = this.#families.get(key);
    if (f === undefined) return;
    const labels = f.spec.labels;
    let body = key === "sessions" ? "" : this.#sid;
    if (labels.length > 0) body += `${body === "" ? "" : ","}${labels[0]}="${escapeLabel(a!)}"`;
    if (labels.length > 1) body += `,${labels[1]}="${escapeLabel(b!)}"`;
    const k = body === "" ? "" : `{${body}}`;
    if (this.dedupe) {
      const at = f.index.get(k);
      if (at !== undefined) {
        f.values[at]! += value;
        return;
      }
    }
    if (f.keys.length - f.others.size >= this.max) {
      f.folded++;
      const other = this.#otherKey(f, key, a, b);
      const at = f.others.get(other) ?? (this.dedupe ? f.index.get(other) : undefined);
      if (at !== undefined) f.values[at]! += value;
      else {
        f.others.set(other, f.keys.length);
        if (this.dedupe) f.index.set(other, f.keys.length);
        f.keys.push(other);
        f.values.push(value);
      }
      return;
    }
    if (this.dedupe) f.index.set(k, f.keys.length);
    f.keys.push(k);
    f.values.push(value);
  }

  /**
   * Without lookups, an `other` series can repeat a kept series' labels only when real values
   * read "other": it is then added into that series. Returns the indexes of those merged away.
   */
  #mergeOthers(f: Family): Set<number> {
    const merged = new Set<number>();
    const isOther = new Set(f.others.values());
    const kept = new Map<string, number>();
    f.keys.forEach((k, i) => {
      if (!isOther.has(i)) kept.set(k, i);
    });
    for (const [k, i] of f.others) {
      const at = kept.get(k);
      if (at === undefined) continue;
      f.values[at]! += f.values[i]!;
      merged.add(i);
    }
    return merged;
  }

  #otherKey(f: Family, key: FamilyKey, a?: string, b?: string): string {
    const parts: string[] = [];
    if (this.withId && key !== "sessions") parts.push(`session_id="${OTHER}"`);
    const values = [a, b];
    f.spec.labels.forEach((label, i) => {
      parts.push(`${label}="${f.fixed[i] ? escapeLabel(values[i]!) : OTHER}"`);
    });
    return parts.length === 0 ? "" : `{${parts.join(",")}}`;
  }
}

/**
 * Formats one session document or several as Prometheus text (format 0.0.4).
 * @throws ValidationError for an input that is not a document or an array of them, or a bad `maxSeries`
 */
export function toPrometheusText(
  input: SessionMetrics | readonly SessionMetrics[],
  options: PrometheusTextOptions = {},
): string {
  const max = options.maxSeries ?? 10_000;
  if (!Number.isSafeInteger(max) || max < 1)
    throw new ValidationError(`[prometheus] maxSeries must be a whole number ≥ 1, got ${describeValue(max)}`);
  const docs: readonly SessionMetrics[] = Array.isArray(input) ? input : [input as SessionMetrics];
  const withId = options.includeSessionId ?? true;
  for (const doc of docs)
    if (
      typeof doc !== "object" ||
      doc === null ||
      typeof doc.sessionId !== "string" ||
      !Array.isArray(doc.tools)
    )
      throw new ValidationError(
        `[prometheus] toPrometheusText takes a SessionMetrics (collector.snapshot(), load()) or an array of them, got ${describeValue(doc)}`,
      );
  const out = new Exposition(withId, max, !withId || needsLookups(docs));
  for (const doc of docs) out.session(doc);
  return out.render();
}

/** Whether two records of `docs` can name the same series (with `session_id` on every series). */
function needsLookups(docs: readonly SessionMetrics[]): boolean {
  if (repeats(docs, (d) => d.sessionId)) return true;
  return docs.some(
    (d) =>
      repeats(d.tools, (t) => t.name) ||
      repeats(d.llms, (l) => l.phase) ||
      repeats(d.phases, (p) => p.phase) ||
      repeats(d.editStrategies, (e) => e.strategy),
  );
}
