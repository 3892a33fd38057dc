/**
 * The storage tiers: what each holds, which stores it governs, its retention from the
 * policy, its key and its readers. A tier is a lifetime and a set of readers, not a
 * bucket. The S3 rows come from the store layout (`stores.ts`) that the storage construct
 * builds, so the table the spec prints cannot drift from the template.
 */
import { durationDays, durationHours } from '../policy/durations';
import type { Policy } from '../policy/schema';
import { tierExpirationDays } from './lifecycle';
import {
  DATA_KEY,
  DEBUG_KEY,
  LOGS_KEY,
  NONCURRENT_VERSION_DAYS,
  S3_MANAGED_KEY,
  STORE_LAYOUT,
  STORE_NAMES,
  type StorageTier,
} from './stores';

export const TIERS = ['traces', 'metrics', 'debug', 'audit', 'logs'] as const;
export type TierName = (typeof TIERS)[number];

/** Access roles of the `access` section. */
export type RoleName = keyof Policy['access'];

export interface TierStore {
  /** Where the data lives, e.g. `traces bucket, events/` or `Lambda log groups`. */
  readonly store: string;
  /** What it holds. */
  readonly holds: string;
  /** The key of this store when it is not the tier's key (a prefix of another tier's bucket). */
  readonly key?: string;
  /** How long a replaced or expired version stays recoverable, for a versioned bucket. */
  readonly versions?: string;
}

const KEPT_VERSIONS = `versioned: a replaced, deleted or expired object stays recoverable ${NONCURRENT_VERSION_DAYS} more days`;

export interface TierDescription {
  readonly tier: TierName;
  readonly holds: string;
  /** As written in the policy, e.g. `30d`, `72h`. */
  readonly retention: string;
  /** Whole days an S3 lifecycle rule uses (hours rounded up). */
  readonly expirationDays: number;
  readonly key: string;
  /** The role that reads the tier (undefined: no data role, operators only through the console). */
  readonly reader?: RoleName;
  readonly stores: readonly TierStore[];
}

/** The S3 stores of a tier, from the layout: each (store, prefix) the tier governs. */
function s3Stores(tier: StorageTier, tierKey: string): TierStore[] {
  return STORE_NAMES.flatMap((name) => {
    const store = STORE_LAYOUT[name];
    return store.prefixes
      .filter((p) => p.tier === tier)
      .map((p) => {
        const key = p.key ?? store.key;
        return {
          store: `${store.label}, ${p.prefix}`,
          holds: p.holds,
          ...(key === tierKey ? {} : { key }),
          ...(store.versioned ? { versions: KEPT_VERSIONS } : {}),
        };
      });
  });
}

export function describeTiers(policy: Pick<Policy, 'retention'>): TierDescription[] {
  const r = policy.retention;
  const tier = (
    t: StorageTier,
    holds: string,
    retention: string,
    expirationDays: number,
    key: string,
    reader: RoleName,
    other: TierStore[] = [],
  ) => ({
    tier: t,
    holds,
    retention,
    expirationDays,
    key,
    reader,
    stores: [...s3Stores(t, key), ...other],
  });
  return [
    tier(
      'traces',
      'redacted request, span and feedback records',
      r.traces,
      tierExpirationDays('traces', policy),
      DATA_KEY,
      'trace_analysts',
    ),
    tier(
      'metrics',
      'aggregated metrics and daily/weekly rollups',
      r.metrics,
      tierExpirationDays('metrics', policy),
      DATA_KEY,
      'metrics_readers',
      [
        {
          store: 'CloudWatch metrics',
          holds: 'bucket metrics (CloudWatch keeps them 15 months, its own fixed retention)',
          key: 'CloudWatch (AWS-managed)',
        },
      ],
    ),
    tier(
      'debug',
      'redacted debug captures, the ingest quarantine and Firehose error output',
      r.debug,
      tierExpirationDays('debug', policy),
      DEBUG_KEY,
      'incident_responders',
    ),
    tier(
      'audit',
      'S3 access logs, CloudTrail data events of the debug tier, kill-switch flips',
      r.audit,
      tierExpirationDays('audit', policy),
      S3_MANAGED_KEY,
      'incident_responders',
      [
        {
          store: 'kill-switch audit log group',
          holds: 'every kill-switch flip (retention: audit, nearest CloudWatch value at or above)',
          key: LOGS_KEY,
        },
      ],
    ),
    {
      tier: 'logs',
      holds: 'Lambda and Firehose service logs: ids, counts and reasons only, never record content',
      retention: r.logs,
      expirationDays: durationDays(r.logs),
      key: LOGS_KEY,
      stores: [{ store: 'Lambda and Firehose log groups', holds: 'operational logs' }],
    },
  ];
}

/** Hours of the debug retention, for enrolment and capture rules. */
export const debugHours = (policy: Pick<Policy, 'retention'>): number => durationHours(policy.retention.debug);
