/**
 * Trip Lambda: subscribed to the page topic; flips the kill switches that the policy's
 * `auto_trips` maps to an alarm entering ALARM. A thin handler over
 * `lib/killswitch/trip.ts` (pure core) and `lib/killswitch/trip-runner.ts`.
 *
 * Environment: `SWITCH_PREFIX` (the parameter path), `TRIP_MAP` (JSON: alarm name to
 * `[{ ref, set }]`). Logs alarm names, switch refs and counts only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { SNSEvent } from 'aws-lambda';
import { parseTripMap } from '../../lib/core/killswitch/trip';
import { runTrip } from '../../lib/aws/trip-runner';

const logger = new Logger();
const ssm = new SSMClient({});
const prefix = process.env.SWITCH_PREFIX ?? '';
// A misconfigured function fails at cold start, loudly, rather than tripping nothing.
if (!prefix.startsWith('/'))
  throw new Error(`SWITCH_PREFIX is ${JSON.stringify(prefix)}; expected a parameter path such as /copilot/prod/kill-switches`);
const map = parseTripMap(process.env.TRIP_MAP);

export async function handler(event: SNSEvent): Promise<{ tripped: number }> {
  let tripped = 0;
  for (const record of event.Records) {
    const messageId = record.Sns.MessageId;
    try {
      const r = await runTrip(record.Sns.Message, { ssm, prefix, map });
      tripped += r.written.length;
      logger.info('trip processed', { messageId, alarm: r.alarm, outcome: r.outcome, written: r.written, unchanged: r.unchanged });
    } catch (e) {
      logger.error('trip failed', { messageId, error: (e as Error).message });
      throw e;
    }
  }
  return { tripped };
}
