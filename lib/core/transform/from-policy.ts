/**
 * What a policy says about redaction, as the engine and the transform take it. Shared by
 * the CLI (`--policy`) and the ingest construct (the Lambdas' environment).
 */
import { bucketMetricsConfig, type BucketMetricsConfig } from './metrics-config';
import type { Policy } from '../policy/schema';
import type { Enrolment } from './transform';
import type { RedactorConfig } from '../redaction/engine';

/** What a policy says about redaction: the engine config (without key), declared attributes, enrolments. */
export interface PolicyRedaction {
  readonly config: Omit<RedactorConfig, 'tokenKey'>;
  readonly allowedAttributes: readonly string[];
  readonly enrolments: readonly Enrolment[];
  /** Slices, prices and rating scale for the bucket metrics (`transform --emf`). */
  readonly metrics?: BucketMetricsConfig;
}

/** Maps a validated policy to the redaction engine's configuration. */
export function redactorConfigFromPolicy(
  policy: Pick<Policy, 'redaction' | 'capture' | 'debug_capture'> & Partial<Pick<Policy, 'slices' | 'pricing'>>,
): PolicyRedaction {
  return {
    config: {
      detectors: { ...policy.redaction.detectors },
      customPatterns: policy.redaction.custom_patterns.map((c) => ({ name: c.name, pattern: c.pattern, placeholder: c.placeholder })),
    },
    allowedAttributes: [...policy.capture.attributes],
    enrolments: policy.debug_capture.enabled ? policy.debug_capture.enrolments : [],
    metrics:
      policy.slices && policy.pricing
        ? bucketMetricsConfig({ slices: policy.slices, pricing: policy.pricing, capture: policy.capture })
        : undefined,
  };
}
