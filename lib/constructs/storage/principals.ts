/**
 * The principals of the policy's `access` section, as IAM principals.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * `this-account` is the deploying account's root (its IAM administrators decide who may
 * assume), a 12-digit id is another account's root, anything else is a role or user ARN
 * (the policy schema has checked the form).
 */
export function principalFor(spec: string): iam.PrincipalBase {
  if (spec === 'this-account') return new iam.AccountRootPrincipal();
  if (/^[0-9]{12}$/.test(spec)) return new iam.AccountPrincipal(spec);
  return new iam.ArnPrincipal(spec);
}

/** The policy's principal specs as IAM principals, without repeats. */
export function principalsFor(specs: readonly string[]): iam.IPrincipal[] {
  return [...new Set(specs)].map(principalFor);
}

/**
 * The trust policy principal of a role: every listed principal, each with the conditions,
 * and the extra principals as they are (each with conditions of its own).
 */
export function trustedPrincipals(
  list: readonly iam.IPrincipal[],
  conditions?: iam.Conditions,
  extra: readonly iam.IPrincipal[] = [],
): iam.IPrincipal {
  const principals = [...list.map((p) => (conditions ? new iam.PrincipalWithConditions(p, conditions) : p)), ...extra];
  const [first, ...rest] = principals;
  if (!first) throw new Error('a role needs at least one trusted principal');
  return rest.length === 0 ? first : new iam.CompositePrincipal(first, ...rest);
}

/**
 * Sessions of IAM Identity Center permission sets provisioned in the deploying account.
 * Identity Center names the role `AWSReservedSSO_<set>_<16-character suffix>` under the
 * path `aws-reserved/sso.amazonaws.com/`, with a region segment unless the identity
 * source is in us-east-1; the suffix changes when the set is re-provisioned
 * (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html).
 * A trust policy's Principal takes no wildcard, so the account root with an `ArnLike` on
 * `aws:PrincipalArn` (the role's ARN for a role session); `?` x 16 matches the suffix only,
 * so set `IR` does not admit set `IR_Admin`.
 */
export function ssoPermissionSetPrincipal(scope: IConstruct, permissionSets: readonly string[]): iam.IPrincipal {
  const suffix = '?'.repeat(16);
  const { partition, account } = Stack.of(scope);
  const base = `arn:${partition}:iam::${account}:role/aws-reserved/sso.amazonaws.com`;
  const patterns = [...new Set(permissionSets)].flatMap((set) => [
    `${base}/AWSReservedSSO_${set}_${suffix}`,
    `${base}/*/AWSReservedSSO_${set}_${suffix}`,
  ]);
  return new iam.AccountRootPrincipal().withConditions({ ArnLike: { 'aws:PrincipalArn': patterns } });
}

/**
 * Principals of the deploying account whose session carries every one of these tags
 * (`aws:PrincipalTag/<key>`), e.g. SAML session tags from the identity provider.
 */
export function principalTagPrincipal(tags: Readonly<Record<string, string>>): iam.IPrincipal {
  const conditions = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]));
  return new iam.AccountRootPrincipal().withConditions({ StringEquals: conditions });
}

/** The policy's `access.incident_responders.federated` as principals (none when absent). */
export function federatedPrincipalsFor(
  scope: IConstruct,
  federated?: {
    readonly sso_permission_sets: readonly string[];
    readonly principal_tags: Readonly<Record<string, string>>;
  },
): iam.IPrincipal[] {
  if (!federated) return [];
  return [
    ...(federated.sso_permission_sets.length > 0 ? [ssoPermissionSetPrincipal(scope, federated.sso_permission_sets)] : []),
    ...(Object.keys(federated.principal_tags).length > 0 ? [principalTagPrincipal(federated.principal_tags)] : []),
  ];
}
