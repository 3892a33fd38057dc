/**
 * Alert routing: the page and ticket topics, decided once per severity. An alarm
 * declares its severity; `topicFor(severity)` is the only place that maps it to SNS.
 */
import { Duration, RemovalPolicy, aws_iam as iam, aws_kms as kms, aws_sns as sns, aws_sns_subscriptions as subs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { Policy, Severity } from '../../core/policy';

export interface AlertRoutingProps {
  /** The policy's alerting section (subscriptions per severity). */
  readonly alerting: Policy['alerting'];
  /** Resource name prefix, `<name>-<environment>`. */
  readonly prefix: string;
}

export class AlertRouting extends Construct {
  /** P0 events and outages: someone is woken. */
  readonly pageTopic: sns.ITopic;
  /** Degradations: a ticket for the owning team. */
  readonly ticketTopic: sns.ITopic;
  /** The key both topics are encrypted with. */
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AlertRoutingProps) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: `${props.prefix} alert topics`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms and EventBridge publish to encrypted topics only if the key lets them.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlarmAndEventPublishers',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.key = key;
    this.pageTopic = this.topic('Page', 'page', key, props);
    this.ticketTopic = this.topic('Ticket', 'ticket', key, props);
  }

  /** The topic an alarm of this severity notifies. */
  topicFor(severity: Severity): sns.ITopic {
    return severity === 'page' ? this.pageTopic : this.ticketTopic;
  }

  private topic(id: string, severity: Severity, key: kms.IKey, props: AlertRoutingProps): sns.ITopic {
    const topic = new sns.Topic(this, id, {
      displayName: `${props.prefix} ${severity}`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const s of props.alerting[severity].subscriptions) {
      topic.addSubscription(
        s.protocol === 'email'
          ? new subs.EmailSubscription(s.endpoint)
          : new subs.UrlSubscription(s.endpoint, { protocol: sns.SubscriptionProtocol.HTTPS }),
      );
    }
    return topic;
  }
}
