/**
 * What a rollup run writes, as data: PutMetricData batches within the API's limits, the
 * RollupFailures datapoints, and the S3 objects of the metrics tier. Pure.
 *
 * S3 layout (metrics tier, `rollups/` prefix, kept for `retention.metrics`):
 * `rollups/metric=<name>/dt=<YYYY-MM-DD>/hour=<HH>.json`, from the datapoints' timestamp,
 * one object per (metric, timestamp) holding every dimension set as JSON Lines. A rerun
 * of the same hour writes the same keys with the same bytes: it overwrites (the versioned
 * bucket keeps the previous version for its noncurrent-version days), never adds.
 */
import { SERVICE_DIMENSION, SERVICE_OF } from '../metrics/dictionary';
import type { RollupDatum } from './metrics';
import { ROLLUP_FAILURES_DIMENSION, ROLLUP_FAILURES_METRIC } from './names';

/** PutMetricData limits (CloudWatch quotas): items per call, request size, dimensions per item. */
export const PUT_METRIC_DATA_LIMITS = {
  maxItems: 1000,
  /** The hard limit is 1 MB (1,048,576 bytes); batches stay under 1,000,000 bytes of JSON to leave room for the envelope. */
  maxBytes: 1_000_000,
  maxDimensions: 30,
} as const;

/** The metrics-tier prefix the rollup writes under (TelemetryStorage's `rollups/`). */
export const ROLLUPS_PREFIX = 'rollups/';

/**
 * The fields of CloudWatch's `MetricDatum` that a rollup sets (structurally a subset of the
 * SDK's type, so the runner passes these to `PutMetricDataCommand` as they are; the core
 * stays free of AWS clients).
 */
export interface MetricDatum {
  readonly MetricName: string;
  readonly Dimensions: { readonly Name: string; readonly Value: string }[];
  readonly Timestamp: Date;
  readonly Value: number;
  readonly Unit: 'Count' | 'None' | 'Percent' | 'Milliseconds' | 'Seconds';
  readonly StorageResolution?: number;
}

/**
 * A rollup datapoint as a CloudWatch MetricDatum (dimensions in name order, 1-minute
 * resolution). Like every metric of the stack it carries the `service` dimension of its
 * publisher (`rollup`), beside its slice dimension.
 */
export function toMetricDatum(d: RollupDatum | FailureDatum): MetricDatum {
  const dims: Record<string, string> = { [SERVICE_DIMENSION]: SERVICE_OF.rollup, ...d.dimensions };
  return {
    MetricName: d.metric,
    Dimensions: Object.entries(dims)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([Name, Value]) => ({ Name, Value })),
    Timestamp: d.timestamp,
    Value: d.value,
    Unit: d.unit,
    StorageResolution: 60,
  };
}

/** JSON size of a datum as the awsJson 1.0 protocol sends it (timestamps as epoch seconds). */
function jsonBytes(d: MetricDatum): number {
  return Buffer.byteLength(JSON.stringify({ ...d, Timestamp: d.Timestamp ? d.Timestamp.getTime() / 1000 : undefined })) + 1;
}

/** Splits datapoints into PutMetricData calls: at most `maxItems` each and under `maxBytes`; refuses a datum with more than 30 dimensions. */
export function batchMetricData(data: readonly MetricDatum[], limits: Partial<typeof PUT_METRIC_DATA_LIMITS> = {}): MetricDatum[][] {
  const { maxItems, maxBytes, maxDimensions } = { ...PUT_METRIC_DATA_LIMITS, ...limits };
  const batches: MetricDatum[][] = [];
  let current: MetricDatum[] = [];
  let bytes = 0;
  for (const d of data) {
    const dims = d.Dimensions?.length ?? 0;
    if (dims > maxDimensions) throw new Error(`${d.MetricName} has ${dims} dimensions; CloudWatch allows at most ${maxDimensions}`);
    const size = jsonBytes(d);
    if (size > maxBytes) throw new Error(`${d.MetricName} alone is ${size} bytes; a PutMetricData call allows ${maxBytes}`);
    if (current.length >= maxItems || bytes + size > maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(d);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}

export interface FailureDatum {
  readonly metric: typeof ROLLUP_FAILURES_METRIC;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly timestamp: Date;
  readonly value: number;
  readonly unit: 'Count';
}

/** RollupFailures for failed queries: per query (`Query` dimension) and in total (what the alarm watches). Summed, not maximized: every failure counts. */
export function failureDatums(failedQueryIds: readonly string[], timestamp: Date): FailureDatum[] {
  if (failedQueryIds.length === 0) return [];
  const perQuery = new Map<string, number>();
  for (const id of failedQueryIds) perQuery.set(id, (perQuery.get(id) ?? 0) + 1);
  return [
    { metric: ROLLUP_FAILURES_METRIC, dimensions: {}, timestamp, value: failedQueryIds.length, unit: 'Count' },
    ...[...perQuery.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, n]): FailureDatum => ({
        metric: ROLLUP_FAILURES_METRIC,
        dimensions: { [ROLLUP_FAILURES_DIMENSION]: id },
        timestamp,
        value: n,
        unit: 'Count',
      })),
  ];
}

/** The S3 key of a metric's aggregates at a timestamp. */
export function objectKey(metric: string, timestamp: Date): string {
  const iso = timestamp.toISOString();
  return `${ROLLUPS_PREFIX}metric=${metric}/dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}.json`;
}

export interface RollupObject {
  readonly key: string;
  /** JSON Lines, one dimension set per line, sorted: the same datapoints give the same bytes. */
  readonly body: string;
}

/** One object per (metric, timestamp), in key order. */
export function rollupObjects(datums: readonly RollupDatum[]): RollupObject[] {
  const byKey = new Map<string, RollupDatum[]>();
  for (const d of datums) {
    const key = objectKey(d.metric, d.timestamp);
    byKey.set(key, [...(byKey.get(key) ?? []), d]);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, ds]) => ({
      key,
      body:
        ds
          .map((d) =>
            JSON.stringify({
              metric: d.metric,
              timestamp: d.timestamp.toISOString(),
              dimensions: Object.fromEntries(Object.entries(d.dimensions).sort(([a], [b]) => (a < b ? -1 : 1))),
              value: d.value,
              unit: d.unit,
            }),
          )
          .sort()
          .join('\n') + '\n',
    }));
}
