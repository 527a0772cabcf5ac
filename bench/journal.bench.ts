/**
 * Issue 3's suite with issue 9's budgets: the journal, encoded and written in groups on the event
 * loop. In one run: events/s to disk with each durability setting (beside a bare JSON-lines
 * writer), record*() ns/op with the journal on (the group work excluded; beside the journal off),
 * the encoding of one group per event (beside JSON.stringify), replay of a 1,000,000-event journal
 * beside a bare `JSON.parse` loop, and the event loop while recording: the ticker's lateness, the
 * longest recording slice and the longest group write.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { MetricEvent } from "../src/core/events.ts";
import { journalPath } from "../src/core/session-layout.ts";
import { createState } from "../src/core/state.ts";
import { encodeEventFields, linesBuffer } from "../src/journal/line-codec.ts";
import { scanJournalBytes } from "../src/journal/reader.ts";
import type { Durability } from "../src/journal/writer.ts";
import { Collector } from "../src/session/collector.ts";
import { Recorder } from "../src/session/recorder.ts";
import { JsonLinesJournal } from "./baselines/json-lines.ts";
import { threadCpuNs } from "./lib/clock.ts";
import { atMost, measureSync, median, SYNC_CLOCK, type Table, verdict } from "./lib/measure.ts";
import { diskTempDir } from "./lib/system.ts";

const TOOLS = Array.from({ length: 20 }, (_, i) => `tool_${i}`);
const EVENTS = 1_000_000;
/** Records between two turns of the event loop: the writer's largest group (`groupMaxLines`). */
const SLICE = 4096;
const RECORD_ROUNDS = 5;
const STALL_ROUNDS = 5;
const quietLogger = { warn: () => {}, error: () => {} };
const log = (message: string) => process.stderr.write(`[journal] ${message}\n`);

// The bench's own timers, saved before `timeGroupTasks` wraps the globals.
const realSetTimeout = globalThis.setTimeout;
const realSetImmediate = globalThis.setImmediate;
/** One turn of the event loop: whatever the journal queued with setImmediate runs first. */
const turn = () => new Promise<void>((resolve) => realSetImmediate(resolve));
/** Main-thread CPU time where it can be read, else wall time (ns). */
const cpuNs = threadCpuNs ?? Bun.nanoseconds;

function record(c: Collector, ops: number, offset = 0): void {
  for (let i = 0; i < ops; i++) c.recordToolCall(TOOLS[(i + offset) % 20]!, (i & 7) !== 0, i & 63);
}

/** The same loop on a bare Recorder (its own call site, so both stay monomorphic). */
function recordOn(r: Recorder, ops: number, offset = 0): void {
  for (let i = 0; i < ops; i++) r.recordToolCall(TOOLS[(i + offset) % 20]!, (i & 7) !== 0, i & 63);
}

type Subject = Durability | "json-lines";

/**
 * ns per event to record EVENTS events and have them on disk: the event loop turns every SLICE
 * records (as an application's would between tasks), then `sync()` resolves.
 */
async function throughput(dir: string, subject: Subject): Promise<number> {
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    const id = `tp-${subject}-${round}`;
    let sync: () => Promise<void>;
    let close: () => Promise<void>;
    let slice: (done: number) => void;
    if (subject === "json-lines") {
      const journal = new JsonLinesJournal(join(dir, `${id}.jsonl`));
      const r = new Recorder({ sessionId: id }, { journal });
      slice = (done) => recordOn(r, SLICE, done);
      sync = () => journal.sync();
      close = async () => journal.close();
    } else {
      const c = new Collector({ sessionId: id, sessionsDir: dir, durability: subject, logger: quietLogger });
      slice = (done) => record(c, SLICE, done);
      sync = () => c.sync();
      close = () => c.stop();
    }
    const start = Bun.nanoseconds();
    for (let done = 0; done < EVENTS; done += SLICE) {
      slice(done);
      await turn();
    }
    await sync();
    samples.push((Bun.nanoseconds() - start) / EVENTS);
    await close();
  }
  return median(samples);
}

