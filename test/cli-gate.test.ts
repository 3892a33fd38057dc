/**
 * `llmops gate` end to end: the real CloudWatchClient against the local CloudWatch
 * server (test/support/cloudwatch-server.ts), metrics seeded with PutMetricData as the
 * ingest would publish them (one dimension set per slice, beside the ingest's service
 * dimension: `{ service: 'ingest', prompt_version: 'pv-2' }`; P0Events with the service
 * dimension alone). The command runs with the error handling of `llmops` (lib/cli/main.ts).
 */
import { PutMetricDataCommand, type Dimension, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SERVICE_DIMENSION, SERVICE_OF } from '../lib/core/metrics/dictionary';
import { GATE_HELP } from '../lib/cli/gate';
import { shippedPolicyData } from './support/policy';
import { duckdbEngine, startAthenaServer } from './support/athena-server';
import { startCloudWatchServer, type CloudWatchServer } from './support/cloudwatch-server';
import { openEventsDb } from './support/duckdb-compat';
import { runLlmops } from './support/cli';
import { buildSampleEvents, writeEventsParquet } from './support/sample-events';

const NS = 'LLMOps/copilot-prod';
const NOW = '2026-11-04T12:00:00Z';
const IN_WINDOW = new Date('2026-11-04T11:30:00Z');
/** The ingest's identity on every metric it publishes (Powertools' service dimension). */
const INGEST: Dimension = { Name: SERVICE_DIMENSION, Value: SERVICE_OF.ingest };

let server: CloudWatchServer;

beforeEach(async () => {
  server = await startCloudWatchServer({ now: () => Date.parse(NOW) });
});
afterEach(async () => {
  await server.close();
});

function run(args: string[], opts: { endpoint?: boolean | string } = {}) {
  const endpoint = opts.endpoint === false ? [] : ['--endpoint', typeof opts.endpoint === 'string' ? opts.endpoint : server.endpoint];
  return runLlmops(['gate', ...args, ...endpoint], server.env);
}

interface Traffic {
  requests: number;
  errors?: number;
  refusals?: number;
  toolTasks?: number;
  toolSuccesses?: number;
  /** Latency values (ms) of the requests. */
  latencies?: number[];
}

/**
 * Publishes a version's metrics as the ingest transform would: one datum per metric with
 * `{ service: 'ingest', prompt_version }`. `identity` replaces the service dimension (`[]`:
 * none, as a publisher without the ingest's identity would).
 */
async function seed(version: string, t: Traffic, at: Date = IN_WINDOW, identity: readonly Dimension[] = [INGEST]): Promise<void> {
  const dims = [...identity, { Name: 'prompt_version', Value: version }];
  const count = (MetricName: string, Value: number): MetricDatum => ({ MetricName, Dimensions: dims, Timestamp: at, Value, Unit: 'Count' });
  const data: MetricDatum[] = [
    count('Requests', t.requests),
    count('Errors', t.errors ?? 0),
    count('Refusals', t.refusals ?? 0),
    count('ToolTasks', t.toolTasks ?? 0),
    count('ToolTaskSuccesses', t.toolSuccesses ?? 0),
  ];
  if (t.latencies?.length) data.push({ MetricName: 'Latency', Dimensions: dims, Timestamp: at, Values: t.latencies, Unit: 'Milliseconds' });
  await server.client().send(new PutMetricDataCommand({ Namespace: NS, MetricData: data }));
}

/** Publishes P0Events as the ingest would: the service dimension alone (no version). */
async function seedP0(n: number, at: Date = IN_WINDOW, identity: readonly Dimension[] = [INGEST]): Promise<void> {
  await server.client().send(
    new PutMetricDataCommand({
      Namespace: NS,
      MetricData: [{ MetricName: 'P0Events', Dimensions: [...identity], Timestamp: at, Value: n, Unit: 'Count' }],
    }),
  );
}

/** 100 latency values 1..100 x `scale` ms: p95 is 95 x scale. */
const latencies = (scale: number) => Array.from({ length: 100 }, (_, i) => (i + 1) * scale);
const healthy = (over: Partial<Traffic> = {}): Traffic => ({
  requests: 1000,
  errors: 10,
  refusals: 20,
  toolTasks: 100,
  toolSuccesses: 98,
  latencies: latencies(20),
  ...over,
});

