/**
 * Rollup Lambda: invoked by the hourly and daily EventBridge schedules with
 * `{ "schedule": "hourly" | "daily", "time": "<scheduled time>" }`; runs that rollup
 * (lib/aws/rollup-runner.ts) for the hour or day of `time` (a retry, or a manual rerun with
 * the same time, recomputes the same period: idempotent). Thin: parse, run, log.
 *
 * Environment (lib/core/rollup/env.ts): NAMESPACE (metrics namespace), WORKGROUP
 * (analysts workgroup), DATABASE (Glue database), METRICS_BUCKET (metrics tier), SLICES
 * (the policy's slices.dimensions, JSON), decoded on the first invocation. Logs query
 * keys, ids, counts and reasons only.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { decodeRollupEnv } from '../../lib/core/rollup/env';
import { ROLLUP_SCHEDULES, type RollupSchedule } from '../../lib/core/rollup/plan';
import { runRollup, type RollupDeps, type RollupReport } from '../../lib/aws/rollup-runner';
import { configuredOnFirstCall, lazyLogger, type Handler, type Log } from '../shared/configure';

export interface RollupEvent {
  readonly schedule: RollupSchedule;
  /** The scheduled time (EventBridge `$.time`). @default - now */
  readonly time?: string;
}

/** A handler over the given clients and settings (the tests pass local endpoints). */
export function handlerWith(deps: RollupDeps): Handler<RollupEvent, RollupReport> {
  return async (event) => {
    if (!ROLLUP_SCHEDULES.includes(event?.schedule)) {
      throw new Error(`rollup event: schedule is ${JSON.stringify(event?.schedule)}; expected ${ROLLUP_SCHEDULES.join(' or ')}`);
    }
    const now = event.time === undefined ? new Date() : new Date(event.time);
    if (Number.isNaN(now.getTime()) || !/^\d{4}-\d\d-\d\dT/.test(event.time ?? now.toISOString())) {
      throw new Error(`rollup event: time is ${JSON.stringify(event.time)}; expected an ISO 8601 time`);
    }
    return runRollup(event.schedule, now, deps);
  };
}

export interface RollupHandlerDeps extends Partial<Pick<RollupDeps, 'athena' | 'cloudwatch' | 's3'>> {
  /** The environment, decoded on the first invocation. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default - a Powertools Logger named from the service table */
  readonly logger?: Log;
}

/** The handler, configured from its environment on the first invocation. */
export function createRollupHandler(deps: RollupHandlerDeps = {}): Handler<RollupEvent, RollupReport> {
  const log = lazyLogger('rollup', deps.logger);
  return configuredOnFirstCall(() => {
    const settings = decodeRollupEnv(deps.env ?? process.env);
    const logger = log();
    return handlerWith({
      athena: deps.athena ?? new AthenaClient({}),
      cloudwatch: deps.cloudwatch ?? new CloudWatchClient({}),
      s3: deps.s3 ?? new S3Client({}),
      ...settings,
      log: (message, fields) => (message.includes('fail') ? logger.error(message, fields) : logger.info(message, fields)),
    });
  }, log);
}

export const handler = createRollupHandler();
