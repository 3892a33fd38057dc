/**
 * TelemetryRollups: the template (function, schedules, least-privilege statements,
 * PutMetricData limited to the namespace, the RollupFailures ticket alarm), cdk-nag on a
 * stack with TelemetryStorage + TelemetryCatalog + AlertRouting + TelemetryRollups, and
 * one real bundle that ships the query files beside the handler.
 */
import { App, AspectPriority, Aspects, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_DIMENSION, SERVICE_OF } from '../lib/core/metrics/dictionary';
import { AlertRouting } from '../lib/constructs/alerting/index';
import { BoundedLogsAspect } from '../lib/constructs/aspects';
import { glueCatalogArn, TelemetryCatalog } from '../lib/constructs/catalog/index';
import { acknowledgements } from '../lib/constructs/shared/nag';
import { DECISION_QUERY_IDS } from '../lib/core/queries';
import { TelemetryRollups } from '../lib/constructs/rollups/index';
import { analystsWorkGroupName, catalogDatabaseName } from '../lib/core/rollup/names';
import { TelemetryStorage } from '../lib/constructs/storage';
import { CDK_CONTEXT, policyFrom, shippedPolicyData, variantPolicy } from './support/policy';

const policy = policyFrom(shippedPolicyData());

function build(p = policy, opts: { bundle?: boolean; outdir?: string } = {}) {
  const app = new App({ context: { ...CDK_CONTEXT, ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) }, outdir: opts.outdir });
  const stack = new Stack(app, 'RollupTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  Aspects.of(stack).add(new BoundedLogsAspect(), { priority: AspectPriority.READONLY });
  const storage = TelemetryStorage.fromPolicy(stack, 'Storage', p);
  const alerting = AlertRouting.fromPolicy(stack, 'Alerting', p);
  const catalog = TelemetryCatalog.fromPolicy(stack, 'Catalog', p, storage);
  const rollups = TelemetryRollups.fromPolicy(stack, 'Rollups', p, { storage, catalog, routing: alerting });
  return { app, stack, storage, catalog, alerting, rollups, template: Template.fromStack(stack) };
}

const built = build();
const { stack, template, rollups, storage, catalog, alerting } = built;
const id = (x: { node: { defaultChild?: unknown } } | unknown) =>
  stack.getLogicalId((x as { node: { defaultChild: never } }).node.defaultChild);
