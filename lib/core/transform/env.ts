/**
 * The environment contract of the two transform Lambdas (`redact` for the events stream,
 * `debug-capture` for the debug stream), and what a policy says about the transform.
 *
 * The ingest construct writes the environment with `transformEnvFromPolicy`; the handler
 * reads it with `decodeTransformEnv` on its first invocation; `llmops transform` takes the
 * same settings straight from the policy (`transformConfigFromPolicy`).
 *
 * | Variable            | redact | debug-capture | Holds                                          |
 * | ------------------- | ------ | ------------- | ---------------------------------------------- |
 * | REDACTION_CONFIG    | yes    | yes           | detectors, custom patterns, declared attributes |
 * | METRICS_CONFIG      | yes    |               | slices, prices, rating scale, citation intents |
 * | CAPTURE_CONFIG      | yes    |               | sampling rate, user outcome signals kept       |
 * | HASH_KEY_SECRET_ARN | yes    | yes           | the hash key secret (read at run time)         |
 * | ENROLMENTS          |        | yes           | the live debug-capture enrolments              |
 */
import * as z from 'zod';
import type { Enrolment } from '../contract/enrolment';
import { USER_OUTCOME_SIGNALS } from '../contract/schema';
import { ConfigError, defineEnv, envBytes, json, text, type EnvSource } from '../env/contract';
import type { Policy } from '../policy/schema';
import { PII_DETECTOR_IDS, PII_MODES, createRedactor, type PiiDetectorId } from '../redaction';
import { SliceDimensionsJson } from '../env/slices';
import { SliceAdmission, type AggregateOptions } from './aggregate';
import type { StreamKind, TransformContext } from './transform';

/** `REDACTION_CONFIG`: the policy's redaction section and declared attributes. */
export const RedactionConfigJson = z.strictObject({
  detectors: z.partialRecord(z.enum(PII_DETECTOR_IDS as [PiiDetectorId, ...PiiDetectorId[]]), z.enum(PII_MODES)),
  customPatterns: z.array(z.strictObject({ name: z.string().min(1), pattern: z.string().min(1), placeholder: z.string().min(1) })),
  allowedAttributes: z.array(z.string().min(1)),
});
export type RedactionConfig = z.output<typeof RedactionConfigJson>;

/**
 * `METRICS_CONFIG`: what the bucket metrics need: the slices, the price table for records
 * without cost, the rating scale, the intents whose answers must cite a source.
 */
export const MetricsConfigJson = z.strictObject({
  slices: SliceDimensionsJson,
  pricing: z.record(z.string().min(1), z.strictObject({ input_per_1k: z.number().min(0), output_per_1k: z.number().min(0) })),
  rating_scale: z.enum(['thumbs', 'five_star']),
  citation_required_intents: z.array(z.string().min(1)).min(1),
});
export type MetricsConfig = z.output<typeof MetricsConfigJson>;

/** `CAPTURE_CONFIG`: what the events stream stores: the sampling rate and the user outcome signals kept. */
export const CaptureConfigJson = z.strictObject({
  samplingRate: z.number().gt(0).max(1),
  outcomeSignals: z.array(z.enum(USER_OUTCOME_SIGNALS)),
});
export type CaptureConfig = z.output<typeof CaptureConfigJson>;

/** Every record kept, every signal kept: the captures stream, and `llmops transform` without a policy. */
export const KEEP_ALL: CaptureConfig = { samplingRate: 1, outcomeSignals: [...USER_OUTCOME_SIGNALS] };

/** `ENROLMENTS`: the policy's live debug-capture enrolments. */
export const EnrolmentsJson = z.array(
  z.strictObject({
    cohort: z.string().min(1),
    tenant_id: z.string().min(1).optional(),
    user_role: z.string().min(1).optional(),
    reason: z.string().min(1),
    // The policy allows any RFC 3339 time, offsets included.
    expires_at: z.iso.datetime({ offset: true }),
  }),
);

// The enrolment is defined once (lib/core/contract/enrolment.ts): the policy's parsed
// enrolment and the decoded ENROLMENTS must both be exactly that type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const enrolmentIsOneType: [
  Same<Policy['debug_capture']['enrolments'][number], Enrolment>,
  Same<z.output<typeof EnrolmentsJson>[number], Enrolment>,
] = [true, true];
void enrolmentIsOneType;

