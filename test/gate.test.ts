/**
 * The release gate's pure decision (lib/gate/decide.ts) and the release checklist
 * (explainGate), against the shipped policy's gates: min_requests 200, error rate +1 pp,
 * p95 latency +15%, refusal rate +2 pp, tool failure rate +1 pp.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateGate, GATE_METRICS, judgeSlice, type ArmFigures, type GatePolicy, type SliceFigures } from '../lib/core/gate/decide';
import { explainGate } from '../lib/core/spec/gate';
import { policyFrom, shippedPolicyData, variantPolicy } from './support/policy';

const policy = policyFrom(shippedPolicyData());
const gates: GatePolicy = policy.gates;

const healthy: ArmFigures = { requests: 1000, p0Events: 0, errorRatePct: 1, p95LatencyMs: 2000, refusalRatePct: 3, toolFailureRatePct: 2 };
const slice = (canary: Partial<ArmFigures> = {}, baseline: Partial<ArmFigures> = {}, name = 'all'): SliceFigures => ({
  slice: name,
  baseline: { ...healthy, ...baseline },
  canary: { ...healthy, ...canary },
});
const verdicts = (s: SliceFigures) => Object.fromEntries(judgeSlice(s, gates).map((r) => [r.metric, r.verdict]));

describe('evaluateGate', () => {
  it('passes a canary that matches its baseline, with every row passing and nothing deciding', () => {
    const r = evaluateGate([slice()], gates);
    expect(r.verdict).toBe('pass');
    expect(r.decidedBy).toEqual([]);
    expect(r.rows.map((x) => x.verdict)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    expect(r.summary).toBe('pass: 1 slice(s), every metric within tolerance');
  });

  it('gives the exact rows for one slice, in metric order', () => {
    const r = evaluateGate([slice({ errorRatePct: 2.5, p95LatencyMs: 2200 })], gates);
    expect(r.rows).toEqual([
      {
        metric: 'p0_events',
        slice: 'all',
        baseline: 0,
        canary: 0,
        tolerance: '0',
        verdict: 'pass',
        reason: 'no P0 event attributed to the canary',
      },
      {
        metric: 'requests',
        slice: 'all',
        baseline: 1000,
        canary: 1000,
        tolerance: '>= 200',
        verdict: 'pass',
        reason: 'enough traffic on both arms (at least 200 each)',
      },
      {
        metric: 'error_rate',
        slice: 'all',
        baseline: 1,
        canary: 2.5,
        tolerance: '+1 pp',
        verdict: 'fail',
        reason: 'canary error rate 2.5% exceeds the baseline 1% plus +1 pp (limit 2%)',
      },
      {
        metric: 'p95_latency',
        slice: 'all',
        baseline: 2000,
        canary: 2200,
        tolerance: '+15%',
        verdict: 'pass',
        reason: 'within +15% of the baseline (limit 2300 ms)',
      },
      {
        metric: 'refusal_rate',
        slice: 'all',
        baseline: 3,
        canary: 3,
        tolerance: '+2 pp',
        verdict: 'pass',
        reason: 'within +2 pp of the baseline (limit 5%)',
      },
      {
        metric: 'tool_failure_rate',
        slice: 'all',
        baseline: 2,
        canary: 2,
        tolerance: '+1 pp',
        verdict: 'pass',
        reason: 'within +1 pp of the baseline (limit 3%)',
      },
    ]);
    expect(r.verdict).toBe('fail');
    expect(r.decidedBy.map((x) => [x.metric, x.slice])).toEqual([['error_rate', 'all']]);
    expect(r.summary).toBe('fail: error_rate in slice all');
  });

  it('fails on any P0 event of the canary, even on thin traffic', () => {
    const r = evaluateGate([slice({ p0Events: 1, requests: 3 })], gates);
    expect(r.verdict).toBe('fail');
    expect(r.decidedBy.map((x) => x.metric)).toEqual(['p0_events']);
    expect(r.decidedBy[0]?.reason).toBe('1 P0 event(s) attributed to the canary in the window; none is allowed');
  });

  it('does not fail the canary for P0 events of the baseline', () => {
    expect(evaluateGate([slice({}, { p0Events: 4 })], gates).verdict).toBe('pass');
  });

  it.each([
    ['error_rate', { errorRatePct: 2.01 }, { errorRatePct: 2 }],
    ['p95_latency', { p95LatencyMs: 2301 }, { p95LatencyMs: 2300 }],
    ['refusal_rate', { refusalRatePct: 5.01 }, { refusalRatePct: 5 }],
    ['tool_failure_rate', { toolFailureRatePct: 3.01 }, { toolFailureRatePct: 3 }],
  ] as const)('fails when %s degrades beyond its tolerance, and passes exactly at it', (metric, beyond, at) => {
    const failing = evaluateGate([slice(beyond)], gates);
    expect(failing.verdict).toBe('fail');
    expect(failing.decidedBy.map((x) => x.metric)).toEqual([metric]);
    expect(evaluateGate([slice(at)], gates).verdict).toBe('pass');
  });

  it('measures the p95 tolerance in percent of the baseline and rates in percentage points', () => {
    expect(verdicts(slice({ p95LatencyMs: 11_400 }, { p95LatencyMs: 10_000 })).p95_latency).toBe('pass');
    expect(verdicts(slice({ p95LatencyMs: 11_600 }, { p95LatencyMs: 10_000 })).p95_latency).toBe('fail');
    // 10% -> 10.9% is a 9% relative rise but under 1 pp: passes.
    expect(verdicts(slice({ errorRatePct: 10.9 }, { errorRatePct: 10 })).error_rate).toBe('pass');
  });

  it('is inconclusive when the canary has fewer than min_requests, and judges no comparison', () => {
    const r = evaluateGate([slice({ requests: 199, errorRatePct: 50 })], gates);
    expect(r.verdict).toBe('inconclusive');
    expect(r.rows.find((x) => x.metric === 'requests')?.reason).toBe('too few requests to judge (canary 199; at least 200 each)');
    expect(r.rows.find((x) => x.metric === 'error_rate')).toMatchObject({
      verdict: 'inconclusive',
      reason: 'not judged: too few requests (canary 199 < 200)',
    });
    expect(r.summary).toMatch(/^inconclusive: requests in slice all; error_rate in slice all/);
    expect(evaluateGate([slice({ requests: 200 })], gates).verdict).toBe('pass');
  });

  it('is inconclusive when the baseline has too little traffic to compare with', () => {
    expect(evaluateGate([slice({}, { requests: 10 })], gates).verdict).toBe('inconclusive');
  });

  it('is inconclusive without any slice, and treats a missing canary rate as not applicable', () => {
    expect(evaluateGate([], gates)).toEqual({
      verdict: 'inconclusive',
      rows: [],
      decidedBy: [],
      summary: 'inconclusive: no data for either version in the window',
    });
    const r = evaluateGate([slice({ toolFailureRatePct: null }, { toolFailureRatePct: null })], gates);
    expect(r.verdict).toBe('pass');
    expect(r.rows.find((x) => x.metric === 'tool_failure_rate')).toMatchObject({
      verdict: 'n/a',
      reason: 'no canary tool failure rate: no denominator in the window',
    });
    const noBaseline = evaluateGate([slice({}, { toolFailureRatePct: null })], gates);
    expect(noBaseline.verdict).toBe('inconclusive');
    expect(noBaseline.decidedBy.map((x) => x.reason)).toEqual(['no baseline tool failure rate to compare with']);
  });

  it('judges slices independently: one failing slice fails the gate and is named; the others keep their verdicts', () => {
    const r = evaluateGate(
      [
        slice({}, {}, 'intent=policy_qna'),
        slice({ refusalRatePct: 9 }, {}, 'intent=hr_request'),
        slice({ requests: 5 }, {}, 'intent=ticket_create'),
      ],
      gates,
    );
    expect(r.verdict).toBe('fail');
    expect(r.decidedBy.map((x) => `${x.slice}/${x.metric}`)).toEqual(['intent=hr_request/refusal_rate']);
    const bySlice = (name: string) => r.rows.filter((x) => x.slice === name).map((x) => x.verdict);
    expect(bySlice('intent=policy_qna')).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    expect(bySlice('intent=ticket_create')).toEqual([
      'pass',
      'inconclusive',
      'inconclusive',
      'inconclusive',
      'inconclusive',
      'inconclusive',
    ]);
    // Without the failing slice, the thin one decides: inconclusive.
    expect(evaluateGate([slice({}, {}, 'a'), slice({ requests: 5 }, {}, 'b')], gates).verdict).toBe('inconclusive');
  });

  it('handles many slices', () => {
    const many = Array.from({ length: 500 }, (_, i) => slice({}, {}, `intent=i${i}`));
    const r = evaluateGate([...many, slice({ p0Events: 2 }, {}, 'intent=last')], gates);
    expect(r.rows).toHaveLength(501 * GATE_METRICS.length);
    expect(r.decidedBy.map((x) => x.slice)).toEqual(['intent=last']);
  });
});

const rate = fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null });
const arm = fc.record({
  requests: fc.integer({ min: 0, max: 100_000 }),
  p0Events: fc.integer({ min: 0, max: 3 }),
  errorRatePct: rate,
  p95LatencyMs: fc.option(fc.double({ min: 0, max: 120_000, noNaN: true }), { nil: null }),
  refusalRatePct: rate,
  toolFailureRatePct: rate,
});
const tolerances = fc.record({
  error_rate_pp: fc.double({ min: 0, max: 50, noNaN: true }),
  p95_latency_pct: fc.double({ min: 0, max: 200, noNaN: true }),
  refusal_rate_pp: fc.double({ min: 0, max: 50, noNaN: true }),
  tool_failure_rate_pp: fc.double({ min: 0, max: 50, noNaN: true }),
});

describe('gate properties', () => {
  it('a canary equal to its baseline, without P0 and above min traffic, never fails', () => {
    fc.assert(
      fc.property(arm, tolerances, fc.integer({ min: 1, max: 1000 }), (a, tol, min) => {
        const figures = { ...a, p0Events: 0, requests: Math.max(a.requests, min) };
        const r = evaluateGate([{ slice: 'all', baseline: figures, canary: figures }], { min_requests: min, tolerances: tol });
        expect(r.verdict).not.toBe('fail');
      }),
    );
  });

  it('raising a tolerance never turns pass into fail', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ slice: fc.string(), baseline: arm, canary: arm }), { maxLength: 5 }),
        tolerances,
        tolerances,
        (slices, tol, extra) => {
          const lower = evaluateGate(slices, { min_requests: 200, tolerances: tol });
          const raised = {
            error_rate_pp: tol.error_rate_pp + extra.error_rate_pp,
            p95_latency_pct: tol.p95_latency_pct + extra.p95_latency_pct,
            refusal_rate_pp: tol.refusal_rate_pp + extra.refusal_rate_pp,
            tool_failure_rate_pp: tol.tool_failure_rate_pp + extra.tool_failure_rate_pp,
          };
          const higher = evaluateGate(slices, { min_requests: 200, tolerances: raised });
          if (lower.verdict === 'pass') expect(higher.verdict).toBe('pass');
          if (lower.verdict !== 'fail') expect(higher.verdict).not.toBe('fail');
        },
      ),
    );
  });

  it('never mutates its input and always returns six rows per slice', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ slice: fc.string(), baseline: arm, canary: arm }), { maxLength: 5 }), (slices) => {
        const copy = structuredClone(slices);
        const r = evaluateGate(slices, gates);
        expect(slices).toEqual(copy);
        expect(r.rows).toHaveLength(slices.length * 6);
      }),
    );
  });
});

describe('explainGate', () => {
  it('names the gate command, its exit codes and the policy thresholds', () => {
    const md = explainGate(policy);
    expect(md.startsWith('## Release checklist\n')).toBe(true);
    expect(md).toContain(
      'npx llmops gate --baseline <current prompt_version> --canary <new prompt_version> --dimension prompt_version --window 1h',
    );
    expect(md).toContain('at least 200 requests within the gate window (1h)');
    expect(md).toContain('| error rate | baseline + 1 percentage points | fail |');
    expect(md).toContain('| p95 latency | baseline + 15% | fail |');
    expect(md).toContain('| refusal rate | baseline + 2 percentage points | fail |');
    expect(md).toContain('| tool failure rate | baseline + 1 percentage points | fail |');
    expect(md).toContain('exit 3 **inconclusive**');
    expect(md).not.toContain('Warning');
  });

  it('follows the policy, and warns when the gate dimension is not a slice', () => {
    const p = variantPolicy((d) => {
      d.gates = {
        dimension: 'model',
        window: '30m',
        min_requests: 50,
        tolerances: { error_rate_pp: 0.5, p95_latency_pct: 10, refusal_rate_pp: 1, tool_failure_rate_pp: 3 },
      };
    });
    const md = explainGate(p);
    expect(md).toContain('--dimension model --window 30m');
    expect(md).toContain('| p95 latency | baseline + 10% | fail |');
    expect(md).toContain('**Warning:** `slices.dimensions` does not list `model`');
  });
});
