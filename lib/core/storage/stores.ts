/**
 * Where each tier lives: the buckets of the storage construct, and for each bucket the
 * prefixes and the tier that governs them (lifetime and readers). Plain data, shared by
 * the lifecycle rules, the bucket policies and the grants, so the three cannot drift
 * from each other or from the tier table (`lib/policy/tiers.ts`).
 */
import type { TierName } from './tiers';

/** The tiers that live in S3 (the logs tier is CloudWatch Logs). */
export type StorageTier = Exclude<TierName, 'logs'>;
export const STORAGE_TIERS: readonly StorageTier[] = ['traces', 'metrics', 'debug', 'audit'];

/** The keys, in the words of the tier table. */
export const DATA_KEY = 'data key (customer-managed KMS)';
export const DEBUG_KEY = 'debug key (its own customer-managed KMS key)';
export const S3_MANAGED_KEY = 'S3-managed (server access log delivery does not support SSE-KMS)';
/** CloudTrail encrypts each log file with it (SSE-KMS), whatever the bucket's default. */
export const AUDIT_KEY = 'audit key (its own customer-managed KMS key; CloudTrail encrypts its log files with it)';
/** Every log group of the stack. */
export const LOGS_KEY = 'logs key (customer-managed KMS; CloudWatch Logs encrypts with it)';

export const STORE_NAMES = ['traces', 'metrics', 'debug', 'audit', 'results'] as const;
/** The buckets of the storage construct (also their construct ids, capitalized). */
export type StoreName = (typeof STORE_NAMES)[number];

export interface PrefixLayout {
  /** Key prefix, with its trailing slash: `events/`. */
  readonly prefix: string;
  /** The tier whose lifetime and readers apply under the prefix. */
  readonly tier: StorageTier;
  /** What it holds, in the words of the tier table. */
  readonly holds: string;
  /** The key its objects are written with, when not the store's own (Athena results: the workgroup's key). */
  readonly key?: string;
}

export interface StoreLayout {
  /** The store in words, as the tier table names it: `traces bucket`. */
  readonly label: string;
  /** The key its objects are encrypted with, in words. */
  readonly key: string;
  /** The tier of the bucket as a whole: its bucket-wide lifecycle rule and the readers of any key outside a prefix of another tier. */
  readonly tier: StorageTier;
  /** The prefixes writers use. A prefix of another tier gets that tier's lifecycle rule and readers. */
  readonly prefixes: readonly PrefixLayout[];
  /**
   * Versioning, where it serves: the metrics tier holds rollups that cannot be recomputed
   * once the traces they came from have expired, and the audit tier holds evidence; both
   * must survive an accidental overwrite or delete. The other buckets hold data whose
   * point is to disappear at its retention, or query results that can be re-run, so
   * versioning would only keep it longer.
   */
  readonly versioned: boolean;
  /** Whether the tier's `retention.transitions` entry applies to this bucket. */
  readonly transitions: boolean;
}

export const STORE_LAYOUT: Readonly<Record<StoreName, StoreLayout>> = {
  traces: {
    label: 'traces bucket',
    key: DATA_KEY,
    tier: 'traces',
    versioned: false,
    transitions: true,
    prefixes: [
      { prefix: 'events/', tier: 'traces', holds: 'Parquet records partitioned by event_type and dt' },
      // One Firehose stream delivers to one bucket with one key: rejected records and
      // Firehose's error output (raw on failure) are prefixes of the traces bucket that carry
      // the debug tier's lifetime and readers (lifecycle rule, bucket policy) under the data key.
      { prefix: 'quarantine/', tier: 'debug', holds: 'rejected records as redacted stubs (reason, sizes, hash)' },
      { prefix: 'errors/', tier: 'debug', holds: 'Firehose error output: may hold raw records, so debug lifetime and access' },
    ],
  },
  metrics: {
    label: 'metrics bucket',
    key: DATA_KEY,
    tier: 'metrics',
    versioned: true,
    transitions: true,
    prefixes: [{ prefix: 'rollups/', tier: 'metrics', holds: 'rollup aggregates partitioned by dt' }],
  },
  // captures/ from the debug stream; errors/ is its Firehose error output (raw captures on failure).
  debug: {
    label: 'debug bucket',
    key: DEBUG_KEY,
    tier: 'debug',
    versioned: false,
    transitions: false,
    prefixes: [
      { prefix: 'captures/', tier: 'debug', holds: 'redacted raw-content captures of enrolled cohorts' },
      { prefix: 'errors/', tier: 'debug', holds: "the debug stream's Firehose error output: may hold raw captures" },
    ],
  },
  audit: {
    label: 'audit bucket',
    key: S3_MANAGED_KEY,
    tier: 'audit',
    versioned: true,
    transitions: true,
    prefixes: [
      { prefix: 'access-logs/', tier: 'audit', holds: 'S3 server access logs of every bucket' },
      { prefix: 'cloudtrail/', tier: 'audit', holds: 'CloudTrail S3 data events (who read or wrote the debug tier)', key: AUDIT_KEY },
    ],
  },
  // Athena results keep the lifetime and readers of what they were queried from.
  // No storage-class transition: results are small (S3 does not transition objects under
  // 128 KB) and rarely read twice.
  results: {
    label: 'Athena results bucket',
    key: DATA_KEY,
    tier: 'traces',
    versioned: false,
    transitions: false,
    prefixes: [
      { prefix: 'analysts/', tier: 'traces', holds: 'results of queries over the traces tier' },
      {
        prefix: 'incident/',
        tier: 'debug',
        holds: 'results of queries over the debug tier',
        key: 'debug key (the incident workgroup writes its results with it)',
      },
    ],
  },
};

/** Days a version stays recoverable after it was replaced, deleted or expired (versioned buckets only). */
export const NONCURRENT_VERSION_DAYS = 7;

/** Days after which S3 aborts an incomplete multipart upload (Firehose and Athena upload in parts). */
export const ABORT_MULTIPART_DAYS = 1;

/** Prefixes of a bucket governed by another tier than the bucket's own. */
export function foreignPrefixes(bucket: StoreName): readonly PrefixLayout[] {
  const layout = STORE_LAYOUT[bucket];
  return layout.prefixes.filter((p) => p.tier !== layout.tier);
}

/** Every (store, prefix) of a tier, in the order of STORE_NAMES. */
export function storesOf(tier: StorageTier): { bucket: StoreName; prefix: PrefixLayout }[] {
  return STORE_NAMES.flatMap((bucket) =>
    STORE_LAYOUT[bucket].prefixes.filter((p) => p.tier === tier).map((prefix) => ({ bucket, prefix })),
  );
}
