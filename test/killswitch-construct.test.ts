/**
 * KillSwitchParameters: the template, with every expectation derived from the parsed
 * policy (`resolveSwitches`, `tripMap`) of the shipped policy and of variants.
 */
import { App, AspectPriority, Aspects, Stack, Validations } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AlertRouting } from '../lib/constructs/alerting/index';
import { BoundedLogsAspect } from '../lib/constructs/aspects';
import { KillSwitchParameters, SWITCH_VALUE_PATTERN } from '../lib/constructs/kill-switches/index';
import { tripMap } from '../lib/core/killswitch/trip';
import { initialValue, parameterName, serializeSwitchValue, switchPrefix } from '../lib/core/killswitch/values';
import { alarmName, resolveSwitches, type Policy } from '../lib/core/policy';
import { policyFrom, shippedPolicyData, variantPolicy } from './support/policy';

const shipped = policyFrom(shippedPolicyData());

function build(policy: Policy = shipped) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'KillSwitchTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  Aspects.of(stack).add(new BoundedLogsAspect(), { priority: AspectPriority.READONLY });
  const alerts = AlertRouting.fromPolicy(stack, 'Alerting', policy);
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  const ks = KillSwitchParameters.fromPolicy(stack, 'KillSwitches', policy, {
    pageTopic: alerts.pageTopic,
    ticketTopic: alerts.ticketTopic,
    operatorRole: operator,
  });
  let template: Template | undefined;
  return {
    app,
    stack,
    alerts,
    operator,
    ks,
    /** Synthesizes on first use: add constructs (grants) before reading it. */
    get template(): Template {
      return (template ??= Template.fromStack(stack));
    },
  };
}

/** Every IAM statement of a policy resource (inline or managed) in the template, with its resource's logical id. */
function statements(template: Template): { id: string; Action: string | string[]; Resource: unknown }[] {
  const out: { id: string; Action: string | string[]; Resource: unknown }[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, r] of Object.entries(template.findResources(type))) {
      for (const s of r.Properties.PolicyDocument.Statement) out.push({ id, ...s });
    }
  }
  return out;
}
const actionsOf = (s: { Action: string | string[] }) => [s.Action].flat();
const resourcesOf = (s: { Resource: unknown }) => [s.Resource].flat();

const twoTrips = variantPolicy((d) => {
  d.kill_switches.auto_trips = [
    { alarm: 'safety.p0-events', switch: 'read_only_mode', set: 'on' },
    { alarm: 'safety.access-violation-hr', switch: 'connectors.hr_policies', set: 'off' },
    { alarm: 'safety.p0-events', switch: 'debug_capture', set: 'off' },
  ];
});
const noTrips = variantPolicy((d) => {
  d.kill_switches.auto_trips = [];
});

describe('KillSwitchParameters: parameters', () => {
  for (const [label, policy] of [
    ['the shipped policy', shipped],
    [
      'a variant with another tool, connector and intent',
      variantPolicy((d) => {
        d.kill_switches.tools.reset_password = { kind: 'write', initial: 'off' };
        d.kill_switches.connectors.wiki = {};
        d.kill_switches.human_review.payroll = { initial: 'on' };
        d.kill_switches.debug_capture = { initial: 'on' };
      }),
    ],
  ] as const) {
    it(`creates one String parameter per switch with its initial document (${label})`, () => {
      const { template, ks, stack } = build(policy);
      const switches = resolveSwitches(policy);
      template.resourceCountIs('AWS::SSM::Parameter', switches.length);
      for (const sw of switches) {
        const name = parameterName(switchPrefix(policy), sw.ref);
        template.hasResourceProperties('AWS::SSM::Parameter', {
          Name: name,
          Type: 'String',
          Tier: 'Standard',
          AllowedPattern: SWITCH_VALUE_PATTERN,
          Value: serializeSwitchValue(initialValue(sw)),
        });
        expect(JSON.parse(serializeSwitchValue(initialValue(sw)))).toEqual({
          state: sw.initial,
          reason: 'initial state from the telemetry policy',
          changed_by: 'deploy',
        });
        expect(stack.resolve(ks.parameter(sw.ref).parameterArn)).toEqual({
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:123456789012:parameter', { Ref: expect.any(String) }]],
        });
      }
    });
  }

  it('names parameters /<name>/<environment>/kill-switches/<ref with dots as slashes>', () => {
    expect(build().ks.prefix).toBe('/copilot/prod/kill-switches');
    expect(parameterName('/copilot/prod/kill-switches', 'tools.create_ticket')).toBe('/copilot/prod/kill-switches/tools/create_ticket');
  });

  it('the allowed pattern accepts every document the stack writes and refuses a bare state', () => {
    const re = new RegExp(SWITCH_VALUE_PATTERN);
    for (const sw of resolveSwitches(shipped)) expect(re.test(serializeSwitchValue(initialValue(sw)))).toBe(true);
    expect(
      re.test(
        serializeSwitchValue({
          state: 'off',
          reason: 'INC-1',
          changed_by: 'alice',
          changed_at: '2026-11-29T12:00:00.000Z',
          expires_at: '2026-11-29T14:00:00.000Z',
        }),
      ),
    ).toBe(true);
    for (const bad of ['off', 'on', '{"state":"maybe"}', '']) expect(re.test(bad), bad).toBe(false);
  });

  it('fails when asked for a switch the policy does not declare', () => {
    expect(() => build().ks.parameter('tools.nope')).toThrow(
      /^kill switch "tools\.nope" is not declared\. Declared: read_only_mode, debug_capture, tools\.search_kb/,
    );
  });
});

