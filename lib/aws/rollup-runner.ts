/**
 * One rollup run: plan the queries for the schedule, run each in the analysts workgroup
 * (retried a bounded number of times), turn the rows into datapoints, publish them with
 * PutMetricData (batched within the limits) and write the aggregates to the metrics tier.
 *
 * A query that still fails after its attempts is never silent: it is counted as
 * RollupFailures (with its `Query`, and in total, which a ticket alarm watches) and
 * logged; the other queries' figures are still published. A failure to publish or to
 * write the metrics tier throws, so the Lambda invocation fails (its Errors metric) and
 * EventBridge's asynchronous retries run it again: reruns are idempotent.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { runAthenaQuery, type AthenaQueryOptions } from './athena';
import { assertOnePerKey, datumsFor, type RollupDatum, type SliceDimensions } from '../core/rollup/metrics';
import { planRollup, type PlannedQuery, type RollupSchedule } from '../core/rollup/plan';
import { batchMetricData, failureDatums, rollupObjects, toMetricDatum } from '../core/rollup/publish';

export interface RollupDeps {
  readonly athena: AthenaClient;
  readonly cloudwatch: CloudWatchClient;
  readonly s3: S3Client;
  /** The stack's metrics namespace (`metricsNamespace(policy)`). */
  readonly namespace: string;
  readonly workGroup: string;
  readonly database: string;
  /** The metrics-tier bucket. */
  readonly bucket: string;
  /** The policy's `slices.dimensions`. */
  readonly slices: SliceDimensions;
  /** Attempts per query. @default 3 */
  readonly maxAttempts?: number;
  /** Wait before the second attempt, doubled after each. @default 2000 ms */
  readonly retryDelayMs?: number;
  /** Polling and deadline of each attempt. @default - deadline ROLLUP_ATTEMPT_DEADLINE_MS */
  readonly athenaOptions?: Pick<AthenaQueryOptions, 'pollInitialMs' | 'pollMaxMs' | 'deadlineMs' | 'now'>;
  /** @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Ids, counts and reasons only. @default - no logging */
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface QueryReport {
  readonly key: string;
  readonly queryId: string;
  readonly status: 'succeeded' | 'failed';
  readonly attempts: number;
  readonly rows: number;
  readonly queryExecutionIds: readonly string[];
  readonly error?: string;
}

export interface RollupReport {
  readonly schedule: RollupSchedule;
  readonly periodStart: string;
  readonly queries: readonly QueryReport[];
  /** Datapoints published, failures included. */
  readonly datapoints: number;
  readonly putMetricDataCalls: number;
  readonly objectKeys: readonly string[];
  readonly failedQueries: number;
}

/** Default deadline of one query attempt: 3 attempts and their waits fit the Lambda's 15 minutes. */
export const ROLLUP_ATTEMPT_DEADLINE_MS = 180_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function runWithRetries(q: PlannedQuery, deps: RollupDeps): Promise<{ report: QueryReport; datums: RollupDatum[] }> {
  const max = Math.max(1, deps.maxAttempts ?? 3);
  const sleep = deps.sleep ?? defaultSleep;
  const ids: string[] = [];
  let delay = deps.retryDelayMs ?? 2000;
  let lastError = '';
  for (let attempt = 1; attempt <= max; attempt++) {
    try {
      const out = await runAthenaQuery(deps.athena, q.statement, {
        deadlineMs: ROLLUP_ATTEMPT_DEADLINE_MS,
        ...deps.athenaOptions,
        workGroup: deps.workGroup,
        database: deps.database,
        sleep,
      });
      ids.push(out.queryExecutionId);
      const datums = datumsFor(q, out.rows, deps.slices);
      return {
        report: { key: q.key, queryId: q.queryId, status: 'succeeded', attempts: attempt, rows: out.rows.length, queryExecutionIds: ids },
        datums,
      };
    } catch (e) {
      const id = (e as { queryExecutionId?: string }).queryExecutionId;
      if (id) ids.push(id);
      lastError = (e as Error).message ?? String(e);
      deps.log?.('rollup query attempt failed', { query: q.key, attempt, of: max, queryExecutionId: id, reason: lastError });
      if (attempt < max) {
        await sleep(delay);
        delay *= 2;
      }
    }
  }
  return {
    report: { key: q.key, queryId: q.queryId, status: 'failed', attempts: max, rows: 0, queryExecutionIds: ids, error: lastError },
    datums: [],
  };
}

export async function runRollup(schedule: RollupSchedule, now: Date, deps: RollupDeps): Promise<RollupReport> {
  const plan = planRollup(schedule, now);
  const results = await Promise.all(plan.queries.map((q) => runWithRetries(q, deps)));
  const datums = results.flatMap((r) => r.datums);
  assertOnePerKey(datums);
  const failed = results.filter((r) => r.report.status === 'failed').map((r) => r.report.queryId);

  const data = [...datums, ...failureDatums(failed, plan.periodStart)].map(toMetricDatum);
  const batches = batchMetricData(data);
  for (const batch of batches) {
    await deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: deps.namespace, MetricData: batch }));
  }
  const objects = rollupObjects(datums);
  for (const o of objects) {
    await deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: o.key, Body: o.body, ContentType: 'application/x-ndjson' }));
  }
  const report: RollupReport = {
    schedule,
    periodStart: plan.periodStart.toISOString(),
    queries: results.map((r) => r.report),
    datapoints: data.length,
    putMetricDataCalls: batches.length,
    objectKeys: objects.map((o) => o.key),
    failedQueries: failed.length,
  };
  deps.log?.(failed.length ? 'rollup finished with failed queries' : 'rollup finished', {
    schedule,
    periodStart: report.periodStart,
    queries: results.length,
    failedQueries: failed,
    datapoints: report.datapoints,
    putMetricDataCalls: report.putMetricDataCalls,
    objects: objects.length,
  });
  return report;
}