/**
 * ns per recordToolCall, timing only the synchronous slices of SLICE records: between slices the
 * event loop turns and the journal encodes and writes its group, untimed. Median of rounds.
 */
async function recordSlices(c: Collector, slicesPerRound: number): Promise<number> {
  const perRound: number[] = [];
  for (let round = -1; round < RECORD_ROUNDS; round++) {
    let used = 0;
    for (let s = 0; s < slicesPerRound; s++) {
      const start = cpuNs();
      record(c, SLICE, s * SLICE);
      used += cpuNs() - start;
      await turn();
    }
    if (round >= 0) perRound.push(used / (slicesPerRound * SLICE)); // round -1 warms up
  }
  return median(perRound);
}

/** A group as the writer holds it: SLICE tool calls exactly as record*() hands them to the journal. */
function queuedGroup(): MetricEvent[] {
  const events: MetricEvent[] = [];
  const r = new Recorder({ sessionId: "group" }, { journal: { append: (e) => events.push(e) } });
  recordOn(r, SLICE);
  return events.slice(-SLICE); // without session_start
}

/** ns per event to encode a queued group: ours (fields + checksums + one buffer) and bare JSON lines. */
function groupEncode(): { ours: number; json: number; bytes: number } {
  const group = queuedGroup();
  let bytes = 0;
  const ours = measureSync(
    (ops) => {
      for (let o = 0; o < ops; o++) {
        const fields: string[] = [];
        for (const event of group) fields.push(encodeEventFields(event));
        bytes = linesBuffer(fields).length;
      }
    },
    { ops: 25, rounds: 7 },
  );
  let jsonBytes = 0;
  const json = measureSync(
    (ops) => {
      for (let o = 0; o < ops; o++) {
        const lines: string[] = [];
        for (const event of group) lines.push(JSON.stringify(event));
        jsonBytes = Buffer.from(`${lines.join("\n")}\n`).length;
      }
    },
    { ops: 25, rounds: 7 },
  );
  if (bytes === 0 || jsonBytes === 0) throw new Error("a group encoded to nothing");
  return {
    ours: ours.nsPerOp / group.length,
    json: json.nsPerOp / group.length,
    bytes: bytes / group.length,
  };
}

interface TaskTimes {
  count: number;
  /** Longest task, wall ms. */
  wall: number;
  /** Longest task, main-thread CPU ms. */
  cpu: number;
}

/**
 * Times every callback given to setTimeout / setImmediate until `uninstall()`. The bench's own
 * timers use the saved originals, so what is timed is the journal writer's group tasks (encode,
 * write(2), start of the fsync) — the journal's whole event-loop work outside record*().
 */
function timeGroupTasks(): { times: TaskTimes; uninstall: () => void } {
  const times: TaskTimes = { count: 0, wall: 0, cpu: 0 };
  const timed =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A) => {
      const cpu = cpuNs();
      const wall = performance.now();
      try {
        fn(...args);
      } finally {
        times.count++;
        times.wall = Math.max(times.wall, performance.now() - wall);
        times.cpu = Math.max(times.cpu, (cpuNs() - cpu) / 1e6);
      }
    };
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    realSetTimeout(timed(fn), ms, ...args)) as typeof setTimeout;
  globalThis.setImmediate = ((fn: (...args: unknown[]) => void, ...args: unknown[]) =>
    realSetImmediate(timed(fn), ...args)) as typeof setImmediate;
  return {
    times,
    uninstall: () => {
      globalThis.setTimeout = realSetTimeout;
      globalThis.setImmediate = realSetImmediate;
    },
  };
}

type StallMode = "journal" | "no journal" | "idle";

