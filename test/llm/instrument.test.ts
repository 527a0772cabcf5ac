/** Instrumentation never changes the call: recording failures are reported, not thrown. */
import { describe, expect, test } from "bun:test";
import type { StepRecorder, TurnRecorder } from "../../src/core/types.ts";
import { ValidationError } from "../../src/errors.ts";
import { instrumentAnthropic } from "../../src/llm/anthropic.ts";
import { instrumentOpenAI } from "../../src/llm/openai.ts";
import { FakeTarget } from "./fake-target.ts";

/** A client shaped like `openai` whose create() returns a plain promise (no APIPromise). */
function fakeOpenAI(create: (body: unknown) => unknown) {
  return { chat: { completions: { create } } };
}

describe("recording failures never reach the caller", () => {
  test("a malformed usage is reported to onRecordError and recorded as absent", async () => {
    const target = new FakeTarget();
    const errors: unknown[] = [];
    const data = { model: "m", usage: { prompt_tokens: -1, completion_tokens: 2 } };
    const client = instrumentOpenAI(
      fakeOpenAI(async () => data),
      target,
      { onRecordError: (e) => errors.push(e) },
    );
    expect(await client.chat.completions.create({ model: "m" } as never)).toBe(data);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ValidationError);
    expect(target.onlyStep.ended).toBe(true);
    expect(target.onlyStep.usages).toEqual([]);
  });

  test("a target that throws on startTurn (a stopped collector) leaves the call alone", async () => {
    const errors: unknown[] = [];
    const broken = {
      startTurn(): TurnRecorder {
        throw new Error("collector stopped");
      },
    };
    const client = instrumentOpenAI(
      fakeOpenAI(async () => ({ ok: true })),
      broken,
      { onRecordError: (e) => errors.push(e) },
    );
    expect(await client.chat.completions.create({} as never)).toEqual({ ok: true });
    expect((errors[0] as Error).message).toBe("collector stopped");
  });

  test("a step whose methods throw (strict mode) leaves the call alone", async () => {
    const throwing = new Proxy({} as StepRecorder, {
      get: (_t, key) =>
        key === "stepId"
          ? "x#0"
          : () => {
              throw new ValidationError("strict");
            },
    });
    const errors: unknown[] = [];
    const target = { startTurn: () => ({ turnId: "x", startStep: () => throwing, end() {} }) };
    const client = instrumentAnthropic(
      {
        messages: {
          create: async (_body: unknown) => ({ model: "c", usage: { input_tokens: 1, output_tokens: 1 } }),
        },
      },
      target,
      { onRecordError: (e) => errors.push(e) },
    );
    expect(await client.messages.create({ model: "c" } as never)).toEqual({
      model: "c",
      usage: { input_tokens: 1, output_tokens: 1 },
    });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e instanceof ValidationError)).toBe(true);
  });
});

describe("failures of the call itself", () => {
  test("a synchronous throw from create is recorded and rethrown", () => {
    const target = new FakeTarget();
    const boom = new TypeError("bad arguments");
    const client = instrumentOpenAI(
      fakeOpenAI(() => {
        throw boom;
      }),
      target,
    );
    expect(() => client.chat.completions.create({ model: "m" } as never)).toThrow(boom);
    expect(target.onlyStep.failures).toEqual(["unknown"]);
    expect(target.turns[0]!.endCalls).toBe(1);
  });

  test("a rejected plain promise is recorded and passed on unchanged", async () => {
    const target = new FakeTarget();
    const err = Object.assign(new Error("overloaded"), { status: 529 });
    const client = instrumentOpenAI(
      fakeOpenAI(async () => {
        throw err;
      }),
      target,
    );
    await expect(client.chat.completions.create({ model: "m" } as never)).rejects.toBe(err);
    expect(target.onlyStep.failures).toEqual(["provider_error"]);
  });

  test("options.phase may be a function, read at each call", async () => {
    const target = new FakeTarget();
    let phase = "plan";
    const client = instrumentOpenAI(
      fakeOpenAI(async () => ({})),
      target,
      { phase: () => phase },
    );
    await client.chat.completions.create({} as never);
    phase = "execute";
    await client.chat.completions.create({} as never);
    expect(target.turns.map((t) => t.phase)).toEqual(["plan", "execute"]);
  });
});
