/** Construct example: a team's own stack with two of the constructs, typed props and no policy file. */
import { App, Duration, RemovalPolicy, Stack, aws_iam as iam, aws_sns as sns } from 'aws-cdk-lib';
import { KillSwitchParameters, TelemetryStorage } from '../lib/index';

export function teamStack(app: App): Stack {
  const stack = new Stack(app, 'RefundsTelemetry');
  const storage = new TelemetryStorage(stack, 'Telemetry', {
    prefix: 'refunds-dev',
    retention: { traces: Duration.days(14), metrics: Duration.days(400), debug: Duration.hours(24), audit: Duration.days(400) },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const switches = new KillSwitchParameters(stack, 'Switches', {
    prefix: '/refunds/dev/kill-switches',
    switches: [
      { ref: 'read_only_mode', meaning: 'every write tool is disabled', initial: 'off', safeDefault: 'on' },
      { ref: 'tools.issue_refund', meaning: 'the write tool issue_refund may run', initial: 'on', safeDefault: 'off' },
    ],
    // An alarm of yours named refunds-dev-refund-errors, notifying this topic, turns the tool off.
    autoTrips: { 'refunds-dev-refund-errors': [{ ref: 'tools.issue_refund', set: 'off' }] },
    alarmTopic: new sns.Topic(stack, 'Alarms'),
    operatorRole: storage.killSwitchOperatorRole,
    encryptionKey: storage.logsKey, // the switch Lambdas' and the audit log groups
  });
  const service = new iam.Role(stack, 'RefundsService', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  switches.grantRead(service);
  storage.grantWrite('traces', service);
  return stack;
}
