/**
 * Opt-in compliance checks beside cdk-nag: `cdk synth -c controls=control-tower` runs AWS
 * Control Tower's proactive controls (the cfn-guard rules bundled with
 * `@cdklabs/cdk-validator-cfnguard`) on the synthesized template as a CDK validation
 * plugin; a violation fails the synth and is written to `<outdir>/validation-report.json`.
 *
 * The controls this stack does not follow are disabled in one place,
 * `CONTROL_TOWER_EXEMPTIONS`, each with its reason. Disabling is the plugin's only
 * exemption that keeps the report honest: its violations carry no severity, so once any
 * finding is acknowledged per resource (`Validations.acknowledge`), aws-cdk-lib recomputes
 * the report's success from the severities left and passes it, violations left or not
 * (core/lib/private/synthesis-validation.js, 2.276). A disabled
 * control is not checked anywhere in the template, so each entry says what it was
 * disabled for, and the controls test proves it fails on exactly that and nothing else.
 *
 * The plugin is a devDependency (cfn-guard binaries for every platform, 36 MB), loaded
 * only when the option is given: a library consumer who never asks for it never needs it.
 */
import { createRequire } from 'node:module';
import type { IPolicyValidationPluginBeta1 } from 'aws-cdk-lib';
import { NONCURRENT_VERSION_DAYS } from '../core/storage/stores';

/** The context key: `-c controls=<name>`. */
export const CONTROLS_CONTEXT = 'controls';

/** The opt-in control sets `-c controls=` accepts. */
export const CONTROL_SETS = ['control-tower'] as const;
export type ControlSet = (typeof CONTROL_SETS)[number];

/** The package that runs AWS Control Tower's proactive controls (cfn-guard). */
export const CFN_GUARD_PACKAGE = '@cdklabs/cdk-validator-cfnguard';

/** A Control Tower proactive control the stack does not follow, and why. */
export interface ControlExemption {
  /** The plugin's rule id: the rule file name without `.guard`, e.g. `ct-s3-pr-9`. */
  readonly rule: string;
  /** The control as AWS Control Tower names it, e.g. `CT.S3.PR.9`. */
  readonly control: string;
  /** What the control requires, in the words of its rule. */
  readonly title: string;
  /** What in this stack fails it. */
  readonly appliesTo: string;
  /** Why the stack does not follow it. */
  readonly reason: string;
}

/**
 * The one table of disabled controls. Findings that were real were fixed instead: the
 * trail is encrypted with the audit key (CT.CLOUDTRAIL.PR.1), every log group with the
 * logs key (CT.CLOUDWATCH.PR.3), and every customer-managed key keeps `kms:CreateGrant`
 * for AWS services (CT.KMS.PR.3).
 */
export const CONTROL_TOWER_EXEMPTIONS: readonly ControlExemption[] = [
  {
    rule: 'ct-cloudwatch-pr-2',
    control: 'CT.CLOUDWATCH.PR.2',
    title: 'Require an Amazon CloudWatch log group to be retained for at least one year',
    appliesTo: 'the Lambda and Firehose log groups (and the kill-switch audit log group when retention.audit is under a year)',
    reason:
      'Log groups keep their events for the policy\'s retention.logs (30 days in the shipped policy), the audit log group for retention.audit: nothing is kept longer than its purpose needs ("Nothing kept forever"). Service logs hold ids, counts and reasons for running the pipeline; a year of them would be a year of operational data nobody reads.',
  },
  {
    rule: 'ct-cloudtrail-pr-3',
    control: 'CT.CLOUDTRAIL.PR.3',
    title: 'Require an AWS CloudTrail trail to have an Amazon CloudWatch log group configuration',
    appliesTo: 'the debug-reads trail',
    reason:
      'The trail records who read or wrote the debug tier into the audit bucket, which only incident responders read. Delivering the same events to CloudWatch Logs would copy object keys and caller identities into a second store with its own readers and retention.',
  },
  {
    rule: 'ct-lambda-pr-3',
    control: 'CT.LAMBDA.PR.3',
    title: 'Require an AWS Lambda function to be in a customer-managed Amazon Virtual Private Cloud (VPC)',
    appliesTo: 'every Lambda function',
    reason:
      'The functions call only AWS APIs (Firehose, S3, Athena, Glue, SSM, CloudWatch, Secrets Manager) and reach no private resource. A VPC would add NAT gateways or interface endpoints to pay for and run, and no boundary the IAM, bucket and key policies do not already draw.',
  },
  {
    rule: 'ct-s3-pr-2',
    control: 'CT.S3.PR.2',
    title: 'Require an Amazon S3 bucket to have server access logging configured',
    appliesTo: 'the audit bucket',
    reason:
      'The audit bucket is the server access log target of every other bucket. Logging it to itself would log its own log deliveries; the trail records the reads that matter (the debug tier).',
  },
  {
    rule: 'ct-s3-pr-4',
    control: 'CT.S3.PR.4',
    title: 'Require an Amazon S3 bucket to have event notifications configured',
    appliesTo: 'every bucket',
    reason:
      'Nothing consumes bucket events: Firehose writes, Athena and the rollups read on a schedule. Notifications without a consumer would only publish object keys to another service.',
  },
  // Object Lock: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html
  // ("S3 buckets with Object Lock can't be used as destination buckets for server access logs").
  {
    rule: 'ct-s3-pr-9',
    control: 'CT.S3.PR.9',
    title: 'Require that an Amazon S3 bucket has S3 Object Lock activated',
    appliesTo: 'every bucket',
    reason: `Object Lock keeps each locked version until its retention ends, and needs versioning. The traces, debug and results buckets must delete at their retention and are not versioned; the metrics bucket is versioned so an overwritten rollup can be recovered, and its rollups expire at retention.metrics. The audit bucket receives server access logs, and S3 does not deliver them to a bucket with Object Lock; its CloudTrail files carry log file validation (digest files) and the bucket keeps replaced or deleted versions for ${NONCURRENT_VERSION_DAYS} days.`,
  },
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html: default
  // encryption of a log destination bucket may only be SSE-S3.
  {
    rule: 'ct-s3-pr-10',
    control: 'CT.S3.PR.10',
    title: 'Require an Amazon S3 bucket to have server-side encryption configured using an AWS KMS key',
    appliesTo: 'the audit bucket',
    reason:
      'S3 delivers server access logs only to buckets whose default encryption is SSE-S3, so the audit bucket uses it. CloudTrail encrypts its own files there with the audit key (SSE-KMS); every other bucket is SSE-KMS under the data or debug key.',
  },
  {
    rule: 'ct-s3-pr-11',
    control: 'CT.S3.PR.11',
    title: 'Require an Amazon S3 bucket to have versioning enabled',
    appliesTo: 'the traces, debug and Athena results buckets',
    reason:
      'They hold data whose point is to disappear at its retention, or query results that can be re-run: versioning would keep deleted and expired objects as old versions, longer than the policy allows. The metrics and audit buckets, whose data must survive an overwrite, are versioned.',
  },
];

