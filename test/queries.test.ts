/**
 * The decision queries run in CI: every `queries/*.sql` file is bound and executed with
 * DuckDB over Parquet written in the ingest layout from contract-valid sample events
 * (test/support/sample-events.ts, which documents the scenario and why each expected
 * number below is what it is). A wrong column or a typo fails here: the `events` view
 * has exactly the Glue table's columns (checked below), so DuckDB's binder rejects any
 * column the table does not have.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractColumns } from '../lib/core/contract';
import {
  bindParameters,
  DECISION_QUERY_IDS,
  loadDecisionQueries,
  loadQueryFiles,
  parseQueryFile,
  QueryFileError,
  QueryParameterError,
  type DecisionQuery,
  type ParameterValues,
} from '../lib/core/queries';
import { openSampleLake, type EventsDb, type SampleLake } from './support/duckdb-compat';
import { MODELS, parquetColumns, WINDOW } from './support/sample-events';

type Row = Record<string, unknown>;

const QUERIES = loadDecisionQueries();
const query = (id: string): DecisionQuery => {
  const q = QUERIES.find((x) => x.id === id);
  if (!q) throw new Error(`no query ${id}`);
  return q;
};
const CANARY_PARAMS = { version_tag: 'prompt_version', baseline: 'pv-1', canary: 'pv-2' };
/** Extra parameters per query beyond the window, for the run-everything test. */
const EXTRA_PARAMS: Record<string, ParameterValues> = { 'canary-vs-baseline': CANARY_PARAMS };

let lake: SampleLake | undefined;
let dir: string;
let db: EventsDb;
let parquetFiles: string[];

beforeAll(async () => {
  lake = await openSampleLake('llmops-queries-');
  ({ dir, db, files: parquetFiles } = lake);
});

afterAll(() => lake?.close());

/** BIGINT counts come back as strings; make them numbers so rows compare naturally. */
function normalize(rows: Row[]): Row[] {
  return rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v])),
  );
}

async function run(id: string, extra: ParameterValues = {}): Promise<Row[]> {
  return normalize(await db.rows(bindParameters(query(id), { ...WINDOW, ...extra })));
}

const pick = (rows: Row[], keys: string[]) => rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));

/** The SQL without comments, for structural checks. */
const code = (q: DecisionQuery) => q.sql.replace(/--[^\n]*/g, '');