const fnId = stack.getLogicalId(rollups.function.node.defaultChild as never);
const roleId = (stack.resolve(rollups.function.role!.roleArn) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

/** Every statement of the rollup role's policies. */
function roleStatements(): { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((r) => (r.Properties.Roles as unknown[]).some((x) => JSON.stringify(x) === JSON.stringify({ Ref: roleId })))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}
const actionsOf = (s: { Action: string | string[] }) => [s.Action].flat();
const statementWith = (action: string) => roleStatements().filter((s) => actionsOf(s).includes(action));

describe('TelemetryRollups', () => {
  it('creates the rollup function (house construct) with its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          NAMESPACE: 'LLMOps/copilot-prod',
          WORKGROUP: stack.resolve(catalog.analystsWorkGroup.ref),
          DATABASE: stack.resolve(catalog.database.databaseName),
          METRICS_BUCKET: stack.resolve(storage.metricsBucket.bucketName),
          SLICES: JSON.stringify(policy.slices.dimensions),
          POWERTOOLS_SERVICE_NAME: 'rollup',
        }),
      },
    });
  });

  it('names the workgroup and database as the CLI and Lambda derive them', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', { Name: analystsWorkGroupName(policy) });
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: catalogDatabaseName(policy) }) });
  });

  it('runs on two schedules, passing which rollup and the scheduled time', () => {
    const rules = template.findResources('AWS::Events::Rule');
    const byExpr = Object.fromEntries(Object.values(rules).map((r) => [r.Properties.ScheduleExpression, r.Properties.Targets]));
    expect(Object.keys(byExpr).sort()).toEqual(['cron(15 * * * ? *)', 'cron(30 0 * * ? *)']);
    for (const [expr, kind] of [
      ['cron(15 * * * ? *)', 'hourly'],
      ['cron(30 0 * * ? *)', 'daily'],
    ] as const) {
      const [target] = byExpr[expr];
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
      expect(target.InputTransformer).toEqual({ InputPathsMap: { time: '$.time' }, InputTemplate: `{"schedule":"${kind}","time":<time>}` });
      expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 });
    }
    template.resourceCountIs('AWS::Lambda::Permission', 2);
  });

  it('may use the analysts workgroup only, for the four query actions', () => {
    const [s, ...more] = statementWith('athena:StartQueryExecution');
    expect(more).toEqual([]);
    expect(actionsOf(s!).sort()).toEqual([
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'athena:StartQueryExecution',
      'athena:StopQueryExecution',
    ]);
    expect(s!.Resource).toEqual({
      'Fn::Join': ['', ['arn:aws:athena:eu-west-1:123456789012:workgroup/', stack.resolve(catalog.analystsWorkGroup.ref)]],
    });
    expect(
      roleStatements()
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('athena:')),
    ).toHaveLength(4);
  });

  it('reads the catalog, the telemetry database and the events table from Glue, nothing else', () => {
    const [s, ...more] = statementWith('glue:GetTable');
    expect(more).toEqual([]);
    expect(actionsOf(s!).sort()).toEqual(['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable']);
    expect(s!.Resource).toEqual([
      stack.resolve(glueCatalogArn(stack)),
      stack.resolve(catalog.database.databaseArn),
      stack.resolve(catalog.eventsTable.tableArn),
    ]);
  });

  it('reads the traces tier, writes only the analysts results prefix and the metrics tier', () => {
    const results = id(storage.resultsBucket);
    const metrics = id(storage.metricsBucket);
    const traces = id(storage.tracesBucket);
    const objects = (bucketId: string, pattern: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${pattern}`]] });
    const puts = statementWith('s3:PutObject').flatMap((s) => [s.Resource].flat());
    expect(puts).toEqual(expect.arrayContaining([objects(results, 'analysts/*'), objects(metrics, '*')]));
    expect(puts).toHaveLength(2);
    const gets = statementWith('s3:GetObject').flatMap((s) => [s.Resource].flat());
    expect(gets).toEqual(expect.arrayContaining([objects(traces, 'events/*'), objects(results, 'analysts/*')]));
    expect(JSON.stringify(gets)).not.toMatch(/quarantine|errors|incident|captures/);
    expect(JSON.stringify(puts)).not.toMatch(/incident/);
    // No wildcard action on data.
    expect(
      roleStatements()
        .flatMap(actionsOf)
        .filter((a) => a.includes('*') && a !== 'kms:GenerateDataKey*'),
    ).toEqual([]);
  });

  it('is exempt from the read denies of the traces tier and the metrics bucket, not of the debug tier', () => {
    const roleArn = { 'Fn::GetAtt': [roleId, 'Arn'] };
    const denies = Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap((r) =>
      r.Properties.PolicyDocument.Statement.filter(
        (s: { Effect: string }) => s.Effect === 'Deny' && (s as { Sid?: string }).Sid?.startsWith('DenyReads'),
      ),
    );
    const exempt = (sid: string) =>
      denies
        .filter((s: { Sid: string }) => s.Sid === sid)
        .some((s: { Condition: { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } } }) =>
          JSON.stringify(s.Condition.ArnNotEquals['aws:PrincipalArn']).includes(JSON.stringify(roleArn)),
        );
    expect(exempt('DenyReadsOutsideTracesTier')).toBe(true);
    expect(exempt('DenyReadsOutsideMetricsTier')).toBe(true);
    expect(exempt('DenyReadsQuarantineOutsideDebugTier')).toBe(false);
  });

  it('may call PutMetricData only in the stack namespace', () => {
    const [s, ...more] = statementWith('cloudwatch:PutMetricData');
    expect(more).toEqual([]);
    expect(s).toEqual({
      Sid: 'PutMetricDataInStackNamespace',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'LLMOps/copilot-prod' } },
    });
  });

  it('raises a ticket when RollupFailures (or the function) is above 0 in an hour', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'copilot-prod-rollup-failures',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [stack.resolve(alerting.ticketTopic.topicArn)],
      OKActions: [stack.resolve(alerting.ticketTopic.topicArn)],
      Metrics: Match.arrayWith([
        Match.objectLike({ Id: 'expr_1', Expression: 'FILL(failures, 0) + FILL(errors, 0)' }),
        // the total the rollup publishes: its service dimension alone
        {
          Id: 'failures',
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'LLMOps/copilot-prod',
              MetricName: 'RollupFailures',
              Dimensions: [{ Name: SERVICE_DIMENSION, Value: SERVICE_OF.rollup }],
            },
            Period: 3600,
            Stat: 'Sum',
          },
        },
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/Lambda', MetricName: 'Errors' }) }),
        }),
      ]),
    });
    const desc = Object.values(template.findResources('AWS::CloudWatch::Alarm'))[0]?.Properties.AlarmDescription as string;
    expect(desc.startsWith('[TICKET] A scheduled rollup failed')).toBe(true);
    expect(desc.length).toBeLessThanOrEqual(1024);
    for (const k of ['MITIGATE:', 'CONFIRM:', 'DIAGNOSE:', 'ROLL BACK:']) expect(desc).toContain(k);
  });

  it('offers the rollup metrics of the dictionary with the Maximum statistic', () => {
    const m = stack.resolve(rollups.metric('ActiveUsersWeekly').toMetricConfig().metricStat) as {
      metricName: string;
      statistic: string;
      namespace: string;
    };
    expect([m.metricName, m.statistic, m.namespace]).toEqual(['ActiveUsersWeekly', 'Maximum', 'LLMOps/copilot-prod']);
  });

  it('fails at synth when the slices do not fit the Lambda environment', () => {
    const huge = variantPolicy((d) => {
      d.slices.dimensions.intent = { max_values: 1000, values: Array.from({ length: 300 }, (_, i) => `intent_number_${i}`) };
      d.buckets.quality.citation_required_intents = ['intent_number_0'];
      d.slices.max_series = 100_000;
      d.slices.max_monthly_usd = 100_000;
    });
    expect(() => build(huge)).toThrow(
      /^slices\.dimensions is \d+ characters as JSON; the rollup Lambda's environment allows 3000 for it \(4 KB in all\)\. List fewer slice values\.$/,
    );
  });
});

describe('cdk-nag', () => {
  it('reports no violation on a stack with storage, catalog, alerting and rollups', () => {
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('inventories the rollup acknowledgements, each with its reason', () => {
    const acks = acknowledgements(rollups).map((a) => [a.path.replace(/^RollupTest\//, ''), a.id]);
    expect(acks).toEqual(
      expect.arrayContaining([
        ['Rollups/RollupFnServiceRole/DefaultPolicy', 'AwsSolutions-IAM5[Resource::*]'],
        ['Rollups/RollupFnServiceRole/DefaultPolicy', `AwsSolutions-IAM5[Resource::<${id(storage.resultsBucket)}.Arn>/analysts/*]`],
      ]),
    );
    for (const a of acknowledgements(rollups)) expect(a.reason.length).toBeGreaterThan(40);
  });
});

describe('bundling', () => {
  it('really bundles the handler with the decision queries beside it', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'llmops-rollup-cdk-'));
    try {
      const b = build(policy, { bundle: true, outdir });
      b.app.synth();
      const asset = readdirSync(outdir)
        .map((d) => join(outdir, d))
        .find((d) => existsSync(join(d, 'index.mjs')) && existsSync(join(d, 'queries')));
      expect(asset, 'a synthesized asset directory holding index.mjs and queries/').toBeTypeOf('string');
      expect(
        readdirSync(join(asset as string, 'queries'))
          .filter((f) => f.endsWith('.sql'))
          .sort(),
      ).toEqual(DECISION_QUERY_IDS.map((q) => `${q}.sql`).sort());
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
