/**
 * The gate's Athena source: runs the canary-vs-baseline decision query
 * (queries/canary-vs-baseline.sql) in the analysts workgroup and turns its rows (one per
 * arm and slice: every intent, and `(all)` for the whole version) into the gate's
 * figures. Unlike CloudWatch, it attributes each P0 request to its version and compares
 * per intent. Partitions are days, so the query covers whole UTC days: from the day the
 * window starts to the day it ends.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import {
  bindParameters,
  bindPositional,
  loadDecisionQueries,
  type DecisionQuery,
  type ParameterValues,
  type PositionalStatement,
} from '../core/queries';
import { runAthenaQuery, type AthenaQueryOptions, type Row } from './athena';
import type { ArmFigures, SliceFigures } from '../core/gate/decide';

export interface AthenaGateRequest extends Omit<AthenaQueryOptions, 'workGroup' | 'database'> {
  readonly workGroup: string;
  readonly database: string;
  readonly dimension: string;
  readonly baseline: string;
  readonly canary: string;
  /** Window start (inclusive) and end (exclusive). */
  readonly start: Date;
  readonly end: Date;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const num = (v: unknown): number | null =>
  typeof v === 'number' ? v : v === null || v === undefined ? null : Number.isFinite(Number(v)) ? Number(v) : null;

/** The canary-vs-baseline values of a request: whole UTC days from the window's start to its end. */
function canaryParameters(req: Pick<AthenaGateRequest, 'dimension' | 'baseline' | 'canary' | 'start' | 'end'>): ParameterValues {
  return {
    start_date: day(req.start),
    end_date: day(new Date(req.end.getTime() - 1)),
    version_tag: req.dimension,
    baseline: req.baseline,
    canary: req.canary,
  };
}

function canaryQuery(): DecisionQuery {
  const q = loadDecisionQueries().find((x) => x.id === 'canary-vs-baseline');
  if (!q) throw new Error('the canary-vs-baseline decision query is missing');
  return q;
}

/** The bound canary-vs-baseline statement for a request (literals substituted: what Athena runs). */
export function canaryQuerySql(req: Pick<AthenaGateRequest, 'dimension' | 'baseline' | 'canary' | 'start' | 'end'>): string {
  return bindParameters(canaryQuery(), canaryParameters(req));
}

/** The canary-vs-baseline statement Athena is sent: the deployed named query's `?` form and its ExecutionParameters. */
export function canaryQueryStatement(
  req: Pick<AthenaGateRequest, 'dimension' | 'baseline' | 'canary' | 'start' | 'end'>,
): PositionalStatement {
  return bindPositional(canaryQuery(), canaryParameters(req));
}

const EMPTY: ArmFigures = {
  requests: 0,
  p0Events: 0,
  errorRatePct: null,
  p95LatencyMs: null,
  refusalRatePct: null,
  toolFailureRatePct: null,
};

/** canary-vs-baseline rows to slices: `all` first, then `intent=<intent>` in name order. */
export function figuresFromCanaryRows(rows: readonly Row[]): SliceFigures[] {
  const slices = new Map<string, { baseline: ArmFigures; canary: ArmFigures }>();
  for (const r of rows) {
    const arm = r.arm === 'baseline' ? 'baseline' : 'canary';
    const name = r.slice === '(all)' ? 'all' : `intent=${String(r.slice)}`;
    const entry = slices.get(name) ?? { baseline: EMPTY, canary: EMPTY };
    entry[arm] = {
      requests: num(r.requests) ?? 0,
      p0Events: num(r.p0_count) ?? 0,
      errorRatePct: num(r.error_rate_pct),
      p95LatencyMs: num(r.p95_latency_ms),
      refusalRatePct: num(r.refusal_rate_pct),
      toolFailureRatePct: num(r.tool_failure_rate_pct),
    };
    slices.set(name, entry);
  }
  return [...slices.entries()]
    .sort(([a], [b]) => (a === 'all' ? -1 : b === 'all' ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .map(([slice, f]) => ({ slice, ...f, p0Attribution: 'version' as const }));
}

export async function readGateFromAthena(
  athena: AthenaClient,
  req: AthenaGateRequest,
): Promise<{ slices: SliceFigures[]; notes: string[] }> {
  const out = await runAthenaQuery(athena, canaryQueryStatement(req), req);
  const first = day(req.start);
  const last = day(new Date(req.end.getTime() - 1));
  return {
    slices: figuresFromCanaryRows(out.rows),
    notes: [
      `Athena query ${out.queryExecutionId} (canary-vs-baseline, ${out.bytesScanned} bytes scanned) over the whole UTC day(s) ${first}${first === last ? '' : ` to ${last}`}: partitions are days, so requests of those days outside the window count too.`,
    ],
  };
}
