/**
 * The construct library as a platform team uses it: a stack of its own that imports only
 * TelemetryStorage and KillSwitchParameters from lib/index.ts, with typed props and no
 * policy file (the test builds it from an empty working directory).
 */
import { App, Duration, Errors, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KillSwitchParameters, TelemetryStorage, type KillSwitchParametersProps } from '../lib/index';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** Builds the team's stack from an empty directory, so nothing can read a policy file. */
function teamStack(overrides: Partial<KillSwitchParametersProps> = {}) {
  const cwd = process.cwd();
  const empty = mkdtempSync(join(tmpdir(), 'llmops-library-'));
  process.chdir(empty);
  try {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'TeamStack', { env: ENV });
    const storage = new TelemetryStorage(stack, 'Telemetry', {
      prefix: 'refunds-dev',
      retention: { traces: Duration.days(14), metrics: Duration.days(400), debug: Duration.hours(24), audit: Duration.days(400) },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const alarms = new sns.Topic(stack, 'Alarms');
    const app_role = new iam.Role(stack, 'AppRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const switches = new KillSwitchParameters(stack, 'Switches', {
      prefix: '/refunds/dev/kill-switches',
      switches: [
        { ref: 'read_only_mode', meaning: 'every write tool is disabled', initial: 'off', safeDefault: 'on' },
        { ref: 'tools.issue_refund', meaning: 'the write tool issue_refund may run', initial: 'on' },
      ],
      autoTrips: { 'refunds-dev-refund-errors': [{ ref: 'tools.issue_refund', set: 'off' }] },
      alarmTopic: alarms,
      operatorRole: storage.killSwitchOperatorRole,
      auditLogRetention: logs.RetentionDays.TWO_YEARS,
      ...overrides,
    });
    switches.grantRead(app_role);
    return { stack, storage, switches, app_role, template: Template.fromStack(stack), dir: empty };
  } finally {
    process.chdir(cwd);
  }
}

const built = teamStack();
const { stack, template } = built;
const ref = (c: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(c.node.defaultChild as never) });

describe('TelemetryStorage and KillSwitchParameters in a stack of a platform team (lib/index.ts, no policy)', () => {
  it('reads no file: the working directory stays empty and holds no policy', () => {
    expect(readdirSync(built.dir)).toEqual([]);
  });

  it('keeps each tier as long as the Durations say', () => {
    const rules = Object.values(template.findResources('AWS::S3::Bucket')).flatMap(
      (b) => (b.Properties.LifecycleConfiguration?.Rules ?? []) as { ExpirationInDays?: number }[],
    );
    const days = new Set(rules.map((r) => r.ExpirationInDays).filter((d) => d !== undefined));
    expect([...days].sort((a, b) => a! - b!)).toEqual([1, 14, 400]);
  });

  it('creates one parameter per switch under the prefix, seeded with its initial state and kept when the stack goes', () => {
    expect(template.findResources('AWS::SSM::Parameter')).toEqual({});
    const resources = Object.values(template.findResources('Custom::KillSwitch'));
    expect(resources.map((r) => [r.Properties.RemovalPolicy, r.DeletionPolicy])).toEqual([
      ['Retain', 'Retain'],
      ['Retain', 'Retain'],
    ]);
    const params = resources.map((p) => [p.Properties.Name, JSON.parse(p.Properties.InitialValue).state]);
    expect(params).toEqual([
      ['/refunds/dev/kill-switches/read_only_mode', 'off'],
      ['/refunds/dev/kill-switches/tools/issue_refund', 'on'],
    ]);
  });

  it('subscribes the trip Lambda to the alarm topic for the mapped alarm, with the prefix and map in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SWITCH_PREFIX: '/refunds/dev/kill-switches',
          TRIP_MAP: JSON.stringify({ 'refunds-dev-refund-errors': [{ ref: 'tools.issue_refund', set: 'off' }] }),
        }),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: stack.getLogicalId(stack.node.findChild('Alarms').node.defaultChild as never) },
      FilterPolicy: { AlarmName: ['refunds-dev-refund-errors'], NewStateValue: ['ALARM'] },
      FilterPolicyScope: 'MessageBody',
    });
  });

  it('keeps the audit log as long as asked', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 731 });
  });

  it('lets the operator role of the storage flip the switches, and the application read them only', () => {
    const statementsOf = (role: iam.IRole) =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(JSON.stringify(stack.resolve(role.roleName))))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
        .flatMap((s) => [s.Action].flat());
    expect(statementsOf(built.storage.killSwitchOperatorRole)).toEqual(
      expect.arrayContaining(['ssm:PutParameter', 'ssm:GetParametersByPath']),
    );
    const app = statementsOf(built.app_role);
    expect(app).toEqual(expect.arrayContaining(['ssm:GetParametersByPath', 'ssm:GetParameter']));
    expect(app).not.toContain('ssm:PutParameter');
    expect(ref(built.switches.parameter('tools.issue_refund').resource)).toEqual({
      Ref: expect.stringMatching(/^SwitchestoolsissuerefundKillSwitch/),
    });
  });

  it('without autoTrips there is no trip Lambda and no topic is needed', () => {
    const { template: t, switches, stack: s } = teamStack({ autoTrips: undefined, alarmTopic: undefined });
    expect(switches.tripFunction).toBeUndefined();
    // only the provider of the switches
    expect(Object.keys(t.findResources('AWS::Lambda::Function'))).toEqual([
      s.getLogicalId(switches.seedFunction.node.defaultChild as never),
    ]);
  });

  it.each([
    [{ prefix: 'refunds/dev' }, /prefix "refunds\/dev" is not a parameter path/],
    [{ alarmTopic: undefined }, /autoTrips maps alarms but no alarmTopic is given/],
    [{ autoTrips: { x: [{ ref: 'tools.nope', set: 'off' as const }] } }, /alarm x sets switch "tools\.nope", which is not declared/],
    [
      { switches: [{ ref: 'Read Only', meaning: 'x', initial: 'off' as const }], autoTrips: undefined },
      /switch ref "Read Only" is not allowed; use lowercase words/,
    ],
  ])('a bad prop is a CDK ValidationError naming the construct: %j', (overrides, message) => {
    let error: unknown;
    try {
      teamStack(overrides as Partial<KillSwitchParametersProps>);
    } catch (e) {
      error = e;
    }
    expect(Errors.isValidationError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as { constructPath?: string }).constructPath).toBe('TeamStack/Switches');
  });

  it('imports nothing but lib/index.ts from the project', () => {
    const imports = [...readFileSync(new URL(import.meta.url), 'utf8').matchAll(/from '(\.[^']*)'/g)].map((m) => m[1]);
    expect(imports).toEqual(['../lib/index']);
  });
});
