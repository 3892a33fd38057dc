/**
 * The debug-capture enrolment rule, in one place: a capture is allowed when an enrolment
 * names its cohort, matches its tenant (when the enrolment names one), matches its user
 * role (when the enrolment names one) and has not expired. The ingest transform, the producer's DebugCaptureSender and the kill-switch
 * client all decide with this function (it imports nothing, so the client bundles stay small).
 */

/**
 * A debug-capture enrolment, as the policy declares it (`debug_capture.enrolments`) and
 * the debug-capture Lambda receives it (`ENROLMENTS`). The one definition: the policy
 * schema, the transform, the Lambda environment and the producer SDK use this type.
 */
export interface Enrolment {
  /** Name of the enrolment; captures carry it. */
  readonly cohort: string;
  /** The enrolment covers only this tenant; absent: any tenant. */
  readonly tenant_id?: string;
  /** The enrolment covers only requests of this user role; absent: any role. A capture that carries no role does not match. */
  readonly user_role?: string;
  /** Why, e.g. an incident id. */
  readonly reason: string;
  /** RFC 3339; an expired enrolment allows nothing, even before anyone removes it. */
  readonly expires_at: string;
}

/** What the rule reads of an enrolment. */
export type EnrolmentRule = Pick<Enrolment, 'cohort' | 'tenant_id' | 'user_role' | 'expires_at'>;

export type EnrolmentVerdict = 'enrolled' | 'not_enrolled' | 'tenant_mismatch' | 'role_mismatch' | 'expired';

/**
 * What is judged: `capture` (the default) checks the capture's tenant and user role against
 * every enrolment that names one, and a capture without a `user_role` never matches an
 * enrolment that names a role (fail closed); `cohort` asks only whether the cohort has a
 * live enrolment at all (the kill-switch client's question, before any capture exists).
 */
export type EnrolmentScope = 'capture' | 'cohort';

/** Which live enrolment, if any, allows a capture of `cohort` for its tenant and user role at `nowMs`. */
export function enrolmentVerdict(
  capture: { readonly cohort: string; readonly tenant_id?: string; readonly user_role?: string },
  enrolments: readonly EnrolmentRule[],
  nowMs: number,
  scope: EnrolmentScope = 'capture',
): EnrolmentVerdict {
  const named = enrolments.filter((e) => e.cohort === capture.cohort);
  if (named.length === 0) return 'not_enrolled';
  const forTenant = scope === 'cohort' ? named : named.filter((e) => e.tenant_id === undefined || e.tenant_id === capture.tenant_id);
  if (forTenant.length === 0) return 'tenant_mismatch';
  const forRole = scope === 'cohort' ? forTenant : forTenant.filter((e) => e.user_role === undefined || e.user_role === capture.user_role);
  if (forRole.length === 0) return 'role_mismatch';
  const live = forRole.some((e) => {
    const t = Date.parse(e.expires_at);
    return Number.isFinite(t) && nowMs < t;
  });
  return live ? 'enrolled' : 'expired';
}
