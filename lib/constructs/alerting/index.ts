/**
 * Alert routing: what an alarm does when it changes state, decided once per severity.
 * An alarm declares its severity (`page` or `ticket`); an `IAlarmRouting` strategy attaches
 * the actions (the idea of cdk-monitoring-constructs' action strategies), so paging
 * through a Lambda, an OpsItem or a chat webhook needs no edit to the constructs that
 * create alarms. `AlertRouting`, the default, notifies an SNS topic per severity.
 */
import { resourcePrefix } from '../../core/policy/names';
import {
  Duration,
  RemovalPolicy,
  aws_cloudwatch as cw,
  aws_cloudwatch_actions as actions,
  aws_iam as iam,
  aws_kms as kms,
  aws_sns as sns,
  aws_sns_subscriptions as subs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { TelemetryKey } from '../shared/keys';
import type { Policy, Severity } from '../../core/policy';

/** Where alarms go, by severity. */
export interface IAlarmRouting {
  /** Attaches the actions of `severity` to `alarm` (on ALARM, and on OK so a page or ticket can close). */
  route(alarm: cw.AlarmBase, severity: Severity): void;
}

/** Routes with the given alarm actions per severity (e.g. `actions.LambdaAction`, `actions.SsmAction`). */
export class AlarmActionRouting implements IAlarmRouting {
  constructor(private readonly actionsBySeverity: Readonly<Record<Severity, readonly cw.IAlarmAction[]>>) {}

  route(alarm: cw.AlarmBase, severity: Severity): void {
    for (const action of this.actionsBySeverity[severity]) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}

export interface AlertRoutingProps {
  /** Prefix of the topics' display names and the key's description, e.g. `copilot-prod`. */
  readonly prefix: string;
  /**
   * Who is notified of page alarms (P0 events, outages).
   * @default - no subscription (subscribe later with `pageTopic.addSubscription`)
   */
  readonly pageSubscriptions?: sns.ITopicSubscription[];
  /**
   * Who is notified of ticket alarms (degradations).
   * @default - no subscription
   */
  readonly ticketSubscriptions?: sns.ITopicSubscription[];
  /**
   * A key of your own for both topics. Its key policy must let `cloudwatch.amazonaws.com`
   * and `events.amazonaws.com` use it (kms:Decrypt, kms:GenerateDataKey*).
   * @default - a new customer-managed key with rotation that allows them
   */
  readonly existingKey?: kms.IKey;
}

/** The subscriptions of a policy's `alerting` section for one severity. */
export function subscriptionsOf(alerting: Policy['alerting'], severity: Severity): sns.ITopicSubscription[] {
  return alerting[severity].subscriptions.map((s) =>
    s.protocol === 'email'
      ? new subs.EmailSubscription(s.endpoint)
      : new subs.UrlSubscription(s.endpoint, { protocol: sns.SubscriptionProtocol.HTTPS }),
  );
}

/** The default routing: an encrypted SNS topic per severity; alarms notify it on ALARM and OK. */
export class AlertRouting extends Construct implements IAlarmRouting {
  /** The routing a policy declares (`alerting`), named `<name>-<environment>`. */
  static fromPolicy(scope: Construct, id: string, policy: Pick<Policy, 'name' | 'environment' | 'alerting'>): AlertRouting {
    return new AlertRouting(scope, id, {
      prefix: resourcePrefix(policy),
      pageSubscriptions: subscriptionsOf(policy.alerting, 'page'),
      ticketSubscriptions: subscriptionsOf(policy.alerting, 'ticket'),
    });
  }

  /** P0 events and outages: someone is woken. */
  readonly pageTopic: sns.ITopic;
  /** Degradations: a ticket for the owning team. */
  readonly ticketTopic: sns.ITopic;
  /** The key both topics are encrypted with. */
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AlertRoutingProps) {
    super(scope, id);
    let key = props.existingKey;
    if (!key) {
      const own = new TelemetryKey(this, 'Key', {
        description: `${props.prefix} alert topics`,
        pendingWindow: Duration.days(7),
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // CloudWatch alarms and EventBridge publish to encrypted topics only if the key lets them.
      own.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowAlarmAndEventPublishers',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      key = own;
    }
    this.key = key;
    this.pageTopic = this.topic('Page', 'page', key, props.prefix, props.pageSubscriptions ?? []);
    this.ticketTopic = this.topic('Ticket', 'ticket', key, props.prefix, props.ticketSubscriptions ?? []);
  }

  /** The topic an alarm of this severity notifies. */
  topicFor(severity: Severity): sns.ITopic {
    return severity === 'page' ? this.pageTopic : this.ticketTopic;
  }

  route(alarm: cw.AlarmBase, severity: Severity): void {
    new AlarmActionRouting({ page: [new actions.SnsAction(this.pageTopic)], ticket: [new actions.SnsAction(this.ticketTopic)] }).route(
      alarm,
      severity,
    );
  }

  private topic(id: string, severity: Severity, key: kms.IKey, prefix: string, subscriptions: sns.ITopicSubscription[]): sns.ITopic {
    const topic = new sns.Topic(this, id, {
      displayName: `${prefix} ${severity}`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const s of subscriptions) topic.addSubscription(s);
    return topic;
  }
}
