/**
 * The soak's quick tier (see areas/soak.ts): 8 processes × 50 sessions under random SIGKILLs for
 * about 20 s; every acknowledged record survives exactly once in journals, METRICS.json and the
 * SQLite store.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { killStragglers } from "../support/children.ts";
import { run, SESSIONS_PER_WORKER, soakSeconds, WORKERS } from "./areas/soak.ts";
import { describeViolations, tortureContext } from "./harness.ts";

const ctx = tortureContext();
// A hang guard sized to the soak plus its checks on a busy 2-core machine; nothing asserts a time.
setDefaultTimeout((soakSeconds(ctx) + 120) * 1000);

afterAll(killStragglers);

describe("soak", () => {
  test(`${WORKERS} processes × ${SESSIONS_PER_WORKER} sessions under SIGKILL keep every acknowledged record exactly once`, async () => {
    const [soak, store] = await run(ctx);
    expect(describeViolations([soak!, store!])).toBe("");
    expect(soak!.violations + store!.violations).toBe(0);
    expect(soak!.faults).toBeGreaterThanOrEqual(5);
    expect(soak!.trials).toBe(WORKERS * SESSIONS_PER_WORKER);
    // Every session was written to, so every one reached the store comparison.
    expect(store!.trials).toBe(WORKERS * SESSIONS_PER_WORKER);
  });
});