const REDACTION_CONFIG = json(
  RedactionConfigJson,
  'JSON {"detectors":{<PII detector>:"plain|keyed|off"},"customPatterns":[{"name","pattern","placeholder"}],"allowedAttributes":[...]}',
);
const HASH_KEY_SECRET_ARN = text(
  z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/),
  'the ARN of the hash key secret (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)',
  // A misconfigured variable might hold the key itself: never quoted.
  { deployTime: true, hideValue: true },
);

/** One contract per stream; the order of the variables is the order they appear in the template. */
export const TRANSFORM_ENV = {
  events: defineEnv({
    REDACTION_CONFIG,
    METRICS_CONFIG: json(
      MetricsConfigJson,
      'JSON {"slices":{...},"pricing":{"<provider:model>":{...}},"rating_scale":"thumbs|five_star","citation_required_intents":[...]}',
    ),
    HASH_KEY_SECRET_ARN,
    CAPTURE_CONFIG: json(CaptureConfigJson, 'JSON {"samplingRate":<(0,1]>,"outcomeSignals":[...]}'),
  }),
  captures: defineEnv({
    REDACTION_CONFIG,
    HASH_KEY_SECRET_ARN,
    ENROLMENTS: json(EnrolmentsJson, 'a JSON array of {"cohort","tenant_id"?,"user_role"?,"reason","expires_at"} ([] when none is live)'),
  }),
} as const;

/** What a policy says about the transform: the same settings for the Lambdas and `llmops transform`. */
export interface TransformConfig {
  readonly redaction: RedactionConfig;
  /** The bucket metrics (events stream). */
  readonly metrics: MetricsConfig;
  /** The enrolments (debug stream); none when the policy disables debug capture. */
  readonly enrolments: readonly Enrolment[];
  /** What the events stream stores (sampling, outcome signals). */
  readonly capture: CaptureConfig;
}

export type TransformPolicy = Pick<Policy, 'redaction' | 'capture' | 'debug_capture' | 'slices' | 'pricing'> & {
  readonly buckets: { readonly quality: Pick<Policy['buckets']['quality'], 'citation_required_intents'> };
};

/** The transform settings of a validated policy. */
export function transformConfigFromPolicy(policy: TransformPolicy): TransformConfig {
  return {
    redaction: {
      detectors: { ...policy.redaction.detectors },
      customPatterns: policy.redaction.custom_patterns.map((c) => ({ name: c.name, pattern: c.pattern, placeholder: c.placeholder })),
      allowedAttributes: [...policy.capture.attributes],
    },
    metrics: {
      slices: policy.slices.dimensions,
      pricing: policy.pricing.models,
      rating_scale: policy.capture.rating_scale,
      citation_required_intents: [...policy.buckets.quality.citation_required_intents],
    },
    capture: { samplingRate: policy.capture.sampling_rate, outcomeSignals: [...policy.capture.user_outcome_signals] },
    // Disabled capture means no cohort is enrolled, whatever the list says.
    enrolments: policy.debug_capture.enabled ? policy.debug_capture.enrolments : [],
  };
}

/** What the transform environment takes from other resources. */
export interface TransformRefs {
  /** The ARN of the hash key secret. */
  readonly hashKeySecretArn: string;
}

/** Room for the policy's part of a transform environment (Lambda allows 4 KB in all, with the names and the Powertools variables). */
export const MAX_CONFIG_BYTES = 3500;

const WHAT_MUST_FIT: Readonly<Record<StreamKind, string>> = {
  events: 'redaction.custom_patterns, capture.attributes, slices values and pricing.models',
  captures: 'redaction.custom_patterns, capture.attributes and debug_capture.enrolments',
};

/** The environment of a stream's transform of a policy (`transformEnv` of `transformConfigFromPolicy`). */
export function transformEnvFromPolicy(policy: TransformPolicy, kind: StreamKind, refs: TransformRefs): Record<string, string> {
  return transformEnv(transformConfigFromPolicy(policy), kind, refs);
}

