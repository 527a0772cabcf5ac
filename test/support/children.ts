/** Child processes spawned by tests, so that a failing test never leaves one running. */
export type Child = {
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | number | null;
  readonly exited: Promise<number>;
  kill(signal?: number | NodeJS.Signals): void;
};
const children = new Set<Child>();

/** Remembers a spawned child so that `killStragglers()` can end it if a test fails midway. */
export function track<T extends Child>(child: T): T {
  children.add(child);
  return child;
}

/** SIGKILLs every tracked child still running and waits for them (call in afterAll). */
export async function killStragglers(): Promise<void> {
  const ending: Promise<number>[] = [];
  for (const child of children) {
    // Bun knows when its child has ended, so this never signals a reused pid.
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL");
        ending.push(child.exited);
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  await Promise.all(ending);
}

/**
 * Runs `fn` over `items` with at most `limit` at a time. After a failure no new item starts, but
 * the ones running finish (so none is abandoned mid-way), then the first error is thrown.
 */
export async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  const settled = await Promise.allSettled(lanes);
  for (const lane of settled) if (lane.status === "rejected") throw lane.reason;
  return results;
}
