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