/** The environment of a stream's transform; throws when the configuration does not fit in a Lambda environment. */
export function transformEnv(c: TransformConfig, kind: StreamKind, refs: TransformRefs): Record<string, string> {
  const env: Record<string, string> =
    kind === 'events'
      ? TRANSFORM_ENV.events.encode({
          REDACTION_CONFIG: c.redaction,
          METRICS_CONFIG: c.metrics,
          HASH_KEY_SECRET_ARN: refs.hashKeySecretArn,
          CAPTURE_CONFIG: c.capture,
        })
      : TRANSFORM_ENV.captures.encode({
          REDACTION_CONFIG: c.redaction,
          HASH_KEY_SECRET_ARN: refs.hashKeySecretArn,
          ENROLMENTS: c.enrolments,
        });
  // The secret's ARN is a deploy-time reference: counted in the room left over.
  const bytes = envBytes(
    env,
    Object.keys(env).filter((k) => k !== 'HASH_KEY_SECRET_ARN'),
  );
  if (bytes > MAX_CONFIG_BYTES) {
    throw new Error(
      `the transform configuration is ${bytes} bytes; Lambda environments hold at most 4 KB, so ${WHAT_MUST_FIT[kind]} must fit in ${MAX_CONFIG_BYTES} bytes`,
    );
  }
  return env;
}

/** What a transform handler reads from its environment. */
export interface TransformSettings extends TransformConfig {
  readonly hashKeySecretArn: string;
}

/** A captures transform has no bucket metrics: nothing sliced, priced or rated. */
const NO_METRICS: MetricsConfig = { slices: {}, pricing: {}, rating_scale: 'thumbs', citation_required_intents: ['policy_qna'] };

/** Reads a stream's transform environment; throws ConfigError naming every bad variable. */
export function decodeTransformEnv(kind: StreamKind, env: EnvSource): TransformSettings {
  if (kind === 'events') {
    const v = TRANSFORM_ENV.events.decode(env);
    return {
      redaction: v.REDACTION_CONFIG,
      metrics: v.METRICS_CONFIG,
      enrolments: [],
      capture: v.CAPTURE_CONFIG,
      hashKeySecretArn: v.HASH_KEY_SECRET_ARN,
    };
  }
  const v = TRANSFORM_ENV.captures.decode(env);
  return {
    redaction: v.REDACTION_CONFIG,
    metrics: NO_METRICS,
    enrolments: v.ENROLMENTS,
    capture: KEEP_ALL,
    hashKeySecretArn: v.HASH_KEY_SECRET_ARN,
  };
}

/**
 * The transform context of a redaction config and key: the redactor (keyed tokens use
 * `hashKey`) and the declared attributes. Throws the engine's error on a pattern or mode
 * it refuses; the handler reports it as a ConfigError of REDACTION_CONFIG, the CLI as a usage error.
 */
export function transformContext(redaction: RedactionConfig, hashKey: Uint8Array, now: () => Date): TransformContext {
  const redactor = createRedactor({ detectors: redaction.detectors, customPatterns: redaction.customPatterns, tokenKey: hashKey });
  return { redactor, hashKey, allowedAttributes: new Set(redaction.allowedAttributes), now };
}

/** `transformContext`, with the engine's refusal as a ConfigError of REDACTION_CONFIG. */
export function transformContextFromEnv(redaction: RedactionConfig, hashKey: Uint8Array, now: () => Date): TransformContext {
  try {
    return transformContext(redaction, hashKey, now);
  } catch (e) {
    throw new ConfigError(`REDACTION_CONFIG: ${(e as Error).message}`);
  }
}

/** The transform context's part for what the events stream stores: the sampling rate and the outcome signals kept. */
export function captureContext(capture: CaptureConfig): Pick<TransformContext, 'samplingRate' | 'outcomeSignals'> {
  return { samplingRate: capture.samplingRate, outcomeSignals: new Set(capture.outcomeSignals) };
}

/** The aggregation options for a metrics config; the slice admission lives as long as the returned object. */
export function aggregateOptionsFrom(config: MetricsConfig): AggregateOptions {
  return {
    policy: {
      slices: { dimensions: config.slices, max_series: Number.MAX_SAFE_INTEGER, max_monthly_usd: Number.MAX_SAFE_INTEGER },
      pricing: { currency: 'USD', models: config.pricing },
      capture: { rating_scale: config.rating_scale } as Policy['capture'],
      buckets: { quality: { citation_required_intents: config.citation_required_intents } },
    },
    admission: new SliceAdmission(config.slices),
  };
}
