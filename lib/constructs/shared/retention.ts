/**
 * The policy's lifetimes as CDK types, for the `fromPolicy` factories: log retention
 * (`retention.logs`, `retention.audit`) and what a deleted stack leaves behind.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Policy } from '../../core/policy/schema';
import { auditLogRetentionDays, logRetentionDays } from '../../core/storage/lifecycle';

type Retention = Pick<Policy, 'retention'>;

/** The policy's `retention.logs` as a CloudWatch Logs retention. */
export function logRetention(policy: Retention): logs.RetentionDays {
  return logRetentionDays(policy) as logs.RetentionDays;
}

/**
 * The audit retention for a log group: the nearest value CloudWatch Logs allows at or
 * above `retention.audit` (400d stays 400d, 500d becomes 545d).
 */
export function auditLogRetention(policy: Retention): logs.RetentionDays {
  return auditLogRetentionDays(policy) as logs.RetentionDays;
}

/** `prod` keeps the data stores and logs when the stack is deleted; every other environment deletes them. */
export function removalPolicyFor(environment: string): RemovalPolicy {
  return environment === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** The log groups of a construct (its Lambda functions' and its own): how long they keep events, their key, and removal. */
export interface TelemetryLogsProps {
  /**
   * How long the construct's log groups keep their events.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the construct's log groups (and the resources it keeps, such as a secret) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The customer-managed key the construct's log groups are encrypted with. Its key policy
   * must let CloudWatch Logs use it (`allowCloudWatchLogs`; `TelemetryStorage.logsKey` does).
   * @default - CloudWatch Logs' own server-side encryption, no customer-managed key
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * A policy's `retention.logs`, and removal by `environment`: what `fromPolicy` passes as
 * `TelemetryLogsProps`, beside the logs key it takes from the storage.
 */
export function logsPropsFromPolicy(
  policy: Pick<Policy, 'environment' | 'retention'>,
): Required<Omit<TelemetryLogsProps, 'encryptionKey'>> {
  return { logRetention: logRetention(policy), removalPolicy: removalPolicyFor(policy.environment) };
}
