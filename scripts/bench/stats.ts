/** Pure numeric helpers of the benchmark: medians, percentiles, ratios. */

/** The median of `values` (mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The q-quantile (0..1) of ascending `sorted` values, nearest rank; NaN for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** value / floor, or NaN when either is missing or the floor is not positive. */
export function ratio(value: number | undefined, floor: number | undefined): number {
  if (value === undefined || floor === undefined || !Number.isFinite(value) || !Number.isFinite(floor) || floor <= 0) return Number.NaN;
  return value / floor;
}
