/**
 * Automatic trips, the pure core: which switches a page alarm flips, and the documents
 * to write. The trip Lambda (`lambdas/trip`) reads the current values, calls
 * `planTrip`, and writes what it returns. Its environment contract is `./env.ts`.
 *
 * - Only a notification of a transition to `ALARM` trips anything (OK and
 *   INSUFFICIENT_DATA never re-enable a switch: a human does, with `llmops switch set`).
 * - Only the switches the policy's `auto_trips` maps to that alarm.
 * - Idempotent: a switch whose current, unexpired document already has the tripped
 *   state is not written again (so SNS redeliveries and re-alarms cost no write).
 * - The reason is the alarm name and CloudWatch's state reason (truncated); alarm
 *   notifications carry metric values and thresholds, never record content.
 */
import * as z from 'zod';
import { alarmName } from '../policy/names';
import type { Policy } from '../policy/schema';
import type { SwitchState } from '../policy/switches';
import { isExpired, MAX_REASON_CHARS, truncate, type SwitchReading, type SwitchValue } from './values';

/** One switch an alarm sets. */
export interface TripAction {
  /** Switch ref, e.g. `connectors.hr_policies`. */
  readonly ref: string;
  /** The state the trip sets (the policy rules allow only the switch's tripped state). */
  readonly set: SwitchState;
}

/** Alarm name (`<name>-<environment>-<bucket>-<alarm id>`) to the switches it trips. */
export type TripMap = Readonly<Record<string, readonly TripAction[]>>;

/** The trip map of a policy, keyed by the alarms' physical names. Empty when the policy has no `auto_trips`. */
export function tripMap(policy: Pick<Policy, 'name' | 'environment' | 'kill_switches'>): TripMap {
  const out: Record<string, TripAction[]> = {};
  for (const t of policy.kill_switches.auto_trips) {
    const [bucket = '', id = ''] = t.alarm.split('.');
    const name = alarmName(policy, bucket, id);
    const actions = (out[name] ??= []);
    if (!actions.some((a) => a.ref === t.switch)) actions.push({ ref: t.switch, set: t.set });
  }
  return out;
}

/** The fields of a CloudWatch alarm notification (the SNS message body) that a trip uses. */
export interface AlarmNotification {
  readonly AlarmName: string;
  readonly NewStateValue: string;
  readonly NewStateReason?: string;
  readonly StateChangeTime?: string;
}

const AlarmNotificationSchema = z.object({
  AlarmName: z.string().min(1),
  NewStateValue: z.string().min(1),
  NewStateReason: z.string().optional(),
  StateChangeTime: z.string().optional(),
});

/** Parses an SNS message as a CloudWatch alarm notification; undefined for anything else. Never throws. */
export function parseAlarmNotification(message: string): AlarmNotification | undefined {
  try {
    const r = AlarmNotificationSchema.safeParse(JSON.parse(message));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** A document to write. */
export interface TripWrite {
  readonly ref: string;
  readonly value: SwitchValue;
}

export interface TripPlan {
  readonly alarm: string;
  /** What happens: the alarm is not in ALARM, maps to no switch, or trips. */
  readonly outcome: 'not_alarm_state' | 'unmapped' | 'trip';
  /** Documents to write (empty unless `trip`). */
  readonly writes: readonly TripWrite[];
  /** Mapped switches already in the tripped state: no write. */
  readonly unchanged: readonly string[];
}

/** The switches a notification trips (empty when it trips nothing), to read before `planTrip`. */
export function mappedRefs(n: AlarmNotification, map: TripMap): string[] {
  return n.NewStateValue === 'ALARM' ? (map[n.AlarmName] ?? []).map((a) => a.ref) : [];
}

/**
 * The writes for one alarm notification, given the current readings of its mapped
 * switches (a switch with no reading is written).
 */
export function planTrip(n: AlarmNotification, map: TripMap, current: ReadonlyMap<string, SwitchReading>, nowMs: number): TripPlan {
  const alarm = n.AlarmName;
  if (n.NewStateValue !== 'ALARM') return { alarm, outcome: 'not_alarm_state', writes: [], unchanged: [] };
  const actions = Object.hasOwn(map, alarm) ? (map[alarm] ?? []) : [];
  if (actions.length === 0) return { alarm, outcome: 'unmapped', writes: [], unchanged: [] };
  const writes: TripWrite[] = [];
  const unchanged: string[] = [];
  const changedAt = new Date(nowMs).toISOString();
  for (const a of actions) {
    const r = current.get(a.ref);
    if (r?.kind === 'value' && r.value.state === a.set && !isExpired(r.value, nowMs)) {
      unchanged.push(a.ref);
      continue;
    }
    writes.push({
      ref: a.ref,
      value: {
        state: a.set,
        reason: truncate(n.NewStateReason ? `${alarm}: ${n.NewStateReason}` : alarm, MAX_REASON_CHARS),
        changed_by: truncate(`auto-trip:${alarm}`, 200),
        changed_at: changedAt,
      },
    });
  }
  return { alarm, outcome: 'trip', writes, unchanged };
}
