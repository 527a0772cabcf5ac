/**
 * Numbers for people, shared by the dashboard and the CLI's tables (pure: no DOM, no process):
 * tokens with thousands separators, US dollars with cents, durations in ms, s or min.
 */

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const cents = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const subCent = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 4,
  maximumFractionDigits: 4,
});

/** `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  return integer.format(n);
}

/** `0.3` → `$0.30`; below a cent (but not zero) four decimals, `$0.0042`, so it does not read as free. */
export function formatUsd(usd: number): string {
  if (usd !== 0 && Math.abs(usd) < 0.005) return subCent.format(usd);
  return cents.format(usd);
}

/** `850` → `850 ms`, `12_340` → `12.3 s`, `252_000` → `4.2 min`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${abs < 10 && ms % 1 !== 0 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** `0.1234` → `12.3%`. */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** An ISO time as `2026-11-22 01:42:24` (UTC, to the second), or `—`. */
export function formatTime(iso: string | number): string {
  const ms = typeof iso === "number" ? iso : Date.parse(iso);
  if (!Number.isFinite(ms) || ms <= 0) return "—";
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}
