/**
 * The hard limits of the policy, stated once. The rules check them, the schema's
 * descriptions (the editor JSON Schema), the generated spec and the README's limits block
 * all read them from here.
 */

/** Retention values CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Hard limits of each tier, in days (debug in hours). */
export const RETENTION_LIMITS = {
  traces: { min: 1, max: 90, unit: 'd' },
  metrics: { min: 30, max: 730, unit: 'd' },
  debug: { min: 24, max: 72, unit: 'h' },
} as const;

export type LimitedTier = keyof typeof RETENTION_LIMITS;

/** The longest a debug enrolment may be set ahead of now: the debug tier's longest retention. */
export const MAX_ENROLMENT_HOURS = RETENTION_LIMITS.debug.max;

/** S3 Standard-IA: objects must be this old to move, and are billed this many days at least. */
export const INFREQUENT_ACCESS_MIN_DAYS = 30;

/** A tier's allowed range in words: `1d to 90d`. */
export function retentionRange(tier: LimitedTier): string {
  const l = RETENTION_LIMITS[tier];
  return `${l.min}${l.unit} to ${l.max}${l.unit}`;
}

/** Every hard limit in words, one row per policy key: the README's limits block and the spec print this. */
export function limitRows(): { key: string; limit: string }[] {
  return [
    { key: 'retention.traces', limit: retentionRange('traces') },
    { key: 'retention.metrics', limit: retentionRange('metrics') },
    { key: 'retention.debug', limit: retentionRange('debug') },
    { key: 'retention.audit', limit: 'at least the longest other tier' },
    { key: 'retention.logs', limit: `one of CloudWatch Logs' values: ${LOG_RETENTION_DAYS.map((d) => `${d}d`).join(', ')}` },
    {
      key: 'retention.transitions.*.infrequent_access_after',
      limit: `at least ${INFREQUENT_ACCESS_MIN_DAYS}d, and at least ${INFREQUENT_ACCESS_MIN_DAYS}d before the tier expires`,
    },
    { key: 'debug_capture.enrolments[].expires_at', limit: `at most ${MAX_ENROLMENT_HOURS}h ahead` },
  ];
}
