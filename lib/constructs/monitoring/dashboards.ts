/**
 * Dashboards: one per metric bucket (`<name>-<environment>-<bucket>`) and an executive
 * readiness view. Typed widgets only; threshold lines come from the alarms themselves.
 */
import { resourcePrefix } from '../../core/policy/names';
import { Duration, aws_cloudwatch as cw, type aws_lambda as lambda, type aws_logs as logs } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { BUCKETS, fixedValuesOf, metricsOf, type BucketName, type MetricDefinition } from '../../core/metrics/dictionary';
import type { Policy } from '../../core/policy';
import type { StoreName } from '../../core/storage';
import type { MonitoringPolicy, PolicyAlarm } from './alarms';
import type { TelemetryMetrics } from './metrics';

/** The ingest pipeline's health on the reliability view: what `TelemetryIngest` offers. */
export interface IngestHealth {
  /** The events stream's transform. */
  readonly transform: lambda.IFunction;
  /** The transform's log group: EMF lines there give the last P0 occurrence. */
  readonly transformLogGroup: logs.ILogGroup;
  metricDataFreshness(props?: cw.MetricOptions): cw.Metric;
  metricDeliverySuccess(props?: cw.MetricOptions): cw.Metric;
  metricProcessingSuccess(props?: cw.MetricOptions): cw.Metric;
  metricProcessingDuration(props?: cw.MetricOptions): cw.Metric;
  metricThrottledRecords(props?: cw.MetricOptions): cw.Metric;
}

/** The storage's size per store and its debug retention: what `TelemetryStorage` offers. */
export interface StorageHealth {
  readonly retention: { readonly debug: Duration };
  metricStoredBytes(store: StoreName, props?: cw.MetricOptions): cw.Metric;
  metricStoredObjects(store: StoreName, props?: cw.MetricOptions): cw.Metric;
}

/** The stores whose size the views show: every tier's store (the Athena results are not a tier). */
export const MONITORED_STORES: readonly StoreName[] = ['traces', 'metrics', 'debug', 'audit'];

const WIDTH = 24;
const HALF = 12;
const PERIOD = Duration.minutes(5);
const DAY = Duration.days(1);

export interface DashboardInputs {
  readonly policy: MonitoringPolicy;
  readonly metrics: TelemetryMetrics;
  readonly alarms: readonly PolicyAlarm[];
  readonly composite?: cw.IAlarm;
  readonly ingest?: IngestHealth;
  readonly storage?: StorageHealth;
}

export function dashboardName(policy: Pick<Policy, 'name' | 'environment'>, view: BucketName | 'readiness'): string {
  return `${resourcePrefix(policy)}-${view}`;
}

export function createBucketDashboards(scope: Construct, inputs: DashboardInputs): Record<BucketName, cw.Dashboard> {
  const out = {} as Record<BucketName, cw.Dashboard>;
  for (const bucket of BUCKETS) {
    const d = new cw.Dashboard(scope, `Dashboard-${bucket}`, {
      dashboardName: dashboardName(inputs.policy, bucket),
      defaultInterval: Duration.days(1),
    });
    const b = inputs.policy.buckets[bucket];
    const owner = inputs.policy.owners[b.owner];
    d.addWidgets(
      new cw.TextWidget({
        markdown: `# ${bucket}\nOwner: ${owner.name} (${owner.contact}). Decision: ${b.decision}`,
        width: WIDTH,
        height: 2,
      }),
    );
    d.addWidgets(...metricsOf(bucket).map((m) => metricGraph(inputs, m)));
    const anomaly = inputs.alarms.filter((a) => a.bucket === bucket && a.spec.anomaly_band !== undefined);
    if (anomaly.length)
      d.addWidgets(...anomaly.map((a) => new cw.AlarmWidget({ title: `${a.spec.id} (learned band)`, alarm: a.alarm, width: HALF })));
    if (bucket === 'reliability') d.addWidgets(...pipelineHealth(inputs));
    if (bucket === 'reliability' || bucket === 'cost') d.addWidgets(...storageWidgets(inputs));
    out[bucket] = d;
  }
  return out;
}

