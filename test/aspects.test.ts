import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BoundedLogsAspect, FUNCTION_WITHOUT_LOG_GROUP, LOG_GROUP_WITHOUT_RETENTION } from '../lib/aspects';
import { PROJECT_ROOT, TelemetryFunction } from '../lib/function';
import type { Policy } from '../lib/policy';
import { TelemetryStack } from '../lib/stack';
import { policyFrom, shippedPolicyText, variantPolicy } from './helpers';

const shipped = policyFrom(shippedPolicyText(), 'telemetry-policy.yaml');
const dev14 = variantPolicy((d) => {
  d.environment = 'dev';
  d.retention.logs = '14d';
});

// A handler written at test time, under the project root (esbuild's root) in the
// git-ignored tmp/: TelemetryFunction needs an entry that exists.
mkdirSync(join(PROJECT_ROOT, 'tmp'), { recursive: true });
const dir = mkdtempSync(join(PROJECT_ROOT, 'tmp', 'fn-'));
const ENTRY = join(dir, 'probe.ts');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  ENTRY,
  [
    "import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';",
    "import { createHash } from 'node:crypto';",
    'const client = new SecretsManagerClient({});',
    'export const handler = async (event: { id: string }) => ({',
    "  id: createHash('sha256').update(event.id).digest('hex'),",
    '  command: new GetSecretValueCommand({ SecretId: "x" }).constructor.name,',
    '  region: await client.config.region(),',
    '});',
    '',
  ].join('\n'),
);

/** A telemetry stack plus what `extra` adds, synthesized (the aspect runs at synth). */
function synth(policy: Policy, extra: (stack: TelemetryStack) => void, context: Record<string, unknown> = { 'aws:cdk:bundling-stacks': [] }, outdir?: string) {
  const app = new App({ context, ...(outdir ? { outdir } : {}) });
  const stack = new TelemetryStack(app, 'Probe', { policy, env: { account: '123456789012', region: 'eu-west-1' } });
  extra(stack);
  const template = Template.fromStack(stack);
  return { app, stack, template, errors: Annotations.fromStack(stack).findError('*', Match.anyValue()) };
}

describe('TelemetryFunction', () => {
  it.each([
    ['shipped (prod, logs 30d)', shipped, 30, 'Retain'],
    ['dev, logs 14d', dev14, 14, 'Delete'],
  ] as const)('%s: newest Node.js on arm64, an explicit log group with retention.logs, Powertools defaults', (_n, policy, days, removal) => {
    let fn!: TelemetryFunction;
    const { stack, template, errors } = synth(policy, (st) => {
      fn = new TelemetryFunction(st, 'ProbeFn', { policy, entry: ENTRY, environment: { EXTRA: 'yes' } });
    });
    expect(errors).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      LoggingConfig: { LogGroup: stack.resolve(fn.logGroup.logGroupName) },
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'probe-fn',
          POWERTOOLS_METRICS_NAMESPACE: `LLMOps/${policy.name}-${policy.environment}`,
          EXTRA: 'yes',
        },
      },
    });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: days }, DeletionPolicy: removal });
    expect(stack.resolve(fn.logGroup.logGroupName)).toEqual({ Ref: stack.getLogicalId(fn.logGroup.node.defaultChild as logs.CfnLogGroup) });
  });

  it('the newest runtime aws-cdk-lib offers is the one used', () => {
    const newest = Object.entries(lambda.Runtime)
      .filter(([k]) => /^NODEJS_\d+_X$/.test(k))
      .map(([k]) => Number(/\d+/.exec(k)![0]))
      .sort((a, b) => b - a)[0];
    expect(lambda.Runtime.NODEJS_24_X.name).toBe(`nodejs${newest}.x`);
  });

  it('the caller overrides an environment default; the execution role may only write its own log group', () => {
    let fn!: TelemetryFunction;
    const { stack, template } = synth(shipped, (st) => {
      fn = new TelemetryFunction(st, 'Redact', { policy: shipped, entry: ENTRY, serviceName: 'redact', environment: { POWERTOOLS_METRICS_NAMESPACE: 'Custom' } });
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'redact', POWERTOOLS_METRICS_NAMESPACE: 'Custom' } },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [stack.resolve(fn.role!.roleName)],
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: stack.resolve(fn.logGroup.logGroupArn) }] },
    });
  });

  it('passes cdk-nag AwsSolutions with no acknowledgement', () => {
    const { stack } = synth(shipped, (st) => new TelemetryFunction(st, 'ProbeFn', { policy: shipped, entry: ENTRY }));
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('really bundles: one minified ESM file with the require shim, the AWS SDK left to the runtime', () => {
    const out = mkdtempSync(join(tmpdir(), 'llmops-bundle-'));
    const { app } = synth(shipped, (st) => new TelemetryFunction(st, 'ProbeFn', { policy: shipped, entry: ENTRY }), {}, out);
    app.synth();
    const assets = readdirSync(out).filter((d) => d.startsWith('asset.'));
    const bundles = assets.flatMap((a) => readdirSync(join(out, a)).map((f) => join(out, a, f)));
    expect(bundles.map((b) => b.split('/').pop())).toEqual(['index.mjs']);
    const code = readFileSync(bundles[0]!, 'utf8');
    expect(code.startsWith("import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);")).toBe(true);
    expect(code).toMatch(/from\s*"@aws-sdk\/client-secrets-manager"/);
    expect(code).toMatch(/export\s*\{[^}]*handler/);
    expect(code).not.toContain('\n  ');
  }, 120_000);
});

