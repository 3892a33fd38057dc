/**
 * The five metric buckets in CloudWatch: alarms from the policy routed page vs ticket,
 * one dashboard per bucket, the executive readiness view, and the storage health alarm
 * of the debug tier.
 */
import { Duration, Validations, aws_cloudwatch as cw, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { type BucketName, metricsNamespace } from '../../core/metrics/dictionary';
import type { IAlarmRouting } from '../alerting/index';
import { durationDaysCeil, type Policy } from '../../core/policy';
import { createPageComposite, createPolicyAlarms, type PolicyAlarm } from './alarms';
import {
  bucketSizeMetric,
  createBucketDashboards,
  createReadinessDashboard,
  type PipelineHealthSources,
  type TierBucket,
} from './dashboards';
import { TelemetryMetrics } from './metrics';

export { alarmDescription, MAX_DESCRIPTION, type PolicyAlarm } from './alarms';
export { dashboardName, type PipelineHealthSources, type TierBucket } from './dashboards';
export { TelemetryMetrics, type MetricOptions } from './metrics';

export interface TelemetryMonitoringProps {
  /** The validated policy: buckets, alarms, owners. */
  readonly policy: Policy;
  /** Where page and ticket alarms go. */
  readonly routing: IAlarmRouting;
  /**
   * The ingest pipeline, for its health on the reliability view.
   * @default - the view shows only the ingest metrics
   */
  readonly pipeline?: PipelineHealthSources;
  /**
   * Each tier's bucket, for storage size on the cost and reliability views and the
   * debug-tier growth alarm.
   * @default - no storage widgets or alarm
   */
  readonly tierBuckets?: readonly TierBucket[];
}

export class TelemetryMonitoring extends Construct {
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

    const debug = props.tierBuckets?.find((t) => t.tier === 'debug');
    if (debug) {
      // Lifecycle expiry is daily and up to ~2 days late: growth on more consecutive days
      // than the retention allows means expiry (or the enrolment check) is broken.
      const days = durationDaysCeil(policy.retention.debug) + 2;
      this.debugGrowthAlarm = new cw.Alarm(alarmScope, 'debug-tier-growth', {
        alarmName: `${policy.name}-${policy.environment}-storage-debug-tier-growth`,
        alarmDescription: [
          `[TICKET] The debug tier grew every day for ${days} days: it holds more than its ${policy.retention.debug} retention allows.`,
          'MITIGATE: set kill switch debug_capture off.',
          'CONFIRM: Reliability dashboard, storage per tier; list the debug bucket by LastModified.',
          'DIAGNOSE: check the bucket lifecycle rules and debug_capture.enrolments expiries.',
          'ROLL BACK: redeploy the stack to restore the lifecycle rules.',
        ].join('\n'),
        metric: new cw.MathExpression({
          expression: 'DIFF(size)',
          usingMetrics: { size: bucketSizeMetric(debug.bucket) },
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
      pipeline: props.pipeline,
      tierBuckets: props.tierBuckets,
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
