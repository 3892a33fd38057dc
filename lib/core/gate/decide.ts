/**
 * The release gate's decision: a pure function over the figures of two versions (the
 * baseline and the canary) per slice, judged against the policy's `gates`. No I/O: the
 * readers (`cloudwatch.ts`, `athena.ts`) turn metric series or query rows into
 * `SliceFigures`, and the CLI prints the result.
 *
 * Rules, per slice (slices are independent; the overall verdict combines them):
 *
 * - any P0 event attributed to the canary in the window fails the slice, whatever the
 *   traffic;
 * - fewer than `gates.min_requests` requests on either arm: the comparisons are not
 *   judged and the slice is inconclusive (unless a P0 already fails it);
 * - error, refusal and tool failure rates may rise by at most their tolerance in
 *   percentage points; p95 latency by at most its tolerance in percent of the baseline.
 *   A rise beyond it fails the slice;
 * - a rate the canary has no denominator for (e.g. no tool requests) is not applicable;
 *   a canary rate without a baseline rate to compare is inconclusive.
 *
 * Overall: fail if any slice fails, else inconclusive if any slice is (or there are no
 * slices), else pass. `decidedBy` lists the rows that made the verdict.
 */
import type { Policy } from '../policy/schema';

export type Verdict = 'pass' | 'fail' | 'inconclusive';
/** A row's verdict: `n/a` when the metric does not apply (the canary has no denominator for it). */
export type RowVerdict = Verdict | 'n/a';

