import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { acknowledgements } from '../lib/constructs/shared/nag';
import { buildStack, policyFrom, shippedPolicyText, variantPolicy } from './helpers';

const shipped = policyFrom(shippedPolicyText(), 'telemetry-policy.yaml');

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['the shipped policy', shipped],
    [
      'a dev policy with short tiers and cross-account principals',
      variantPolicy((d) => {
        d.environment = 'dev';
        d.retention.traces = '7d';
        d.retention.debug = '24h';
        d.access.trace_analysts.principals = ['210987654321', 'arn:aws:iam::210987654321:role/Analysts'];
      }),
    ],
  ])('reports no unacknowledged finding for %s', (_name, policy) => {
    const { stack } = buildStack(policy);
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('inventory: every acknowledgement, where it sits and why', () => {
    const { stack } = buildStack(shipped);
    /** The reason the storage tiers give for an object-prefix grant. */
    const objects = (what: string, bucket: string, pattern: string) =>
      `Object actions to ${what} name objects by key prefix (${bucket} bucket, ${pattern}), the narrowest resource S3 offers; the bucket policy denies reads outside the tier's readers and writers.`;
    const acks = acknowledgements(stack).map((a) => ({ ...a, path: a.path.replace(`${stack.stackName}/`, '') }));
    expect(acks).toEqual([
      // The storage tiers' readers: object reads by key prefix.
      {
        path: 'Storage/MetricsReader/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageMetricsAC169F9A.Arn>/rollups/*]',
        reason: objects('read the metrics tier', 'metrics', 'rollups/*'),
      },
      // The metrics reader's CloudWatch reads (TelemetryMonitoring.grantRead).
      {
        path: 'Storage/MetricsReader/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CloudWatch GetMetricData, GetMetricStatistics, ListMetrics, DescribeAlarms, DescribeAlarmHistory and ListDashboards support no resource-level permissions; they read metrics, not telemetry records',
      },
      {
        path: 'Storage/TraceAnalyst/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageTraces5D09ED83.Arn>/events/*]',
        reason: objects('read the traces tier', 'traces', 'events/*'),
      },
      {
        path: 'Storage/TraceAnalyst/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageResultsB2A4FB2E.Arn>/analysts/*]',
        reason: objects('read the traces tier', 'results', 'analysts/*'),
      },
      {
        path: 'Storage/IncidentResponder/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageTraces5D09ED83.Arn>/quarantine/*]',
        reason: objects('read the debug tier', 'traces', 'quarantine/*'),
      },
      {
        path: 'Storage/IncidentResponder/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageTraces5D09ED83.Arn>/errors/*]',
        reason: objects('read the debug tier', 'traces', 'errors/*'),
      },
      {
        path: 'Storage/IncidentResponder/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageDebug3ABC3697.Arn>/captures/*]',
        reason: objects('read the debug tier', 'debug', 'captures/*'),
      },
      {
        path: 'Storage/IncidentResponder/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageDebug3ABC3697.Arn>/errors/*]',
        reason: objects('read the debug tier', 'debug', 'errors/*'),
      },
      {
        path: 'Storage/IncidentResponder/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageResultsB2A4FB2E.Arn>/incident/*]',
        reason: objects('read the debug tier', 'results', 'incident/*'),
      },
      {
        path: 'Storage/IncidentResponder/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageAudit9012A908.Arn>/access-logs/*]',
        reason: objects('read the audit tier', 'audit', 'access-logs/*'),
      },
      {
        path: 'Storage/IncidentResponder/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageAudit9012A908.Arn>/cloudtrail/*]',
        reason: objects('read the audit tier', 'audit', 'cloudtrail/*'),
      },
      // The pseudonymization key is not rotated on a schedule.
      {
        path: 'Ingest/HashKey',
        id: 'AwsSolutions-SMG4',
        reason:
          'The pseudonymization key must stay stable: rotating it changes every pseudonym and breaks joins and distinct-user counts across the rotation. Rotate deliberately, with a re-keying plan, not on a schedule.',
      },
      // The Firehose delivery roles write anywhere in their bucket (storage.grantWrite).
      {
        path: 'Ingest/EventsDeliveryRole/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageTraces5D09ED83.Arn>/*]',
        reason: objects('write the traces bucket', 'traces', '*'),
      },
      {
        path: 'Ingest/DebugDeliveryRole/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageDebug3ABC3697.Arn>/*]',
        reason: objects('write the debug bucket', 'debug', '*'),
      },
      // The rollup reads the traces tier (and writes its Athena results under analysts/: the same finding), writes the metrics tier, publishes metrics.
      {
        path: 'Rollups/RollupFnServiceRole/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageTraces5D09ED83.Arn>/events/*]',
        reason: objects('read the traces tier', 'traces', 'events/*'),
      },
      {
        path: 'Rollups/RollupFnServiceRole/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageResultsB2A4FB2E.Arn>/analysts/*]',
        reason: objects('read the traces tier', 'results', 'analysts/*'),
      },
      {
        path: 'Rollups/RollupFnServiceRole/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::<StorageMetricsAC169F9A.Arn>/*]',
        reason: objects('write the metrics bucket', 'metrics', '*'),
      },
      {
        path: 'Rollups/RollupFnServiceRole/DefaultPolicy',
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudwatch:PutMetricData has no resource-level permission; the statement is limited by the condition cloudwatch:namespace = LLMOps/copilot-prod.',
      },
    ]);
    for (const a of acks) expect(a.reason.trim().length, a.id).toBeGreaterThan(40);
  });

  it('each acknowledgement is needed: without it, cdk-nag reports exactly that finding', () => {
    const { stack } = buildStack(shipped, { fresh: true }); // its acknowledgements are stripped below
    const acks = acknowledgements(stack);
    // Strip the acknowledgements (metadata of the policy constructs) and run the pack again.
    for (const a of acks) {
      const node = stack.node.findAll().find((c) => c.node.path === a.path)!.node;
      (node as unknown as { _metadata: unknown[] })._metadata = node.metadata.filter((m) => !(m.data && a.id in stripPrefix(m.data)));
    }
    const found = new AwsSolutionsChecks()
      .validateScope(stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${(r.constructPath ?? '').replace(/\/Resource$/, '')} ${v.ruleName}`))
      .sort();
    expect(found).toEqual(acks.map((a) => `${a.path} ${a.id}`).sort());
  });
});

function stripPrefix(data: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data as Record<string, unknown>).map(([k, v]) => [k.replace(/^annotation::/i, ''), v]));
}
