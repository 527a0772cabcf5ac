/** Shared by the genai-prices tests: our usage in the package's terms, and its own price of a call. */
import { calcPrice } from "@pydantic/genai-prices";
import type { Usage } from "../../src/index.ts";

/** `input_tokens` is all input, cache included, in both libraries; reasoning is part of output. */
export function theirUsage(u: Usage): Record<string, number> {
  const out: Record<string, number> = { input_tokens: u.promptTokens, output_tokens: u.completionTokens };
  if (u.cacheReadTokens !== undefined) out.cache_read_tokens = u.cacheReadTokens;
  if (u.cacheWriteTokens !== undefined) out.cache_write_tokens = u.cacheWriteTokens;
  if (u.reasoningTokens !== undefined) out.output_reasoning_tokens = u.reasoningTokens;
  return out;
}

/** The package's own total for the call, or `undefined` when it prices nothing. */
export function theirCost(model: string, usage: Usage, at: string, provider?: string): number | undefined {
  const result = calcPrice(theirUsage(usage), model, {
    timestamp: new Date(at),
    ...(provider === undefined ? {} : { providerId: provider }),
  });
  return result?.total_price;
}

/** |a − b| ≤ 1e-12 × max(|a|, |b|): the bound. */
export function relativeError(a: number, b: number): number {
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 0 : Math.abs(a - b) / scale;
}

export const USAGES: Record<string, Usage> = {
  plain: { promptTokens: 1234, completionTokens: 567 },
  "cache reads and writes": {
    promptTokens: 50_000,
    completionTokens: 2_000,
    cacheReadTokens: 30_000,
    cacheWriteTokens: 8_000,
  },
  reasoning: { promptTokens: 4_000, completionTokens: 9_000, reasoningTokens: 6_000 },
  "long context with cache": {
    promptTokens: 450_000,
    completionTokens: 12_000,
    cacheReadTokens: 200_000,
    cacheWriteTokens: 40_000,
  },
  "at 200K input": { promptTokens: 200_000, completionTokens: 1_000 },
  "just above 200K input": { promptTokens: 200_001, completionTokens: 1_000 },
  "just above 271,999 input": { promptTokens: 272_000, completionTokens: 1_000, cacheReadTokens: 100_000 },
};

/** Instants around the dated changes in the data (o3, claude-opus-4-6, gemini-3.6-flash, ...). */
export const INSTANTS = [
  "2025-03-01T12:00:00.000Z",
  "2025-06-09T23:59:59.999Z",
  "2025-06-10T00:00:00.000Z",
  "2026-03-12T23:59:59.999Z",
  "2026-03-13T00:00:00.000Z",
  "2026-05-01T03:00:00.000Z",
  "2026-08-21T16:30:00.000Z",
  "2027-01-01T00:30:00.000Z",
];
