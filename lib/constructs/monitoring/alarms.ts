/**
 * Alarms from the policy: every alarm the policy declares, named
 * `<name>-<environment>-<bucket>-<alarm id>`, with its runbook in the description and
 * its severity routed by an IAlarmRouting (AlertRouting by default).
 */
import { resourcePrefix } from '../../core/policy/names';
import { Duration, aws_cloudwatch as cw } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { BUCKETS, type BucketName } from '../../core/metrics/dictionary';
import type { IAlarmRouting } from '../alerting/index';
import { alarmName, durationSeconds, type AlarmPolicy, type Policy } from '../../core/policy';
import type { TelemetryMetrics } from './metrics';

/** CloudWatch caps alarm descriptions at 1024 characters. */
export const MAX_DESCRIPTION = 1024;

/** The parts of a telemetry policy that monitoring reads: names, metric buckets with their alarms, owners. */
export type MonitoringPolicy = Pick<Policy, 'name' | 'environment' | 'buckets' | 'owners'>;

const MISSING: Record<AlarmPolicy['missing_data'], cw.TreatMissingData> = {
  breaching: cw.TreatMissingData.BREACHING,
  not_breaching: cw.TreatMissingData.NOT_BREACHING,
  ignore: cw.TreatMissingData.IGNORE,
  missing: cw.TreatMissingData.MISSING,
};

export interface PolicyAlarm {
  readonly bucket: BucketName;
  readonly spec: AlarmPolicy;
  readonly alarm: cw.Alarm;
}

/** The alarm description: what fired, who owns it, and the runbook. */
export function alarmDescription(policy: MonitoringPolicy, bucket: BucketName, a: AlarmPolicy): string {
  const owner = policy.owners[policy.buckets[bucket].owner];
  const text = [
    `[${a.severity.toUpperCase()}] ${a.description ?? `${a.metric} alarm of the ${bucket} bucket`}. Owner: ${owner.name} (${owner.contact}).`,
    `MITIGATE: ${a.runbook.mitigation}`,
    `CONFIRM: ${a.runbook.confirm}`,
    `DIAGNOSE: ${a.runbook.diagnose} Dashboard: ${resourcePrefix(policy)}-${bucket}.`,
    `ROLL BACK: ${a.runbook.rollback}`,
  ].join('\n');
  if (text.length <= MAX_DESCRIPTION) return text;
  const more = '... (full runbook: llmops policy explain)';
  return text.slice(0, MAX_DESCRIPTION - more.length) + more;
}

export function createPolicyAlarms(
  scope: Construct,
  policy: MonitoringPolicy,
  metrics: TelemetryMetrics,
  routing: IAlarmRouting,
): PolicyAlarm[] {
  const out: PolicyAlarm[] = [];
  for (const bucket of BUCKETS) {
    for (const a of policy.buckets[bucket].alarms) {
      const metric = metrics.metric(a.metric, {
        dimensions: a.dimensions,
        statistic: a.statistic,
        period: Duration.seconds(durationSeconds(a.period)),
      });
      const common = {
        alarmName: alarmName(policy, bucket, a.id),
        alarmDescription: alarmDescription(policy, bucket, a),
        metric,
        evaluationPeriods: a.evaluation_periods,
        datapointsToAlarm: a.datapoints_to_alarm ?? a.evaluation_periods,
        treatMissingData: MISSING[a.missing_data],
      };
      const alarm =
        a.anomaly_band !== undefined
          ? new cw.AnomalyDetectionAlarm(scope, `${bucket}-${a.id}`, {
              ...common,
              stdDevs: a.anomaly_band,
              comparisonOperator:
                a.comparison === 'above'
                  ? cw.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD
                  : cw.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
            })
          : new cw.Alarm(scope, `${bucket}-${a.id}`, {
              ...common,
              threshold: a.threshold ?? 0,
              comparisonOperator:
                a.comparison === 'above' ? cw.ComparisonOperator.GREATER_THAN_THRESHOLD : cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            });
      routing.route(alarm, a.severity);
      out.push({ bucket, spec: a, alarm });
    }
  }
  return out;
}

/**
 * One composite alarm over every page alarm: the single "is anything paging" status for
 * the executive view. It has no action of its own: the page alarms already page, each
 * with its runbook.
 */
export function createPageComposite(
  scope: Construct,
  policy: MonitoringPolicy,
  alarms: readonly PolicyAlarm[],
): cw.CompositeAlarm | undefined {
  const page = alarms.filter((a) => a.spec.severity === 'page');
  if (page.length === 0) return undefined;
  return new cw.CompositeAlarm(scope, 'AnyPage', {
    compositeAlarmName: `${resourcePrefix(policy)}-any-page`,
    alarmDescription: `Any of the ${page.length} page alarms of ${policy.name} (${policy.environment}) is in ALARM. See each alarm's runbook.`,
    alarmRule: cw.AlarmRule.anyOf(...page.map((a) => cw.AlarmRule.fromAlarm(a.alarm, cw.AlarmState.ALARM))),
    actionsEnabled: false,
  });
}
