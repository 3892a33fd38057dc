/**
 * The principals of the policy's `access` section, as IAM principals.
 */
import * as iam from 'aws-cdk-lib/aws-iam';

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

/** The trust policy principal of a role: every listed principal, each with the conditions. */
export function trustedPrincipals(list: readonly iam.IPrincipal[], conditions?: iam.Conditions): iam.IPrincipal {
  const principals = list.map((p) => (conditions ? new iam.PrincipalWithConditions(p, conditions) : p));
  const [first, ...rest] = principals;
  if (!first) throw new Error('a role needs at least one trusted principal');
  return rest.length === 0 ? first : new iam.CompositePrincipal(first, ...rest);
}
