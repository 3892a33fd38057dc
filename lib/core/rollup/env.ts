/**
 * The rollup Lambda's environment contract: the construct writes it with
 * `rollupEnvFromPolicy`, the handler reads it with `decodeRollupEnv` on its first invocation.
 */
import * as z from 'zod';
import { defineEnv, json, text, type EnvSource } from '../env/contract';
import { SliceDimensionsJson } from '../env/slices';
import { metricsNamespace } from '../metrics/dictionary';
import type { Policy } from '../policy/schema';
import type { SliceDimensions } from './metrics';

/** Room for SLICES in the Lambda environment (4 KB in all). */
export const MAX_SLICES_ENV_CHARS = 3000;

export const ROLLUP_ENV = defineEnv({
  NAMESPACE: text(z.string().regex(/^[A-Za-z0-9._/#:-]{1,255}$/), 'the CloudWatch namespace of the stack, such as LLMOps/copilot-prod'),
  WORKGROUP: text(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/), 'the name of the analysts Athena workgroup', { deployTime: true }),
  DATABASE: text(z.string().regex(/^[A-Za-z0-9_-]{1,255}$/), 'the name of the Glue database of the telemetry tables', {
    deployTime: true,
  }),
  METRICS_BUCKET: text(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/), 'the name of the metrics-tier S3 bucket', {
    deployTime: true,
  }),
  SLICES: json(SliceDimensionsJson, 'the policy\'s slices.dimensions as JSON, such as {"intent":{"max_values":8}}'),
});

/** What the rollup environment takes from other resources. */
export interface RollupRefs {
  /** The analysts workgroup's name. */
  readonly workGroup: string;
  /** The Glue database's name. */
  readonly database: string;
  /** The metrics tier's bucket name. */
  readonly metricsBucket: string;
}

/** The rollup Lambda's environment; throws when the slices do not fit in it. */
export function rollupEnv(namespace: string, slices: SliceDimensions, refs: RollupRefs): Record<string, string> {
  const env = ROLLUP_ENV.encode({
    NAMESPACE: namespace,
    WORKGROUP: refs.workGroup,
    DATABASE: refs.database,
    METRICS_BUCKET: refs.metricsBucket,
    SLICES: slices,
  });
  if (env.SLICES.length > MAX_SLICES_ENV_CHARS) {
    throw new Error(
      `slices.dimensions is ${env.SLICES.length} characters as JSON; the rollup Lambda's environment allows ${MAX_SLICES_ENV_CHARS} for it (4 KB in all). List fewer slice values.`,
    );
  }
  return env;
}

/** The rollup Lambda's environment of a policy: its namespace and `slices.dimensions`. */
export function rollupEnvFromPolicy(policy: Pick<Policy, 'name' | 'environment' | 'slices'>, refs: RollupRefs): Record<string, string> {
  return rollupEnv(metricsNamespace(policy), policy.slices.dimensions, refs);
}

/** The settings a rollup run takes from its environment. */
export interface RollupSettings {
  readonly namespace: string;
  readonly workGroup: string;
  readonly database: string;
  /** The metrics-tier bucket. */
  readonly bucket: string;
  readonly slices: SliceDimensions;
}

/** Reads the rollup Lambda's environment; throws ConfigError naming every bad variable. */
export function decodeRollupEnv(env: EnvSource): RollupSettings {
  const v = ROLLUP_ENV.decode(env);
  return { namespace: v.NAMESPACE, workGroup: v.WORKGROUP, database: v.DATABASE, bucket: v.METRICS_BUCKET, slices: v.SLICES };
}
