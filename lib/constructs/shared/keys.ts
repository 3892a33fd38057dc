/**
 * The house KMS key: every customer-managed key of the stack is one of these, so rotation
 * and the grant restriction are decided once. Plus the key policy statements a key needs
 * before an AWS service may encrypt with it (CloudWatch Logs, CloudTrail).
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** Sid of the statement that keeps grants for AWS services (`TelemetryKey`). */
export const DENY_GRANTS_SID = 'DenyGrantsOutsideAwsServices';

/**
 * Denies `kms:CreateGrant` to every principal unless an AWS service asks for it: on behalf
 * of a principal for an AWS resource (`kms:GrantIsForAWSResource`), or as a service
 * principal (`aws:PrincipalIsAWSService`). A grant is a standing permission outside the
 * key policy and IAM; nobody in this stack creates one by hand. The services the stack
 * uses with its keys (S3 SSE-KMS, SNS, Secrets Manager, Athena, CloudWatch Logs,
 * CloudTrail) authorize through the key policy and IAM, and a service that does create
 * grants (e.g. Firehose with a customer-managed stream key) sets GrantIsForAWSResource.
 * `BoolIfExists`: a request that carries neither key is denied too.
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource,
 * https://docs.aws.amazon.com/kms/latest/developerguide/grant-authorization.html; the shape is
 * what Control Tower's proactive CT.KMS.PR.3 checks, the key-policy side of its preventive
 * https://docs.aws.amazon.com/controltower/latest/controlreference/ct-kms-pv-1.html)
 */
export function denyGrantsOutsideAwsServices(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: DENY_GRANTS_SID,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  });
}

/**
 * A customer-managed KMS key with the house settings: yearly rotation on, and a key policy
 * that keeps `kms:CreateGrant` for AWS services (`denyGrantsOutsideAwsServices`). The
 * caller's props win, but rotation can only be turned on.
 */
export class TelemetryKey extends kms.Key {
  constructor(scope: Construct, id: string, props: kms.KeyProps = {}) {
    super(scope, id, { ...props, enableKeyRotation: true });
    this.addToResourcePolicy(denyGrantsOutsideAwsServices());
  }
}

/**
 * Lets CloudWatch Logs encrypt and decrypt the log groups of this account and region with
 * `key` (and nothing else: the encryption context names a log group). CloudWatch Logs
 * decrypts for whoever may read the log group, so readers need no KMS permission of
 * their own. (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html,
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_AssociateKmsKey.html)
 */
export function allowCloudWatchLogs(key: kms.IKey): iam.AddToResourcePolicyResult {
  const stack = Stack.of(key);
  return key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}
