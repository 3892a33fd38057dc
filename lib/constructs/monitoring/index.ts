/**
 * The five metric buckets in CloudWatch: alarms from the policy routed page vs ticket,
 * one dashboard per bucket, the executive readiness view, and the storage health alarm
 * of the debug tier.
 */
import { resourcePrefix } from '../../core/policy/names';
import { Duration, Validations, aws_cloudwatch as cw, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { type BucketName, metricsNamespace } from '../../core/metrics/dictionary';
import type { IAlarmRouting } from '../alerting/index';
import { createPageComposite, createPolicyAlarms, type MonitoringPolicy, type PolicyAlarm } from './alarms';
import { createBucketDashboards, createReadinessDashboard, type IngestHealth, type StorageHealth } from './dashboards';
import { TelemetryMetrics } from './metrics';

export { alarmDescription, MAX_DESCRIPTION, type MonitoringPolicy, type PolicyAlarm } from './alarms';
export { dashboardName, MONITORED_STORES, type IngestHealth, type StorageHealth } from './dashboards';
export { TelemetryMetrics, type MetricOptions } from './metrics';

/** What `fromPolicy` takes besides the policy. */
export interface TelemetryMonitoringDeps {
  /** Where page and ticket alarms go. */
  readonly routing: IAlarmRouting;
  /**
   * The ingest pipeline (a `TelemetryIngest`), for its health on the reliability view.
   * @default - the view shows only the ingest metrics
   */
  readonly ingest?: IngestHealth;
  /**
   * The storage (a `TelemetryStorage`), for the size of each tier on the cost and reliability views and the
   * debug-tier growth alarm.
   * @default - no storage widgets or alarm
   */
  readonly storage?: StorageHealth;
}

export interface TelemetryMonitoringProps extends TelemetryMonitoringDeps {
  /**
   * The metric buckets with their alarms, owners and runbooks (the policy's `buckets` and `owners`), and the
   * names (`name`, `environment`) of the alarms, the dashboards and the metrics namespace.
   */
  readonly policy: MonitoringPolicy;
}

export class TelemetryMonitoring extends Construct {
  /** The monitoring of a policy's metric buckets. */
  static fromPolicy(scope: Construct, id: string, policy: MonitoringPolicy, deps: TelemetryMonitoringDeps): TelemetryMonitoring {
    return new TelemetryMonitoring(scope, id, { ...deps, policy });
  }

  readonly metrics: TelemetryMetrics;
  /** Every alarm the policy declares. */
  readonly alarms: readonly PolicyAlarm[];
  /** ALARM when any page alarm is (no action of its own). */
  readonly anyPage?: cw.CompositeAlarm;
  readonly dashboards: Readonly<Record<BucketName | 'readiness', cw.Dashboard>>;
  /** Ticket alarm: the debug tier kept growing for longer than its retention. */
  readonly debugGrowthAlarm?: cw.Alarm;

  constructor(scope: Construct, id: string, props: TelemetryMonitoringProps) {
    super(scope, id);
    const { policy } = props;
    this.metrics = new TelemetryMetrics(metricsNamespace(policy));
    const alarmScope = new Construct(this, 'Alarms');
    this.alarms = createPolicyAlarms(alarmScope, policy, this.metrics, props.routing);
    this.anyPage = createPageComposite(alarmScope, policy, this.alarms);

    const storage = props.storage;
    if (storage) {
      // Lifecycle expiry is daily and up to ~2 days late: growth on more consecutive days
      // than the retention allows means expiry (or the enrolment check) is broken.
      const hours = Math.ceil(storage.retention.debug.toSeconds() / 3600);
      const days = Math.ceil(hours / 24) + 2;
      this.debugGrowthAlarm = new cw.Alarm(alarmScope, 'debug-tier-growth', {
        alarmName: `${resourcePrefix(policy)}-storage-debug-tier-growth`,
        alarmDescription: [
          `[TICKET] The debug tier grew every day for ${days} days: it holds more than its ${hours}h retention allows.`,
          'MITIGATE: set kill switch debug_capture off.',
          'CONFIRM: Reliability dashboard, storage per tier; list the debug bucket by LastModified.',
          'DIAGNOSE: check the bucket lifecycle rules and debug_capture.enrolments expiries.',
          'ROLL BACK: redeploy the stack to restore the lifecycle rules.',
        ].join('\n'),
        metric: new cw.MathExpression({
          expression: 'DIFF(size)',
          usingMetrics: { size: storage.metricStoredBytes('debug') },
          period: Duration.days(1),
        }),
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: days,
        datapointsToAlarm: days,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
      props.routing.route(this.debugGrowthAlarm, 'ticket');
    }

    const dashScope = new Construct(this, 'Dashboards');
    const inputs = {
      policy,
      metrics: this.metrics,
      alarms: this.alarms,
      composite: this.anyPage,
      ingest: props.ingest,
      storage: props.storage,
    };
    this.dashboards = { ...createBucketDashboards(dashScope, inputs), readiness: createReadinessDashboard(dashScope, inputs) };
  }

  /** Lets a role read the metrics, the alarms and this stack's dashboards (the metrics readers). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const dashboards = Object.values(this.dashboards).map((d) => d.dashboardArn);
    const grant = iam.Grant.addToPrincipal({
      grantee,
      // These CloudWatch read actions support no resource-level permissions.
      actions: [
        'cloudwatch:GetMetricData',
        'cloudwatch:GetMetricStatistics',
        'cloudwatch:ListMetrics',
        'cloudwatch:DescribeAlarms',
        'cloudwatch:DescribeAlarmHistory',
        'cloudwatch:ListDashboards',
      ],
      resourceArns: ['*'],
    }).combine(iam.Grant.addToPrincipal({ grantee, actions: ['cloudwatch:GetDashboard'], resourceArns: dashboards }));
    const policy = grant.principalStatements.length ? (grantee.grantPrincipal as iam.Role).node.tryFindChild('DefaultPolicy') : undefined;
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CloudWatch GetMetricData, GetMetricStatistics, ListMetrics, DescribeAlarms, DescribeAlarmHistory and ListDashboards support no resource-level permissions; they read metrics, not telemetry records',
      });
    }
    return grant;
  }
}
