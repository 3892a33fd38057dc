/**
 * What the bucket metrics need from the policy, as the plain document the transform
 * Lambda receives in `METRICS_CONFIG` (and `llmops transform` builds from `--policy`).
 */
import type { Policy } from '../policy/schema';
import { SliceAdmission, type AggregateOptions } from './aggregate';

export interface BucketMetricsConfig {
  /** The policy's slices: the values with their own series, and the caps. */
  readonly slices: Policy['slices']['dimensions'];
  /** Price per 1k tokens by `provider:model`, for records without cost_usd. */
  readonly pricing: Policy['pricing']['models'];
  readonly rating_scale: Policy['capture']['rating_scale'];
}

export function bucketMetricsConfig(policy: Pick<Policy, 'slices' | 'pricing' | 'capture'>): BucketMetricsConfig {
  return { slices: policy.slices.dimensions, pricing: policy.pricing.models, rating_scale: policy.capture.rating_scale };
}

/** The aggregation options for a config; the slice admission lives as long as the returned object. */
export function aggregateOptionsFrom(config: BucketMetricsConfig): AggregateOptions {
  return {
    policy: {
      slices: { dimensions: config.slices, max_series: Number.MAX_SAFE_INTEGER, max_monthly_usd: Number.MAX_SAFE_INTEGER },
      pricing: { currency: 'USD', models: config.pricing },
      capture: { rating_scale: config.rating_scale } as Policy['capture'],
    },
    admission: new SliceAdmission(config.slices),
  };
}
