/**
 * Builds the CDK app from a policy file: load and validate the policy, register
 * cdk-nag's AwsSolutions checks as a validation plugin (an unacknowledged finding fails
 * the synth), and with `-c controls=control-tower` AWS Control Tower's proactive controls
 * too (`./controls.ts`), instantiate the stack named from the policy.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { CONTROLS_CONTEXT, controlsPlugins } from './controls';
import { DEFAULT_POLICY_FILE, formatWarning, loadPolicy, type LoadOptions } from '../core/policy';
import { stackNameFor, TelemetryStack } from './stack';

export interface BuildAppOptions extends LoadOptions {
  /** Props for the App (context, outdir). */
  readonly appProps?: AppProps;
  /** Policy file; default: context `policy`, else ./telemetry-policy.yaml. */
  readonly policyFile?: string;
  /** Receives the policy's warnings (default: none printed). */
  readonly onWarning?: (line: string) => void;
}

export function buildApp(opts: BuildAppOptions = {}): { app: App; stack: TelemetryStack } {
  const app = new App(opts.appProps);
  const controls = controlsPlugins(app.node.tryGetContext(CONTROLS_CONTEXT));
  const file = opts.policyFile ?? (app.node.tryGetContext('policy') as string | undefined) ?? DEFAULT_POLICY_FILE;
  const { policy, warnings } = loadPolicy(file, opts);
  for (const w of warnings) opts.onWarning?.(formatWarning(w));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), ...controls);
  const stack = new TelemetryStack(app, stackNameFor(policy), {
    policy,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  return { app, stack };
}
