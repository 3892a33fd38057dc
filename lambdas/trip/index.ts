/**
 * Trip Lambda: subscribed to the page topic; flips the kill switches that the policy's
 * `auto_trips` maps to an alarm entering ALARM. A thin handler over
 * `lib/core/killswitch/trip.ts` (pure core) and `lib/aws/trip-runner.ts`.
 *
 * Environment (lib/core/killswitch/env.ts): `SWITCH_PREFIX` (the parameter path),
 * `TRIP_MAP` (JSON: alarm name to `[{ ref, set }]`), decoded on the first invocation: a
 * misconfigured function fails loudly, naming the variable, rather than tripping nothing.
 * Logs alarm names, switch refs and counts only.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import type { SNSEvent } from 'aws-lambda';
import { decodeTripEnv } from '../../lib/core/killswitch/env';
import { runTrip, type TripDeps } from '../../lib/aws/trip-runner';
import { configuredOnFirstCall, lazyLogger, type Handler, type Log } from '../shared/configure';

export interface TripResult {
  readonly tripped: number;
}

/** A handler over a client and decoded settings. */
export function handlerWith(deps: TripDeps & { readonly logger: Log }): Handler<SNSEvent, TripResult> {
  return async (event) => {
    let tripped = 0;
    for (const record of event.Records) {
      const messageId = record.Sns.MessageId;
      try {
        const r = await runTrip(record.Sns.Message, deps);
        tripped += r.written.length;
        deps.logger.info('trip processed', { messageId, alarm: r.alarm, outcome: r.outcome, written: r.written, unchanged: r.unchanged });
      } catch (e) {
        deps.logger.error('trip failed', { messageId, error: (e as Error).message });
        throw e;
      }
    }
    return { tripped };
  };
}

export interface TripHandlerDeps {
  /** The environment, decoded on the first invocation. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default - a client for the function's region */
  readonly ssm?: SSMClient;
  /** @default - a Powertools Logger named from the service table */
  readonly logger?: Log;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The handler, configured from its environment on the first invocation. */
export function createTripHandler(deps: TripHandlerDeps = {}): Handler<SNSEvent, TripResult> {
  const log = lazyLogger('trip', deps.logger);
  return configuredOnFirstCall(() => {
    const settings = decodeTripEnv(deps.env ?? process.env);
    return handlerWith({ ssm: deps.ssm ?? new SSMClient({}), ...settings, now: deps.now, logger: log() });
  }, log);
}

export const handler = createTripHandler();
