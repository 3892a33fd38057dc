/**
 * Alarm routing is a strategy: the monitoring construct asks it what to attach per
 * severity, so paging through a Lambda and ticketing through OpsItems needs no edit to the
 * monitoring code.
 */
import { App, Stack, aws_cloudwatch_actions as actions, aws_lambda as lambda } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AlarmActionRouting } from '../lib/constructs/alerting';
import { TelemetryMonitoring } from '../lib/constructs/monitoring';
import { BUCKETS } from '../lib/core/metrics/dictionary';
import { alarmName } from '../lib/core/policy';
import { CDK_CONTEXT, policyFrom, shippedPolicyText } from './support/policy';

describe('a custom alarm routing', () => {
  const policy = policyFrom(shippedPolicyText(), 'telemetry-policy.yaml');
  const stack = new Stack(new App({ context: CDK_CONTEXT }), 'T', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pager = new lambda.Function(stack, 'Pager', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  const routing = new AlarmActionRouting({
    page: [new actions.LambdaAction(pager)],
    ticket: [new actions.SsmAction(actions.OpsItemSeverity.MEDIUM, actions.OpsItemCategory.PERFORMANCE)],
  });
  TelemetryMonitoring.fromPolicy(stack, 'Monitoring', policy, { routing });
  const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
  const byName = new Map(alarms.map((a) => [a.Properties.AlarmName as string, a.Properties]));
  const declared = BUCKETS.flatMap((b) =>
    policy.buckets[b].alarms.map((a) => ({ name: alarmName(policy, b, a.id), severity: a.severity })),
  );

  it('pages through the Lambda and tickets through OpsItems, on ALARM and on OK, with no SNS topic', () => {
    expect(declared.filter((a) => a.severity === 'page').length).toBeGreaterThan(0);
    expect(declared.filter((a) => a.severity === 'ticket').length).toBeGreaterThan(0);
    for (const a of declared) {
      const props = byName.get(a.name);
      expect(props, a.name).toBeDefined();
      const text = JSON.stringify([props.AlarmActions, props.OKActions]);
      if (a.severity === 'page') {
        expect(text, a.name).toContain('Pager');
        expect(text, a.name).not.toContain('opsitem');
      } else {
        expect(text, a.name).toContain('opsitem:3#CATEGORY=Performance');
        expect(text, a.name).not.toContain('Pager');
      }
      expect(props.OKActions, a.name).toHaveLength(1);
    }
    expect(Template.fromStack(stack).findResources('AWS::SNS::Topic')).toEqual({});
  });
});
