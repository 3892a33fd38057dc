/**
 * The lifecycle rules of lib/core/storage/lifecycle.ts (plain data) as CDK lifecycle rules.
 */
import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { LifecycleRuleSpec } from '../../core/storage/lifecycle';

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
