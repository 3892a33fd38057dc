/**
 * KillSwitchParameters: the template, with every expectation derived from the parsed
 * policy (`resolveSwitches`, `tripMap`) of the shipped policy and of variants.
 */
import { App, AspectPriority, Aspects, Stack, Tags, Validations, type CfnElement } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AlertRouting } from '../lib/constructs/alerting/index';
import { BoundedLogsAspect } from '../lib/constructs/aspects';
import { acknowledgements } from '../lib/constructs/shared/nag';
import { KILL_SWITCH_RESOURCE_TYPE, KillSwitchParameters, SWITCH_VALUE_PATTERN } from '../lib/constructs/kill-switches/index';
import { tripMap } from '../lib/core/killswitch/trip';
import { initialValue, parameterName, serializeSwitchValue, switchPrefix } from '../lib/core/killswitch/values';
import { alarmName, resolveSwitches, type Policy } from '../lib/core/policy';
import { policyFrom, shippedPolicyData, variantPolicy } from './support/policy';

const shipped = policyFrom(shippedPolicyData());

function build(policy: Policy = shipped, tags: Record<string, string> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'KillSwitchTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  for (const [k, v] of Object.entries(tags)) Tags.of(stack).add(k, v);
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
const dev = variantPolicy((d) => {
  d.environment = 'dev';
});
const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
/** The logical id of a role's DefaultPolicy. */
const policyId = (scope: Construct, roleId: string) =>
  Stack.of(scope).resolve((scope.node.findChild(roleId).node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy).logicalId);
/** Custom::KillSwitch properties by parameter name. */
const switchProperties = (template: Template): Record<string, Record<string, unknown>> =>
  Object.fromEntries(Object.values(template.findResources(KILL_SWITCH_RESOURCE_TYPE)).map((r) => [r.Properties.Name, r.Properties]));

describe('KillSwitchParameters: parameters', () => {
  for (const [label, policy] of [
    ['the shipped policy', shipped],
    [
      'a variant with another tool, connector and intent',
      variantPolicy((d) => {
        d.kill_switches.tools.reset_password = { kind: 'write', initial: 'off' };
        d.sources.wiki = { domain: 'it', allowed_roles: 'all' };
        d.kill_switches.human_review.payroll = { initial: 'on' };
        d.kill_switches.debug_capture = { initial: 'on' };
      }),
    ],
  ] as const) {
    it(`seeds one parameter per switch with its initial document through a Custom::KillSwitch, never an AWS::SSM::Parameter (${label})`, () => {
      const { template, ks, stack } = build(policy);
      const switches = resolveSwitches(policy);
      template.resourceCountIs('AWS::SSM::Parameter', 0);
      template.resourceCountIs(KILL_SWITCH_RESOURCE_TYPE, switches.length);
      for (const sw of switches) {
        const name = parameterName(switchPrefix(policy), sw.ref);
        template.hasResource(KILL_SWITCH_RESOURCE_TYPE, {
          Properties: {
            ServiceToken: stack.resolve(ks.seedFunction.functionArn),
            ServiceTimeout: '600',
            Name: name,
            InitialValue: serializeSwitchValue(initialValue(sw)),
            Description: `Kill switch ${sw.ref}: on means ${sw.meaning}. Safe default ${sw.safeDefault}.`,
            AllowedPattern: SWITCH_VALUE_PATTERN,
            RemovalPolicy: 'Retain',
          },
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
        });
        expect(logicalId(stack, ks.parameter(sw.ref).resource)).toMatch(/KillSwitch[0-9A-F]{8}$/);
        expect(JSON.parse(serializeSwitchValue(initialValue(sw)))).toEqual({
          state: sw.initial,
          reason: 'initial state from the telemetry policy',
          changed_by: 'deploy',
        });
        // Built from the name: grants need no reference to the custom resource.
        expect(stack.resolve(ks.parameter(sw.ref).parameterArn)).toEqual({
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:eu-west-1:123456789012:parameter${name}`]],
        });
        expect(ks.parameter(sw.ref).parameterName).toBe(name);
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

  it("a change of a switch's initial state in the policy changes only its InitialValue: the one change cdk diff shows that a deploy writes", () => {
    const before = switchProperties(build().template);
    const changedKeys = (policy: Policy) => {
      const after = switchProperties(build(policy).template);
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      return Object.entries(after).flatMap(([name, props]) =>
        Object.keys({ ...props, ...before[name] })
          .filter((k) => JSON.stringify(props[k]) !== JSON.stringify(before[name]![k]))
          .map((k) => `${name} ${k}`),
      );
    };
    const name = parameterName(switchPrefix(shipped), 'tools.search_kb');
    expect(changedKeys(variantPolicy((d) => (d.kill_switches.tools.search_kb.initial = 'off')))).toEqual([`${name} InitialValue`]);
    // The description (its safe default) changes, the InitialValue does not: the handler leaves the live value alone.
    expect(changedKeys(variantPolicy((d) => (d.kill_switches.tools.search_kb.safe_default = 'off')))).toEqual([`${name} Description`]);
    expect(JSON.parse(before[name]!.InitialValue as string).state).toBe('on');
  });

  it('destroys the parameters with the stack only where the policy destroys its stores (not prod)', () => {
    const { template } = build(dev);
    for (const r of Object.values(template.findResources(KILL_SWITCH_RESOURCE_TYPE))) {
      expect(r.Properties.RemovalPolicy).toBe('Delete');
      expect(r.DeletionPolicy).toBe('Delete');
    }
  });

  it('gives the parameters the stack tags through the resource properties', () => {
    const { template } = build(shipped, { 'llmops:name': 'copilot', team: 'genai' });
    for (const props of Object.values(switchProperties(template)))
      expect(props.Tags).toEqual([
        { Key: 'llmops:name', Value: 'copilot' },
        { Key: 'team', Value: 'genai' },
      ]);
  });

  it('does not reuse the logical ids of the former AWS::SSM::Parameter resources (CloudFormation refuses a type change in place)', () => {
    const { template } = build();
    const former = new Stack(new App(), 'KillSwitchTest');
    const container = new Construct(new Construct(former, 'KillSwitches'), 'Switches');
    const formerIds = resolveSwitches(shipped).map((sw) =>
      logicalId(
        former,
        new ssm.StringParameter(container, sw.ref, { stringValue: 'x', parameterName: parameterName(switchPrefix(shipped), sw.ref) }),
      ),
    );
    const ids = Object.keys(template.findResources(KILL_SWITCH_RESOURCE_TYPE));
    expect(ids).toHaveLength(formerIds.length);
    expect(ids.filter((id) => formerIds.includes(id))).toEqual([]);
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

  it('the operator role may change every switch; only the operator, the trip Lambda and the seed Lambda may PutParameter at all', () => {
    const { template, ks, stack } = build();
    const all = resolveSwitches(shipped).map((s) => stack.resolve(ks.parameter(s.ref).parameterArn));
    const puts = statements(template).filter((s) => actionsOf(s).some((a) => a === 'ssm:PutParameter' || a === 'ssm:*' || a === '*'));
    const operatorPolicy = policyId(stack, 'Operator');
    expect(puts.map((s) => s.id).sort()).toEqual([operatorPolicy, policyId(ks, 'TripRole'), policyId(ks, 'SeedRole')].sort());
    expect(resourcesOf(puts.find((s) => s.id === operatorPolicy)!)).toEqual(all);
  });

  it('the seed role creates, overwrites and tags the declared switches only, and deletes none in prod', () => {
    const { template, ks, stack } = build();
    const all = resolveSwitches(shipped).map((s) => stack.resolve(ks.parameter(s.ref).parameterArn));
    const seed = statements(template).filter((s) => s.id === policyId(ks, 'SeedRole'));
    expect(seed.map((s) => [actionsOf(s), resourcesOf(s)])).toEqual([
      [['logs:CreateLogStream', 'logs:PutLogEvents'], [stack.resolve((ks.seedFunction as lambda.Function).logGroup.logGroupArn)]],
      [['ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'], all],
    ]);
    expect(statements(template).filter((s) => actionsOf(s).some((a) => a.includes('Delete')))).toEqual([]);
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Seeds the kill-switch parameters under /copilot/prod/kill-switches at deploy (Custom::KillSwitch)',
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('where switches are destroyed (dev), the seed role may also delete parameters under the prefix, and that alone is acknowledged', () => {
    const { template, ks, stack } = build(dev);
    const seed = statements(template).filter((s) => s.id === policyId(ks, 'SeedRole'));
    expect(seed.map((s) => [actionsOf(s), resourcesOf(s)]).at(-1)).toEqual([
      ['ssm:DeleteParameter'],
      [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:123456789012:parameter/copilot/dev/kill-switches/*']] }],
    ]);
    expect(stack.resolve(ks.prefixArn)['Fn::Join'][1].at(-1)).toBe(':ssm:eu-west-1:123456789012:parameter/copilot/dev/kill-switches');
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    expect(acknowledgements(ks).map((a) => [a.path.replace(`${stack.stackName}/`, ''), a.id])).toEqual([
      [
        'KillSwitches/SeedRole/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:eu-west-1:123456789012:parameter/copilot/dev/kill-switches/*]',
      ],
    ]);
    // and it is needed: without it cdk-nag reports that finding
    const bare = build(dev);
    const policy = bare.ks.node.findChild('SeedRole').node.findChild('DefaultPolicy');
    (policy.node as unknown as { _metadata: { type: string }[] })._metadata = policy.node.metadata.filter(
      (m) => m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY,
    );
    expect(new AwsSolutionsChecks().validateScope(bare.stack).violations.map((v) => v.ruleName)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:eu-west-1:123456789012:parameter/copilot/dev/kill-switches/*]',
    ]);
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

      // the trip Lambda and the seed Lambda
      template.resourceCountIs('AWS::Lambda::Function', 2);
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
        d.sources[`connector_number_${i}`] = { domain: 'it', allowed_roles: 'all' };
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
    const { template, ks, stack } = build(noTrips);
    expect(ks.tripFunction).toBeUndefined();
    expect(ks.tripMap).toEqual({});
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toEqual([logicalId(stack, ks.seedFunction)]);
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'lambda' }, 0);
    const writers = statements(template)
      .filter((s) => actionsOf(s).includes('ssm:PutParameter'))
      .map((s) => s.id);
    expect(writers.sort()).toEqual([policyId(stack, 'Operator'), policyId(ks, 'SeedRole')].sort());
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
    const { template, ks, stack } = build(noTrips);
    expect(Object.keys(template.findResources('Custom::CloudwatchLogResourcePolicy'))).toEqual([]);
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toEqual([logicalId(stack, ks.seedFunction)]);
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
