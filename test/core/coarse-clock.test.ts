import { expect, test } from "bun:test";
import { coarseNow, startCoarseClock } from "../../src/runtime/coarse-clock.ts";

test("the coarse clock reads the wall clock (to within its resolution plus scheduling slack)", async () => {
  const now = startCoarseClock();
  expect(now).toBe(coarseNow);
  await Bun.sleep(10);
  for (let i = 0; i < 20; i++) {
    const before = Date.now();
    const read = now();
    const after = Date.now();
    // The thread writes every ~0.5 ms; allow for a busy 2-core machine not scheduling it.
    expect(read).toBeLessThanOrEqual(after);
    expect(read).toBeGreaterThan(before - 250);
    await Bun.sleep(2);
  }
});

test("collectors stamp records with the coarse clock by default", async () => {
  const { Collector } = await import("../../src/index.ts");
  const before = Date.now();
  const c = new Collector({ sessionId: "coarse", sessionsDir: "/nonexistent-unused", enabled: false });
  c.recordToolCall("Read", true, 1);
  const started = Date.parse(c.snapshot().startedAt);
  expect(started).toBeGreaterThan(before - 250);
  expect(started).toBeLessThanOrEqual(Date.now());
});
