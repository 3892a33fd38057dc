/**
 * Rollup Lambda: invoked by the hourly and daily EventBridge schedules with
 * `{ "schedule": "hourly" | "daily", "time": "<scheduled time>" }`; runs that rollup
 * (lib/rollup/runner.ts) for the hour or day of `time` (a retry, or a manual rerun with
 * the same time, recomputes the same period: idempotent). Thin: parse, run, log.
 *
 * Environment: NAMESPACE (metrics namespace), WORKGROUP (analysts workgroup), DATABASE
 * (Glue database), METRICS_BUCKET (metrics tier), SLICES (the policy's
 * slices.dimensions, JSON). Logs query keys, ids, counts and reasons only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import type { SliceDimensions } from '../../lib/core/rollup/metrics';
import { ROLLUP_SCHEDULES, type RollupSchedule } from '../../lib/core/rollup/plan';
import { runRollup, type RollupDeps, type RollupReport } from '../../lib/aws/rollup-runner';

export interface RollupEvent {
  readonly schedule: RollupSchedule;
  /** The scheduled time (EventBridge `$.time`). @default - now */
  readonly time?: string;
}

/** A handler over the given clients and settings (the tests pass local endpoints). */
export function handlerWith(deps: RollupDeps): (event: RollupEvent) => Promise<RollupReport> {
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

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; the rollup construct sets it`);
  return v;
}

let configured: ((event: RollupEvent) => Promise<RollupReport>) | undefined;

/** Configured on first use, so a bad environment fails the invocation with a clear message. */
export async function handler(event: RollupEvent): Promise<RollupReport> {
  if (!configured) {
    const logger = new Logger();
    configured = handlerWith({
      athena: new AthenaClient({}),
      cloudwatch: new CloudWatchClient({}),
      s3: new S3Client({}),
      namespace: required('NAMESPACE'),
      workGroup: required('WORKGROUP'),
      database: required('DATABASE'),
      bucket: required('METRICS_BUCKET'),
      slices: JSON.parse(required('SLICES')) as SliceDimensions,
      log: (message, fields) => (message.includes('fail') ? logger.error(message, fields) : logger.info(message, fields)),
    });
  }
  return configured(event);
}