interface Stall {
  /** Worst lateness of the 1 ms ticker, ms (wall). */
  lateness: number;
  /** Longest synchronous slice of 500 records, ms: main-thread CPU, and wall. */
  slice: number;
  sliceWall: number;
  /** The journal writer's tasks on the event loop. */
  groups: TaskTimes;
  events: number;
}

/**
 * Worst lateness of a 1 ms ticker over 2 s, recording in 1 ms slices with the journal, or the same
 * recording without it, or idle (the machine's own timer jitter); with the longest recording
 * slice and the longest group task of the journal writer.
 */
async function longestStall(dir: string, mode: StallMode, round: number): Promise<Stall> {
  const tasks = timeGroupTasks();
  const c = new Collector({
    sessionId: `stall-${mode.replace(" ", "-")}-${round}`,
    sessionsDir: dir,
    journal: mode === "journal",
    logger: quietLogger,
  });
  let last = performance.now();
  let worst = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  // 2 s at up to ~500,000 events/s, in 1 ms slices: the journal's group writes and fsyncs run meanwhile.
  const until = performance.now() + 2000;
  let i = 0;
  let slice = 0;
  let sliceWall = 0;
  try {
    while (performance.now() < until) {
      const cpu = cpuNs();
      const start = performance.now();
      if (mode !== "idle") {
        record(c, 500, i);
        i += 500;
      }
      sliceWall = Math.max(sliceWall, performance.now() - start);
      slice = Math.max(slice, (cpuNs() - cpu) / 1e6);
      await new Promise((resolve) => realSetTimeout(resolve, 1));
    }
    clearInterval(ticker);
    await c.stop();
  } finally {
    clearInterval(ticker);
    tasks.uninstall();
  }
  return { lateness: worst - 1, slice, sliceWall, groups: tasks.times, events: i };
}

async function stallTable(dir: string): Promise<Table> {
  // Rounds alternate, so that all three see the same machine; a 2-core VM stalls now and then
  // for several ms by itself, so each figure is the median round's worst (max shown beside).
  const stalls: Record<StallMode, Stall[]> = { journal: [], "no journal": [], idle: [] };
  for (let round = 0; round < STALL_ROUNDS; round++)
    for (const mode of Object.keys(stalls) as StallMode[])
      stalls[mode].push(await longestStall(dir, mode, round));
  const of = (mode: StallMode, pick: (s: Stall) => number) => stalls[mode].map(pick);
  const med = (mode: StallMode, pick: (s: Stall) => number) => median(of(mode, pick));
  const worst = (mode: StallMode, pick: (s: Stall) => number) => Math.max(...of(mode, pick)).toFixed(2);
  const lateness = (s: Stall) => s.lateness;
  const journal = stalls.journal;
  const groups = journal.reduce((n, s) => n + s.groups.count, 0);
  const events = journal.reduce((n, s) => n + s.events, 0);
  const stall = med("journal", lateness);
  const slice = med("journal", (s) => s.slice);
  const groupCpu = med("journal", (s) => s.groups.cpu);
  return {
    title: `Journal: the event loop while recording ~500,000 events/s for 2 s (median of ${STALL_ROUNDS} rounds)`,
    unit: "ms",
    subject: { key: "stall", label: "recording with the journal" },
    baselines: [
      { key: "noJournal", label: "the same recording, journal off" },
      { key: "idle", label: "idle loop (timer jitter)" },
    ],
    rows: [
      {
        label: "1 ms ticker, worst lateness (wall)",
        values: { stall, noJournal: med("no journal", lateness), idle: med("idle", lateness) },
        targets: [atMost(stall, 5, "ms")],
      },
      {
        label: `longest synchronous recording slice with journal: 500 records (${SYNC_CLOCK})`,
        values: { stall: slice, noJournal: med("no journal", (s) => s.slice) },
        targets: [atMost(slice, 5, "ms")],
      },
      {
        label: `longest journal group task on the event loop: encode + write(2) of a group (${SYNC_CLOCK})`,
        values: { stall: groupCpu },
        targets: [atMost(groupCpu, 5, "ms")],
      },
      {
        label: "the same group task (wall)",
        values: { stall: med("journal", (s) => s.groups.wall) },
      },
    ],
    notes: [
      `Worst round, ticker: ${worst("journal", lateness)} ms with the journal, ${worst("no journal", lateness)} ms without it, ${worst("idle", lateness)} ms idle; recording slice: ${worst("journal", (s) => s.slice)} ms; group task: ${worst("journal", (s) => s.groups.cpu)} ms (${worst("journal", (s) => s.groups.wall)} ms wall).`,
      `Recording slices in wall time (median round): ${med("journal", (s) => s.sliceWall).toFixed(2)} ms with the journal, ${med("no journal", (s) => s.sliceWall).toFixed(2)} ms without (wall adds whatever the VM takes from the process).`,
      `Group tasks are timed by wrapping the global setTimeout/setImmediate for the round (the bench's own timers use the originals): ${groups.toLocaleString("en-US")} tasks for ${events.toLocaleString("en-US")} events, ~${Math.round(events / Math.max(groups, 1)).toLocaleString("en-US")} events a group.`,
      "The ticker's lateness counts everything that holds up the event loop, the VM included: while the journal reaches the disk the whole VM stalls now and then (the baselines show how much of it is the machine). The slice and group rows are the journal's own event-loop work, judged in CPU time as the ns/op rows are; the wall row adds what the VM takes from the process and any wait inside write(2).",
    ],
  };
}

