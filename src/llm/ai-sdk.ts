/**
 * A Vercel AI SDK language-model middleware that records every `doGenerate` / `doStream` call
 * as a step (in a turn of its own, or of `options.turn`): model, usage, time to first token
 * (first text or reasoning delta), stream stats and an error class.
 *
 * ```ts
 * import { wrapLanguageModel } from "ai";
 * import { sessionMetricsMiddleware } from "session-metrics/llm/ai-sdk";
 * const model = wrapLanguageModel({ model: openai("gpt-4o"), middleware: sessionMetricsMiddleware(collector) });
 * ```
 *
 * Nothing here imports `ai` or `@ai-sdk/provider`: the types are structural, so the middleware
 * fits `wrapLanguageModel` of the installed `ai` (v7 when written; usage shapes of v4–v7 are all
 * understood by `fromAISDKUsage`). Reached only through the `session-metrics/llm/ai-sdk` subpath.
 */

import { fromAISDKUsage } from "../core/usage.ts";
import {
  CallStep,
  classifyCallError,
  type InstrumentOptions,
  type InstrumentTarget,
  timeCall,
} from "./instrument-shared.ts";

export type { InstrumentOptions, InstrumentTarget } from "./instrument-shared.ts";

/** What the middleware reads from the wrapped model. */
export interface ModelLike {
  readonly modelId?: string;
}

/** What the middleware reads from the call options. */
export interface CallParamsLike {
  abortSignal?: AbortSignal;
}

/** What the middleware reads from a generate result. */
export interface GenerateResultLike {
  usage?: unknown;
  response?: { modelId?: string };
}

/** What the middleware reads from a stream result. */
export interface StreamResultLike {
  stream: ReadableStream<unknown>;
}

interface GenerateOptions<R> {
  doGenerate: () => PromiseLike<R>;
  params: CallParamsLike;
  model: ModelLike;
}

interface StreamOptions<R> {
  doStream: () => PromiseLike<R>;
  params: CallParamsLike;
  model: ModelLike;
}

export interface SessionMetricsMiddleware {
  readonly specificationVersion: "v4";
  wrapGenerate<R extends GenerateResultLike>(options: GenerateOptions<R>): Promise<R>;
  wrapStream<R extends StreamResultLike>(options: StreamOptions<R>): Promise<R>;
}

type Part = { type?: unknown; delta?: unknown; modelId?: unknown; usage?: unknown; error?: unknown };

/** The middleware; pass it to `wrapLanguageModel({ model, middleware })`. */
export function sessionMetricsMiddleware(
  target: InstrumentTarget,
  options: InstrumentOptions = {},
): SessionMetricsMiddleware {
  /** One call of the wrapped model as a step; a call that fails fails and ends it (and rethrows). */
  async function start<R>(call: () => PromiseLike<R>, model: ModelLike, params: CallParamsLike) {
    const step = new CallStep(target, options);
    step.setModel(model?.modelId);
    try {
      return { step, result: await call() };
    } catch (err) {
      step.failAndEnd(err, params?.abortSignal);
      throw err;
    }
  }

  return {
    specificationVersion: "v4",

    async wrapGenerate<R extends GenerateResultLike>({
      doGenerate,
      params,
      model,
    }: GenerateOptions<R>): Promise<R> {
      const { step, result } = await start(doGenerate, model, params);
      step.setModel(result?.response?.modelId);
      step.end(step.normalise(fromAISDKUsage, result?.usage));
      return result;
    },

    async wrapStream<R extends StreamResultLike>({ doStream, params, model }: StreamOptions<R>): Promise<R> {
      const { step, result } = await start(doStream, model, params);
      let usage: unknown;
      const timed = timeCall(result.stream as AsyncIterable<Part>, step, params?.abortSignal, {
        observe(part) {
          if (part.type === "finish") usage = part.usage;
          else if (part.type === "response-metadata") step.setModel(part.modelId);
          // Errors travel as stream parts (the stream itself does not throw).
          else if (part.type === "error") step.fail(classifyCallError(part.error, params?.abortSignal));
          return true;
        },
        isContent,
        usage: () => step.normalise(fromAISDKUsage, usage),
      });
      return { ...result, stream: toReadableStream(timed) } as R;
    },
  };
}

/** The first text or reasoning delta is the first token; tool-input deltas and metadata are not. */
function isContent(part: Part): boolean {
  return (part.type === "text-delta" || part.type === "reasoning-delta") && part.delta !== "";
}

/**
 * Pull-driven (high-water mark 0), so chunks are read — and timed — when the consumer asks, and a
 * cancel closes the source through `return()`.
 */
function toReadableStream<T>(it: AsyncIterator<T>): ReadableStream<T> {
  return new ReadableStream<T>(
    {
      async pull(controller) {
        try {
          const r = await it.next();
          if (r.done === true) controller.close();
          else controller.enqueue(r.value);
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel(reason) {
        await it.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
