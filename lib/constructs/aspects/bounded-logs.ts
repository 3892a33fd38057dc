/**
 * Fails the synth for a log group kept forever and for a Lambda that logs to the
 * implicit `/aws/lambda/<name>` group (created by Lambda on first write, with no
 * retention). Every store has a bounded retention (architecture invariant 2).
 */
import { Annotations, CfnResource, type IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

export const LOG_GROUP_WITHOUT_RETENTION =
  'AWS::Logs::LogGroup without RetentionInDays keeps its events forever; set a retention from the policy (retention.logs, or the audit retention for audit log groups).';
export const FUNCTION_WITHOUT_LOG_GROUP =
  'AWS::Lambda::Function without an explicit log group (LoggingConfig.LogGroup) logs to a group Lambda creates with no retention; build Lambdas with TelemetryFunction, which creates one with retention.logs.';

export class BoundedLogsAspect implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    if (node instanceof logs.CfnLogGroup && node.retentionInDays === undefined) {
      Annotations.of(node).addError(LOG_GROUP_WITHOUT_RETENTION);
    } else if (node instanceof lambda.CfnFunction && !hasLogGroup(node)) {
      Annotations.of(node).addError(FUNCTION_WITHOUT_LOG_GROUP);
    }
  }
}

function hasLogGroup(fn: lambda.CfnFunction): boolean {
  const config = fn.stack.resolve(fn.loggingConfig) as { logGroup?: unknown } | undefined;
  return config?.logGroup !== undefined;
}
