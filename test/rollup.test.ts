/**
 * The scheduled rollup: the plan, the query-to-metric mapping on DuckDB results of the
 * real SQL (queries/*.sql and the repeat-users query) over the sample Parquet
 * (test/support/sample-events.ts documents the scenario), batching within PutMetricData's
 * limits, idempotent reruns, and the failure path. The AWS calls go through the real
 * Athena, CloudWatch and S3 clients to local servers (test/support/*-server.ts); the
 * Athena server runs the SQL it receives on the same DuckDB.
 */
import { GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { metricsNamespace, SERVICE_DIMENSION, SERVICE_OF } from '../lib/core/metrics/dictionary';
import { createRollupHandler, handlerWith } from '../lambdas/rollup/index';
import { rollupEnvFromPolicy } from '../lib/core/rollup/env';
import { explainRollups } from '../lib/core/spec/rollups';
import { datumsFor, sliceFolder, type RollupDatum, type SliceDimensions } from '../lib/core/rollup/metrics';
import { analystsWorkGroupName, catalogDatabaseName } from '../lib/core/rollup/names';
import { loadRollupQueries, planRollup } from '../lib/core/rollup/plan';
import {
  batchMetricData,
  objectKey,
  PUT_METRIC_DATA_LIMITS,
  rollupObjects,
  toMetricDatum,
  type MetricDatum,
} from '../lib/core/rollup/publish';
import { runAthenaQuery } from '../lib/aws/athena';
import { runRollup, type RollupDeps } from '../lib/aws/rollup-runner';
import { policyFrom, shippedPolicyData, variantPolicy } from './support/policy';
import { duckdbEngine, startAthenaServer, type AthenaServer } from './support/athena-server';
import { startCloudWatchServer, type CloudWatchServer } from './support/cloudwatch-server';
import { openSampleLake, type EventsDb, type SampleLake } from './support/duckdb-compat';
import { startS3Server, type S3Server } from './support/s3-server';

const policy = policyFrom(shippedPolicyData());
const slices = policy.slices.dimensions;
const NS = metricsNamespace(policy);
const HOURLY_AT = new Date('2026-11-04T13:20:00Z');
const DAILY_AT = new Date('2026-11-05T00:10:00Z');
const BUCKET = 'copilot-prod-metrics';
/** The rollup's identity on every datum it publishes (the service dimension of its publisher), as a map and as a CloudWatch dimension. */
const SERVICE = { [SERVICE_DIMENSION]: SERVICE_OF.rollup };
const SERVICE_DIM = { Name: SERVICE_DIMENSION, Value: SERVICE_OF.rollup };

let lake: SampleLake | undefined;
let db: EventsDb;

beforeAll(async () => {
  lake = await openSampleLake('llmops-rollup-');
  ({ db } = lake);
});
afterAll(() => lake?.close());

/** Datums of a plan computed straight on DuckDB (no Athena, no runner). */
async function directDatums(schedule: 'hourly' | 'daily', at: Date, s: SliceDimensions = slices): Promise<RollupDatum[]> {
  const out: RollupDatum[] = [];
  for (const q of planRollup(schedule, at).queries) out.push(...datumsFor(q, (await db.rows(q.sql)) as never, s));
  return out;
}

const show = (ds: readonly RollupDatum[]) =>
  ds.map((d) => `${d.metric} ${JSON.stringify(d.dimensions)} ${d.timestamp.toISOString()} ${d.value} ${d.unit}`);

describe('planRollup', () => {
  it('hourly: daily figures for today and yesterday (UTC), stamped at the run hour and at 23:00 of yesterday', () => {
    const p = planRollup('hourly', HOURLY_AT);
    expect(p.periodStart.toISOString()).toBe('2026-11-04T13:00:00.000Z');
    expect(
      p.queries.map((q) => [q.key, q.mapping, Object.fromEntries(Object.entries(q.stamps).map(([d, t]) => [d, t.toISOString()]))]),
    ).toEqual([
      [
        'active-users:2026-11-03..2026-11-04',
        'active-users',
        { '2026-11-04': '2026-11-04T13:00:00.000Z', '2026-11-03': '2026-11-03T23:00:00.000Z' },
      ],
      ['cost-per-successful-task:2026-11-03..2026-11-03', 'daily-cost', { '2026-11-03': '2026-11-03T23:00:00.000Z' }],
      ['cost-per-successful-task:2026-11-04..2026-11-04', 'daily-cost', { '2026-11-04': '2026-11-04T13:00:00.000Z' }],
      ['new-intents:2026-11-03..2026-11-03', 'new-intents', { '2026-11-03': '2026-11-03T23:00:00.000Z' }],
      ['new-intents:2026-11-04..2026-11-04', 'new-intents', { '2026-11-04': '2026-11-04T13:00:00.000Z' }],
    ]);
    // The statements are the decision queries, bound: no marker left.
    for (const q of p.queries) expect(q.sql.replace(/--[^\n]*/g, '')).not.toMatch(/:(start|end)_date\b/);
  });

  it('gives the same plan for any time within the hour, and crosses midnight correctly', () => {
    expect(planRollup('hourly', new Date('2026-11-04T13:00:00Z'))).toEqual(planRollup('hourly', new Date('2026-11-04T13:59:59.999Z')));
    const midnight = planRollup('hourly', new Date('2026-01-01T00:05:00Z'));
    expect(midnight.queries[0]?.key).toBe('active-users:2025-12-31..2026-01-01');
  });

  it('daily: weekly figures over the 7 complete days ending yesterday, stamped at 00:00 of that day', () => {
    const p = planRollup('daily', DAILY_AT);
    expect(p.periodStart.toISOString()).toBe('2026-11-05T00:00:00.000Z');
    expect(p.queries.map((q) => [q.key, Object.values(q.stamps).map((t) => t.toISOString())])).toEqual([
      ['repeat-users:2026-10-29..2026-11-04', ['2026-11-04T00:00:00.000Z']],
    ]);
  });

  it('fails on an unknown schedule or time', () => {
    expect(() => planRollup('weekly' as never, HOURLY_AT)).toThrow('unknown rollup schedule "weekly"; expected hourly or daily');
    expect(() => planRollup('hourly', new Date('nope'))).toThrow('the rollup time is not a valid date');
  });

  it('the repeat-users query has a decision-query header and binds like one', () => {
    const q = loadRollupQueries().get('repeat-users');
    expect(q).toMatchObject({
      id: 'repeat-users',
      bucket: 'adoption',
      parameters: [
        { name: 'start_date', type: 'date' },
        { name: 'end_date', type: 'date' },
      ],
    });
  });
});

describe('query rows to datums (the real SQL on DuckDB over the sample Parquet)', () => {
  it('hourly: active users by tenant, daily cost by intent and tenant, new intents; one dimension set per slice, unlisted values as "other"', async () => {
    expect(show(await directDatums('hourly', HOURLY_AT))).toEqual([
      'ActiveUsersDaily {} 2026-11-03T23:00:00.000Z 6 Count',
      'ActiveUsersDaily {"tenant_id":"amer"} 2026-11-03T23:00:00.000Z 3 Count',
      'ActiveUsersDaily {"tenant_id":"emea"} 2026-11-03T23:00:00.000Z 3 Count',
      'ActiveUsersWeekly {} 2026-11-03T23:00:00.000Z 7 Count',
      'ActiveUsersWeekly {"tenant_id":"amer"} 2026-11-03T23:00:00.000Z 4 Count',
      'ActiveUsersWeekly {"tenant_id":"emea"} 2026-11-03T23:00:00.000Z 3 Count',
      'ActiveUsersDaily {} 2026-11-04T13:00:00.000Z 6 Count',
      'ActiveUsersDaily {"tenant_id":"amer"} 2026-11-04T13:00:00.000Z 3 Count',
      'ActiveUsersDaily {"tenant_id":"emea"} 2026-11-04T13:00:00.000Z 3 Count',
      'ActiveUsersWeekly {} 2026-11-04T13:00:00.000Z 6 Count',
      'ActiveUsersWeekly {"tenant_id":"amer"} 2026-11-04T13:00:00.000Z 3 Count',
      'ActiveUsersWeekly {"tenant_id":"emea"} 2026-11-04T13:00:00.000Z 3 Count',
      // expense_claim (0.02) and travel_booking (0.01) are not in slices.intent.values: "other".
      'DailyCostUsd {} 2026-11-03T23:00:00.000Z 0.843 None',
      'DailyCostUsd {"intent":"hr_request"} 2026-11-03T23:00:00.000Z 0.105 None',
      'DailyCostUsd {"intent":"other"} 2026-11-03T23:00:00.000Z 0.03 None',
      'DailyCostUsd {"intent":"policy_qna"} 2026-11-03T23:00:00.000Z 0.378 None',
      'DailyCostUsd {"intent":"ticket_create"} 2026-11-03T23:00:00.000Z 0.3 None',
      'DailyCostUsd {"intent":"troubleshooting"} 2026-11-03T23:00:00.000Z 0.03 None',
      'DailyCostUsd {"tenant_id":"amer"} 2026-11-03T23:00:00.000Z 0.36 None',
      'DailyCostUsd {"tenant_id":"emea"} 2026-11-03T23:00:00.000Z 0.483 None',
      'DailyCostUsd {} 2026-11-04T13:00:00.000Z 0.764 None',
      'DailyCostUsd {"intent":"hr_request"} 2026-11-04T13:00:00.000Z 0.1 None',
      'DailyCostUsd {"intent":"other"} 2026-11-04T13:00:00.000Z 0.01 None',
      'DailyCostUsd {"intent":"policy_qna"} 2026-11-04T13:00:00.000Z 0.324 None',
      'DailyCostUsd {"intent":"ticket_create"} 2026-11-04T13:00:00.000Z 0.3 None',
      'DailyCostUsd {"intent":"troubleshooting"} 2026-11-04T13:00:00.000Z 0.03 None',
      'DailyCostUsd {"tenant_id":"amer"} 2026-11-04T13:00:00.000Z 0.34 None',
      'DailyCostUsd {"tenant_id":"emea"} 2026-11-04T13:00:00.000Z 0.424 None',
      // travel_booking first appears on 11-03 (last seen 10-01, before the 28-day lookback).
      'NewIntents {} 2026-11-03T23:00:00.000Z 1 Count',
      'NewIntents {} 2026-11-04T13:00:00.000Z 0 Count',
    ]);
  });

  it('daily: repeat users over the week', async () => {
    expect(show(await directDatums('daily', DAILY_AT))).toEqual(['RepeatUsers {} 2026-11-04T00:00:00.000Z 6 Count']);
    // 10-27..11-02: the window's first day and the edge users w and x, each seen on one day only.
    const rows = await db.rows(planRollup('daily', new Date('2026-11-03T01:00:00Z')).queries[0]!.sql);
    expect(rows).toEqual([{ weekly_users: '7', repeat_users: '0' }]);
  });

  it('never publishes a cross product, one datum per (metric, dimensions, timestamp)', async () => {
    const ds = await directDatums('hourly', HOURLY_AT);
    expect(ds.every((d) => Object.keys(d.dimensions).length <= 1)).toBe(true);
    expect(new Set(ds.map((d) => `${d.metric}${JSON.stringify(d.dimensions)}${d.timestamp.getTime()}`)).size).toBe(ds.length);
  });

  it('follows the policy: a slice without a values list admits max_values values in name order; a slice the policy lacks gets no series', async () => {
    const p = variantPolicy((d) => {
      // source stays: the shipped auto-trip's alarm is scoped by it (the rollup publishes no source series)
      d.slices.dimensions = { tenant_id: { max_values: 1 }, source: d.slices.dimensions.source };
    });
    const ds = await directDatums('hourly', HOURLY_AT, p.slices.dimensions);
    const today = ds.filter((d) => d.timestamp.toISOString() === '2026-11-04T13:00:00.000Z' && d.metric === 'DailyCostUsd');
    expect(show(today)).toEqual([
      'DailyCostUsd {} 2026-11-04T13:00:00.000Z 0.764 None',
      'DailyCostUsd {"tenant_id":"amer"} 2026-11-04T13:00:00.000Z 0.34 None',
      'DailyCostUsd {"tenant_id":"other"} 2026-11-04T13:00:00.000Z 0.424 None',
    ]);
    expect(ds.some((d) => 'intent' in d.dimensions)).toBe(false);
  });

  it('folds unlisted and missing slice values into "other"', () => {
    const fold = sliceFolder(slices, 'tenant_id', [])!;
    expect([fold('emea'), fold('mars'), fold(null), fold('')]).toEqual(['emea', 'other', 'other', 'other']);
    expect(sliceFolder(slices, 'model', ['x'])).toBeUndefined();
  });

  it('fails loudly on a row for a day the query was not planned for', () => {
    const q = planRollup('hourly', HOURLY_AT).queries[0]!;
    expect(() =>
      datumsFor(q, [{ activity_date: '2026-11-01', tenant_id: '(all)', daily_active_users: 1, weekly_active_users: 1 }], slices),
    ).toThrow('the active-users rollup got a row for 2026-11-01, outside its days (2026-11-04, 2026-11-03)');
  });
});

describe('PutMetricData batches and S3 objects', () => {
  const datum = (i: number, dims = 1, valueChars = 8): MetricDatum => ({
    MetricName: 'ActiveUsersDaily',
    Dimensions: Array.from({ length: dims }, (_, k) => ({ Name: `d${k}`, Value: `${i}`.padStart(valueChars, 'x') })),
    Timestamp: new Date('2026-11-04T13:00:00Z'),
    Value: i,
    Unit: 'Count',
  });

  it('splits at 1,000 items per call', () => {
    const batches = batchMetricData(Array.from({ length: 2500 }, (_, i) => datum(i)));
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
  });

  it('splits under 1 MB per call, and CloudWatch accepts every batch', async () => {
    // 30 dimensions of 250-character values: about 9 KB per item, so about 110 per call.
    const data = Array.from({ length: 300 }, (_, i) => datum(i, 30, 250));
    const batches = batchMetricData(data);
    expect(batches.length).toBe(3);
    expect(batches.flat()).toEqual(data);
    const cw = await startCloudWatchServer({ now: () => HOURLY_AT.getTime() });
    try {
      for (const b of batches) await cw.client().send(new PutMetricDataCommand({ Namespace: NS, MetricData: b }));
      expect(cw.calls.map((c) => c.error)).toEqual([undefined, undefined, undefined]);
      // Under 1 MB even before the client gzips it (the service limits the gzipped bytes).
      expect(cw.calls.map((c) => [c.gzip, c.jsonBytes <= 1_048_576, c.jsonBytes > 900_000])).toEqual([
        [true, true, true],
        [true, true, true],
        [true, true, false],
      ]);
      expect(cw.datums).toHaveLength(300);
    } finally {
      await cw.close();
    }
  });

  it('fails when a datum has more than 30 dimensions', () => {
    expect(() => batchMetricData([datum(1, 31)])).toThrow('ActiveUsersDaily has 31 dimensions; CloudWatch allows at most 30');
    expect(PUT_METRIC_DATA_LIMITS).toEqual({ maxItems: 1000, maxBytes: 1_000_000, maxDimensions: 30 });
  });

  it('keys the metrics tier by metric, date and hour of the datapoint, one JSON Lines object per (metric, timestamp)', async () => {
    const ds = await directDatums('hourly', HOURLY_AT);
    const objects = rollupObjects(ds);
    expect(objects.map((o) => o.key)).toEqual([
      'rollups/metric=ActiveUsersDaily/dt=2026-11-03/hour=23.json',
      'rollups/metric=ActiveUsersDaily/dt=2026-11-04/hour=13.json',
      'rollups/metric=ActiveUsersWeekly/dt=2026-11-03/hour=23.json',
      'rollups/metric=ActiveUsersWeekly/dt=2026-11-04/hour=13.json',
      'rollups/metric=DailyCostUsd/dt=2026-11-03/hour=23.json',
      'rollups/metric=DailyCostUsd/dt=2026-11-04/hour=13.json',
      'rollups/metric=NewIntents/dt=2026-11-03/hour=23.json',
      'rollups/metric=NewIntents/dt=2026-11-04/hour=13.json',
    ]);
    expect(objects[1]?.body).toBe(
      [
        '{"metric":"ActiveUsersDaily","timestamp":"2026-11-04T13:00:00.000Z","dimensions":{"tenant_id":"amer"},"value":3,"unit":"Count"}',
        '{"metric":"ActiveUsersDaily","timestamp":"2026-11-04T13:00:00.000Z","dimensions":{"tenant_id":"emea"},"value":3,"unit":"Count"}',
        '{"metric":"ActiveUsersDaily","timestamp":"2026-11-04T13:00:00.000Z","dimensions":{},"value":6,"unit":"Count"}',
        '',
      ].join('\n'),
    );
    expect(objectKey('RepeatUsers', new Date('2026-11-04T00:00:00Z'))).toBe('rollups/metric=RepeatUsers/dt=2026-11-04/hour=00.json');
    // CloudWatch datums carry the service dimension beside the slice, in name order; the S3 objects keep the slice alone.
    expect(toMetricDatum(ds[1]!)).toEqual({
      MetricName: 'ActiveUsersDaily',
      Dimensions: [SERVICE_DIM, { Name: 'tenant_id', Value: 'amer' }],
      Timestamp: new Date('2026-11-03T23:00:00Z'),
      Value: 3,
      Unit: 'Count',
      StorageResolution: 60,
    });
  });
});

describe('runRollup through the real SDK clients', () => {
  let athena: AthenaServer;
  let cw: CloudWatchServer;
  let s3: S3Server;
  let clock: number;
  let logs: { message: string; fields: Record<string, unknown> }[];

  beforeEach(async () => {
    athena = await startAthenaServer({
      engine: duckdbEngine(db.connection),
      workGroup: analystsWorkGroupName(policy),
      database: catalogDatabaseName(policy),
    });
    cw = await startCloudWatchServer({ now: () => HOURLY_AT.getTime() });
    s3 = await startS3Server();
    clock = HOURLY_AT.getTime();
    logs = [];
  });
  afterEach(async () => {
    await Promise.all([athena.close(), cw.close(), s3.close()]);
  });

  const deps = (over: Partial<RollupDeps> = {}): RollupDeps => ({
    athena: athena.client(),
    cloudwatch: cw.client(),
    s3: s3.client(),
    namespace: NS,
    workGroup: analystsWorkGroupName(policy),
    database: catalogDatabaseName(policy),
    bucket: BUCKET,
    slices,
    // Virtual time: polls and retry waits advance the clock instead of sleeping.
    sleep: async (ms) => {
      clock += ms;
    },
    athenaOptions: { now: () => clock },
    log: (message, fields) => logs.push({ message, fields }),
    ...over,
  });
  const published = () => cw.callsOf('PutMetricData').flatMap((c) => c.body.MetricData as unknown[]);

  it('runs the positional decision queries with ExecutionParameters in the analysts workgroup and publishes what DuckDB computes, with Athena typing', async () => {
    athena.pageSize = 2; // GetQueryResults pagination: header + 1 row on the first page
    const report = await runRollup('hourly', HOURLY_AT, deps());
    expect(report).toMatchObject({
      schedule: 'hourly',
      periodStart: '2026-11-04T13:00:00.000Z',
      failedQueries: 0,
      datapoints: 30,
      putMetricDataCalls: 1,
    });
    expect(report.queries.map((q) => [q.key, q.status, q.attempts, q.rows])).toEqual([
      ['active-users:2026-11-03..2026-11-04', 'succeeded', 1, 6],
      ['cost-per-successful-task:2026-11-03..2026-11-03', 'succeeded', 1, 6],
      ['cost-per-successful-task:2026-11-04..2026-11-04', 'succeeded', 1, 5],
      ['new-intents:2026-11-03..2026-11-03', 'succeeded', 1, 1],
      ['new-intents:2026-11-04..2026-11-04', 'succeeded', 1, 0],
    ]);
    const planned = planRollup('hourly', HOURLY_AT).queries;
    // On the wire: the `?` form the catalog deploys, one quoted literal per `?` in order...
    expect(athena.callsOf('StartQueryExecution').map((c) => [c.body.QueryString, c.body.ExecutionParameters])).toEqual(
      planned.map((q) => [q.statement.sql, q.statement.executionParameters]),
    );
    expect(athena.callsOf('StartQueryExecution')[0]?.body).toMatchObject({
      WorkGroup: 'copilot-prod-analysts',
      QueryExecutionContext: { Database: 'copilot_prod_telemetry' },
      QueryString: expect.stringMatching(/^-- name: active-users\n/),
      ExecutionParameters: ["'2026-11-03'", "'2026-11-04'", "'2026-11-03'", "'2026-11-04'"],
    });
    for (const q of planned) expect(q.statement.sql.replace(/--[^\n]*/g, ''), q.key).not.toMatch(/:[a-z]/);
    // ...which binds to exactly the statement the local plane runs on DuckDB.
    expect(athena.executions.map((e) => e.boundSql)).toEqual(planned.map((q) => q.sql));
    expect(athena.callsOf('GetQueryResults').length).toBeGreaterThan(5);
    const expected = (await directDatums('hourly', HOURLY_AT))
      .map(toMetricDatum)
      .map((d) => ({ ...d, Timestamp: d.Timestamp!.getTime() / 1000 }));
    expect(published()).toEqual(expected);
    expect(cw.callsOf('PutMetricData')[0]?.body.Namespace).toBe('LLMOps/copilot-prod');
    expect(s3.puts).toEqual(report.objectKeys.map((k) => `${BUCKET}/${k}`));
    expect(s3.objects.get(`${BUCKET}/rollups/metric=NewIntents/dt=2026-11-03/hour=23.json`)).toEqual({
      body: '{"metric":"NewIntents","timestamp":"2026-11-03T23:00:00.000Z","dimensions":{},"value":1,"unit":"Count"}\n',
      contentType: 'application/x-ndjson',
    });
    expect(logs.map((l) => l.message)).toEqual(['rollup finished']);
  });

  it('is idempotent: a rerun of the same hour publishes identical datapoints and overwrites the same keys, so Maximum never double counts', async () => {
    await runRollup('hourly', HOURLY_AT, deps());
    const first = published();
    const firstObjects = new Map(s3.objects);
    await runRollup('hourly', new Date('2026-11-04T13:55:00Z'), deps());
    const all = published();
    expect(all.slice(first.length)).toEqual(first);
    expect(s3.objects).toEqual(firstObjects);
    expect(s3.puts.length).toBe(2 * firstObjects.size);
    expect(new Set(s3.puts).size).toBe(firstObjects.size);

    const read = async (stat: string) => {
      const out = await cw.client().send(
        new GetMetricDataCommand({
          StartTime: new Date('2026-11-04T13:00:00Z'),
          EndTime: new Date('2026-11-04T14:00:00Z'),
          MetricDataQueries: [
            {
              Id: 'm',
              MetricStat: {
                Metric: { Namespace: NS, MetricName: 'ActiveUsersDaily', Dimensions: [SERVICE_DIM] },
                Period: 3600,
                Stat: stat,
              },
            },
          ],
        }),
      );
      return out.MetricDataResults?.[0]?.Values;
    };
    expect(await read('Maximum')).toEqual([6]);
    // What the dashboards must not use: CloudWatch adds up repeated datapoints.
    expect(await read('Sum')).toEqual([12]);
  });

  it('daily: publishes RepeatUsers and writes its object', async () => {
    cw.now = () => DAILY_AT.getTime();
    const report = await runRollup('daily', DAILY_AT, deps());
    expect(published()).toEqual([
      {
        MetricName: 'RepeatUsers',
        Dimensions: [SERVICE_DIM],
        Timestamp: Date.parse('2026-11-04T00:00:00Z') / 1000,
        Value: 6,
        Unit: 'Count',
        StorageResolution: 60,
      },
    ]);
    expect(report.objectKeys).toEqual(['rollups/metric=RepeatUsers/dt=2026-11-04/hour=00.json']);
  });

  const todaysCost = (sql: string) =>
    sql.startsWith('-- name: cost-per-successful-task') && sql.includes("dt BETWEEN '2026-11-04' AND '2026-11-04'");

  it('retries a failed query and publishes its figures when a retry succeeds', async () => {
    athena.failQueries(todaysCost, { times: 2, reason: 'HIVE_CURSOR_ERROR: injected' });
    const report = await runRollup('hourly', HOURLY_AT, deps());
    const q = report.queries.find((x) => x.key === 'cost-per-successful-task:2026-11-04..2026-11-04');
    expect(q).toMatchObject({ status: 'succeeded', attempts: 3, rows: 5 });
    expect(q?.queryExecutionIds).toHaveLength(3);
    expect(report.failedQueries).toBe(0);
    expect(cw.datumsOf('RollupFailures')).toEqual([]);
    expect(logs.filter((l) => l.message === 'rollup query attempt failed').map((l) => [l.fields.attempt, l.fields.reason])).toEqual([
      [1, expect.stringMatching(/FAILED: HIVE_CURSOR_ERROR: injected$/)],
      [2, expect.stringMatching(/FAILED: HIVE_CURSOR_ERROR: injected$/)],
    ]);
  });

  it('surfaces a query that keeps failing as RollupFailures (per query and in total), and still publishes the other figures', async () => {
    athena.failQueries(todaysCost, { times: 3 });
    const report = await runRollup('hourly', HOURLY_AT, deps());
    expect(report.failedQueries).toBe(1);
    expect(report.queries.find((x) => x.status === 'failed')).toMatchObject({
      key: 'cost-per-successful-task:2026-11-04..2026-11-04',
      attempts: 3,
      error: expect.stringContaining('GENERIC_INTERNAL_ERROR'),
    });
    const at = Date.parse('2026-11-04T13:00:00Z');
    expect(cw.datumsOf('RollupFailures', SERVICE).map((d) => [d.timestamp, d.values])).toEqual([[at, [1]]]);
    expect(cw.datumsOf('RollupFailures', { ...SERVICE, Query: 'cost-per-successful-task' }).map((d) => [d.timestamp, d.values])).toEqual([
      [at, [1]],
    ]);
    expect(cw.datumsOf('DailyCostUsd', SERVICE).map((d) => new Date(d.timestamp).toISOString())).toEqual(['2026-11-03T23:00:00.000Z']);
    expect(cw.datumsOf('ActiveUsersDaily', SERVICE)).toHaveLength(2);
    // Every datapoint, figures and failures alike, carries the rollup's service dimension.
    expect(cw.datums.length).toBeGreaterThan(0);
    expect(cw.datums.filter((d) => d.dimensions[SERVICE_DIMENSION] !== SERVICE_OF.rollup)).toEqual([]);
    expect(s3.puts).not.toContain(`${BUCKET}/rollups/metric=DailyCostUsd/dt=2026-11-04/hour=13.json`);
    expect(logs.at(-1)).toEqual({
      message: 'rollup finished with failed queries',
      fields: expect.objectContaining({ failedQueries: ['cost-per-successful-task'] }),
    });
  });

  it('runAthenaQuery sends ExecutionParameters only with a positional statement; a count that does not match the ? fails the query', async () => {
    const opts = { workGroup: analystsWorkGroupName(policy), database: catalogDatabaseName(policy), sleep: async () => {} };
    const plain = await runAthenaQuery(athena.client(), "SELECT count(*) AS n FROM events WHERE dt = '2026-11-02'", opts);
    const positional = await runAthenaQuery(
      athena.client(),
      { sql: 'SELECT count(*) AS n FROM events WHERE dt = ?', executionParameters: ["'2026-11-02'"] },
      opts,
    );
    expect(positional.rows).toEqual(plain.rows);
    expect(plain.rows[0]?.n).toBeGreaterThan(0);
    expect(athena.callsOf('StartQueryExecution').map((c) => c.body.ExecutionParameters)).toEqual([undefined, ["'2026-11-02'"]]);
    await expect(
      runAthenaQuery(
        athena.client(),
        { sql: 'SELECT 1 FROM events WHERE dt BETWEEN ? AND ?', executionParameters: ["'2026-11-02'"] },
        opts,
      ),
    ).rejects.toThrow(/FAILED: INVALID_PARAMETER_USAGE: the query has 2 \? parameter\(s\) but 1 ExecutionParameters were given/);
  });

  it('stops a query that outlives its deadline and counts it as a failure', async () => {
    athena.hangQueries((sql) => sql.startsWith('-- name: new-intents'));
    const report = await runRollup('hourly', HOURLY_AT, deps({ maxAttempts: 2, athenaOptions: { now: () => clock, deadlineMs: 60_000 } }));
    expect(report.queries.filter((q) => q.status === 'failed').map((q) => [q.queryId, q.attempts, q.error])).toEqual([
      ['new-intents', 2, expect.stringMatching(/still RUNNING after 60000 ms; stopped$/)],
      ['new-intents', 2, expect.stringMatching(/still RUNNING after 60000 ms; stopped$/)],
    ]);
    expect(athena.callsOf('StopQueryExecution')).toHaveLength(4);
    expect(athena.executions.filter((e) => e.state === 'CANCELLED')).toHaveLength(4);
    expect(cw.datumsOf('RollupFailures', { ...SERVICE, Query: 'new-intents' })[0]?.values).toEqual([2]);
    expect(cw.datumsOf('RollupFailures', SERVICE)[0]?.values).toEqual([2]);
  });

  it('retries when the Athena API itself errors (throttled start)', async () => {
    athena.failNext({ operation: 'StartQueryExecution', type: 'TooManyRequestsException', message: 'Rate exceeded', times: 1 });
    const report = await runRollup('hourly', HOURLY_AT, deps());
    expect(report.failedQueries).toBe(0);
    expect(report.queries.map((q) => q.attempts).sort()).toEqual([1, 1, 1, 1, 2]);
  });

  it('throws (the invocation fails, never silently) when CloudWatch refuses the datapoints', async () => {
    cw.failNext({ operation: 'PutMetricData', code: 'AccessDenied', status: 403, message: 'not authorized' });
    await expect(runRollup('hourly', HOURLY_AT, deps())).rejects.toThrow('not authorized');
    expect(s3.puts).toEqual([]);
  });

  it('throws when the metrics tier cannot be written', async () => {
    s3.failNext({ code: 'AccessDenied', status: 403 });
    await expect(runRollup('hourly', HOURLY_AT, deps())).rejects.toThrow(/AccessDenied|injected/);
  });

  it('the Lambda handler runs the schedule of its event at the event time, and logs ids and counts only', async () => {
    const lines: string[] = [];
    const handler = handlerWith({ ...deps(), log: (message, fields) => lines.push(JSON.stringify({ message, ...fields })) });
    const out = await handler({ schedule: 'hourly', time: '2026-11-04T13:00:05Z' });
    expect(out).toMatchObject({ schedule: 'hourly', periodStart: '2026-11-04T13:00:00.000Z', failedQueries: 0, datapoints: 30 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/policy_qna|emea|amer|SELECT/);
    await expect(handler({ schedule: 'monthly' } as never)).rejects.toThrow(
      'rollup event: schedule is "monthly"; expected hourly or daily',
    );
    await expect(handler({ schedule: 'daily', time: 'soon' })).rejects.toThrow('rollup event: time is "soon"; expected an ISO 8601 time');
  });

  it('fails when the rollup environment is incomplete: on the first invocation, naming each variable, before any query', async () => {
    const logged: unknown[] = [];
    const logger = { info: () => undefined, error: (...a: unknown[]) => void logged.push(a) };
    const clients = { athena: athena.client(), cloudwatch: cw.client(), s3: s3.client() };
    const env: Record<string, string | undefined> = { NAMESPACE: NS, WORKGROUP: analystsWorkGroupName(policy) };
    const handler = createRollupHandler({ ...clients, env, logger });
    const message = [
      'DATABASE is not set; expected the name of the Glue database of the telemetry tables',
      'METRICS_BUCKET is not set; expected the name of the metrics-tier S3 bucket',
      'SLICES is not set; expected the policy\'s slices.dimensions as JSON, such as {"intent":{"max_values":8}}',
    ].join('\n');
    await expect(handler({ schedule: 'hourly', time: '2026-11-04T13:00:05Z' })).rejects.toThrow(message);
    expect(logged).toEqual([['configuration failed', { error: message }]]);
    expect(athena.executions).toEqual([]);
    // The environment the construct writes configures the next invocation, which then checks its event.
    Object.assign(
      env,
      rollupEnvFromPolicy(policy, {
        workGroup: analystsWorkGroupName(policy),
        database: catalogDatabaseName(policy),
        metricsBucket: BUCKET,
      }),
    );
    await expect(handler({ schedule: 'monthly' } as never)).rejects.toThrow(
      'rollup event: schedule is "monthly"; expected hourly or daily',
    );
    expect(logged).toHaveLength(1);
  });
});

describe('explainRollups', () => {
  it('says what runs when, with which slices, to read with Maximum, where the aggregates live and what a failure does', () => {
    const md = explainRollups(policy);
    expect(md.startsWith('## Scheduled rollups\n')).toBe(true);
    expect(md).toContain('| hourly | DailyCostUsd | cost-per-successful-task | `intent`, `tenant_id` |');
    expect(md).toContain('**Read them with `Maximum`.**');
    expect(md).toContain('`rollups/metric=<name>/dt=<YYYY-MM-DD>/hour=<HH>.json` in the metrics bucket (JSON Lines), kept 365d');
    expect(md).toContain('`copilot-prod-rollup-failures`');
    const noTenant = variantPolicy((d) => {
      delete d.slices.dimensions.tenant_id;
    });
    expect(explainRollups(noTenant)).toContain('| ActiveUsersDaily, ActiveUsersWeekly | active-users | none |');
  });
});
