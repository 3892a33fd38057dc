/**
 * Test helpers: the policy helpers of `./support/policy` (no aws-cdk-lib; tests that
 * build no stack import them from there) and `buildStack`, which builds the stack
 * without bundling Lambdas (fast); `bundle: true` really bundles them.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Policy } from '../lib/core/policy';
import { TelemetryStack } from '../lib/constructs/stack';
import { CDK_CONTEXT } from './support/policy';

export * from './support/policy';

export interface SynthOptions {
  /** Really bundle the Lambdas with esbuild (slow). Default false. */
  readonly bundle?: boolean;
  /**
   * A stack of its own, for a test that changes it after the build. Default false: the
   * stack built for an equal policy earlier in this worker, if any (read-only use).
   */
  readonly fresh?: boolean;
}

export interface BuiltStack {
  readonly app: App;
  readonly stack: TelemetryStack;
  readonly template: Template;
}

/** The last stacks built, by policy and options: test files of one worker share them (vitest runs with isolate: false). */
const recent = new Map<string, BuiltStack>();
const RECENT_MAX = 4;

export function buildStack(policy: Policy, opts: SynthOptions = {}): BuiltStack {
  const key = JSON.stringify([policy, opts.bundle ?? false]);
  const hit = opts.fresh ? undefined : recent.get(key);
  if (hit) return hit;
  const app = new App({ context: { ...CDK_CONTEXT, ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) } });
  const stack = new TelemetryStack(app, `${policy.name}-${policy.environment}-telemetry`, {
    policy,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const built = { app, stack, template: Template.fromStack(stack) };
  if (!opts.fresh) {
    recent.delete(key);
    recent.set(key, built);
    if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  }
  return built;
}