/** A graph of one dictionary metric with the thresholds of the alarms on it. */
function metricGraph(inputs: DashboardInputs, m: MetricDefinition): cw.GraphWidget {
  const { metrics } = inputs;
  let lines: cw.IMetric[];
  if (m.kind === 'emitted' && m.name === 'Latency') {
    lines = (m.fixed?.values ?? []).flatMap((path) =>
      ['p50', 'p95', 'p99'].map((stat) =>
        metrics.of(m, { dimensions: { Path: path }, statistic: stat, period: PERIOD, label: `${path} ${stat}` }),
      ),
    );
  } else if (m.kind === 'emitted' && m.fixed) {
    const dim = m.fixed.dimension;
    lines = m.fixed.values.map((v) => metrics.of(m, { dimensions: { [dim]: v }, period: PERIOD, label: v }));
  } else {
    lines = [metrics.of(m, { period: PERIOD })];
  }
  const thresholds = inputs.alarms
    .filter((a) => a.spec.metric === m.name && a.spec.threshold !== undefined)
    .map((a): cw.HorizontalAnnotation => ({
      value: a.spec.threshold ?? 0,
      label: `${a.spec.id} (${a.spec.severity})`,
      color: a.spec.severity === 'page' ? cw.Color.RED : cw.Color.ORANGE,
      fill: a.spec.comparison === 'above' ? cw.Shading.ABOVE : cw.Shading.BELOW,
    }));
  return new cw.GraphWidget({
    title: m.kind === 'ratio' ? `${m.name} (${m.percent ? '%' : 'USD'})` : m.name,
    left: lines,
    leftAnnotations: thresholds,
    width: HALF,
    height: 6,
  });
}

/** Firehose freshness and delivery, transform success and duration, throttles, quarantined records. */
function pipelineHealth(inputs: DashboardInputs): cw.IWidget[] {
  const widgets: cw.IWidget[] = [new cw.TextWidget({ markdown: '## Ingest pipeline health', width: WIDTH, height: 1 })];
  const ingest = inputs.ingest;
  if (ingest) {
    widgets.push(
      new cw.GraphWidget({ title: 'Firehose data freshness (s)', left: [ingest.metricDataFreshness()], width: HALF }),
      new cw.GraphWidget({
        title: 'Firehose delivery and transform success',
        left: [ingest.metricDeliverySuccess(), ingest.metricProcessingSuccess()],
        width: HALF,
      }),
      new cw.GraphWidget({
        title: 'Firehose throttles and transform duration',
        left: [ingest.metricThrottledRecords()],
        right: [ingest.metricProcessingDuration()],
        width: HALF,
      }),
      new cw.GraphWidget({
        title: 'Transform Lambda',
        left: [ingest.transform.metricErrors({ period: PERIOD }), ingest.transform.metricThrottles({ period: PERIOD })],
        right: [ingest.transform.metricDuration({ statistic: 'p95', period: PERIOD })],
        width: HALF,
      }),
    );
  }
  widgets.push(
    new cw.GraphWidget({
      title: 'Quarantined records',
      left: [inputs.metrics.metric('RecordsQuarantined', { period: PERIOD })],
      width: HALF,
    }),
  );
  return widgets;
}

/** S3 daily storage metrics of each tier's store. */
function storageWidgets(inputs: DashboardInputs): cw.IWidget[] {
  const storage = inputs.storage;
  if (!storage) return [];
  return [
    new cw.TextWidget({ markdown: '## Storage per tier (S3 daily storage metrics)', width: WIDTH, height: 1 }),
    new cw.GraphWidget({
      title: 'Bytes stored per tier',
      left: MONITORED_STORES.map((s) => storage.metricStoredBytes(s, { label: `${s} bytes` })),
      width: HALF,
    }),
    new cw.GraphWidget({
      title: 'Objects stored per tier',
      left: MONITORED_STORES.map((s) => storage.metricStoredObjects(s, { label: `${s} objects` })),
      width: HALF,
    }),
  ];
}

