/**
 * The worst-case number of CloudWatch metric series a policy can create, and its
 * monthly cost. Every emitted metric is published once in total, once per value of its
 * fixed dimension, and once per value of each slice (values beyond `max_values` fold
 * into "other", hence +1); never per combination. Ratios are metric math: no series.
 */
import type { Policy } from './schema';
import { METRICS } from '../metrics/dictionary';

/** CloudWatch list price per custom metric series and month, first 10,000 series (an estimate: prices change). */
export const USD_PER_SERIES_MONTH = 0.3;

export interface SeriesEstimate {
  readonly series: number;
  readonly monthlyUsd: number;
  /** Series per metric name. */
  readonly byMetric: Readonly<Record<string, number>>;
}

/** Values a slice can take in the worst case: its cap plus the "other" bucket. */
export const sliceValues = (maxValues: number): number => maxValues + 1;

export function estimateSeries(slices: Pick<Policy['slices'], 'dimensions'>): SeriesEstimate {
  const perSlice = Object.values(slices.dimensions).reduce((sum, d) => sum + sliceValues(d?.max_values ?? 0), 0);
  const byMetric: Record<string, number> = {};
  for (const m of METRICS) {
    if (m.kind !== 'emitted') continue;
    byMetric[m.name] = 1 + (m.fixed?.values.length ?? 0) + (m.sliced ? perSlice : 0);
  }
  const series = Object.values(byMetric).reduce((a, b) => a + b, 0);
  return { series, monthlyUsd: Math.round(series * USD_PER_SERIES_MONTH * 100) / 100, byMetric };
}
