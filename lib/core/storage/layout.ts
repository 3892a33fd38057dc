/**
 * Where each tier lives: the buckets of the storage construct, and for each bucket the
 * prefixes and the tier that governs them (lifetime and readers). Plain data, shared by
 * the lifecycle rules, the bucket policies and the grants, so the three cannot drift
 * from each other or from the tier table (`lib/policy/tiers.ts`).
 */
import type { TierName } from '../policy/tiers';

/** The tiers that live in S3 (the logs tier is CloudWatch Logs). */
export type StorageTier = Exclude<TierName, 'logs'>;
export const STORAGE_TIERS: readonly StorageTier[] = ['traces', 'metrics', 'debug', 'audit'];

export const BUCKET_NAMES = ['traces', 'metrics', 'debug', 'audit', 'results'] as const;
/** The buckets of the storage construct (also their construct ids, capitalized). */
export type BucketName = (typeof BUCKET_NAMES)[number];

export interface PrefixLayout {
  /** Key prefix, with its trailing slash: `events/`. */
  readonly prefix: string;
  /** The tier whose lifetime and readers apply under the prefix. */
  readonly tier: StorageTier;
}

export interface BucketLayout {
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

export const BUCKET_LAYOUT: Readonly<Record<BucketName, BucketLayout>> = {
  traces: {
    tier: 'traces',
    versioned: false,
    transitions: true,
    prefixes: [
      { prefix: 'events/', tier: 'traces' },
      // Rejected records and Firehose's error output (raw on failure): debug lifetime and readers.
      { prefix: 'quarantine/', tier: 'debug' },
      { prefix: 'errors/', tier: 'debug' },
    ],
  },
  metrics: { tier: 'metrics', versioned: true, transitions: true, prefixes: [{ prefix: 'rollups/', tier: 'metrics' }] },
  // captures/ from the debug stream; errors/ is its Firehose error output (raw captures on failure).
  debug: {
    tier: 'debug',
    versioned: false,
    transitions: false,
    prefixes: [
      { prefix: 'captures/', tier: 'debug' },
      { prefix: 'errors/', tier: 'debug' },
    ],
  },
  audit: {
    tier: 'audit',
    versioned: true,
    transitions: true,
    prefixes: [
      { prefix: 'access-logs/', tier: 'audit' },
      { prefix: 'cloudtrail/', tier: 'audit' },
    ],
  },
  // Athena results keep the lifetime and readers of what they were queried from.
  // No storage-class transition: results are small (S3 does not transition objects under
  // 128 KB) and rarely read twice.
  results: {
    tier: 'traces',
    versioned: false,
    transitions: false,
    prefixes: [
      { prefix: 'analysts/', tier: 'traces' },
      { prefix: 'incident/', tier: 'debug' },
    ],
  },
};

/** Days a noncurrent version is kept (versioned buckets); the tier table states it. */
export { NONCURRENT_VERSION_DAYS } from '../policy/tiers';

/** Days after which S3 aborts an incomplete multipart upload (Firehose and Athena upload in parts). */
export const ABORT_MULTIPART_DAYS = 1;

/** Prefixes of a bucket governed by another tier than the bucket's own. */
export function foreignPrefixes(bucket: BucketName): readonly PrefixLayout[] {
  const layout = BUCKET_LAYOUT[bucket];
  return layout.prefixes.filter((p) => p.tier !== layout.tier);
}

/** Every (bucket, prefix) of a tier. */
export function storesOf(tier: StorageTier): { bucket: BucketName; prefix: string }[] {
  return BUCKET_NAMES.flatMap((bucket) =>
    BUCKET_LAYOUT[bucket].prefixes.filter((p) => p.tier === tier).map((p) => ({ bucket, prefix: p.prefix })),
  );
}
