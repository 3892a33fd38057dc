/**
 * The storage tiers: what each holds, which stores it governs, its retention from the
 * policy, its key and its readers. A tier is a lifetime and a set of readers, not a
 * bucket. The storage construct builds these stores and the spec prints this table, so
 * the two cannot drift.
 */
import { durationDays, durationDaysCeil, durationHours } from './durations';
import type { Policy } from './schema';

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

/** Days a version stays recoverable after it was replaced, deleted or expired (versioned buckets only). */
export const NONCURRENT_VERSION_DAYS = 7;

const DATA_KEY = 'data key (customer-managed KMS)';
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

export function describeTiers(policy: Pick<Policy, 'retention'>): TierDescription[] {
  const r = policy.retention;
  return [
    {
      tier: 'traces',
      holds: 'redacted request, span and feedback records',
      retention: r.traces,
      expirationDays: durationDays(r.traces),
      key: DATA_KEY,
      reader: 'trace_analysts',
      stores: [
        { store: 'traces bucket, events/', holds: 'Parquet records partitioned by event_type and dt' },
        { store: 'Athena results bucket, analysts/', holds: 'results of queries over the traces tier' },
      ],
    },
    {
      tier: 'metrics',
      holds: 'aggregated metrics and daily/weekly rollups',
      retention: r.metrics,
      expirationDays: durationDays(r.metrics),
      key: DATA_KEY,
      reader: 'metrics_readers',
      stores: [
        { store: 'metrics bucket, rollups/', holds: 'rollup aggregates partitioned by dt', versions: KEPT_VERSIONS },
        {
          store: 'CloudWatch metrics',
          holds: 'bucket metrics (CloudWatch keeps them 15 months, its own fixed retention)',
          key: 'CloudWatch (AWS-managed)',
        },
      ],
    },
    {
      tier: 'debug',
      holds: 'redacted debug captures, the ingest quarantine and Firehose error output',
      retention: r.debug,
      expirationDays: durationDaysCeil(r.debug),
      key: 'debug key (its own customer-managed KMS key)',
      reader: 'incident_responders',
      stores: [
        { store: 'debug bucket, captures/', holds: 'redacted raw-content captures of enrolled cohorts' },
        { store: 'debug bucket, errors/', holds: "the debug stream's Firehose error output: may hold raw captures" },
        // One Firehose stream delivers to one bucket with one key: these prefixes of the
        // traces and results buckets carry the debug tier's lifetime and readers (lifecycle
        // rule, bucket policy) under the data key.
        { store: 'traces bucket, quarantine/', holds: 'rejected records as redacted stubs (reason, sizes, hash)', key: DATA_KEY },
        {
          store: 'traces bucket, errors/',
          holds: 'Firehose error output: may hold raw records, so debug lifetime and access',
          key: DATA_KEY,
        },
        {
          store: 'Athena results bucket, incident/',
          holds: 'results of queries over the debug tier',
          key: 'debug key (the incident workgroup writes its results with it)',
        },
      ],
    },
    {
      tier: 'audit',
      holds: 'S3 access logs, CloudTrail data events of the debug tier, kill-switch flips',
      retention: r.audit,
      expirationDays: durationDays(r.audit),
      key: 'S3-managed (server access log delivery does not support SSE-KMS)',
      reader: 'incident_responders',
      stores: [
        { store: 'audit bucket, access-logs/', holds: 'S3 server access logs of every bucket', versions: KEPT_VERSIONS },
        {
          store: 'audit bucket, cloudtrail/',
          holds: 'CloudTrail S3 data events (who read or wrote the debug tier)',
          versions: KEPT_VERSIONS,
        },
        {
          store: 'kill-switch audit log group',
          holds: 'every kill-switch flip (retention: audit, nearest CloudWatch value at or above)',
          key: 'CloudWatch Logs default encryption',
        },
      ],
    },
    {
      tier: 'logs',
      holds: 'Lambda and Firehose service logs: ids, counts and reasons only, never record content',
      retention: r.logs,
      expirationDays: durationDays(r.logs),
      key: 'CloudWatch Logs default encryption',
      stores: [{ store: 'Lambda and Firehose log groups', holds: 'operational logs' }],
    },
  ];
}

/** Hours of the debug retention, for enrolment and capture rules. */
export const debugHours = (policy: Pick<Policy, 'retention'>): number => durationHours(policy.retention.debug);
