import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { acknowledgements } from '../lib/nag';
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
    const acks = acknowledgements(stack);
    expect(acks.map((a) => `${a.path.replace(`${stack.stackName}/`, '')} ${a.id}`)).toEqual([
      'Storage/MetricsReader/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageMetricsAC169F9A.Arn>/rollups/*]',
      'Storage/TraceAnalyst/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageTraces5D09ED83.Arn>/events/*]',
      'Storage/TraceAnalyst/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageResultsB2A4FB2E.Arn>/analysts/*]',
      'Storage/IncidentResponder/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageTraces5D09ED83.Arn>/quarantine/*]',
      'Storage/IncidentResponder/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageTraces5D09ED83.Arn>/errors/*]',
      'Storage/IncidentResponder/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageDebug3ABC3697.Arn>/captures/*]',
      'Storage/IncidentResponder/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageResultsB2A4FB2E.Arn>/incident/*]',
      'Storage/IncidentResponder/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageAudit9012A908.Arn>/access-logs/*]',
      'Storage/IncidentResponder/DefaultPolicy AwsSolutions-IAM5[Resource::<StorageAudit9012A908.Arn>/cloudtrail/*]',
    ]);
    for (const a of acks) {
      expect(a.reason.trim().length).toBeGreaterThan(40);
      expect(a.reason).toMatch(/narrowest resource S3 offers; the bucket policy denies reads outside the tier's readers and writers\.$/);
    }
  });

  it('each acknowledgement is needed: without it, cdk-nag reports exactly that finding', () => {
    const { stack } = buildStack(shipped);
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
