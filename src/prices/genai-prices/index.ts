/**
 * `session-metrics/prices/genai-prices`: prices from `@pydantic/genai-prices`, an optional peer
 * dependency that the package root never loads. `createPriceTable(mine, { fallback:
 * genaiPricesTable() })` prices from your entries first, then from the maintained source.
 */
export type { PricedCall, PriceHints, PriceMatch } from "../../core/pricing.ts";
export {
  describePrice,
  type ModelUse,
  type PriceDescription,
  type PriceQuery,
  unpricedModels,
} from "../describe.ts";
export { type GenaiPricesOptions, genaiPricesTable } from "./table.ts";