describe('BoundedLogsAspect', () => {
  it('the stack as built from the policy passes: every log group has a retention, every Lambda an explicit log group', () => {
    const { template, errors } = synth(shipped, (st) => {
      new TelemetryFunction(st, 'One', { policy: shipped, entry: ENTRY });
      new TelemetryFunction(st, 'Two', { policy: shipped, entry: ENTRY });
    });
    expect(errors).toEqual([]);
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    const fns = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(groups).toHaveLength(2);
    expect(fns).toHaveLength(2);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
    for (const f of fns) expect(f.Properties.LoggingConfig.LogGroup).toBeDefined();
  });

  it('fails when a log group keeps its events forever', () => {
    const { errors } = synth(shipped, (st) => new logs.LogGroup(st, 'Forever', { retention: logs.RetentionDays.INFINITE }));
    expect(errors.map((e) => [e.id, e.entry.data])).toEqual([['/Probe/Forever/Resource', LOG_GROUP_WITHOUT_RETENTION]]);
    expect(LOG_GROUP_WITHOUT_RETENTION).toBe(
      'AWS::Logs::LogGroup without RetentionInDays keeps its events forever; set a retention from the policy (retention.logs, or the audit retention for audit log groups).',
    );
  });

  it('fails when a Lambda logs to the implicit log group', () => {
    const { errors } = synth(shipped, (st) =>
      new lambda.Function(st, 'Bare', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') }),
    );
    expect(errors.map((e) => [e.id, e.entry.data])).toEqual([['/Probe/Bare/Resource', FUNCTION_WITHOUT_LOG_GROUP]]);
    expect(FUNCTION_WITHOUT_LOG_GROUP).toBe(
      'AWS::Lambda::Function without an explicit log group (LoggingConfig.LogGroup) logs to a group Lambda creates with no retention; build Lambdas with TelemetryFunction, which creates one with retention.logs.',
    );
  });

  it('fails the synth (the CLI refuses the app) on such an error', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: mkdtempSync(join(tmpdir(), 'llmops-aspect-')) });
    const stack = new TelemetryStack(app, 'Probe', { policy: shipped, env: { account: '123456789012', region: 'eu-west-1' } });
    new logs.LogGroup(stack, 'Forever', { retention: logs.RetentionDays.INFINITE });
    const assembly = app.synth();
    const messages = assembly.getStackByName('Probe').messages.filter((m) => m.level === 'error').map((m) => m.entry.data);
    expect(messages).toEqual([LOG_GROUP_WITHOUT_RETENTION]);
  });

  it('is applied by the stack itself', () => {
    const { stack } = synth(shipped, () => undefined);
    expect(Aspects.of(stack).all.some((a) => a instanceof BoundedLogsAspect)).toBe(true);
  });
});