describe('KillSwitchParameters: access', () => {
  it('the read-only managed policy: GetParametersByPath on the prefix path, GetParameter(s) on each parameter, nothing else', () => {
    const { template, ks, stack } = build();
    const arns = resolveSwitches(shipped).map((s) => stack.resolve(ks.parameter(s.ref).parameterArn));
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          { Sid: 'ReadAllSwitchesByPath', Effect: 'Allow', Action: 'ssm:GetParametersByPath', Resource: stack.resolve(ks.prefixArn) },
          { Sid: 'ReadSwitchesByName', Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameters'], Resource: arns },
        ],
      },
    });
    expect(stack.resolve(ks.prefixArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:123456789012:parameter/copilot/prod/kill-switches']],
    });
  });

  it('grantRead gives an application role the same read access and no write', () => {
    const { stack, ks } = build();
    const app = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    ks.grantRead(app);
    const own = statements(Template.fromStack(stack)).filter((s) => s.id.startsWith('AppDefaultPolicy'));
    expect(own.flatMap(actionsOf).sort()).toEqual(['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath']);
  });

  it('the operator role may change every switch; only the operator and the trip Lambda may PutParameter at all', () => {
    const { template, ks, stack } = build();
    const all = resolveSwitches(shipped).map((s) => stack.resolve(ks.parameter(s.ref).parameterArn));
    const puts = statements(template).filter((s) => actionsOf(s).some((a) => a === 'ssm:PutParameter' || a === 'ssm:*' || a === '*'));
    const operatorPolicy = stack.resolve(
      (stack.node.findChild('Operator').node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy).logicalId,
    );
    const tripPolicy = stack.resolve(
      (ks.node.findChild('TripRole').node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy).logicalId,
    );
    expect(puts.map((s) => s.id).sort()).toEqual([operatorPolicy, tripPolicy].sort());
    expect(resourcesOf(puts.find((s) => s.id === operatorPolicy)!)).toEqual(all);
  });
});

describe('KillSwitchParameters: automatic trips', () => {
  for (const [label, policy] of [
    ['the shipped policy', shipped],
    ['a variant with three trips on two alarms', twoTrips],
  ] as const) {
    it(`wires the trip Lambda for exactly the mapped alarms and switches (${label})`, () => {
      const { template, ks, stack, alerts } = build(policy);
      const map = tripMap(policy);
      const alarms = policy.kill_switches.auto_trips.map((t) => alarmName(policy, ...(t.alarm.split('.') as [string, string])));
      const refs = [...new Set(policy.kill_switches.auto_trips.map((t) => t.switch))];
      expect(Object.keys(map).sort()).toEqual([...new Set(alarms)].sort());

      template.resourceCountIs('AWS::Lambda::Function', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { SWITCH_PREFIX: switchPrefix(policy), TRIP_MAP: JSON.stringify(map) } },
        LoggingConfig: { LogGroup: Match.anyValue() },
      });
      template.resourceCountIs(
        'AWS::SNS::Subscription',
        policy.alerting.page.subscriptions.length + policy.alerting.ticket.subscriptions.length + 1,
      );
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'lambda',
        TopicArn: stack.resolve(alerts.pageTopic.topicArn),
        Endpoint: stack.resolve(ks.tripFunction!.functionArn),
        FilterPolicyScope: 'MessageBody',
        FilterPolicy: { AlarmName: Object.keys(map), NewStateValue: ['ALARM'] },
      });

      const tripPolicy = stack.resolve(
        (ks.node.findChild('TripRole').node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy).logicalId,
      );
      const tripStatements = statements(template).filter((s) => s.id === tripPolicy);
      const ssmStatements = tripStatements.filter((s) => actionsOf(s).some((a) => a.startsWith('ssm:')));
      expect(ssmStatements).toHaveLength(1);
      expect(actionsOf(ssmStatements[0]!).sort()).toEqual(['ssm:GetParameters', 'ssm:PutParameter']);
      const key = (x: unknown) => JSON.stringify(x);
      expect(resourcesOf(ssmStatements[0]!).map(key).sort()).toEqual(
        refs.map((r) => key(stack.resolve(ks.parameter(r).parameterArn))).sort(),
      );
      expect(tripStatements.flatMap(actionsOf).sort()).toEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ssm:GetParameters',
        'ssm:PutParameter',
      ]);
      // no AWS managed policy on the trip role
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
        ManagedPolicyArns: Match.absent(),
      });
    });
  }

  it('fails when auto_trips would not fit in the trip Lambda environment', () => {
    const many = variantPolicy((d) => {
      // each trip on an alarm scoped to its connector, as the policy check requires
      const hr = d.buckets.safety.alarms.find((a: { id: string }) => a.id === 'access-violation-hr');
      d.slices.dimensions.source = { max_values: 43, values: [...d.slices.dimensions.source.values] };
      for (let i = 0; i < 40; i++) {
        d.kill_switches.connectors[`connector_number_${i}`] = {};
        d.slices.dimensions.source.values.push(`connector_number_${i}`);
        d.buckets.safety.alarms.push({ ...hr, id: `access-violation-number-${i}`, dimensions: { source: `connector_number_${i}` } });
        d.kill_switches.auto_trips.push({
          alarm: `safety.access-violation-number-${i}`,
          switch: `connectors.connector_number_${i}`,
          set: 'off',
        });
      }
    });
    expect(() => build(many)).toThrow(
      /^kill_switches\.auto_trips maps 41 alarms to 41 switches; as TRIP_MAP that is \d+ characters, over the 3000 this stack allows/,
    );
  });

  it('creates no trip Lambda and no page-topic subscription when the policy maps no alarm', () => {
    const { template, ks } = build(noTrips);
    expect(ks.tripFunction).toBeUndefined();
    expect(ks.tripMap).toEqual({});
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'lambda' }, 0);
    const writers = statements(template)
      .filter((s) => actionsOf(s).includes('ssm:PutParameter'))
      .map((s) => s.id);
    expect(writers).toHaveLength(1);
    expect(writers[0]).toMatch(/^OperatorDefaultPolicy/);
  });
});

