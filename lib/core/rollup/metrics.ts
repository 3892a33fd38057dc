/**
 * Query rows to rollup datapoints, with the policy's slice dimensions. Pure.
 *
 * Every datapoint is a whole figure (never a delta), and a run produces exactly one per
 * (metric, dimensions, timestamp): published again by a rerun, it repeats the same
 * datapoint, which CloudWatch's `Maximum` (the dictionary's statistic for these gauges,
 * and what the dashboards use) reads once. `Sum` would double count a rerun.
 *
 * Slices follow the ingest's rule: one dimension set per slice, never a cross product;
 * a value outside the slice's `values` list (or, without a list, beyond the first
 * `max_values` values in name order) is counted as "other". Only the slices a query
 * reports are published: `active-users` reports tenants, `cost-per-successful-task`
 * intents and tenants; other slices get no rollup series.
 *
 * Distinct users are not additive: when several tenants fold into "other", its figure
 * is the sum of theirs, an upper bound (a user active in two of them counts twice).
 * Listed values and the total (the query's `(all)` row) are exact. Cost is additive:
 * "other" and the total are exact.
 */
import { findMetric } from '../metrics/dictionary';
import type { Policy, SliceField } from '../policy/schema';
import type { Row } from '../queries';
import type { PlannedQuery } from './plan';

export type RollupMetricName = 'ActiveUsersDaily' | 'ActiveUsersWeekly' | 'DailyCostUsd' | 'NewIntents' | 'RepeatUsers';

export interface RollupDatum {
  readonly metric: RollupMetricName;
  /** Empty for the total; one slice dimension otherwise. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly timestamp: Date;
  readonly value: number;
  readonly unit: 'Count' | 'None';
}

export type SliceDimensions = Policy['slices']['dimensions'];
export const OTHER = 'other';

/** The dictionary's unit of a rollup metric; fails if the dictionary does not list it as a rollup metric. */
export function rollupUnit(metric: RollupMetricName): 'Count' | 'None' {
  const def = findMetric(metric);
  if (def?.kind !== 'emitted' || def.source !== 'rollup' || def.unit === 'Milliseconds') {
    throw new Error(`${metric} is not a rollup metric of the metric dictionary`);
  }
  return def.unit;
}

/** Folds raw slice values into the values with their own series, or "other". */
export function sliceFolder(slices: SliceDimensions, dim: SliceField, seen: readonly unknown[]): ((raw: unknown) => string) | undefined {
  const spec = slices[dim];
  if (!spec) return undefined;
  const admitted = new Set(
    spec.values ??
      [...new Set(seen.filter((v): v is string => typeof v === 'string' && v !== '' && v !== OTHER))].sort().slice(0, spec.max_values),
  );
  return (raw) => (typeof raw === 'string' && admitted.has(raw) ? raw : OTHER);
}

const num = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : 0;

/** Sums values per folded slice value: one datum per (metric, slice value). */
function sliced(
  metric: RollupMetricName,
  rows: readonly Row[],
  dim: SliceField,
  column: string,
  slices: SliceDimensions,
  timestamp: Date,
  unit: RollupDatum['unit'],
): RollupDatum[] {
  const fold = sliceFolder(
    slices,
    dim,
    rows.map((r) => r[dim]),
  );
  if (!fold) return [];
  const sums = new Map<string, number>();
  for (const r of rows) {
    const v = fold(r[dim]);
    sums.set(v, (sums.get(v) ?? 0) + num(r[column]));
  }
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([v, value]) => ({ metric, dimensions: { [dim]: v }, timestamp, value: round(value), unit }));
}

/** Cost to 1e-6 USD, counts stay whole: float noise must not make reruns differ. */
const round = (n: number) => Math.round(n * 1e6) / 1e6;

/** The datapoints of one query's rows. */
export function datumsFor(
  q: Pick<PlannedQuery, 'mapping' | 'stamps' | 'parameters'>,
  rows: readonly Row[],
  slices: SliceDimensions,
): RollupDatum[] {
  const stampOf = (day: string): Date => {
    const t = q.stamps[day];
    if (!t) throw new Error(`the ${q.mapping} rollup got a row for ${day}, outside its days (${Object.keys(q.stamps).join(', ')})`);
    return t;
  };
  const onlyDay = () => {
    const days = Object.keys(q.stamps);
    if (days.length !== 1) throw new Error(`the ${q.mapping} rollup needs exactly one day, got ${days.length}`);
    return days[0] as string;
  };
  switch (q.mapping) {
    case 'active-users': {
      const out: RollupDatum[] = [];
      const byDay = new Map<string, Row[]>();
      for (const r of rows) byDay.set(String(r.activity_date), [...(byDay.get(String(r.activity_date)) ?? []), r]);
      for (const [day, dayRows] of [...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const ts = stampOf(day);
        const total = dayRows.find((r) => r.tenant_id === '(all)');
        const tenants = dayRows.filter((r) => r.tenant_id !== '(all)');
        for (const [metric, column] of [
          ['ActiveUsersDaily', 'daily_active_users'],
          ['ActiveUsersWeekly', 'weekly_active_users'],
        ] as const) {
          const unit = rollupUnit(metric);
          if (total) out.push({ metric, dimensions: {}, timestamp: ts, value: num(total[column]), unit });
          out.push(...sliced(metric, tenants, 'tenant_id', column, slices, ts, unit));
        }
      }
      return out;
    }
    case 'daily-cost': {
      const ts = stampOf(onlyDay());
      const unit = rollupUnit('DailyCostUsd');
      // Zero rows is an exact zero: no request that day.
      const total = {
        metric: 'DailyCostUsd' as const,
        dimensions: {},
        timestamp: ts,
        value: round(rows.reduce((a, r) => a + num(r.cost_usd), 0)),
        unit,
      };
      return [
        total,
        ...sliced('DailyCostUsd', rows, 'intent', 'cost_usd', slices, ts, unit),
        ...sliced('DailyCostUsd', rows, 'tenant_id', 'cost_usd', slices, ts, unit),
      ];
    }
    case 'new-intents':
      return [{ metric: 'NewIntents', dimensions: {}, timestamp: stampOf(onlyDay()), value: rows.length, unit: rollupUnit('NewIntents') }];
    case 'repeat-users': {
      const row = rows[0];
      return [
        {
          metric: 'RepeatUsers',
          dimensions: {},
          timestamp: stampOf(onlyDay()),
          value: row ? num(row.repeat_users) : 0,
          unit: rollupUnit('RepeatUsers'),
        },
      ];
    }
  }
}

/** Identity of a datapoint: metric, sorted dimensions, timestamp. */
export function datumKey(d: Pick<RollupDatum, 'metric' | 'dimensions' | 'timestamp'>): string {
  const dims = Object.entries(d.dimensions)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${d.metric}|${dims}|${d.timestamp.toISOString()}`;
}

/** Fails when a run would publish two datapoints for one (metric, dimensions, timestamp): `Maximum` would hide one of them. */
export function assertOnePerKey(datums: readonly RollupDatum[]): void {
  const seen = new Set<string>();
  for (const d of datums) {
    const k = datumKey(d);
    if (seen.has(k)) throw new Error(`the rollup would publish ${k} twice in one run`);
    seen.add(k);
  }
}
