/**
 * The trip Lambda's environment contract: the kill-switch construct writes it with
 * `tripEnvFromPolicy`, the handler reads it with `decodeTripEnv` on its first invocation.
 */
import * as z from 'zod';
import { defineEnv, json, text, type EnvSource } from '../env/contract';
import type { Policy } from '../policy/schema';
import { tripMap, type TripMap } from './trip';
import { switchPrefix } from './values';

/** `TRIP_MAP`: alarm name to the switches it trips (a `TripMap`). */
export const TripMapJson = z.record(
  z.string().min(1),
  z.array(z.strictObject({ ref: z.string().regex(/^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?$/), set: z.enum(['on', 'off']) })).min(1),
);

/** Room for TRIP_MAP in the trip Lambda's environment (4 KB in all, shared with the Powertools variables). */
export const MAX_TRIP_MAP_CHARS = 3000;

export const TRIP_ENV = defineEnv({
  SWITCH_PREFIX: text(z.string().regex(/^(?:\/[A-Za-z0-9_.-]+)+$/), 'a parameter path such as /copilot/prod/kill-switches'),
  TRIP_MAP: json(TripMapJson, 'JSON such as {"copilot-prod-safety-p0-events":[{"ref":"read_only_mode","set":"on"}]}'),
});

/** The trip Lambda's environment for a parameter path and a trip map; throws when the map does not fit in it. */
export function tripEnv(prefix: string, map: TripMap): Record<string, string> {
  const env = TRIP_ENV.encode({ SWITCH_PREFIX: prefix, TRIP_MAP: map });
  if (env.TRIP_MAP.length > MAX_TRIP_MAP_CHARS) {
    const alarms = Object.keys(map).length;
    const refs = new Set(Object.values(map).flatMap((actions) => actions.map((a) => a.ref))).size;
    throw new Error(
      `kill_switches.auto_trips maps ${alarms} alarms to ${refs} switches; as TRIP_MAP that is ${env.TRIP_MAP.length} characters, over the ${MAX_TRIP_MAP_CHARS} this stack allows in the trip Lambda's environment (Lambda allows 4 KB in all). Map fewer alarms, or trip read_only_mode instead of many tools.`,
    );
  }
  return env;
}

/** The trip Lambda's environment of a policy (`tripEnv` of its switch prefix and `auto_trips`). */
export function tripEnvFromPolicy(policy: Pick<Policy, 'name' | 'environment' | 'kill_switches'>): Record<string, string> {
  return tripEnv(switchPrefix(policy), tripMap(policy));
}

/** What the trip handler reads from its environment. */
export interface TripSettings {
  /** The kill-switch parameter path. */
  readonly prefix: string;
  readonly map: TripMap;
}

/** Reads the trip Lambda's environment; throws ConfigError naming every bad variable. */
export function decodeTripEnv(env: EnvSource): TripSettings {
  const v = TRIP_ENV.decode(env);
  return { prefix: v.SWITCH_PREFIX, map: v.TRIP_MAP };
}