describe('KillSwitchParameters: audit', () => {
  it('an EventBridge rule on Parameter Store changes under the prefix targets the audit log group and the ticket topic', () => {
    const { template, ks, stack, alerts } = build();
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['Parameter Store Change'],
        detail: { name: [{ prefix: '/copilot/prod/kill-switches/' }] },
      },
      State: 'ENABLED',
      Targets: [
        {
          Id: 'Target0',
          Arn: {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:123456789012:log-group:', stack.resolve(ks.auditLogGroup.logGroupName)],
            ],
          },
        },
        Match.objectLike({
          Id: 'Target1',
          Arn: stack.resolve(alerts.ticketTopic.topicArn),
          InputTransformer: Match.objectLike({
            InputPathsMap: Match.objectLike({ 'detail-name': '$.detail.name', 'detail-operation': '$.detail.operation' }),
          }),
        }),
      ],
    });
  });

  it('the audit log group keeps the policy audit retention, and EventBridge may write to it through a resource policy', () => {
    const { template, ks, stack } = build();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 400 });
    expect(shipped.retention.audit).toBe('400d');
    const policies = Object.values(template.findResources('AWS::Logs::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    // The document is a Fn::Join of JSON text around the log group ARN: put the ARN back in and parse it.
    const parts = policies[0]!.Properties.PolicyDocument['Fn::Join'][1] as unknown[];
    expect(parts.filter((p) => typeof p !== 'string')).toEqual([stack.resolve(ks.auditLogGroup.logGroupArn)]);
    expect(JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'AUDIT_LOG_GROUP_ARN')).join(''))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EventBridgeWritesSwitchChanges',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: 'AUDIT_LOG_GROUP_ARN',
        },
      ],
    });
  });

  it('fromPolicy rounds retention.audit up to a value CloudWatch Logs allows', () => {
    for (const [days, expected] of [
      [400, 400],
      [401, 545],
      [3653, 3653],
    ] as const) {
      const p = variantPolicy((d) => (d.retention.audit = `${days}d`));
      build(p).template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: expected });
    }
    expect(() => build(variantPolicy((d) => (d.retention.audit = '4000d')))).toThrow(
      /retention\.audit is 4000d; CloudWatch Logs keeps at most 3653d/,
    );
  });

  it('adds no custom-resource Lambda for the log group policy (targets.CloudWatchLogGroup would)', () => {
    const { template } = build(noTrips);
    expect(Object.keys(template.findResources('Custom::CloudwatchLogResourcePolicy'))).toEqual([]);
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });
});

describe('KillSwitchParameters: compliance', () => {
  it('cdk-nag AwsSolutions reports nothing on the construct test stack, with no acknowledgements', () => {
    for (const policy of [shipped, twoTrips, noTrips]) {
      const { stack, ks } = build(policy);
      expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
      const acks = ks.node
        .findAll()
        .flatMap((c) => c.node.metadata)
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
      expect(acks).toEqual([]);
    }
  });

  it('every log group has a retention and the trip Lambda logs to its own group (BoundedLogsAspect)', () => {
    const { stack } = build(twoTrips);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    // control: the same check sees a log group kept forever
    const control = build(noTrips);
    new LogGroup(control.ks, 'Forever', { retention: RetentionDays.INFINITE });
    expect(Annotations.fromStack(control.stack).findError('*', Match.anyValue())).toHaveLength(1);
  });
  // The trip Lambda is really bundled, with the stack's other Lambdas, in aspects.test.ts
  // ('the Lambdas of the stack, really bundled'): one minified ESM file, SDK left to the runtime.
});
