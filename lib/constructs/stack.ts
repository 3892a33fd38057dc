/**
 * The LLMOps telemetry stack: composes the constructs from the parsed policy. It holds
 * no logic of its own; every resource comes from a construct that takes the policy.
 */
import { resourcePrefix } from '../core/policy/names';
import { AspectPriority, Aspects, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AlertRouting } from './alerting/index';
import { BoundedLogsAspect } from './aspects';
import { TelemetryCatalog } from './catalog/index';
import { TelemetryIngest } from './ingest/index';
import { KillSwitchParameters } from './kill-switches/index';
import { TelemetryMonitoring } from './monitoring';
import { TelemetryRollups } from './rollups/index';
import type { Policy } from '../core/policy';
import { TelemetryStorage } from './storage';

export interface TelemetryStackProps extends StackProps {
  /** The validated telemetry policy. */
  readonly policy: Policy;
}

export class TelemetryStack extends Stack {
  /** The policy this stack was built from. */
  readonly policy: Policy;
  /** The storage tiers: buckets, keys, tier roles, the debug-tier trail. */
  readonly storage: TelemetryStorage;
  /** The page and ticket topics. */
  readonly alerting: AlertRouting;
  /** Glue tables, Athena workgroups, decision queries. */
  readonly catalog: TelemetryCatalog;
  /** The events and debug streams and their transforms. */
  readonly ingest: TelemetryIngest;
  /** Alarms and dashboards of the five buckets. */
  readonly monitoring: TelemetryMonitoring;
  /** SSM kill switches, their trips and audit. */
  readonly killSwitches: KillSwitchParameters;
  /** Scheduled rollups: distinct users, daily cost, new intents, repeat users. */
  readonly rollups: TelemetryRollups;

  constructor(scope: Construct, id: string, props: TelemetryStackProps) {
    super(scope, id, {
      description: `LLMOps telemetry stack for ${props.policy.name} (${props.policy.environment}), built from its telemetry policy`,
      ...props,
    });
    const { policy } = props;
    this.policy = policy;
    Tags.of(this).add('llmops:name', policy.name);
    Tags.of(this).add('llmops:environment', policy.environment);
    Aspects.of(this).add(new BoundedLogsAspect(), { priority: AspectPriority.READONLY });

    this.storage = TelemetryStorage.fromPolicy(this, 'Storage', policy);
    this.alerting = AlertRouting.fromPolicy(this, 'Alerting', policy);
    this.catalog = TelemetryCatalog.fromPolicy(this, 'Catalog', policy, this.storage);
    // The tier roles query their own tier in their own workgroup (the data reads are the storage's grants).
    this.catalog.grantQuery(this.storage.traceAnalystRole, 'analysts', { console: true });
    this.catalog.grantQuery(this.storage.incidentResponderRole, 'incident', { console: true });
    this.ingest = TelemetryIngest.fromPolicy(this, 'Ingest', policy, { storage: this.storage, catalog: this.catalog });
    this.monitoring = TelemetryMonitoring.fromPolicy(this, 'Monitoring', policy, {
      routing: this.alerting,
      ingest: this.ingest,
      storage: this.storage,
    });
    this.monitoring.grantRead(this.storage.metricsReaderRole);
    this.rollups = TelemetryRollups.fromPolicy(this, 'Rollups', policy, {
      storage: this.storage,
      catalog: this.catalog,
      routing: this.alerting,
    });
    this.killSwitches = KillSwitchParameters.fromPolicy(this, 'KillSwitches', policy, {
      pageTopic: this.alerting.pageTopic,
      ticketTopic: this.alerting.ticketTopic,
      operatorRole: this.storage.killSwitchOperatorRole,
      logsKey: this.storage.logsKey,
    });
    // Incident responders read who flipped what (the README's runbooks send them there). The
    // group is under the logs key, but CloudWatch Logs decrypts for its readers: no KMS grant
    // (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_AssociateKmsKey.html).
    this.killSwitches.auditLogGroup.grantRead(this.storage.incidentResponderRole);
  }
}

/** The stack name for a policy: `<name>-<environment>-telemetry`. */
export function stackNameFor(policy: Pick<Policy, 'name' | 'environment'>): string {
  return `${resourcePrefix(policy)}-telemetry`;
}