/** P0 count and last occurrence, adoption, cost per successful task, p95 latency, provider timeouts, top risks. */
export function createReadinessDashboard(scope: Construct, inputs: DashboardInputs): cw.Dashboard {
  const { metrics, policy } = inputs;
  const d = new cw.Dashboard(scope, 'Dashboard-readiness', {
    dashboardName: dashboardName(policy, 'readiness'),
    defaultInterval: Duration.days(7),
  });
  d.addWidgets(
    new cw.TextWidget({
      markdown: `# ${policy.name} (${policy.environment}): readiness\nP0 events, adoption, unit cost, latency and the top risks. Each bucket has its own dashboard (${BUCKETS.map((b) => dashboardName(policy, b)).join(', ')}).`,
      width: WIDTH,
      height: 2,
    }),
  );
  const pageAlarms = inputs.alarms.filter((a) => a.spec.severity === 'page').map((a) => a.alarm);
  d.addWidgets(
    new cw.AlarmStatusWidget({
      title: 'Page alarms',
      alarms: inputs.composite ? [inputs.composite, ...pageAlarms] : pageAlarms,
      width: WIDTH,
      height: 3,
    }),
  );
  d.addWidgets(
    new cw.SingleValueWidget({
      title: 'Last 24 hours',
      metrics: [
        metrics.metric('P0Events', { period: DAY, label: 'P0 events' }),
        metrics.metric('ActiveUsersDaily', { period: DAY, label: 'Active users (day)' }),
        metrics.metric('CostPerSuccessfulTask', { period: DAY, label: 'Cost per successful task (USD)' }),
        metrics.metric('Latency', { dimensions: { Path: 'rag' }, statistic: 'p95', period: DAY, label: 'p95 latency, rag (ms)' }),
        metrics.metric('ProviderTimeoutRate', { period: DAY, label: 'Provider timeouts (%)' }),
      ],
      width: WIDTH,
      height: 4,
    }),
  );
  d.addWidgets(
    new cw.GraphWidget({
      title: 'P0 events by category (a spike is an occurrence)',
      left: fixedValuesOf('P0Events').map((c) =>
        metrics.metric('P0Events', { dimensions: { Category: c }, period: Duration.hours(1), label: c }),
      ),
      width: HALF,
    }),
    new cw.GraphWidget({
      title: 'Top risks: guardrail blocks by category',
      left: fixedValuesOf('GuardrailBlocks').map((c) =>
        metrics.metric('GuardrailBlocks', { dimensions: { Category: c }, period: Duration.hours(1), label: c }),
      ),
      width: HALF,
    }),
    new cw.GraphWidget({
      title: 'Adoption: active users',
      left: [metrics.metric('ActiveUsersDaily', { period: DAY }), metrics.metric('ActiveUsersWeekly', { period: DAY })],
      width: HALF,
    }),
    new cw.GraphWidget({
      title: 'Cost per successful workflow (USD)',
      left: [metrics.metric('CostPerSuccessfulTask', { period: Duration.hours(1) })],
      width: HALF,
    }),
  );
  const lg = inputs.ingest?.transformLogGroup;
  if (lg) {
    d.addWidgets(
      new cw.LogQueryWidget({
        title: 'Last P0 occurrence (from the ingest metrics)',
        logGroupNames: [lg.logGroupName],
        queryLines: ['fields @timestamp, P0Events', 'filter P0Events > 0', 'sort @timestamp desc', 'limit 1'],
        width: WIDTH,
        height: 3,
      }),
    );
  }
  return d;
}