describe('the query catalogue', () => {
  it('has one file per listed id, in the listed order, each with its header', () => {
    expect(
      loadQueryFiles()
        .map((q) => q.id)
        .sort(),
    ).toEqual([...DECISION_QUERY_IDS].sort());
    expect(QUERIES.map((q) => q.id)).toEqual([...DECISION_QUERY_IDS]);
    for (const q of QUERIES) {
      expect(q.decision.length, q.id).toBeGreaterThan(20);
      expect(q.description.length, q.id).toBeGreaterThan(40);
      expect(['reliability', 'quality', 'safety', 'cost', 'adoption'], q.id).toContain(q.bucket);
      expect(q.sql.startsWith(`-- name: ${q.id}\n-- decision: `), q.id).toBe(true);
    }
  });

  it('covers all five buckets', () => {
    expect(new Set(QUERIES.map((q) => q.bucket))).toEqual(new Set(['reliability', 'quality', 'safety', 'cost', 'adoption']));
  });

  it('takes the window as start_date and end_date dates in every query', () => {
    for (const q of QUERIES) {
      expect(q.parameters.slice(0, 2), q.id).toEqual([
        { name: 'start_date', type: 'date' },
        { name: 'end_date', type: 'date' },
      ]);
    }
  });

  it('filters every read of events on event_type and on dt up to :end_date (partition pruning)', () => {
    for (const q of QUERIES) {
      const reads = code(q)
        .split(/\b(?:FROM|JOIN)\s+events\b/)
        .slice(1);
      expect(reads.length, q.id).toBeGreaterThan(0);
      for (const read of reads) {
        expect(read, q.id).toMatch(/\b(?:\w+\.)?event_type = '(?:request|span|feedback)'/);
        expect(read, q.id).toMatch(/\b(?:\w+\.)?dt BETWEEN [^\n]*:start_date[^\n]* AND :end_date\b/);
      }
    }
  });

  it('reads only the columns of the Glue table: the Parquet written for the tests has exactly contractColumns() plus the partitions', async () => {
    const described = normalize(await db.rows('DESCRIBE events'));
    const types = {
      string: 'VARCHAR',
      int: 'INTEGER',
      double: 'DOUBLE',
      boolean: 'BOOLEAN',
      'array<string>': 'VARCHAR[]',
      'map<string,string>': 'MAP(VARCHAR, VARCHAR)',
    };
    const expected = contractColumns()
      .filter((c) => c.name !== 'event_type')
      .map((c) => [c.name, types[c.type]]);
    expect(described.map((r) => [r.column_name, r.column_type])).toEqual([...expected, ['dt', 'VARCHAR'], ['event_type', 'VARCHAR']]);
    expect(parquetColumns().map((c) => c.name)).toEqual(expected.map(([n]) => n));
  });

  it('writes the ingest layout events/event_type=<t>/dt=<d>/part-0.parquet', () => {
    const rel = parquetFiles.map((f) => relative(dir, f).split('\\').join('/'));
    for (const f of rel) expect(f).toMatch(/^events\/event_type=(request|span|feedback)\/dt=\d{4}-\d{2}-\d{2}\/part-0\.parquet$/);
    expect(rel).toContain('events/event_type=request/dt=2026-11-02/part-0.parquet');
    expect(rel).toContain('events/event_type=feedback/dt=2026-11-05/part-0.parquet');
    expect(readdirSync(join(dir, 'events')).sort()).toEqual(['event_type=feedback', 'event_type=request', 'event_type=span']);
  });

  it('runs every query on DuckDB (the binder rejects unknown columns and functions)', async () => {
    for (const q of QUERIES) {
      const rows = await db.rows(bindParameters(q, { ...WINDOW, ...(EXTRA_PARAMS[q.id] ?? {}) }));
      expect(rows.length, q.id).toBeGreaterThan(0);
    }
  });

  it('fails when a query names a column the table does not have', async () => {
    const typo = bindParameters(query('latency-by-path'), WINDOW).replace('avg(llm_latency_ms)', 'avg(llm_latency)');
    await expect(db.rows(typo)).rejects.toThrow(/llm_latency/);
  });
});

