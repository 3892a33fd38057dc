/**
 * The house Lambda function: every Lambda of the stack is one of these, so runtime,
 * architecture, bundling and log retention are decided once.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricsNamespace } from '../../core/metrics/dictionary';
import type { Policy } from '../../core/policy/schema';
import { logsPropsFromPolicy } from './retention';

/** The repository root: esbuild's project root, the lock file's and the entries' base. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The newest Node.js runtime aws-cdk-lib offers. */
export const HOUSE_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Lets bundled CommonJS dependencies call `require` inside the ESM bundle. */
const REQUIRE_SHIM = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export interface TelemetryFunctionProps extends Omit<
  nodejs.NodejsFunctionProps,
  | 'entry'
  | 'runtime'
  | 'architecture'
  | 'logGroup'
  | 'logRetention'
  | 'logRetentionRole'
  | 'logRetentionRetryOptions'
  | 'logRemovalPolicy'
  | 'projectRoot'
  | 'depsLockFilePath'
  | 'code'
> {
  /** The handler's entry file; a relative path is taken from the repository root, e.g. `lambdas/redact/index.ts`. */
  readonly entry: string;
  /**
   * The CloudWatch namespace of the function's metrics (POWERTOOLS_METRICS_NAMESPACE).
   * @default - none set (Powertools' own default)
   */
  readonly metricsNamespace?: string;
  /**
   * How long the function's log group keeps its events.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * The customer-managed key the function's log group is encrypted with (its key policy must
   * let CloudWatch Logs use it; the function's role needs nothing: CloudWatch Logs encrypts).
   * @default - CloudWatch Logs' own server-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Powertools service name (POWERTOOLS_SERVICE_NAME).
   * @default - the construct id, lowercased and hyphenated (`RedactFn` -> `redact-fn`)
   */
  readonly serviceName?: string;
}

/**
 * A NodejsFunction with the house settings: newest Node.js runtime, arm64, minified ESM
 * bundle with the AWS SDK left to the runtime, an explicit log group with a bounded
 * retention, and Powertools defaults in the environment (caller's values win).
 *
 * The log group (`<id>LogGroup`) and, unless `role` is given, the execution role
 * (`<id>ServiceRole`) are created beside the function in the same scope: the function
 * needs them at construction, before it can have children of its own. The role gets
 * write access to its log group only, instead of the AWSLambdaBasicExecutionRole
 * managed policy (logs on every group of the account).
 */
export class TelemetryFunction extends nodejs.NodejsFunction {
  /** What a policy decides of a function: its metrics namespace, `retention.logs`, and removal by `environment`. */
  static propsFromPolicy(
    policy: Pick<Policy, 'name' | 'environment' | 'retention'>,
  ): Pick<TelemetryFunctionProps, 'metricsNamespace' | 'logRetention' | 'logRemovalPolicy'> {
    const logs = logsPropsFromPolicy(policy);
    return { metricsNamespace: metricsNamespace(policy), logRetention: logs.logRetention, logRemovalPolicy: logs.removalPolicy };
  }

  constructor(scope: Construct, id: string, props: TelemetryFunctionProps) {
    const {
      metricsNamespace: namespace,
      logRetention: retention,
      logRemovalPolicy,
      logEncryptionKey,
      serviceName,
      entry,
      environment,
      bundling,
      role,
      ...rest
    } = props;
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: retention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy ?? RemovalPolicy.RETAIN,
      encryptionKey: logEncryptionKey,
    });
    const executionRole = role ?? new iam.Role(scope, `${id}ServiceRole`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(executionRole);
    super(scope, id, {
      ...rest,
      role: executionRole,
      entry: isAbsolute(entry) ? entry : join(PROJECT_ROOT, entry),
      runtime: HOUSE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName ?? kebab(id),
        ...(namespace ? { POWERTOOLS_METRICS_NAMESPACE: namespace } : {}),
        ...environment,
      },
      bundling: {
        // No keepNames: it costs ~16 KB per bundle (the redaction Lambda must stay under 200 KB).
        minify: true,
        mainFields: ['module', 'main'],
        banner: REQUIRE_SHIM,
        externalModules: ['@aws-sdk/*'],
        ...bundling,
        format: nodejs.OutputFormat.ESM,
      },
    });
  }
}

function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .toLowerCase();
}
