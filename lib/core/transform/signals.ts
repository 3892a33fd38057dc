/**
 * `capture.user_outcome_signals`: the feedback fields the stack keeps. Pure.
 *
 * The user outcome signals are the four optional fields of a `feedback` record
 * (`user_rating`, `escalated_to_human`, `follow_up_within_5m`, `abandoned`). A signal the
 * policy does not list is removed from the record at ingest, before it is stored and
 * before the bucket metrics are computed, so it is neither stored nor counted in a metric;
 * each removal is counted (`OutcomeSignalsDropped`). The feedback record itself is kept
 * (it still counts in `Feedback`). A request's own `outcome` is the application's summary,
 * not a user outcome signal, and is always kept.
 */
import { USER_OUTCOME_SIGNALS, type TelemetryEvent } from '../contract/schema';

/** Removes from a feedback record every signal not in `allowed` (in place); returns how many were removed. */
export function dropUnlistedSignals(event: TelemetryEvent, allowed: ReadonlySet<string>): number {
  if (event.event_type !== 'feedback') return 0;
  let dropped = 0;
  for (const s of USER_OUTCOME_SIGNALS) {
    if (event[s] !== undefined && !allowed.has(s)) {
      delete event[s];
      dropped++;
    }
  }
  return dropped;
}
