/**
 * Policy helpers for tests, free of aws-cdk-lib: load the shipped policy or a variant of
 * it, and the cdk.json feature flags. `test/helpers.ts` re-exports these beside
 * `buildStack`; a test that builds no stack imports them from here, so it neither pays
 * for nor depends on the CDK layer.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { parsePolicy, type Policy } from '../../lib/core/policy';

export const SHIPPED_POLICY_FILE = 'telemetry-policy.yaml';
/** The minimal dev policy of the fixtures. */
export const MINIMAL_POLICY_FILE = 'test/fixtures/minimal-policy.yaml';
/** A fixed "now" for policies with enrolments, so tests do not age. */
export const TEST_NOW = new Date('2026-11-29T12:00:00Z');

export function shippedPolicyText(): string {
  return readFileSync(SHIPPED_POLICY_FILE, 'utf8');
}

/** The shipped policy as plain data, to modify in a test. */
export function shippedPolicyData(): Record<string, unknown> {
  return parse(shippedPolicyText()) as Record<string, unknown>;
}

/** Parses policy data (or YAML text); throws PolicyError on problems. */
export function policyFrom(data: Record<string, unknown> | string, file = 'test-policy.yaml'): Policy {
  const text = typeof data === 'string' ? data : stringify(data);
  return parsePolicy(text, file, { now: TEST_NOW }).policy;
}

/** The shipped policy with `edit` applied to a deep copy of its data. */
export function variantPolicy(edit: (data: Record<string, any>) => void): Policy {
  const data = structuredClone(shippedPolicyData());
  edit(data);
  return policyFrom(data);
}

/** The feature flags of cdk.json, so tests build the template `cdk synth` builds. */
export const CDK_CONTEXT: Record<string, unknown> = (JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> })
  .context;
