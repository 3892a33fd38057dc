import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { BUCKETS, findMetric, metricsNamespace } from '../lib/core/metrics/dictionary';
import { AlertRouting } from '../lib/constructs/alerting/index';
import { TelemetryMonitoring, MAX_DESCRIPTION } from '../lib/constructs/monitoring';
import { TelemetryStorage } from '../lib/constructs/storage';
import { alarmName, durationSeconds, type Policy } from '../lib/core/policy';
import { variantPolicy } from './support/policy';

function build(policy: Policy, withStorage = false) {
  const stack = new Stack(new App(), 'T', { env: { account: '123456789012', region: 'eu-west-1' } });
  const routing = AlertRouting.fromPolicy(stack, 'Alerting', policy);
  const storage = withStorage ? TelemetryStorage.fromPolicy(stack, 'Storage', policy) : undefined;
  const monitoring = TelemetryMonitoring.fromPolicy(stack, 'Monitoring', policy, { routing, storage });
  return { stack, routing, storage, monitoring, template: Template.fromStack(stack) };
}

const shipped = variantPolicy(() => {});

/** Checks every alarm of the policy against the template, expectations derived from the policy. */
function expectAlarmsMatch(policy: Policy) {
  const { stack, routing, template } = build(policy);
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  const byName = new Map(Object.values(alarms).map((a) => [a.Properties.AlarmName, a.Properties]));
  let count = 0;
  for (const bucket of BUCKETS) {
    for (const a of policy.buckets[bucket].alarms) {
      count++;
      const name = alarmName(policy, bucket, a.id);
      expect([...byName.keys()], `${bucket}.${a.id}`).toContain(name);
      const props = byName.get(name);
      const topic = stack.resolve(routing.topicFor(a.severity).topicArn);
      expect(props.AlarmActions).toEqual([topic]);
      expect(props.OKActions).toEqual([topic]);
      expect(props.EvaluationPeriods).toBe(a.evaluation_periods);
      expect(props.DatapointsToAlarm).toBe(a.datapoints_to_alarm ?? a.evaluation_periods);
      expect(props.TreatMissingData).toBe(
        { breaching: 'breaching', not_breaching: 'notBreaching', ignore: 'ignore', missing: 'missing' }[a.missing_data],
      );
      expect(props.AlarmDescription).toContain(a.runbook.mitigation.slice(0, 60));
      expect(props.AlarmDescription.length).toBeLessThanOrEqual(MAX_DESCRIPTION);
      const def = findMetric(a.metric)!;
      if (a.anomaly_band !== undefined) {
        expect(props.ComparisonOperator).toBe(a.comparison === 'above' ? 'GreaterThanUpperThreshold' : 'LessThanLowerThreshold');
        const band = (props.Metrics as any[]).find((m) => m.Id === props.ThresholdMetricId);
        expect(band.Expression).toMatch(new RegExp(`^ANOMALY_DETECTION_BAND\\(\\w+, ${a.anomaly_band}\\)$`));
      } else {
        expect(props.Threshold).toBe(a.threshold);
        expect(props.ComparisonOperator).toBe(a.comparison === 'above' ? 'GreaterThanThreshold' : 'LessThanThreshold');
      }
      if (def.kind === 'ratio') {
        const exprs = (props.Metrics as any[]).filter((m) => m.Expression);
        const [n, d] = [def.numerator.toLowerCase(), def.denominator.toLowerCase()];
        expect(exprs.map((m) => m.Expression)).toContain(def.percent ? `IF(${d} > 0, 100 * ${n} / ${d})` : `IF(${d} > 0, ${n} / ${d})`);
        const names = (props.Metrics as any[])
          .filter((m) => m.MetricStat)
          .map((m) => m.MetricStat.Metric.MetricName)
          .sort();
        expect(names).toEqual([def.numerator, def.denominator].sort());
        for (const m of (props.Metrics as any[]).filter((x) => x.MetricStat)) {
          expect(m.MetricStat.Period).toBe(durationSeconds(a.period));
          expect(m.MetricStat.Metric.Namespace).toBe(metricsNamespace(policy));
        }
      } else if (a.anomaly_band === undefined) {
        expect(props.MetricName).toBe(a.metric);
        expect(props.Namespace).toBe(metricsNamespace(policy));
        expect(props.Period).toBe(durationSeconds(a.period));
        const source = def.kind === 'emitted' ? def.source : 'ingest';
        const dims = [{ Name: 'service', Value: source }, ...Object.entries(a.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value }))];
        // CloudFormation gets the dimensions sorted by name
        expect(props.Dimensions).toEqual(dims.sort((x, y) => x.Name.localeCompare(y.Name)));
      }
    }
  }
  expect(Object.keys(alarms)).toHaveLength(count);
  return { stack, routing, template };
}

