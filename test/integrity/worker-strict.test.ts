/**
 * A Bun Worker recording into a strict owner: the flush that covers rejected records rejects with
 * a ValidationError holding the first error and how many more there were (not one message per
 * record, whatever their number), and the valid records are applied.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Collector } from "../../src/index.ts";
import { fixture, MemoryLogger, TempDirs } from "./helpers.ts";

setDefaultTimeout(60_000);

const temps = new TempDirs();
afterAll(() => temps.removeAll());

const RECORDS = 300_000;

describe("a strict owner and a worker sending bad records", () => {
  test(`${RECORDS.toLocaleString("en")} rejected records: flush() rejects with the first error and the count`, async () => {
    const sessionsDir = temps.make("worker-strict");
    const c = new Collector({
      sessionId: "worker-strict",
      sessionsDir,
      strict: true,
      logger: new MemoryLogger(),
    });
    const worker = new Worker(fixture("worker-bad-records.ts"));
    const messages: unknown[] = [];
    try {
      const done = new Promise<void>((resolve, reject) => {
        worker.onmessage = (event: MessageEvent) => {
          messages.push(event.data);
          if (messages.length === 2 || (event.data as { error?: string }).error !== undefined) resolve();
        };
        worker.onerror = (event) => reject(new Error(`worker crashed: ${event.message}`));
      });
      const port = c.workerPort();
      worker.postMessage({ port, records: RECORDS }, [port]);
      await done;
    } finally {
      worker.terminate();
    }
    const first = "[session-metrics] [recordToolCall] tool name must not be empty";
    expect(messages).toEqual([
      {
        rejected: { name: "ValidationError", message: `${first} (and ${RECORDS - 1} more rejected records)` },
      },
      { rejected: { name: "ValidationError", message: first } },
    ]);
    expect(c.snapshot().tools.map((t) => [t.name, t.callCount])).toEqual([["good", 1]]);
    expect(c.snapshot().droppedRecords).toBeUndefined();
    await c.stop();
  });
});
