/**
 * Runs one automatic trip against Parameter Store: read the mapped switches, plan with
 * the pure core, write. Used by the trip Lambda; tested against the local SSM server.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { readSwitches, writeSwitch } from './switch-store';
import { mappedRefs, parseAlarmNotification, planTrip, type TripMap } from '../core/killswitch/trip';

export interface TripDeps {
  readonly ssm: SSMClient;
  /** The kill-switch parameter path, e.g. `/copilot/prod/kill-switches`. */
  readonly prefix: string;
  readonly map: TripMap;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What one SNS message led to: ids and counts only, safe to log. */
export interface TripOutcome {
  readonly alarm?: string;
  readonly outcome: 'not_an_alarm' | 'not_alarm_state' | 'unmapped' | 'trip';
  /** Switches written. */
  readonly written: readonly string[];
  /** Switches already tripped. */
  readonly unchanged: readonly string[];
}

/**
 * Trips the switches an alarm notification maps to. Throws when a read or a write
 * fails (after attempting every write), so that the invocation is retried; the retry
 * skips what was already written.
 */
export async function runTrip(message: string, deps: TripDeps): Promise<TripOutcome> {
  const n = parseAlarmNotification(message);
  if (!n) return { outcome: 'not_an_alarm', written: [], unchanged: [] };
  const refs = mappedRefs(n, deps.map);
  const current = refs.length ? await readSwitches(deps.ssm, deps.prefix, refs) : new Map();
  const plan = planTrip(n, deps.map, current, (deps.now ?? Date.now)());
  const written: string[] = [];
  const failed: string[] = [];
  for (const w of plan.writes) {
    try {
      await writeSwitch(deps.ssm, deps.prefix, w.ref, w.value);
      written.push(w.ref);
    } catch (e) {
      failed.push(`${w.ref} (${(e as Error).name})`);
    }
  }
  if (failed.length)
    throw new Error(`alarm ${plan.alarm}: could not trip ${failed.join(', ')}; tripped ${written.length ? written.join(', ') : 'none'}`);
  return { alarm: plan.alarm, outcome: plan.outcome, written, unchanged: plan.unchanged };
}