const ARGS = ['--baseline', 'pv-1', '--canary', 'pv-2', '--now', NOW];

describe('llmops gate (CloudWatch)', () => {
  it('passes (exit 0) with the full table when the canary matches the baseline', async () => {
    await seed('pv-1', healthy());
    await seed('pv-2', healthy({ errors: 15, latencies: latencies(21) }));
    const r = await run(ARGS);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Gate: prompt_version pv-2 (canary) vs pv-1 (baseline), cloudwatch, 2026-11-04T11:00:00.000Z to 2026-11-04T12:00:00.000Z (1h)',
        '',
        'METRIC             SLICE  BASELINE (pv-1)  CANARY (pv-2)  TOLERANCE  VERDICT',
        'p0_events          all    0                0              0          pass',
        'requests           all    1000             1000           >= 200     pass',
        'error_rate         all    1%               1.5%           +1 pp      pass',
        'p95_latency        all    1900 ms          1995 ms        +15%       pass',
        'refusal_rate       all    2%               2%             +2 pp      pass',
        'tool_failure_rate  all    2%               2%             +1 pp      pass',
        '',
        'Verdict: PASS (exit 0) for prompt_version pv-2 against pv-1.',
        'note: P0Events has no version dimension: every P0 event in the window counts against the canary. Confirm with --source athena, which attributes each P0 request to its version.',
        'note: slices.dimensions.prompt_version has no values list: each ingest instance gives its first 4 versions their own series and counts later ones as "other"; list the versions to be sure both have series.',
        'note: Compared as a whole: CloudWatch has one dimension set per slice, never prompt_version x tenant_id/user_role/intent/tool_path/source. Per-intent comparison: --source athena (the canary-vs-baseline query).',
        '',
      ].join('\n'),
    );
  });

  it('asks CloudWatch for both versions by the ingest service and the gate dimension, rates as metric math, one period spanning the window', async () => {
    await run(ARGS);
    const [call] = server.callsOf('GetMetricData');
    expect(call?.signed).toBe(true);
    expect(call?.body.StartTime).toBe(Date.parse('2026-11-04T11:00:00Z') / 1000);
    expect(call?.body.EndTime).toBe(Date.parse(NOW) / 1000);
    const queries = call?.body.MetricDataQueries as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] }; Period: number; Stat: string };
      ReturnData: boolean;
    }[];
    const byId = Object.fromEntries(queries.map((q) => [q.Id, q]));
    expect(byId.c_error_rate?.Expression).toBe('IF(c_requests > 0, 100 * c_errors / c_requests)');
    expect(byId.b_refusal_rate?.Expression).toBe('IF(b_requests > 0, 100 * b_refusals / b_requests)');
    expect(byId.c_tool_failure_rate?.Expression).toBe('IF(c_tooltasks > 0, 100 - 100 * c_tooltasksuccesses / c_tooltasks)');
    expect(byId.c_p95_latency?.MetricStat).toEqual({
      Metric: { Namespace: NS, MetricName: 'Latency', Dimensions: [INGEST, { Name: 'prompt_version', Value: 'pv-2' }] },
      Period: 3600,
      Stat: 'p95',
    });
    expect(byId.b_errors).toMatchObject({
      ReturnData: false,
      MetricStat: { Stat: 'Sum', Metric: { MetricName: 'Errors', Dimensions: [INGEST, { Name: 'prompt_version', Value: 'pv-1' }] } },
    });
    expect(byId.p0_events?.MetricStat?.Metric.Dimensions).toEqual([INGEST]);
    // Every metric read is an ingest metric: each carries the ingest's service dimension.
    const stats = queries.filter((q) => q.MetricStat);
    expect(stats.length).toBeGreaterThan(0);
    expect(
      stats.filter(
        (q) => !(q.MetricStat!.Metric.Dimensions as Dimension[]).some((d) => d.Name === INGEST.Name && d.Value === INGEST.Value),
      ),
    ).toEqual([]);
  });

  it('fails (exit 1) on a P0 event in the window, naming the metric and slice', async () => {
    await seed('pv-1', healthy());
    await seed('pv-2', healthy());
    await seedP0(1);
    const r = await run(ARGS);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('p0_events          all    1                1              0          fail\n');
    expect(r.stdout).toContain(
      'Verdict: FAIL (exit 1) for prompt_version pv-2 against pv-1.\n  decided by p0_events in slice all: 1 P0 event(s) in the window across all versions',
    );
  });

  it.each([
    ['error_rate', { errors: 25 }, 'canary error rate 2.5% exceeds the baseline 1% plus +1 pp (limit 2%)'],
    ['p95_latency', { latencies: latencies(24) }, 'canary p95 latency 2280 ms exceeds the baseline 1900 ms plus +15% (limit 2185 ms)'],
    ['refusal_rate', { refusals: 50 }, 'canary refusal rate 5% exceeds the baseline 2% plus +2 pp (limit 4%)'],
    ['tool_failure_rate', { toolSuccesses: 96 }, 'canary tool failure rate 4% exceeds the baseline 2% plus +1 pp (limit 3%)'],
  ] as const)('fails (exit 1) when %s degrades beyond its tolerance, and says so', async (metric, over, reason) => {
    await seed('pv-1', healthy());
    await seed('pv-2', healthy(over));
    const r = await run(ARGS);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`  decided by ${metric} in slice all: ${reason}\n`);
    expect(r.stdout.match(/decided by/g)).toHaveLength(1);
  });

  it('is inconclusive (exit 3) when the canary has too little traffic, even with a higher error rate', async () => {
    await seed('pv-1', healthy());
    await seed('pv-2', healthy({ requests: 150, errors: 30 }));
    const r = await run(ARGS);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('requests           all    1000             150            >= 200     inconclusive\n');
    expect(r.stdout).toContain('decided by requests in slice all: too few requests to judge (canary 150; at least 200 each)');
  });

  it('is inconclusive (exit 3) when nothing was published for the versions', async () => {
    const r = await run(ARGS);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Verdict: INCONCLUSIVE (exit 3)');
  });

  it("reads the ingest's metrics only: the same traffic without the service dimension is no data (exit 3)", async () => {
    // Metrics without the ingest's identity are other series to CloudWatch (an exact dimension-set match):
    // a reader that left out the service dimension would pass on these, and fail on the P0 event.
    await seed('pv-1', healthy(), IN_WINDOW, []);
    await seed('pv-2', healthy(), IN_WINDOW, []);
    await seedP0(1, IN_WINDOW, []);
    const r = await run(ARGS);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('p0_events          all    0                0              0          pass\n');
    expect(r.stdout).toContain('requests           all    0                0              >= 200     inconclusive\n');
    expect(r.stdout).toContain('Verdict: INCONCLUSIVE (exit 3)');
    // The same traffic with the service dimension is read, and passes.
    await seed('pv-1', healthy());
    await seed('pv-2', healthy());
    expect((await run(ARGS)).code).toBe(0);
  });

  it('reads only the window: datapoints before it do not count', async () => {
    await seed('pv-1', healthy());
    await seed('pv-2', healthy());
    await seed('pv-2', healthy({ errors: 900 }), new Date('2026-11-04T10:59:00Z'));
    await seedP0(3, new Date('2026-11-04T10:00:00Z'));
    expect((await run(ARGS)).code).toBe(0);
    // A 2h window takes them in.
    expect((await run([...ARGS, '--window', '2h'])).code).toBe(1);
  });

  it('--json prints the verdict, the rows and what decided, for machines', async () => {
    await seed('pv-1', healthy());
    await seed('pv-2', healthy({ refusals: 50 }));
    const r = await run([...ARGS, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      verdict: 'fail',
      exit_code: 1,
      dimension: 'prompt_version',
      baseline: 'pv-1',
      canary: 'pv-2',
      source: 'cloudwatch',
      window: { duration: '1h', start: '2026-11-04T11:00:00.000Z', end: '2026-11-04T12:00:00.000Z' },
      gates: { min_requests: 200, tolerances: { error_rate_pp: 1, p95_latency_pct: 15, refusal_rate_pp: 2, tool_failure_rate_pp: 1 } },
      summary: 'fail: refusal_rate in slice all',
    });
    expect(j.rows).toHaveLength(6);
    expect(j.decided_by).toEqual([
      {
        metric: 'refusal_rate',
        slice: 'all',
        baseline: 2,
        canary: 5,
        tolerance: '+2 pp',
        verdict: 'fail',
        reason: 'canary refusal rate 5% exceeds the baseline 2% plus +2 pp (limit 4%)',
      },
    ]);
    expect(j.notes).toHaveLength(3);
  });

  it('exits 1 (never a silent pass) when CloudWatch cannot be read', async () => {
    server.failNext({
      operation: 'GetMetricData',
      code: 'AccessDenied',
      message: 'not authorized to perform cloudwatch:GetMetricData',
      status: 403,
    });
    const r = await run(ARGS);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'llmops gate: cannot read the metrics: AccessDenied: not authorized to perform cloudwatch:GetMetricData. The gate did not pass.\n',
    );
  });

  it.each([
    [['--canary', 'pv-2'], '--baseline is required'],
    [['--baseline', 'pv-1'], '--canary is required'],
    [['--baseline', 'pv-1', '--canary', 'pv-1'], '--baseline and --canary are both "pv-1"; compare two different versions'],
    [['--baseline', "pv-1' OR 1=1", '--canary', 'pv-2'], `--baseline is "pv-1' OR 1=1"; a version is 1 to 128 letters, digits and . _ : -`],
    [[...ARGS, '--window', '2d'], '--window is "2d"; expected minutes or hours, e.g. 30m or 1h'],
    [
      [...ARGS, '--dimension', 'colour'],
      '--dimension is "colour"; expected one of app_version, prompt_version, orchestration_version, retrieval_config, tool_schema_version, guardrail_version, model',
    ],
    [[...ARGS, '--source', 'prometheus'], '--source is "prometheus"; expected cloudwatch or athena'],
    [[...ARGS, '--now', 'yesterday'], '--now is "yesterday"; expected an RFC 3339 time such as 2026-11-04T12:00:00Z'],
    [
      [...ARGS, '--dimension', 'model'],
      'slices.dimensions does not list model, so the ingest publishes no per-model metrics to compare; add it to slices.dimensions or use --source athena',
    ],
    [[...ARGS, '--policy', 'no-such-policy.yaml'], 'no-such-policy.yaml'],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(server.calls).toEqual([]);
  });

  it('refuses versions the ingest folds into "other" (exit 2)', async () => {
    const data = shippedPolicyData() as any;
    data.slices.dimensions.prompt_version = { max_values: 4, values: ['pv-1', 'pv-3'] };
    const dir = mkdtempSync(join(tmpdir(), 'llmops-gate-'));
    try {
      const file = join(dir, 'policy.yaml');
      writeFileSync(file, stringify(data));
      const r = await run([...ARGS, '--policy', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `llmops gate: pv-2 is not in slices.dimensions.prompt_version.values, so the ingest counts it as "other"; list the versions or use --source athena; see 'llmops gate --help'\n`,
      );
      await seed('pv-1', healthy());
      await seed('pv-3', healthy());
      const ok = await run(['--baseline', 'pv-1', '--canary', 'pv-3', '--now', NOW, '--policy', file]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).not.toContain('no values list');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--help prints the help and exits 0', async () => {
    const r = await run(['--help'], { endpoint: false });
    expect(r).toEqual({ code: 0, stdout: GATE_HELP, stderr: '' });
    expect(GATE_HELP).toContain('Exit codes: 0 pass, 1 fail');
  });
});

