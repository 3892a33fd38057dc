/**
 * The debug-capture enrolment rule, in one place: a capture is allowed when an enrolment
 * names its cohort, matches its tenant (when the enrolment names one) and has not
 * expired. The ingest transform, the producer's DebugCaptureSender and the kill-switch
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
  readonly user_role?: string;
  /** Why, e.g. an incident id. */
  readonly reason: string;
  /** RFC 3339; an expired enrolment allows nothing, even before anyone removes it. */
  readonly expires_at: string;
}

/** What the rule reads of an enrolment. */
export type EnrolmentRule = Pick<Enrolment, 'cohort' | 'tenant_id' | 'expires_at'>;

export type EnrolmentVerdict = 'enrolled' | 'not_enrolled' | 'tenant_mismatch' | 'expired';

/** Which live enrolment, if any, allows a capture of `cohort` (for `tenant_id`, when given) at `nowMs`. */
export function enrolmentVerdict(
  capture: { readonly cohort: string; readonly tenant_id?: string },
  enrolments: readonly EnrolmentRule[],
  nowMs: number,
): EnrolmentVerdict {
  const named = enrolments.filter((e) => e.cohort === capture.cohort);
  if (named.length === 0) return 'not_enrolled';
  const forTenant =
    capture.tenant_id === undefined ? named : named.filter((e) => e.tenant_id === undefined || e.tenant_id === capture.tenant_id);
  if (forTenant.length === 0) return 'tenant_mismatch';
  const live = forTenant.some((e) => {
    const t = Date.parse(e.expires_at);
    return Number.isFinite(t) && nowMs < t;
  });
  return live ? 'enrolled' : 'expired';
}
