import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AlertRouting } from '../lib/constructs/alerting/index';
import { variantPolicy } from './support/policy';

function routing(edit: (d: any) => void = () => {}) {
  const policy = variantPolicy(edit);
  const stack = new Stack(new App(), 'T', { env: { account: '123456789012', region: 'eu-west-1' } });
  const r = AlertRouting.fromPolicy(stack, 'Alerting', policy);
  return { policy, stack, r, template: Template.fromStack(stack) };
}

describe('AlertRouting', () => {
  it('creates two encrypted, TLS-only topics and routes each severity to its own', () => {
    const { stack, r, template } = routing();
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.resourcePropertiesCountIs(
      'AWS::SNS::TopicPolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      },
      2,
    );
    expect(stack.resolve(r.topicFor('page').topicArn)).toEqual(stack.resolve(r.pageTopic.topicArn));
    expect(stack.resolve(r.topicFor('ticket').topicArn)).toEqual(stack.resolve(r.ticketTopic.topicArn));
    expect(stack.resolve(r.pageTopic.topicArn)).not.toEqual(stack.resolve(r.ticketTopic.topicArn));
  });

  it('lets CloudWatch alarms and EventBridge use the topic key', () => {
    routing().template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('subscribes exactly the endpoints the policy lists, per severity', () => {
    const { policy, stack, r, template } = routing((d) => {
      d.alerting.page.subscriptions.push({ protocol: 'https', endpoint: 'https://oncall.example.com/hook' });
    });
    const expected = (['page', 'ticket'] as const).flatMap((sev) =>
      policy.alerting[sev].subscriptions.map((s) => ({
        Protocol: s.protocol,
        Endpoint: s.endpoint,
        TopicArn: stack.resolve(r.topicFor(sev).topicArn),
      })),
    );
    const actual = Object.values(template.findResources('AWS::SNS::Subscription')).map((s) => s.Properties);
    expect(actual).toEqual(expect.arrayContaining(expected.map((e) => expect.objectContaining(e))));
    expect(actual).toHaveLength(expected.length);
  });

  it('passes the AwsSolutions checks', () => {
    const { stack } = routing();
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