/** A bad `-c controls=` value, or a control set whose package is missing. */
export class ControlsError extends Error {
  override readonly name = 'ControlsError';
}

/** The subset of the plugin's props this module uses. */
interface CfnGuardValidatorProps {
  readonly disabledRules?: string[];
  readonly controlTowerRulesEnabled?: boolean;
  readonly rules?: string[];
  readonly maxBuffer?: number;
}

/** The plugin's module, as loaded (typed here so the library compiles without it). */
export interface CfnGuardModule {
  readonly CfnGuardValidator: new (props?: CfnGuardValidatorProps) => IPolicyValidationPluginBeta1;
}

const requireHere = createRequire(import.meta.url);

/** Loads the cfn-guard plugin package, or says how to install it. */
export function loadCfnGuard(load: () => unknown = () => requireHere(CFN_GUARD_PACKAGE)): CfnGuardModule {
  try {
    return load() as CfnGuardModule;
  } catch (e) {
    // Only the package itself missing; a package that fails to load is a bug to see as is.
    const missing = (e as { code?: string }).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(`'${CFN_GUARD_PACKAGE}'`);
    if (!missing) throw e;
    throw new ControlsError(
      `-c ${CONTROLS_CONTEXT}=control-tower needs ${CFN_GUARD_PACKAGE}, which is not installed: npm i -D ${CFN_GUARD_PACKAGE} (or synth without -c ${CONTROLS_CONTEXT}).`,
    );
  }
}

/**
 * cfn-guard's JSON answer for the whole template, which the plugin reads through a pipe:
 * about 0.6 MB for this stack with every control failing, against Node's 1 MB default,
 * beyond which the run dies with ENOBUFS.
 */
export const CFN_GUARD_MAX_BUFFER = 64 * 1024 * 1024;

/** AWS Control Tower's proactive controls, but those of `CONTROL_TOWER_EXEMPTIONS`. */
export function controlTowerChecks(module: CfnGuardModule = loadCfnGuard()): IPolicyValidationPluginBeta1 {
  return new module.CfnGuardValidator({
    disabledRules: CONTROL_TOWER_EXEMPTIONS.map((x) => x.rule),
    maxBuffer: CFN_GUARD_MAX_BUFFER,
  });
}

/**
 * The validation plugins a `controls` context value asks for: none when it is absent.
 * Throws `ControlsError` naming the allowed values for any other value.
 */
export function controlsPlugins(value: unknown, module?: () => CfnGuardModule): IPolicyValidationPluginBeta1[] {
  if (value === undefined) return [];
  if (value !== 'control-tower') {
    throw new ControlsError(
      `context ${CONTROLS_CONTEXT} is ${JSON.stringify(value)}; allowed: ${CONTROL_SETS.join(', ')} (AWS Control Tower proactive controls, e.g. npx cdk synth -c ${CONTROLS_CONTEXT}=control-tower), or leave it out for cdk-nag alone`,
    );
  }
  return [controlTowerChecks(module ? module() : undefined)];
}
