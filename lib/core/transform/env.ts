/**
 * Lambda configuration from the environment, validated once per cold start. Errors name
 * the variable, what is wrong and what is allowed; they never echo secret material.
 */
import * as z from 'zod';
import {
  PII_DETECTOR_IDS,
  PII_MODES,
  createRedactor,
  type PiiDetectorId,
  type PiiMode,
  type Redactor,
  type RedactorConfig,
} from '../redaction';
import type { Enrolment } from './transform';

const Detectors = z.partialRecord(z.enum(PII_DETECTOR_IDS as [PiiDetectorId, ...PiiDetectorId[]]), z.enum(PII_MODES));

/** `REDACTION_CONFIG`: the policy's redaction section and declared attributes, as JSON. */
export const RedactionEnv = z.strictObject({
  detectors: Detectors.default({}),
  customPatterns: z
    .array(z.strictObject({ name: z.string().min(1), pattern: z.string().min(1), placeholder: z.string().min(1) }))
    .default([]),
  allowedAttributes: z.array(z.string().min(1)).default([]),
});
export type RedactionEnv = z.infer<typeof RedactionEnv>;

/** `ENROLMENTS`: the policy's debug-capture enrolments, as JSON. */
export const EnrolmentsEnv = z.array(
  z.strictObject({
    cohort: z.string().min(1),
    tenant_id: z.string().optional(),
    user_role: z.string().optional(),
    reason: z.string().min(1),
    expires_at: z.iso.datetime(),
  }),
);

/** A configuration problem: the handler refuses to start rather than pass records through unredacted. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function parseJsonEnv<T>(env: Readonly<Record<string, string | undefined>>, name: string, schema: z.ZodType<T>, fallback?: string): T {
  const raw = env[name] ?? fallback;
  if (raw === undefined) throw new ConfigError(`${name} is not set; it must hold the JSON configuration`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`${name} is invalid: ${problems}`);
  }
  return r.data;
}

/** Reads `REDACTION_CONFIG` (required: an unconfigured redactor must not run silently). */
export function readRedactionEnv(env: Readonly<Record<string, string | undefined>>): RedactionEnv {
  return parseJsonEnv(env, 'REDACTION_CONFIG', RedactionEnv);
}

/** Reads `ENROLMENTS` (absent means no enrolment: every capture is dropped). */
export function readEnrolmentsEnv(env: Readonly<Record<string, string | undefined>>): Enrolment[] {
  return parseJsonEnv(env, 'ENROLMENTS', EnrolmentsEnv, '[]');
}

/** Builds the redactor; keyed tokens use `tokenKey`. Throws ConfigError on a bad custom pattern or mode. */
export function redactorFromEnv(cfg: RedactionEnv, tokenKey: Uint8Array): Redactor {
  const config: RedactorConfig = {
    detectors: cfg.detectors as Partial<Record<PiiDetectorId, PiiMode>>,
    customPatterns: cfg.customPatterns,
    tokenKey,
  };
  try {
    return createRedactor(config);
  } catch (e) {
    throw new ConfigError(`REDACTION_CONFIG: ${(e as Error).message}`);
  }
}

/**
 * `METRICS_CONFIG`: what the bucket metrics need from the policy: the slices (values with
 * their own series, caps), the price table for records without cost, the rating scale.
 */
export const MetricsEnv = z.strictObject({
  slices: z.record(z.string(), z.strictObject({ max_values: z.int().min(1), values: z.array(z.string()).optional() })).default({}),
  pricing: z.record(z.string(), z.strictObject({ input_per_1k: z.number().min(0), output_per_1k: z.number().min(0) })).default({}),
  rating_scale: z.enum(['thumbs', 'five_star']).default('thumbs'),
});
export type MetricsEnv = z.infer<typeof MetricsEnv>;

/** Reads `METRICS_CONFIG` (absent: no slices, no prices, thumbs ratings). */
export function readMetricsEnv(env: Readonly<Record<string, string | undefined>>): MetricsEnv {
  return parseJsonEnv(env, 'METRICS_CONFIG', MetricsEnv, '{}');
}
