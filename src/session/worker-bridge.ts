/**
 * Recording from Bun Workers. The owner creates a `MessageChannel`, keeps one end and hands the
 * other to a worker; in the worker, `connectCollector(port)` returns a `RemoteCollector` with the
 * same record API. Calls are batched (one message per task turn, or per 1,024 calls) and applied
 * by the owner in the worker's order. `await remote.flush()` resolves once the owner has applied
 * everything sent before it (and rejects with the first ValidationError in strict mode).
 */
import type { RecordDetails, Usage } from "../core/types.ts";
import { MetricsError, ValidationError } from "../errors.ts";

type Call = [method: string, ...args: unknown[]];
type ToOwner = { kind: "batch"; calls: Call[]; ack?: number };
/** The first strict-mode error since the last ack, and how many there were (memory stays O(1)). */
type ToWorker = { kind: "ack"; id: number; firstError?: string; errorCount: number };

const MAX_BATCH = 1024;

/** Owner side: applies batches; `apply` throws on a strict-mode validation failure. */
export function createWorkerPort(apply: (method: string, args: unknown[]) => void): {
  port: MessagePort;
  close: () => void;
} {
  const channel = new MessageChannel();
  const own = channel.port1;
  let firstError: string | undefined;
  let errorCount = 0;
  own.onmessage = (message: { data: ToOwner }) => {
    const data = message.data;
    if (data?.kind !== "batch" || !Array.isArray(data.calls)) return;
    for (const call of data.calls) {
      if (!Array.isArray(call) || typeof call[0] !== "string") continue;
      try {
        apply(call[0], call.slice(1));
      } catch (error) {
        firstError ??= error instanceof Error ? error.message : String(error);
        errorCount++;
      }
    }
    if (data.ack !== undefined) {
      const reply: ToWorker = { kind: "ack", id: data.ack, errorCount };
      if (firstError !== undefined) reply.firstError = firstError;
      own.postMessage(reply);
      firstError = undefined;
      errorCount = 0;
    }
  };
  // The owner's port must not keep the owner alive on its own.
  (own as unknown as { unref?: () => void }).unref?.();
  return { port: channel.port2, close: () => own.close() };
}

/** The worker-side stand-in for a `Collector`: same record methods, plus `flush()` and `close()`. */
export class RemoteCollector {
  #port: MessagePort;
  #batch: Call[] = [];
  #scheduled = false;
  #nextAck = 1;
  #pending = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();
  #closed = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.onmessage = (message: { data: ToWorker }) => {
      const data = message.data;
      if (data?.kind !== "ack") return;
      const waiter = this.#pending.get(data.id);
      if (waiter === undefined) return;
      this.#pending.delete(data.id);
      if (data.errorCount === 0) waiter.resolve();
      else {
        const more = data.errorCount > 1 ? ` (and ${data.errorCount - 1} more rejected records)` : "";
        waiter.reject(new ValidationError(`${data.firstError ?? "a record was rejected"}${more}`));
      }
    };
  }

  recordToolCall(name: string, success: boolean, durationMs: number, details?: RecordDetails): void {
    this.#call(["recordToolCall", name, success, durationMs, details]);
  }
  recordLLMInteraction(
    phase: string,
    usage: Usage | null | undefined,
    cost: number,
    details?: RecordDetails,
  ): void {
    this.#call(["recordLLMInteraction", phase, usage, cost, details]);
  }
  recordLLMInteractionWithPrompt(
    phase: string,
    usage: Usage | null | undefined,
    cost: number,
    promptHash: string,
    truncated: boolean,
    details?: RecordDetails,
  ): void {
    this.#call(["recordLLMInteractionWithPrompt", phase, usage, cost, promptHash, truncated, details]);
  }
  recordPhaseTransition(phase: string): void {
    this.#call(["recordPhaseTransition", phase]);
  }
  recordPhaseDuration(phase: string, durationMs: number, success: boolean): void {
    this.#call(["recordPhaseDuration", phase, durationMs, success]);
  }
  recordHealTrigger(phase: string): void {
    this.#call(["recordHealTrigger", phase]);
  }
  recordHealOutcome(phase: string, success: boolean): void {
    this.#call(["recordHealOutcome", phase, success]);
  }
  recordHealDuration(phase: string, durationMs: number): void {
    this.#call(["recordHealDuration", phase, durationMs]);
  }
  recordHealLoop(phase: string): void {
    this.#call(["recordHealLoop", phase]);
  }
  recordBisectTrigger(phase: string): void {
    this.#call(["recordBisectTrigger", phase]);
  }
  recordBisectOutcome(phase: string, success: boolean): void {
    this.#call(["recordBisectOutcome", phase, success]);
  }
  recordEditStrategy(strategy: string): void {
    this.#call(["recordEditStrategy", strategy]);
  }

  /** Resolves once the owner has applied every record sent before this call. */
  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(new MetricsError("[worker] the remote collector is closed"));
    const id = this.#nextAck++;
    const done = new Promise<void>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#send(id);
    return done;
  }

  /** Flushes, then closes the port. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#port.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #call(call: Call): void {
    if (this.#closed) return;
    this.#batch.push(call);
    if (this.#batch.length >= MAX_BATCH) this.#send();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#send());
    }
  }

  #send(ack?: number): void {
    this.#scheduled = false;
    if (this.#batch.length === 0 && ack === undefined) return;
    const message: ToOwner = { kind: "batch", calls: this.#batch };
    if (ack !== undefined) message.ack = ack;
    this.#batch = [];
    this.#port.postMessage(message);
  }
}

/** In a worker: the record API of the collector whose `workerPort()` this is. */
export function connectCollector(port: MessagePort): RemoteCollector {
  if (!(port instanceof MessagePort))
    throw new ValidationError("connectCollector(port) needs the MessagePort from collector.workerPort()");
  return new RemoteCollector(port);
}