/** The gated metrics, in the order rows are printed. */
export const GATE_METRICS = ['p0_events', 'requests', 'error_rate', 'p95_latency', 'refusal_rate', 'tool_failure_rate'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

/** What one version served in one slice over the window. Rates are in percent; null when there is no denominator. */
export interface ArmFigures {
  readonly requests: number;
  /** P0 events attributed to this version (see the reader for how). */
  readonly p0Events: number;
  readonly errorRatePct: number | null;
  readonly p95LatencyMs: number | null;
  readonly refusalRatePct: number | null;
  readonly toolFailureRatePct: number | null;
}

export interface SliceFigures {
  /** `all` for the whole version, or e.g. `intent=policy_qna`. */
  readonly slice: string;
  readonly baseline: ArmFigures;
  readonly canary: ArmFigures;
  /**
   * How P0 events were attributed: `version` (each P0 request to its own version) or
   * `window` (every P0 event in the window, whichever version, counts for both arms: the
   * CloudWatch source, where P0Events carries no version dimension). @default 'version'
   */
  readonly p0Attribution?: 'version' | 'window';
}

export interface GateRow {
  readonly metric: GateMetric;
  readonly slice: string;
  readonly baseline: number | null;
  readonly canary: number | null;
  /** The rule, e.g. `+1 pp`, `+15%`, `0`, `>= 200`. */
  readonly tolerance: string;
  readonly verdict: RowVerdict;
  /** Why, in words, with the numbers. */
  readonly reason: string;
}

export interface GateResult {
  readonly verdict: Verdict;
  readonly rows: readonly GateRow[];
  /** The rows that decided the verdict: the failing rows for fail, the inconclusive ones for inconclusive, none for pass. */
  readonly decidedBy: readonly GateRow[];
  /** One line: the verdict and what decided it. */
  readonly summary: string;
}

export type GatePolicy = Pick<Policy['gates'], 'min_requests' | 'tolerances'>;

/** Floating-point slack: a canary exactly at the limit passes. */
const EPSILON = 1e-9;
/** Rounds for display: 2 decimals, as the queries do. */
const round2 = (n: number) => Math.round(n * 100) / 100;
const fmt = (n: number | null, unit = '') => (n === null ? '-' : `${round2(n)}${unit}`);

interface RateRule {
  readonly metric: Exclude<GateMetric, 'p0_events' | 'requests' | 'p95_latency'>;
  readonly pick: (a: ArmFigures) => number | null;
  readonly tolerance: (g: GatePolicy) => number;
  readonly what: string;
}

const RATE_RULES: readonly RateRule[] = [
  { metric: 'error_rate', pick: (a) => a.errorRatePct, tolerance: (g) => g.tolerances.error_rate_pp, what: 'error rate' },
  { metric: 'refusal_rate', pick: (a) => a.refusalRatePct, tolerance: (g) => g.tolerances.refusal_rate_pp, what: 'refusal rate' },
  {
    metric: 'tool_failure_rate',
    pick: (a) => a.toolFailureRatePct,
    tolerance: (g) => g.tolerances.tool_failure_rate_pp,
    what: 'tool failure rate',
  },
];

/** Judges one slice: its rows in GATE_METRICS order. */
export function judgeSlice(s: SliceFigures, gates: GatePolicy): GateRow[] {
  const { baseline: b, canary: c, slice } = s;
  const row = (
    metric: GateMetric,
    bv: number | null,
    cv: number | null,
    tolerance: string,
    verdict: RowVerdict,
    reason: string,
  ): GateRow => ({ metric, slice, baseline: bv, canary: cv, tolerance, verdict, reason });
  const rows: GateRow[] = [];

  const byWindow = s.p0Attribution === 'window';
  rows.push(
    c.p0Events > 0
      ? row(
          'p0_events',
          b.p0Events,
          c.p0Events,
          '0',
          'fail',
          byWindow
            ? `${c.p0Events} P0 event(s) in the window across all versions (P0Events has no version dimension, so each counts against the canary); none is allowed`
            : `${c.p0Events} P0 event(s) attributed to the canary in the window; none is allowed`,
        )
      : row(
          'p0_events',
          b.p0Events,
          c.p0Events,
          '0',
          'pass',
          byWindow ? 'no P0 event in the window' : 'no P0 event attributed to the canary',
        ),
  );

  const min = gates.min_requests;
  const thinArms = [c.requests < min ? `canary ${c.requests}` : '', b.requests < min ? `baseline ${b.requests}` : ''].filter(Boolean);
  const thin = thinArms.length > 0;
  rows.push(
    thin
      ? row(
          'requests',
          b.requests,
          c.requests,
          `>= ${min}`,
          'inconclusive',
          `too few requests to judge (${thinArms.join(', ')}; at least ${min} each)`,
        )
      : row('requests', b.requests, c.requests, `>= ${min}`, 'pass', `enough traffic on both arms (at least ${min} each)`),
  );
  const notJudged = `not judged: too few requests (${thinArms.join(', ')} < ${min})`;

  const judge = (
    metric: GateMetric,
    bv: number | null,
    cv: number | null,
    tolerance: string,
    limit: (base: number) => number,
    unit: string,
    what: string,
  ) => {
    if (cv === null) return row(metric, bv, cv, tolerance, 'n/a', `no canary ${what}: no denominator in the window`);
    if (thin) return row(metric, bv, cv, tolerance, 'inconclusive', notJudged);
    if (bv === null) return row(metric, bv, cv, tolerance, 'inconclusive', `no baseline ${what} to compare with`);
    const max = limit(bv);
    return cv > max + EPSILON
      ? row(
          metric,
          bv,
          cv,
          tolerance,
          'fail',
          `canary ${what} ${fmt(cv, unit)} exceeds the baseline ${fmt(bv, unit)} plus ${tolerance} (limit ${fmt(max, unit)})`,
        )
      : row(metric, bv, cv, tolerance, 'pass', `within ${tolerance} of the baseline (limit ${fmt(max, unit)})`);
  };

  const [errorRule, refusalRule, toolRule] = RATE_RULES as [RateRule, RateRule, RateRule];
  const rate = (r: RateRule) =>
    judge(r.metric, r.pick(b), r.pick(c), `+${r.tolerance(gates)} pp`, (base) => base + r.tolerance(gates), '%', r.what);
  rows.push(rate(errorRule));
  const pct = gates.tolerances.p95_latency_pct;
  rows.push(judge('p95_latency', b.p95LatencyMs, c.p95LatencyMs, `+${pct}%`, (base) => base * (1 + pct / 100), ' ms', 'p95 latency'));
  rows.push(rate(refusalRule));
  rows.push(rate(toolRule));
  return rows;
}

/** The verdict of a set of rows: any fail fails, else any inconclusive, else pass. */
export function combine(rows: readonly GateRow[]): Verdict {
  if (rows.some((r) => r.verdict === 'fail')) return 'fail';
  if (rows.some((r) => r.verdict === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

/** Judges every slice against the policy's gates. */
export function evaluateGate(slices: readonly SliceFigures[], gates: GatePolicy): GateResult {
  const rows = slices.flatMap((s) => judgeSlice(s, gates));
  if (rows.length === 0) {
    return { verdict: 'inconclusive', rows, decidedBy: [], summary: 'inconclusive: no data for either version in the window' };
  }
  const verdict = combine(rows);
  const decidedBy = verdict === 'pass' ? [] : rows.filter((r) => r.verdict === verdict);
  const names = decidedBy.map((r) => `${r.metric} in slice ${r.slice}`);
  const summary =
    verdict === 'pass'
      ? `pass: ${slices.length} slice(s), every metric within tolerance`
      : `${verdict}: ${names.slice(0, 5).join('; ')}${names.length > 5 ? `; and ${names.length - 5} more` : ''}`;
  return { verdict, rows, decidedBy, summary };
}
