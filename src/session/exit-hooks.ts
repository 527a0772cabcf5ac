/**
 * Work that must run when the process ends. `exit` hooks run on normal exit (including
 * `process.exit()`); `signal` hooks also run on SIGINT and SIGTERM, which Bun (like Node) would
 * otherwise end without running any exit handler: the handler runs the hooks synchronously and
 * then re-raises the signal when nobody else listens, so the exit status still says so.
 */
type SyncHook = () => void;

const exitHooks = new Set<SyncHook>();
const signalHooks = new Set<SyncHook>();
const SIGNALS = ["SIGINT", "SIGTERM"] as const;
let exitInstalled = false;
let signalsInstalled = false;

function run(hooks: Iterable<SyncHook>): void {
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
  run([...signalHooks, ...exitHooks]);
}

function onSignal(signal: NodeJS.Signals): void {
  run([...signalHooks, ...exitHooks]);
  signalHooks.clear();
  exitHooks.clear();
  update();
  // Someone else handles the signal (and decides whether to exit); otherwise die of it as we would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function update(): void {
  const wantExit = exitHooks.size + signalHooks.size > 0;
  if (wantExit !== exitInstalled) {
    exitInstalled = wantExit;
    if (wantExit) process.on("exit", onExit);
    else process.off("exit", onExit);
  }
  const wantSignals = signalHooks.size > 0;
  if (wantSignals !== signalsInstalled) {
    signalsInstalled = wantSignals;
    for (const signal of SIGNALS) {
      if (wantSignals) process.on(signal, onSignal);
      else process.off(signal, onSignal);
    }
  }
}

/**
 * Registers a synchronous hook for normal exit, and with `signals: true` also for SIGINT and
 * SIGTERM. Returns its remover.
 */
export function addExitHook(hook: SyncHook, options: { signals?: boolean } = {}): () => void {
  const set = options.signals ? signalHooks : exitHooks;
  set.add(hook);
  update();
  return () => {
    set.delete(hook);
    update();
  };
}
