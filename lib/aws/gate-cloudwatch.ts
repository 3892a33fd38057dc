/**
 * The gate's CloudWatch reader: one `GetMetricData` call that reads, for the baseline
 * and the canary, the metrics the gate judges, by the policy's gate dimension (e.g.
 * `{ prompt_version: 'pv-2' }`), over one period equal to the window.
 *
 * Rates are metric math built from the dictionary's numerator and denominator (so they
 * aggregate over the window correctly); p95 latency is the `p95` statistic of Latency.
 *
 * What CloudWatch cannot say, and how the reader is honest about it:
 * - the ingest publishes one dimension set per slice, never version x intent: the
 *   versions are compared as a whole (one slice, `all`); per-intent comparison is the
 *   Athena source (`athena.ts`, the canary-vs-baseline query);
 * - P0Events carries no version dimension: every P0 event in the window counts against
 *   the canary (`p0Attribution: 'window'`: fails safe);
 * - the dictionary's tool metrics are write-tool tasks: tool failure rate is
 *   `100 - ToolTaskSuccessRate` (the Athena source covers read and write tool paths).
 */
import { SERVICE_DIMENSION, SERVICE_OF } from '../core/metrics/dictionary';
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { findMetric, type RatioMetric } from '../core/metrics/dictionary';
import type { ArmFigures, SliceFigures } from '../core/gate/decide';

export interface GateWindow {
  /** Exclusive end of the window (floored to the minute). */
  readonly end: Date;
  /** Window length in seconds: a whole number of minutes. */
  readonly seconds: number;
}

export interface CloudWatchGateRequest {
  readonly namespace: string;
  /** The version dimension, e.g. `prompt_version`. */
  readonly dimension: string;
  readonly baseline: string;
  readonly canary: string;
  readonly window: GateWindow;
}

type Arm = 'baseline' | 'canary';
const ARMS: readonly Arm[] = ['baseline', 'canary'];
const ARM_ID: Record<Arm, string> = { baseline: 'b', canary: 'c' };

function ratio(name: string): RatioMetric {
  const m = findMetric(name);
  if (m?.kind !== 'ratio') throw new Error(`${name} must be a ratio of the metric dictionary`);
  return m;
}

/** Query id of an emitted metric for an arm: `c_tooltasksuccesses`. */
const metricId = (arm: Arm, metric: string) => `${ARM_ID[arm]}_${metric.toLowerCase()}`;

/** The gate's output ids per arm. */
export const gateIds = (arm: Arm) => ({
  requests: metricId(arm, 'Requests'),
  errorRate: `${ARM_ID[arm]}_error_rate`,
  p95: `${ARM_ID[arm]}_p95_latency`,
  refusalRate: `${ARM_ID[arm]}_refusal_rate`,
  toolFailureRate: `${ARM_ID[arm]}_tool_failure_rate`,
});
export const P0_ID = 'p0_events';

/** The window as GetMetricData's StartTime/EndTime: `end` floored to the minute. */
export function windowRange(w: GateWindow): { start: Date; end: Date } {
  if (!Number.isInteger(w.seconds / 60) || w.seconds <= 0)
    throw new Error(`the gate window must be a whole number of minutes; got ${w.seconds} s`);
  const end = Math.floor(w.end.getTime() / 60_000) * 60_000;
  return { start: new Date(end - w.seconds * 1000), end: new Date(end) };
}

