/**
 * A wall clock that costs a memory read. On these machines `Date.now()` costs ~60 ns (more than
 * a whole record*() is allowed), so a background thread writes `Date.now()` into shared memory
 * every ~0.5 ms and readers load it. Resolution: about 1 ms (the precision METRICS.json keeps),
 * worse only if the OS does not schedule the thread. The thread starts on first use, never keeps
 * the process alive, and if it cannot start, readers fall back to `Date.now()`.
 */
const WORKER_SOURCE = `
self.onmessage = (event) => {
  const now = new Float64Array(event.data);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    now[0] = Date.now();
    Atomics.wait(nap, 0, 0, 0.5);
  }
};
`;

let shared: Float64Array | undefined;
let started = false;

function start(): void {
  started = true;
  try {
    const buffer = new SharedArrayBuffer(8);
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    const worker = new Worker(url);
    worker.unref();
    worker.postMessage(buffer);
    shared = new Float64Array(buffer);
  } catch {
    shared = undefined; // no threads here: every read falls back to Date.now()
  }
}

/** Milliseconds since the epoch, to about 1 ms. */
export function coarseNow(): number {
  const value = shared === undefined ? 0 : shared[0]!;
  return value === 0 ? Date.now() : value;
}

/** Starts the clock thread (idempotent). Called when the first collector is created. */
export function startCoarseClock(): () => number {
  if (!started) start();
  return coarseNow;
}
