/**
 * The lifecycle and log retention of the policy (lib/core/storage/lifecycle.ts, plain
 * data) mapped to CDK types.
 */
import { Duration } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Policy } from '../../core/policy/schema';
import { auditLogRetentionDays, logRetentionDays, type LifecycleRuleSpec } from '../../core/storage/lifecycle';

type Retention = Pick<Policy, 'retention'>;

/** Maps a rule spec to the CDK lifecycle rule. */
export function toLifecycleRule(spec: LifecycleRuleSpec): s3.LifecycleRule {
  const days = (n: number | undefined) => (n === undefined ? undefined : Duration.days(n));
  return {
    id: spec.id,
    enabled: true,
    prefix: spec.prefix,
    expiration: days(spec.expirationDays),
    abortIncompleteMultipartUploadAfter: days(spec.abortIncompleteMultipartUploadDays),
    noncurrentVersionExpiration: days(spec.noncurrentVersionExpirationDays),
    expiredObjectDeleteMarker: spec.expiredObjectDeleteMarker,
    transitions:
      spec.infrequentAccessAfterDays === undefined
        ? undefined
        : [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(spec.infrequentAccessAfterDays) }],
  };
}

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