describe('binding parameters', () => {
  const sql = `-- name: t
-- decision: A test query for the binder.
-- bucket: cost
-- parameters: start_date (date), end_date (date), tag (string), n (integer), col (identifier), mode (a|b)
--
-- Text :not_a_param in a comment stays.
SELECT ':start_date' AS s, ":end_date" AS q, :tag AS tag, :n AS n, :col, :mode FROM events
WHERE dt BETWEEN :start_date AND :end_date /* :tag */`;

  it('substitutes literals outside comments, strings and quoted identifiers', () => {
    const out = bindParameters(sql, {
      start_date: '2026-11-02',
      end_date: '2026-11-04',
      tag: 'pv-1.2:rc',
      n: 7,
      col: 'prompt_version',
      mode: 'b',
    });
    expect(out).toContain(`SELECT ':start_date' AS s, ":end_date" AS q, 'pv-1.2:rc' AS tag, 7 AS n, "prompt_version", 'b' FROM events`);
    expect(out).toContain(`WHERE dt BETWEEN '2026-11-02' AND '2026-11-04' /* :tag */`);
    expect(out).toContain('-- Text :not_a_param in a comment stays.');
  });

  const base = { start_date: '2026-11-02', end_date: '2026-11-04', tag: 'x', n: 1, col: 'c', mode: 'a' };

  it('fails when a string would break out of its literal', () => {
    expect(() => bindParameters(sql, { ...base, tag: "x' OR '1'='1" })).toThrow(
      new QueryParameterError(`cannot bind t: tag: "x' OR '1'='1" may only use [A-Za-z0-9._:-] (1 to 128 characters)`),
    );
  });

  it('fails when a date is not a real YYYY-MM-DD date', () => {
    expect(() => bindParameters(sql, { ...base, start_date: '2026-02-30' })).toThrow('start_date: "2026-02-30" is not a YYYY-MM-DD date');
    expect(() => bindParameters(sql, { ...base, end_date: "2026-11-04' --" })).toThrow(
      `end_date: "2026-11-04' --" is not a YYYY-MM-DD date`,
    );
  });

  it('fails when an identifier, integer or closed value is wrong', () => {
    expect(() => bindParameters(sql, { ...base, col: 'a"b' })).toThrow('col: "a\\"b" is not an identifier ([A-Za-z_][A-Za-z0-9_]*)');
    expect(() => bindParameters(sql, { ...base, n: '1; DROP' })).toThrow('n: "1; DROP" is not an integer');
    expect(() => bindParameters(sql, { ...base, mode: 'c' })).toThrow('mode: "c" is not one of a, b');
  });

  it('fails when a parameter is missing or unknown, listing every problem', () => {
    const { tag: _tag, ...withoutTag } = base;
    expect(() => bindParameters(sql, { ...withoutTag, extra: 'x' })).toThrow(
      'cannot bind t: tag: required (string); extra: not a parameter of t (it takes start_date, end_date, tag, n, col, mode)',
    );
  });

  it('fails when canary-vs-baseline is asked for a column that is not a version tag', () => {
    expect(() => bindParameters(query('canary-vs-baseline'), { ...WINDOW, ...CANARY_PARAMS, version_tag: 'user_id' })).toThrow(
      'version_tag: "user_id" is not one of prompt_version, app_version, orchestration_version, retrieval_config, tool_schema_version, guardrail_version, model',
    );
  });
});

describe('parsing query files', () => {
  const header = '-- name: q\n-- decision: Decide.\n-- bucket: cost\n-- parameters: start_date (date)\n';

  it('fails when a header field is missing', () => {
    expect(() => parseQueryFile('-- name: q\n-- bucket: cost\n-- parameters: none\nSELECT 1', 'q.sql')).toThrow(
      new QueryFileError('q.sql:1: header must start with -- name:, -- decision:, -- bucket:, -- parameters: (missing decision)'),
    );
  });

  it('fails when the bucket is not one of the five', () => {
    expect(() => parseQueryFile(header.replace('cost', 'money') + 'SELECT :start_date', 'q.sql')).toThrow(
      'q.sql:3: bucket "money" must be one of reliability, quality, safety, cost, adoption',
    );
  });

  it('fails when the SQL uses a parameter the header does not declare, or declares one it does not use', () => {
    expect(() => parseQueryFile(header + 'SELECT :start_date, :end_date', 'q.sql')).toThrow(
      'q.sql: uses :end_date but -- parameters: does not declare it',
    );
    expect(() => parseQueryFile(header + 'SELECT 1', 'q.sql')).toThrow('q.sql: declares start_date in -- parameters: but never uses it');
  });

  it('fails when a parameter has no type', () => {
    expect(() => parseQueryFile(header.replace('start_date (date)', 'start_date') + 'SELECT :start_date', 'q.sql')).toThrow(
      'q.sql:4: parameter "start_date" must be written as name (type)',
    );
  });
});

