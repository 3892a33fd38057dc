/**
 * S3 lifecycle rules from the policy's `retention` section, as plain data: a pure
 * function that tests can drive with any policy, mapped to `s3.LifecycleRule` by the
 * storage construct.
 *
 * Rules of a bucket overlap (the bucket-wide rule covers the prefixes too). "If two
 * expiration policies overlap, the shorter expiration policy is honored" (S3 User
 * Guide, "How Amazon S3 handles conflicts in lifecycle configurations"). So a prefix
 * rule can only shorten a lifetime, never extend it, and the bucket-wide rule cannot
 * keep errors/ or quarantine/ longer than their own rule; the prefix rule is written
 * with the effective value (`min` of the two) so the template states what S3 will do.
 */
import { durationDays, durationDaysCeil } from '../policy/durations';
import { INFREQUENT_ACCESS_MIN_DAYS, LOG_RETENTION_DAYS } from '../policy/limits';
import type { Policy } from '../policy/schema';
import { ABORT_MULTIPART_DAYS, NONCURRENT_VERSION_DAYS, STORE_LAYOUT, foreignPrefixes, type StoreName, type StorageTier } from './stores';

/** One lifecycle rule as plain data. Absent fields are absent from the rule. */
export interface LifecycleRuleSpec {
  /** Rule id (stable: it does not change with the retention value). */
  readonly id: string;
  /** Key prefix the rule is limited to; absent: the whole bucket. */
  readonly prefix?: string;
  /** Current objects expire this many days after creation. */
  readonly expirationDays?: number;
  /** Current objects move to S3 Standard-IA this many days after creation. */
  readonly infrequentAccessAfterDays?: number;
  /** Incomplete multipart uploads are aborted this many days after they started. */
  readonly abortIncompleteMultipartUploadDays?: number;
  /** Noncurrent versions are deleted this many days after they became noncurrent. */
  readonly noncurrentVersionExpirationDays?: number;
  /** Delete markers with no version left behind them are removed. */
  readonly expiredObjectDeleteMarker?: boolean;
}

/** What the S3 stores keep, by tier (the policy's `retention` without the log groups'). */
export type StoreRetention = Omit<Policy['retention'], 'logs'>;
export type Retention = { readonly retention: StoreRetention };

/** Whole days an S3 rule keeps current objects of a tier (debug hours rounded up). */
export function tierExpirationDays(tier: StorageTier, policy: Retention): number {
  const r = policy.retention;
  switch (tier) {
    case 'debug':
      return durationDaysCeil(r.debug);
    case 'traces':
    case 'metrics':
    case 'audit':
      return durationDays(r[tier]);
  }
}

/** The lifecycle rules of a bucket under a policy. */
export function lifecycleRulesFor(bucket: StoreName, policy: Retention): LifecycleRuleSpec[] {
  const layout = STORE_LAYOUT[bucket];
  const bucketDays = tierExpirationDays(layout.tier, policy);
  const rules: LifecycleRuleSpec[] = [];

  const transition = layout.transitions ? transitionDays(layout.tier, bucketDays, policy) : undefined;
  rules.push({
    id: 'current-objects',
    expirationDays: bucketDays,
    ...(transition !== undefined ? { infrequentAccessAfterDays: transition } : {}),
    abortIncompleteMultipartUploadDays: ABORT_MULTIPART_DAYS,
  });

  for (const p of foreignPrefixes(bucket)) {
    rules.push({
      id: `prefix-${p.prefix.replace(/\/$/, '')}`,
      prefix: p.prefix,
      expirationDays: Math.min(tierExpirationDays(p.tier, policy), bucketDays),
    });
  }

  // A separate rule: S3 refuses ExpiredObjectDeleteMarker next to an expiration in days.
  if (layout.versioned) {
    rules.push({ id: 'noncurrent-versions', noncurrentVersionExpirationDays: NONCURRENT_VERSION_DAYS, expiredObjectDeleteMarker: true });
  }
  return rules;
}

function transitionDays(tier: StorageTier, expirationDays: number, policy: Retention): number | undefined {
  if (tier === 'debug') return undefined;
  const t = policy.retention.transitions[tier];
  if (!t) return undefined;
  const after = durationDays(t.infrequent_access_after);
  // The policy rules already refuse these; S3 would too, later and less clearly.
  if (after < INFREQUENT_ACCESS_MIN_DAYS || expirationDays - after < INFREQUENT_ACCESS_MIN_DAYS) {
    throw new Error(
      `retention.transitions.${tier}.infrequent_access_after is ${t.infrequent_access_after}; Standard-IA needs at least ${INFREQUENT_ACCESS_MIN_DAYS}d and at least ${INFREQUENT_ACCESS_MIN_DAYS}d before the ${tier} expiry (${expirationDays}d)`,
    );
  }
  return after;
}

/** The policy's `retention.logs` in days, checked against the values CloudWatch Logs allows. */
export function logRetentionDays(policy: Pick<Policy, 'retention'>): number {
  const days = durationDays(policy.retention.logs);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
    throw new Error(
      `retention.logs is ${policy.retention.logs}; CloudWatch Logs allows ${LOG_RETENTION_DAYS.map((d) => `${d}d`).join(', ')}`,
    );
  }
  return days;
}

/**
 * The audit retention for a log group: the nearest value CloudWatch Logs allows at or
 * above `retention.audit` (400d stays 400d, 500d becomes 545d).
 */
export function auditLogRetentionDays(policy: { readonly retention: Pick<Policy['retention'], 'audit'> }): number {
  const days = durationDays(policy.retention.audit);
  const allowed = LOG_RETENTION_DAYS.find((d) => d >= days);
  if (allowed === undefined) {
    throw new Error(
      `retention.audit is ${policy.retention.audit}; CloudWatch Logs keeps at most ${LOG_RETENTION_DAYS.at(-1)}d, so an audit log group cannot keep it that long`,
    );
  }
  return allowed;
}
