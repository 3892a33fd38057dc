/**
 * The LLMOps telemetry stack: composes the constructs from the parsed policy. It holds
 * no logic of its own; every resource comes from a construct that takes the policy.
 */
import { AspectPriority, Aspects, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { BoundedLogsAspect } from './aspects';
import type { Policy } from './policy';
import { TelemetryStorage } from './storage';

export interface TelemetryStackProps extends StackProps {
  /** The validated telemetry policy. */
  readonly policy: Policy;
}

export class TelemetryStack extends Stack {
  /** The policy this stack was built from. */
  readonly policy: Policy;
  /** The storage tiers: buckets, keys, tier roles, the debug-tier trail. */
  readonly storage: TelemetryStorage;

  constructor(scope: Construct, id: string, props: TelemetryStackProps) {
    super(scope, id, {
      description: `LLMOps telemetry stack for ${props.policy.name} (${props.policy.environment}), built from its telemetry policy`,
      ...props,
    });
    this.policy = props.policy;
    Tags.of(this).add('llmops:name', props.policy.name);
    Tags.of(this).add('llmops:environment', props.policy.environment);
    Aspects.of(this).add(new BoundedLogsAspect(), { priority: AspectPriority.READONLY });

    this.storage = new TelemetryStorage(this, 'Storage', { policy: props.policy });
  }
}

/** The stack name for a policy: `<name>-<environment>-telemetry`. */
export function stackNameFor(policy: Pick<Policy, 'name' | 'environment'>): string {
  return `${policy.name}-${policy.environment}-telemetry`;
}
