import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../lib/core/metrics/dictionary';
import { estimateSeries, USD_PER_SERIES_MONTH } from '../lib/core/policy/series';
import { PolicyError, SLICE_FIELDS } from '../lib/core/policy';
import { variantPolicy } from './support/policy';

const emitted = METRICS.filter((m) => m.kind === 'emitted');
const sliced = emitted.filter((m) => m.sliced).length;
const fixedValues = emitted.reduce((n, m) => n + (m.fixed?.values.length ?? 0), 0);

describe('metric series budget', () => {
  it('counts one series in total, per fixed value and per slice value (+ other), never per combination', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...SLICE_FIELDS), fc.record({ max_values: fc.integer({ min: 1, max: 1000 }) })), (dims) => {
        const est = estimateSeries({ dimensions: dims });
        const perSlice = Object.values(dims).reduce((s, d) => s + d.max_values + 1, 0);
        expect(est.series).toBe(emitted.length + fixedValues + sliced * perSlice);
        expect(est.monthlyUsd).toBeCloseTo(est.series * USD_PER_SERIES_MONTH, 2);
      }),
    );
  });

  it('fails when an over-sliced policy exceeds its budget, giving both numbers', () => {
    let err: unknown;
    try {
      variantPolicy((d) => {
        d.slices.dimensions.model = { max_values: 200 };
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    const perSlice = 13 + 5 + 9 + 4 + 4 + 5 + 201;
    const series = emitted.length + fixedValues + sliced * perSlice;
    const usd = (Math.round(series * USD_PER_SERIES_MONTH * 100) / 100).toFixed(2);
    expect((err as PolicyError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      `slices: the slices create up to ${series} metric series costing about $${usd} a month, over the budget of 2500 series and $750 a month; remove a slice or lower max_values`,
    ]);
  });

  it('accepts the same slices when the budget is raised to cover them', () => {
    const p = variantPolicy((d) => {
      d.slices.dimensions.model = { max_values: 200 };
      d.slices.max_series = 100_000;
      d.slices.max_monthly_usd = 100_000;
    });
    expect(estimateSeries(p.slices).series).toBeGreaterThan(2500);
  });
});
