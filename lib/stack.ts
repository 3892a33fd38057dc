/**
 * The LLMOps telemetry stack: composes the constructs from the parsed policy. It holds
 * no logic of its own; every resource comes from a construct that takes the policy.
 */
import { Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Policy } from './policy';

export interface TelemetryStackProps extends StackProps {
  /** The validated telemetry policy. */
  readonly policy: Policy;
}

export class TelemetryStack extends Stack {
  /** The policy this stack was built from. */
  readonly policy: Policy;

  constructor(scope: Construct, id: string, props: TelemetryStackProps) {
    super(scope, id, {
      description: `LLMOps telemetry stack for ${props.policy.name} (${props.policy.environment}), built from its telemetry policy`,
      ...props,
    });
    this.policy = props.policy;
    Tags.of(this).add('llmops:name', props.policy.name);
    Tags.of(this).add('llmops:environment', props.policy.environment);
  }
}

/** The stack name for a policy: `<name>-<environment>-telemetry`. */
export function stackNameFor(policy: Pick<Policy, 'name' | 'environment'>): string {
  return `${policy.name}-${policy.environment}-telemetry`;
}