export async function runJournal(): Promise<Table[]> {
  const tmp = diskTempDir("sm-bench-journal-", join(import.meta.dir, "..", "sessions"));
  const dir = tmp.path;
  try {
    // First, while the heap is small: a later full GC over a million live strings would be
    // measured as a stall.
    log(`event loop while recording, ${STALL_ROUNDS} rounds × 3 modes × 2 s`);
    const stalls = await stallTable(dir);

    log("throughput to disk per durability, and a bare JSON-lines writer");
    const perSubject: Record<Subject, number> = {
      buffered: await throughput(dir, "buffered"),
      group: await throughput(dir, "group"),
      "on-sync": await throughput(dir, "on-sync"),
      "json-lines": await throughput(dir, "json-lines"),
    };

    log("recordToolCall with the journal on and off, in slices");
    const slicesPerRound = Math.ceil(EVENTS / SLICE);
    const on = new Collector({ sessionId: "rec-on", sessionsDir: dir, logger: quietLogger });
    const recordOnNs = await recordSlices(on, slicesPerRound);
    await on.stop();
    const off = new Collector({ sessionId: "rec-off", sessionsDir: dir, journal: false });
    const recordOffNs = await recordSlices(off, slicesPerRound);
    await off.stop();

    log("group encode");
    const encode = groupEncode();

    log("replay");
    // A 1,000,000-event journal, then replay it beside a bare JSON.parse loop over its lines.
    const big = new Collector({ sessionId: "replay", sessionsDir: dir, logger: quietLogger });
    record(big, EVENTS - 1);
    await big.stop();
    const bytes = readFileSync(journalPath(dir, "replay"));
    const lines = bytes.toString("utf8").split("\n");
    lines.pop();
    let folded = 0;
    const replay = measureSync(
      () => {
        // The scan checks each line and folds it into the state; nothing else to do per event.
        const state = createState("replay", 0);
        folded = scanJournalBytes(bytes, () => {}, state).events;
      },
      { ops: 1, rounds: 5, warmupOps: 1 },
    );
    if (folded !== lines.length) throw new Error(`replay folded ${folded} of ${lines.length} events`);
    const bare = measureSync(
      () => {
        let n = 0;
        for (const line of lines) n += (JSON.parse(line) as { seq: number }).seq;
        if (n < 0) throw new Error("unreachable");
      },
      { ops: 1, rounds: 5, warmupOps: 1 },
    );
    const replayNs = replay.nsPerOp / lines.length;
    const bareNs = bare.nsPerOp / lines.length;

    const durabilities: Durability[] = ["buffered", "group", "on-sync"];
    const perSecond = (ns: number) => Math.round(1e9 / ns).toLocaleString("en-US");
    return [
      {
        title: `Journal: throughput to disk (record ${EVENTS.toLocaleString("en-US")} events, the event loop turning every ${SLICE.toLocaleString("en-US")}, then \`sync()\` resolves)`,
        unit: "ns",
        subject: { key: "ours", label: "ns per event" },
        baselines: [{ key: "json", label: "bare JSON-lines writer, one fsync at the end" }],
        rows: durabilities.map((d) => ({
          label: `durability \`${d}\` (${perSecond(perSubject[d])} events/s)`,
          values: { ours: perSubject[d], json: perSubject["json-lines"] },
          targets: d === "group" ? [verdict("≥ 500,000 events/s", perSubject[d] <= 2000)] : [],
        })),
        notes: [
          `Wall time from the first record to \`sync()\` resolving, median of 3 runs. The bare writer (${perSecond(perSubject["json-lines"])} events/s): the same records through a Recorder whose journal is \`JSON.stringify\` per event and one write(2) per event-loop turn — no checksum, no bound, no retry.`,
          "`group`: every group is fsync'd in the thread pool as it is written; `on-sync` and `buffered`: one fsync (or none) when `sync()` is called.",
        ],
      },
      {
        title:
          "Journal: `recordToolCall` with the journal on (20 tools; record*() only, the group work excluded)",
        unit: "ns",
        subject: { key: "on", label: "journal on (durability `group`)" },
        baselines: [{ key: "off", label: "journal off" }],
        rows: [
          {
            label: "recordToolCall",
            values: { on: recordOnNs, off: recordOffNs },
            targets: [atMost(recordOnNs, 150, "ns")],
          },
        ],
        notes: [
          `${SYNC_CLOCK} of slices of ${SLICE.toLocaleString("en-US")} records only, ${slicesPerRound} slices a round, median of ${RECORD_ROUNDS} rounds; between slices the event loop turns and the journal encodes and writes its group (measured below). Both columns are sliced alike.`,
        ],
      },
      {
        title: `Journal: encoding one group on the event loop (${SLICE.toLocaleString("en-US")} queued tool calls, 20 tools; ${SYNC_CLOCK})`,
        unit: "ns",
        subject: { key: "ours", label: "encodeEventFields + linesBuffer" },
        baselines: [{ key: "json", label: "JSON.stringify per event + one Buffer (no checksum)" }],
        rows: [
          {
            label: `ns per event (${Math.round(encode.bytes)} bytes a line)`,
            values: { ours: encode.ours, json: encode.json },
            targets: [atMost(encode.ours, 1000, "ns")],
          },
        ],
        notes: [
          "The events are what record*() queues (a Recorder's own objects). Tool calls without details are the events the writer encodes per group; every other event is encoded in record*() and the group only frames it (checksum, newline, one buffer).",
        ],
      },
      {
        title: `Journal: replay of ${lines.length.toLocaleString("en-US")} events (checksums, seq, bounds, fold into state)`,
        unit: "ns",
        subject: { key: "replay", label: "replay (ns/event)" },
        baselines: [{ key: "bare", label: "bare JSON.parse loop" }],
        rows: [
          {
            label: `replay: ${perSecond(replayNs)} events/s`,
            values: { replay: replayNs, bare: bareNs },
            targets: [
              verdict("within 2× of the bare parse loop", replayNs <= 2 * bareNs),
              verdict("≥ 1,000,000 events/s", replayNs <= 1000),
            ],
          },
        ],
      },
      stalls,
    ];
  } finally {
    tmp.remove();
  }
}