describe('llmops gate --source athena (canary-vs-baseline on DuckDB over the sample Parquet)', () => {
  it('compares per intent and as a whole, attributes P0 to the canary, and names the deciding slices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-gate-athena-'));
    const writer = await DuckDBInstance.create(':memory:');
    const conn = await writer.connect();
    await writeEventsParquet(conn, buildSampleEvents().events, dir);
    conn.closeSync();
    writer.closeSync();
    const db = await openEventsDb(dir);
    const athena = await startAthenaServer({
      engine: duckdbEngine(db.connection),
      workGroup: 'copilot-prod-analysts',
      database: 'copilot_prod_telemetry',
    });
    try {
      // The sample window 2026-11-02..04: pv-1 baseline, pv-2 canary (hr_leak i=0 is a P0 access violation).
      const r = await run(
        ['--baseline', 'pv-1', '--canary', 'pv-2', '--source', 'athena', '--window', '72h', '--now', '2026-11-05T00:00:00Z', '--json'],
        { endpoint: athena.endpoint },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(j.source).toBe('athena');
      expect([...new Set(j.rows.map((x: { slice: string }) => x.slice))]).toEqual([
        'all',
        'intent=expense_claim',
        'intent=hr_request',
        'intent=policy_qna',
        'intent=ticket_create',
        'intent=travel_booking',
        'intent=troubleshooting',
      ]);
      // An intent the canary never served cannot be judged: its rows say so.
      expect(
        j.rows.find((x: { slice: string; metric: string }) => x.slice === 'intent=expense_claim' && x.metric === 'requests'),
      ).toMatchObject({ canary: 0, verdict: 'inconclusive' });
      expect(j.decided_by.map((x: { metric: string; slice: string }) => `${x.slice}/${x.metric}`)).toEqual([
        'all/p0_events',
        'intent=hr_request/p0_events',
      ]);
      expect(j.decided_by[0].reason).toBe('1 P0 event(s) attributed to the canary in the window; none is allowed');
      // Athena gets the deployed `?` form and the values as ExecutionParameters, in the order of the `?`.
      const sql = athena.executions[0]!.sql;
      expect(sql).toContain('e.dt BETWEEN ? AND ?');
      expect(sql).toContain('t.tag_name = ?');
      expect(sql.replace(/--[^\n]*/g, '')).not.toMatch(/:[a-z]|'(?:pv-1|pv-2|2026-11-0\d)'/);
      expect(athena.callsOf('StartQueryExecution')[0]?.body).toMatchObject({
        WorkGroup: 'copilot-prod-analysts',
        QueryExecutionContext: { Database: 'copilot_prod_telemetry' },
        ExecutionParameters: ["'2026-11-02'", "'2026-11-04'", "'prompt_version'", "'pv-1'", "'pv-2'", "'pv-1'"],
      });
      expect(athena.executions[0]!.boundSql).toContain("e.dt BETWEEN '2026-11-02' AND '2026-11-04'");
      expect(j.notes[0]).toMatch(
        /^Athena query qe-0001 \(canary-vs-baseline, \d+ bytes scanned\) over the whole UTC day\(s\) 2026-11-02 to 2026-11-04/,
      );

      // The text table names the slice and metric.
      const t = await run(
        ['--baseline', 'pv-1', '--canary', 'pv-2', '--source', 'athena', '--window', '72h', '--now', '2026-11-05T00:00:00Z'],
        { endpoint: athena.endpoint },
      );
      expect(t.code).toBe(1);
      expect(t.stdout).toContain(
        '  decided by p0_events in slice intent=hr_request: 1 P0 event(s) attributed to the canary in the window; none is allowed\n',
      );
      expect(t.stdout).toMatch(/\np0_events +intent=hr_request +0 +1 +0 +fail\n/);
    } finally {
      await athena.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 when the query fails in Athena', async () => {
    const athena = await startAthenaServer({
      engine: async () => ({ columns: [], rows: [] }),
      workGroup: 'copilot-prod-analysts',
      database: 'copilot_prod_telemetry',
    });
    try {
      athena.failQueries(() => true, { reason: 'Query exhausted resources at this scale factor' });
      const r = await run([...ARGS, '--source', 'athena'], { endpoint: athena.endpoint });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^llmops gate: cannot read the canary-vs-baseline query: AthenaQueryError: query qe-0001 FAILED: Query exhausted resources at this scale factor\. The gate did not pass\.\n$/,
      );
    } finally {
      await athena.close();
    }
  });
});
