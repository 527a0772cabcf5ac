/**
 * Flush-on-exit for collectors that opt in. Bun (like Node) runs no `exit` handler when a signal
 * kills the process, so SIGINT and SIGTERM get handlers that flush synchronously and then re-raise
 * the signal (when nobody else listens) so the exit status still says "killed by SIGINT/SIGTERM".
 */
type SyncFlush = () => void;

const hooks = new Set<SyncFlush>();
const SIGNALS = ["SIGINT", "SIGTERM"] as const;
let installed = false;

function runAll(): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch (error) {
      // An exit handler has nowhere to throw to; say what was lost instead.
      console.error(error instanceof Error ? error.message : error);
    }
  }
}

function onExit(): void {
  runAll();
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  hooks.clear();
  uninstall();
  // Someone else handles the signal (and decides whether to exit); otherwise die of it as we would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("exit", onExit);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Registers a synchronous flush to run on normal exit, SIGINT and SIGTERM; returns its remover. */
export function addExitHook(flush: SyncFlush): () => void {
  hooks.add(flush);
  install();
  return () => {
    hooks.delete(flush);
    if (hooks.size === 0) uninstall();
  };
}
