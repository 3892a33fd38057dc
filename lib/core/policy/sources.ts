/**
 * The policy's source access rules, as the ingest, the queries and the gate read them:
 * which roles may retrieve from which source, and which domains a role may see. One
 * reading of `sources`, so a violation means the same thing everywhere.
 */
import type { Policy } from './schema';

/** What a record's `user_role` may not have seen: the sources it retrieved from that its role may not see. */
export interface SourceRule {
  readonly source: string;
  readonly domain: string;
  /** The roles allowed, or `all`. */
  readonly allowedRoles: readonly string[] | 'all';
}

/** The rules of a policy, in the order of its `sources`. */
export function sourceRules(policy: Pick<Policy, 'sources'>): SourceRule[] {
  return Object.entries(policy.sources).map(([source, s]) => ({ source, domain: s.domain, allowedRoles: s.allowed_roles }));
}

/**
 * Whether `role` may retrieve from `source`. An undeclared source is not judged (the
 * policy has no rule for it: `UnexpectedSourceDomain` and the series fold count it); a
 * missing role may see only sources open to all.
 */
export function mayRetrieve(rules: readonly SourceRule[], role: string | undefined, source: string): boolean {
  const rule = rules.find((r) => r.source === source);
  if (!rule) return true;
  if (rule.allowedRoles === 'all') return true;
  return role !== undefined && rule.allowedRoles.includes(role);
}

/** The sources of a request its role may not see, without repeats, in the order retrieved. */
export function violatedSources(rules: readonly SourceRule[], role: string | undefined, sources: readonly string[]): string[] {
  return [...new Set(sources)].filter((s) => !mayRetrieve(rules, role, s));
}

/**
 * The domains a role may retrieve: those of the sources open to it. A source whose domain
 * is outside this set is an "unexpected source domain" for the role.
 */
export function domainsOf(rules: readonly SourceRule[], role: string | undefined): Set<string> {
  return new Set(rules.filter((r) => mayRetrieve(rules, role, r.source)).map((r) => r.domain));
}

/** The roles that may retrieve from a source (`all`, or the list), for messages: "non-hr_specialist persona". */
export function allowedRolesText(rule: SourceRule): string {
  return rule.allowedRoles === 'all' ? 'every role' : rule.allowedRoles.join(', ');
}
