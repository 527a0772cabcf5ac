/**
 * The fuzzing area in the quick tier: every target's cases end in a value or a typed
 * `MetricsError` within 100 ms, with the prototypes untouched and memory bounded. A failure
 * prints the seeds that reproduce it (`TORTURE_SEED` replays a run).
 */
import { expect, test } from "bun:test";
import { run } from "./areas/fuzz.ts";
import { describeViolations, tortureContext } from "./harness.ts";

const TARGETS = [
  "fuzz: METRICS.json",
  "fuzz: journal lines",
  "fuzz: price tables",
  "fuzz: store ingest",
  "fuzz: CLI arguments",
  "fuzz: HTTP parameters",
];

test(
  "every fuzz target runs 1,000 cases (× the tier's factor) without an invariant violation",
  async () => {
    const ctx = tortureContext();
    const rows = await run(ctx);
    expect(rows.map((r) => r.area)).toEqual(TARGETS);
    expect(describeViolations(rows)).toBe("");
    for (const row of rows) {
      expect(row.trials).toBeGreaterThanOrEqual(1_000 * ctx.factor);
      expect(row.faults).toBe(row.trials);
    }
  },
  15 * 60_000,
);