describe('the decision queries on the sample data', () => {
  it('latency-by-path: p50/p95/p99 and stage averages per path', async () => {
    expect(await run('latency-by-path')).toEqual([
      {
        path: 'plain',
        requests: 10,
        p50_latency_ms: 50,
        p95_latency_ms: 100,
        p99_latency_ms: 100,
        avg_retrieval_latency_ms: 0,
        avg_llm_latency_ms: 55,
        avg_tool_latency_ms: 0,
      },
      {
        path: 'rag',
        requests: 58,
        p50_latency_ms: 2900,
        p95_latency_ms: 5600,
        p99_latency_ms: 5800,
        avg_retrieval_latency_ms: 30,
        avg_llm_latency_ms: 2919.7,
        avg_tool_latency_ms: 0.3,
      },
      {
        path: 'tool',
        requests: 29,
        p50_latency_ms: 750,
        p95_latency_ms: 1400,
        p99_latency_ms: 1450,
        avg_retrieval_latency_ms: 0,
        avg_llm_latency_ms: 730,
        avg_tool_latency_ms: 20,
      },
    ]);
  });

  it('errors-by-model-and-version: error and provider-timeout rates per model and version tags', async () => {
    const common = { app_version: 'app-1.4.0', orchestration_version: 'orch-7' };
    expect(await run('errors-by-model-and-version')).toEqual([
      {
        model: MODELS.haiku,
        ...common,
        prompt_version: 'pv-1',
        requests: 10,
        errors: 1,
        error_rate_pct: 10,
        provider_timeouts: 1,
        provider_timeout_rate_pct: 10,
      },
      {
        model: MODELS.sonnet,
        ...common,
        prompt_version: 'pv-2',
        requests: 34,
        errors: 2,
        error_rate_pct: 5.88,
        provider_timeouts: 2,
        provider_timeout_rate_pct: 5.88,
      },
      {
        model: MODELS.sonnet,
        ...common,
        prompt_version: 'pv-1',
        requests: 53,
        errors: 0,
        error_rate_pct: 0,
        provider_timeouts: 0,
        provider_timeout_rate_pct: 0,
      },
    ]);
  });

  it('cost-per-successful-task: all cost over successful tasks, per intent and tenant', async () => {
    const rows = await run('cost-per-successful-task');
    expect(
      pick(rows, [
        'intent',
        'tenant_id',
        'requests',
        'successful_tasks',
        'cost_usd',
        'requests_without_cost',
        'cost_per_successful_task_usd',
      ]),
    ).toEqual([
      {
        intent: 'ticket_create',
        tenant_id: 'amer',
        requests: 20,
        successful_tasks: 16,
        cost_usd: 1,
        requests_without_cost: 0,
        cost_per_successful_task_usd: 0.0625,
      },
      {
        intent: 'policy_qna',
        tenant_id: 'emea',
        requests: 40,
        successful_tasks: 36,
        cost_usd: 1.08,
        requests_without_cost: 0,
        cost_per_successful_task_usd: 0.03,
      },
      {
        intent: 'hr_request',
        tenant_id: 'emea',
        requests: 19,
        successful_tasks: 17,
        cost_usd: 0.35,
        requests_without_cost: 0,
        cost_per_successful_task_usd: 0.0206,
      },
      {
        intent: 'expense_claim',
        tenant_id: 'amer',
        requests: 5,
        successful_tasks: 4,
        cost_usd: 0.05,
        requests_without_cost: 0,
        cost_per_successful_task_usd: 0.0125,
      },
      {
        intent: 'travel_booking',
        tenant_id: 'amer',
        requests: 1,
        successful_tasks: 1,
        cost_usd: 0.01,
        requests_without_cost: 0,
        cost_per_successful_task_usd: 0.01,
      },
      {
        intent: 'troubleshooting',
        tenant_id: 'amer',
        requests: 12,
        successful_tasks: 11,
        cost_usd: 0.1,
        requests_without_cost: 2,
        cost_per_successful_task_usd: 0.0091,
      },
    ]);
    expect(rows.every((r) => r.avg_input_tokens === 800 && r.avg_output_tokens === 200 && r.cache_hit_rate_pct === 0)).toBe(true);
  });

  it('refusal-rate: blocks per intent, role and guardrail version', async () => {
    const rows = await run('refusal-rate');
    expect(pick(rows, ['intent', 'user_role', 'requests', 'refusals', 'refusal_rate_pct', 'attack_blocks'])).toEqual([
      { intent: 'hr_request', user_role: 'employee', requests: 6, refusals: 2, refusal_rate_pct: 33.33, attack_blocks: 2 },
      { intent: 'policy_qna', user_role: 'employee', requests: 40, refusals: 2, refusal_rate_pct: 5, attack_blocks: 0 },
      { intent: 'ticket_create', user_role: 'employee', requests: 20, refusals: 0, refusal_rate_pct: 0, attack_blocks: 0 },
      { intent: 'hr_request', user_role: 'hr_specialist', requests: 10, refusals: 0, refusal_rate_pct: 0, attack_blocks: 0 },
      { intent: 'troubleshooting', user_role: 'it_agent', requests: 10, refusals: 0, refusal_rate_pct: 0, attack_blocks: 0 },
      { intent: 'expense_claim', user_role: 'employee', requests: 5, refusals: 0, refusal_rate_pct: 0, attack_blocks: 0 },
      { intent: 'hr_request', user_role: 'admin', requests: 3, refusals: 0, refusal_rate_pct: 0, attack_blocks: 0 },
      { intent: 'troubleshooting', user_role: 'employee', requests: 2, refusals: 0, refusal_rate_pct: 0, attack_blocks: 0 },
      { intent: 'travel_booking', user_role: 'employee', requests: 1, refusals: 0, refusal_rate_pct: 0, attack_blocks: 0 },
    ]);
    expect(new Set(rows.map((r) => r.guardrail_version))).toEqual(new Set(['gv-3']));
  });

  it('citation-presence: policy answers (policy_qna, status ok) citing sources, per prompt and retrieval version', async () => {
    expect(await run('citation-presence')).toEqual([
      { prompt_version: 'pv-2', retrieval_config: 'rc-2', policy_answers: 18, cited_answers: 9, citation_presence_pct: 50 },
      { prompt_version: 'pv-1', retrieval_config: 'rc-1', policy_answers: 20, cited_answers: 19, citation_presence_pct: 95 },
    ]);
  });

  it('tool-outcomes: success, validation failures, errors and false confirmations per tool', async () => {
    expect(await run('tool-outcomes')).toEqual([
      {
        tool: 'create_ticket',
        tool_schema_version: 'ts-2',
        calls: 20,
        executed: 19,
        succeeded: 15,
        success_rate_pct: 75,
        validation_failures: 1,
        execution_errors: 4,
        false_confirmations: 1,
      },
      {
        tool: 'search_kb',
        tool_schema_version: 'ts-2',
        calls: 10,
        executed: 10,
        succeeded: 10,
        success_rate_pct: 100,
        validation_failures: 0,
        execution_errors: 0,
        false_confirmations: 0,
      },
    ]);
  });

  it('p0-events: P0s per hour and category with their version tags (the 2026-11-05 pii_leak is outside the window)', async () => {
    const versions = {
      app_version: 'app-1.4.0',
      orchestration_version: 'orch-7',
      tool_schema_version: 'ts-2',
      guardrail_version: 'gv-3',
      model: MODELS.sonnet,
    };
    expect(await run('p0-events')).toEqual([
      {
        hour_utc: '2026-11-02 15:00:00+00',
        p0_category: 'access_violation',
        tenant_id: 'emea',
        intent: 'hr_request',
        ...versions,
        prompt_version: 'pv-2',
        retrieval_config: 'rc-2',
        p0_requests: 1,
        first_seen: '2026-11-02T15:00:00.000Z',
        last_seen: '2026-11-02T15:00:00.000Z',
      },
      {
        hour_utc: '2026-11-03 13:00:00+00',
        p0_category: 'false_confirmation',
        tenant_id: 'amer',
        intent: 'ticket_create',
        ...versions,
        prompt_version: 'pv-1',
        retrieval_config: 'rc-1',
        p0_requests: 1,
        first_seen: '2026-11-03T13:01:00.000Z',
        last_seen: '2026-11-03T13:01:00.000Z',
      },
    ]);
  });

  it('sources-seen-by-wrong-roles: hr_policies seen by an employee and an IT agent, not by hr_specialist or admin', async () => {
    expect(await run('sources-seen-by-wrong-roles')).toEqual([
      {
        source: 'hr_policies',
        user_role: 'employee',
        tenant_id: 'emea',
        retrieval_config: 'rc-2',
        requests: 4,
        users: 1,
        flagged_as_p0: 1,
        first_seen: '2026-11-02T15:00:00.000Z',
        last_seen: '2026-11-04T15:02:00.000Z',
      },
      {
        source: 'hr_policies',
        user_role: 'it_agent',
        tenant_id: 'amer',
        retrieval_config: 'rc-1',
        requests: 1,
        users: 1,
        flagged_as_p0: 0,
        first_seen: '2026-11-02T11:09:00.000Z',
        last_seen: '2026-11-02T11:09:00.000Z',
      },
    ]);
  });

  it('canary-vs-baseline by prompt_version: one row per arm and intent, plus the whole arm', async () => {
    const rows = await run('canary-vs-baseline', CANARY_PARAMS);
    const cols = [
      'arm',
      'version',
      'slice',
      'requests',
      'error_rate_pct',
      'p95_latency_ms',
      'refusal_rate_pct',
      'tool_requests',
      'tool_failure_rate_pct',
      'p0_count',
    ];
    const r = (...v: unknown[]) => Object.fromEntries(cols.map((c, i) => [c, v[i]]));
    expect(pick(rows, cols)).toEqual([
      r('baseline', 'pv-1', '(all)', 63, 1.59, 5100, 3.17, 20, 10, 1),
      r('canary', 'pv-2', '(all)', 34, 5.88, 5400, 5.88, 10, 30, 1),
      r('baseline', 'pv-1', 'expense_claim', 5, 0, 70, 0, 0, null, 0),
      r('baseline', 'pv-1', 'hr_request', 15, 0, 5800, 13.33, 0, null, 0),
      r('canary', 'pv-2', 'hr_request', 4, 0, 5500, 0, 0, null, 1),
      r('baseline', 'pv-1', 'policy_qna', 20, 0, 1900, 0, 0, null, 0),
      r('canary', 'pv-2', 'policy_qna', 20, 10, 3900, 10, 0, null, 0),
      r('baseline', 'pv-1', 'ticket_create', 10, 0, 950, 0, 10, 20, 1),
      r('canary', 'pv-2', 'ticket_create', 10, 0, 1450, 0, 10, 30, 0),
      r('baseline', 'pv-1', 'travel_booking', 1, 0, 80, 0, 0, null, 0),
      r('baseline', 'pv-1', 'troubleshooting', 12, 8.33, 4100, 0, 10, 0, 0),
    ]);
  });

  it('canary-vs-baseline picks the column named by version_tag (here model)', async () => {
    const rows = await run('canary-vs-baseline', { version_tag: 'model', baseline: MODELS.haiku, canary: MODELS.sonnet });
    expect(
      pick(
        rows.filter((x) => x.slice === '(all)'),
        ['arm', 'version', 'requests', 'error_rate_pct'],
      ),
    ).toEqual([
      { arm: 'baseline', version: MODELS.haiku, requests: 10, error_rate_pct: 10 },
      { arm: 'canary', version: MODELS.sonnet, requests: 87, error_rate_pct: 2.3 },
    ]);
  });

  it('regression-case-export: one row per P0 or negatively rated request, with ids, versions and reason, never text', async () => {
    const rows = await run('regression-case-export');
    expect(
      pick(rows, ['request_id', 'trace_id', 'intent', 'prompt_version', 'retrieval_config', 'p0_category', 'negative_ratings', 'reason']),
    ).toEqual([
      {
        request_id: 'req-hr_leak-0',
        trace_id: 'trace-hr_leak-0',
        intent: 'hr_request',
        prompt_version: 'pv-2',
        retrieval_config: 'rc-2',
        p0_category: 'access_violation',
        negative_ratings: 0,
        reason: 'p0:access_violation',
      },
      {
        request_id: 'req-ticket_base-1',
        trace_id: 'trace-ticket_base-1',
        intent: 'ticket_create',
        prompt_version: 'pv-1',
        retrieval_config: 'rc-1',
        p0_category: 'false_confirmation',
        negative_ratings: 1,
        reason: 'p0:false_confirmation+negative_rating',
      },
      {
        request_id: 'req-qna_canary-5',
        trace_id: 'trace-qna_canary-5',
        intent: 'policy_qna',
        prompt_version: 'pv-2',
        retrieval_config: 'rc-2',
        p0_category: null,
        negative_ratings: 1,
        reason: 'negative_rating',
      },
    ]);
    const freeText = contractColumns()
      .filter((c) => c.freeText)
      .map((c) => c.name);
    const columns = Object.keys(rows[0] as Row);
    expect(columns.filter((c) => freeText.includes(c) || c === 'user_id')).toEqual([]);
  });

  it('new-intents: intents of the window not seen in the 28 days before it', async () => {
    expect(await run('new-intents')).toEqual([
      { intent: 'expense_claim', first_seen: '2026-11-02T08:00:00.000Z', requests: 5, users: 1, tenants: 1 },
      { intent: 'travel_booking', first_seen: '2026-11-03T18:00:00.000Z', requests: 1, users: 1, tenants: 1 },
    ]);
    // travel_booking was last seen 2026-10-01; a window starting 2026-10-29 looks back to 2026-10-01 and knows it.
    const earlier = normalize(await db.rows(bindParameters(query('new-intents'), { start_date: '2026-10-29', end_date: '2026-11-04' })));
    expect(earlier.map((r) => r.intent)).toEqual(['expense_claim']);
  });

  it('active-users: daily and 7-day active users per tenant and for the whole account', async () => {
    const day = (d: string, tenant: string, dau: number, wau: number) => ({
      activity_date: d,
      tenant_id: tenant,
      daily_active_users: dau,
      weekly_active_users: wau,
    });
    expect(await run('active-users')).toEqual([
      day('2026-11-02', '(all)', 5, 7),
      day('2026-11-02', 'amer', 2, 4), // amer-w (10-27) is on the edge of the 7 days, amer-y (10-26) is not
      day('2026-11-02', 'emea', 3, 3),
      day('2026-11-03', '(all)', 6, 7),
      day('2026-11-03', 'amer', 3, 4),
      day('2026-11-03', 'emea', 3, 3),
      day('2026-11-04', '(all)', 6, 6),
      day('2026-11-04', 'amer', 3, 3), // amer-x (10-28) has left the 7 days
      day('2026-11-04', 'emea', 3, 3),
    ]);
  });

  it('abandonment: abandoned outcomes and abandoned feedback per intent and tenant', async () => {
    const rows = await run('abandonment');
    expect(rows[0]).toEqual({ intent: 'expense_claim', tenant_id: 'amer', requests: 5, abandoned: 2, abandonment_rate_pct: 40 });
    expect(rows.slice(1).map((r) => [r.intent, r.requests, r.abandoned])).toEqual([
      ['hr_request', 19, 0],
      ['policy_qna', 40, 0],
      ['ticket_create', 20, 0],
      ['travel_booking', 1, 0],
      ['troubleshooting', 12, 0],
    ]);
  });
});