/** The MetricDataQueries of one gate read (both arms, plus P0Events for the window). */
export function buildGateQueries(req: CloudWatchGateRequest): MetricDataQuery[] {
  const period = req.window.seconds;
  const queries = new Map<string, MetricDataQuery>();
  const stat = (id: string, metricName: string, statName: string, dims: Record<string, string>, returnData: boolean) => {
    if (queries.has(id)) {
      if (returnData) queries.set(id, { ...queries.get(id)!, ReturnData: true });
      return;
    }
    queries.set(id, {
      Id: id,
      MetricStat: {
        // the gate reads ingest metrics: they carry the publisher's service dimension
        Metric: {
          Namespace: req.namespace,
          MetricName: metricName,
          Dimensions: Object.entries({ [SERVICE_DIMENSION]: SERVICE_OF.ingest, ...dims }).map(([Name, Value]) => ({ Name, Value })),
        },
        Period: period,
        Stat: statName,
      },
      ReturnData: returnData,
    });
  };
  /** `IF(den > 0, 100 * num / den)`, as the dictionary's ratio (TelemetryMetrics builds the same). */
  const rate = (arm: Arm, def: RatioMetric, dims: Record<string, string>) => {
    const n = metricId(arm, def.numerator);
    const d = metricId(arm, def.denominator);
    stat(n, def.numerator, 'Sum', dims, false);
    stat(d, def.denominator, 'Sum', dims, false);
    return { n, d, scale: def.percent ? '100 * ' : '' };
  };

  for (const arm of ARMS) {
    const dims = { [req.dimension]: req[arm] };
    const ids = gateIds(arm);
    stat(ids.requests, 'Requests', 'Sum', dims, true);
    for (const [id, name] of [
      [ids.errorRate, 'ErrorRate'],
      [ids.refusalRate, 'RefusalRate'],
    ] as const) {
      const r = rate(arm, ratio(name), dims);
      queries.set(id, {
        Id: id,
        Expression: `IF(${r.d} > 0, ${r.scale}${r.n} / ${r.d})`,
        Label: `${name} ${req.dimension}=${req[arm]}`,
        ReturnData: true,
      });
    }
    const tool = rate(arm, ratio('ToolTaskSuccessRate'), dims);
    queries.set(ids.toolFailureRate, {
      Id: ids.toolFailureRate,
      Expression: `IF(${tool.d} > 0, 100 - 100 * ${tool.n} / ${tool.d})`,
      Label: `100 - ToolTaskSuccessRate ${req.dimension}=${req[arm]}`,
      ReturnData: true,
    });
    stat(ids.p95, 'Latency', 'p95', dims, true);
  }
  stat(P0_ID, 'P0Events', 'Sum', {}, true);
  return [...queries.values()];
}

/** Reads the results of `buildGateQueries` into one slice (`all`). Missing counts are 0; missing rates are null. */
export function figuresFromResults(results: readonly MetricDataResult[]): SliceFigures {
  const byId = new Map<string, number[]>();
  for (const r of results) if (r.Id) byId.set(r.Id, [...(byId.get(r.Id) ?? []), ...(r.Values ?? [])]);
  const count = (id: string) => (byId.get(id) ?? []).reduce((a, b) => a + b, 0);
  // One period spans the window, so a gauge has at most one value; take the newest.
  const gauge = (id: string) => byId.get(id)?.[0] ?? null;
  const p0 = count(P0_ID);
  const arm = (a: Arm): ArmFigures => {
    const ids = gateIds(a);
    return {
      requests: count(ids.requests),
      p0Events: p0,
      errorRatePct: gauge(ids.errorRate),
      p95LatencyMs: gauge(ids.p95),
      refusalRatePct: gauge(ids.refusalRate),
      toolFailureRatePct: gauge(ids.toolFailureRate),
    };
  };
  return { slice: 'all', baseline: arm('baseline'), canary: arm('canary'), p0Attribution: 'window' };
}

/** Runs the read (following NextToken) and returns the figures. */
export async function readGateFromCloudWatch(cloudwatch: CloudWatchClient, req: CloudWatchGateRequest): Promise<SliceFigures> {
  const { start, end } = windowRange(req.window);
  const queries = buildGateQueries(req);
  const results: MetricDataResult[] = [];
  let token: string | undefined;
  do {
    const out = await cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: start,
        EndTime: end,
        ScanBy: 'TimestampDescending',
        NextToken: token,
      }),
    );
    results.push(...(out.MetricDataResults ?? []));
    token = out.NextToken;
  } while (token);
  return figuresFromResults(results);
}