describe('alarms from the policy', () => {
  it('creates every alarm of the shipped policy, routed by severity, with its runbook', () => {
    expectAlarmsMatch(shipped);
  });

  it('follows a change of threshold, severity, band and period in the policy', () => {
    const changed = variantPolicy((d) => {
      const latency = d.buckets.reliability.alarms[0];
      latency.threshold = 5000;
      latency.severity = 'page';
      latency.period = '1h';
      latency.evaluation_periods = 2;
      d.buckets.quality.alarms[1].anomaly_band = 5;
      d.buckets.cost.alarms.push({
        id: 'cache-hit-rate',
        metric: 'CacheHitRate',
        comparison: 'below',
        threshold: 20,
        severity: 'ticket',
        missing_data: 'ignore',
        runbook: { mitigation: 'm', confirm: 'c', diagnose: 'd', rollback: 'r' },
      });
    });
    const { stack, routing, template } = expectAlarmsMatch(changed);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'copilot-prod-reliability-p95-latency',
      Threshold: 5000,
      Period: 3600,
      EvaluationPeriods: 2,
      AlarmActions: [stack.resolve(routing.pageTopic.topicArn)],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'copilot-prod-cost-cache-hit-rate',
      Threshold: 20,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'ignore',
    });
  });

  it('pages on any P0 event: threshold 0 to the page topic', () => {
    const { stack, routing, template } = build(shipped);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'copilot-prod-safety-p0-events',
      MetricName: 'P0Events',
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [stack.resolve(routing.pageTopic.topicArn)],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'copilot-prod-safety-access-violation-hr',
      MetricName: 'AccessViolations',
      Dimensions: [
        { Name: 'service', Value: 'ingest' },
        { Name: 'source', Value: 'hr_policies' },
      ],
      Threshold: 0,
    });
  });

  it('builds one composite alarm over exactly the page alarms', () => {
    const { template } = build(shipped);
    const composite = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm'));
    expect(composite).toHaveLength(1);
    const rule = JSON.stringify(composite[0]!.Properties.AlarmRule);
    const pageIds = BUCKETS.flatMap((b) => shipped.buckets[b].alarms.filter((a) => a.severity === 'page').map((a) => `${b}-${a.id}`));
    const ticketIds = BUCKETS.flatMap((b) => shipped.buckets[b].alarms.filter((a) => a.severity === 'ticket').map((a) => `${b}-${a.id}`));
    for (const id of pageIds) expect(rule).toContain(id.replace(/-/g, ''));
    for (const id of ticketIds) expect(rule).not.toContain(id.replace(/-/g, ''));
    expect(composite[0]!.Properties.ActionsEnabled).toBe(false);
  });
});

describe('dashboards', () => {
  it('creates one dashboard per bucket and the readiness view, named from the policy', () => {
    const { template } = build(shipped);
    const names = Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map((d) => d.Properties.DashboardName);
    expect(names.sort()).toEqual([...BUCKETS.map((b) => `copilot-prod-${b}`), 'copilot-prod-readiness'].sort());
  });

  it('draws each fixed threshold on its bucket dashboard, from the alarm', () => {
    const { stack, monitoring } = build(shipped);
    for (const bucket of BUCKETS) {
      const body = JSON.stringify(stack.resolve((monitoring.dashboards[bucket].node.defaultChild as any).dashboardBody));
      for (const a of shipped.buckets[bucket].alarms.filter((x) => x.threshold !== undefined)) {
        expect(body).toContain(`{\\"value\\":${a.threshold},\\"label\\":\\"${a.id} (${a.severity})\\"`);
      }
    }
  });

  it('fails the debug tier growth alarm only when the storage is given, over retention + 2 days, on the debug bucket size', () => {
    expect(build(shipped).monitoring.debugGrowthAlarm).toBeUndefined();
    const { template, stack, storage } = build(shipped, true);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'copilot-prod-storage-debug-tier-growth',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Threshold: 0,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'DIFF(size)' }),
        Match.objectLike({
          Id: 'size',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/S3',
              MetricName: 'BucketSizeBytes',
              Dimensions: Match.arrayWith([{ Name: 'BucketName', Value: stack.resolve(storage!.debugBucket.bucketName) }]),
            },
          }),
        }),
      ]),
    });
  });

  it('passes the AwsSolutions checks', () => {
    expect(new AwsSolutionsChecks().validateScope(build(shipped).stack).violations).toEqual([]);
  });
});
