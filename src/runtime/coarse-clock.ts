/**
 * A wall clock that costs a memory read. On these machines `Date.now()` costs ~60 ns (more than
 * a whole record*() is allowed), so a background thread writes `Date.now()` into shared memory
 * every ~0.5 ms and readers load it. It is kept as an Int32 offset from a base taken at start
 * (JSC reads a shared Int32Array several times faster than a shared Float64Array), which lasts
 * 24 days; past that, readers fall back to `Date.now()`. Resolution: about 1 ms (the precision METRICS.json keeps),
 * worse only if the OS does not schedule the thread. The thread starts on first use, never keeps
 * the process alive, and if it cannot start, readers fall back to `Date.now()`.
 */
const WORKER_SOURCE = `
self.onmessage = (event) => {
  const now = new Int32Array(event.data.buffer);
  const base = event.data.base;
  now[1] = 1;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const offset = Date.now() - base;
    if (offset > 2147483647) { now[1] = 0; return; }
    now[0] = offset;
    Atomics.wait(nap, 0, 0, 0.5);
  }
};
`;

let shared: Int32Array = new Int32Array(2);
let base = 0;
let started = false;

function start(): void {
  started = true;
  try {
    const buffer = new SharedArrayBuffer(8);
    base = Date.now();
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    const worker = new Worker(url);
    worker.unref();
    worker.postMessage({ buffer, base });
    shared = new Int32Array(buffer);
  } catch {
    // no threads here: shared[1] stays 0 and every read falls back to Date.now()
  }
}

/** Milliseconds since the epoch, to about 1 ms. */
export function coarseNow(): number {
  return shared[1] === 1 ? base + shared[0]! : Date.now();
}

/** Starts the clock thread (idempotent). Called when the first collector is created. */
export function startCoarseClock(): () => number {
  if (!started) start();
  return coarseNow;
}
