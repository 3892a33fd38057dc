/**
 * Sample telemetry built to give known answers to the decision queries, and a writer
 * that stores it as Parquet in the layout the ingest pipeline produces:
 * `events/event_type=<request|span|feedback>/dt=<YYYY-MM-DD>/part-0.parquet`, with the
 * columns of `contractColumns()` minus `event_type` (typed as Glue declares them).
 *
 * Every event is validated against the event contract before it is written.
 *
 * The scenario (window 2026-11-02 .. 2026-11-04, prompt_version pv-1 is the baseline and
 * pv-2 the canary; every cohort's request i falls on window day i % 3):
 *
 * | cohort        | n  | intent          | tenant | role          | version | what is special |
 * |---------------|----|-----------------|--------|---------------|---------|-----------------|
 * | qna_base      | 20 | policy_qna      | emea   | employee      | pv-1    | rag (it_kb); cited except i=0; $0.02 |
 * | qna_canary    | 20 | policy_qna      | emea   | employee      | pv-2    | rag; i=0 timeout, i=1 error (both provider_timeout); cited i=2..10; i=18,19 blocked; $0.034 |
 * | troubleshoot  | 10 | troubleshooting | amer   | it_agent      | pv-1    | haiku; tool read search_kb; i=4 timeout; i=9 also retrieves it_kb + hr_policies (rag); $0.01 |
 * | ticket_base   | 10 | ticket_create   | amer   | employee      | pv-1    | tool write create_ticket; i=0 validation failed; i=1 tool error + false confirmation (P0); $0.05 |
 * | ticket_canary | 10 | ticket_create   | amer   | employee      | pv-2    | tool write create_ticket; i=0..2 tool errors; $0.05 |
 * | hr_specialist | 10 | hr_request      | emea   | hr_specialist | pv-1    | rag (hr_policies); $0.02 |
 * | hr_leak       |  4 | hr_request      | emea   | employee      | pv-2    | rag (hr_policies) seen by an employee; only i=0 flagged P0 access_violation; $0.02 |
 * | hr_blocked    |  2 | hr_request      | emea   | employee      | pv-1    | blocked (injection); $0.005 |
 * | hr_admin      |  3 | hr_request      | emea   | admin         | pv-1    | rag (hr_policies, it_kb), allowed; $0.02 |
 * | expense       |  5 | expense_claim   | amer   | employee      | pv-1    | new intent; i=3 abandoned; i=4 has no user_id; $0.01 |
 * | travel_new    |  1 | travel_booking  | amer   | employee      | pv-1    | new intent (last seen 2026-10-01, before the 28-day lookback); $0.01 |
 * | adoption_z    |  2 | troubleshooting | amer   | employee      | pv-1    | user amer-z on 11-03 and 11-04; no cost_usd |
 *
 * Users: one per tenant and role (`<tenant>-<role>`) plus amer-z. Outside the window:
 * history on 2026-10-20 (the four known intents, user hist), travel_booking on
 * 2026-10-01, amer users w (10-27), x (10-28) and y (10-26) for the weekly window edges,
 * and on 2026-11-05 (after the window) requests that would change every answer if they
 * leaked in (a P0, an error, a block, an employee seeing hr_policies, huge latency and
 * cost, a failing update_ticket span, a negative rating).
 *
 * Latency is assigned per path in generation order over the window's requests: the k-th
 * rag request takes 100*k ms (58 of them), the k-th tool request 50*k ms (29), the k-th
 * plain request 10*k ms (10). Outside the window latency is 999999 ms.
 *
 * Feedback: -1 on qna_canary i=5 (delivered twice, same event_id), -1 on ticket_base i=1,
 * +1 on qna_base i=3, an escalation without rating on troubleshoot i=2, abandoned on
 * expense i=1, and -1 on 2026-11-05 for qna_base i=7 and for a late request (both after
 * the window).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  contractColumns,
  parseTelemetryEvent,
  type ColumnType,
  type FeedbackEvent,
  type RequestEvent,
  type SpanEvent,
  type TelemetryEvent,
} from '../../lib/core/contract';

export const WINDOW = { start_date: '2026-11-02', end_date: '2026-11-04' } as const;
const W = ['2026-11-02', '2026-11-03', '2026-11-04'] as const;

export const MODELS = { sonnet: 'anthropic:claude-sonnet-4', haiku: 'anthropic:claude-haiku-4' } as const;

/** The pseudonymized user id of a sample user (ingest stores an HMAC; any opaque hex will do). */
export function userId(name: string): string {
  return createHash('sha256').update(`sample-user:${name}`).digest('hex');
}

type RequestFields = Omit<
  RequestEvent,
  'event_type' | 'schema_version' | 'event_id' | 'timestamp' | 'trace_id' | 'request_id' | 'session_id'
>;

interface SpanSpec {
  kind: SpanEvent['span_kind'];
  name: string;
  status?: SpanEvent['status'];
  error_code?: string;
  executed?: boolean;
  tool_validation?: SpanEvent['tool_validation'];
}

interface Cohort {
  key: string;
  n: number;
  /** Request i is on days[i % days.length]. */
  days: readonly string[];
  /** Request i is at <hour>:<i minutes> UTC. */
  hour: number;
  base: Partial<RequestFields> & Pick<RequestFields, 'intent' | 'tenant_id' | 'user_role'>;
  vary?: (i: number) => Partial<RequestFields> & { omitUser?: boolean };
  spans?: (i: number) => SpanSpec[];
}

const DEFAULTS: RequestFields = {
  tenant_id: 'emea',
  user_role: 'employee',
  intent: 'policy_qna',
  risk_level: 'low',
  app_version: 'app-1.4.0',
  orchestration_version: 'orch-7',
  prompt_version: 'pv-1',
  retrieval_config: 'rc-1',
  tool_schema_version: 'ts-2',
  guardrail_version: 'gv-3',
  model: MODELS.sonnet,
  channel: 'web',
  locale: 'en-GB',
  attributes: { client: 'web' },
  status: 'ok',
  latency_ms: 0,
  retrieval_latency_ms: 0,
  llm_latency_ms: 0,
  tool_latency_ms: 0,
  input_tokens: 800,
  output_tokens: 200,
  llm_calls: 1,
  provider_retries: 0,
  fallback_used: false,
  cache_hit: false,
  retrieval_used: false,
  sources: [],
  sources_count: 0,
  access_denials: 0,
  citations_present: false,
  tool_path: 'none',
  tools_proposed: 0,
  tools_executed: 0,
  tool_validation_failures: 0,
  tool_errors: 0,
  false_confirmation: false,
  guardrail_action: 'allow',
  redaction_applied: false,
  input_chars: 120,
  output_chars: 600,
  pii_detected: false,
  outcome: 'success',
};

const rag = (sources: string[]): Partial<RequestFields> => ({ retrieval_used: true, sources, sources_count: sources.length });
const toolRead: Partial<RequestFields> = { tool_path: 'read', tools_proposed: 1, tools_executed: 1 };
const toolWrite: Partial<RequestFields> = { tool_path: 'write', tools_proposed: 1, tools_executed: 1, risk_level: 'medium' };
const canary: Partial<RequestFields> = { prompt_version: 'pv-2', retrieval_config: 'rc-2' };

const IN_WINDOW: readonly Cohort[] = [
  {
    key: 'qna_base',
    n: 20,
    days: W,
    hour: 9,
    base: { intent: 'policy_qna', tenant_id: 'emea', user_role: 'employee', ...rag(['it_kb']), cost_usd: 0.02 },
    vary: (i) => ({ citations_present: i !== 0 }),
    spans: () => [{ kind: 'retrieval', name: 'it_kb' }],
  },
  {
    key: 'qna_canary',
    n: 20,
    days: W,
    hour: 10,
    base: { intent: 'policy_qna', tenant_id: 'emea', user_role: 'employee', ...canary, ...rag(['it_kb']), cost_usd: 0.034 },
    vary: (i) => {
      if (i === 0) return { status: 'timeout', error_code: 'provider_timeout', outcome: 'failure' };
      if (i === 1) return { status: 'error', error_code: 'provider_timeout', error_message: 'upstream timed out', outcome: 'failure' };
      if (i >= 18) return { guardrail_action: 'block', guardrail_category: 'disallowed_content', outcome: 'failure' };
      return { citations_present: i <= 10 };
    },
    spans: () => [{ kind: 'retrieval', name: 'it_kb' }],
  },
  {
    key: 'troubleshoot',
    n: 10,
    days: W,
    hour: 11,
    base: { intent: 'troubleshooting', tenant_id: 'amer', user_role: 'it_agent', model: MODELS.haiku, ...toolRead, cost_usd: 0.01 },
    vary: (i) => {
      if (i === 4) return { status: 'timeout', error_code: 'provider_timeout', outcome: 'failure' };
      if (i === 9) return rag(['it_kb', 'hr_policies']);
      return {};
    },
    spans: () => [{ kind: 'tool', name: 'search_kb', executed: true, tool_validation: 'passed' }],
  },
  {
    key: 'ticket_base',
    n: 10,
    days: W,
    hour: 13,
    base: { intent: 'ticket_create', tenant_id: 'amer', user_role: 'employee', ...toolWrite, cost_usd: 0.05 },
    vary: (i) => {
      if (i === 0) return { tools_executed: 0, tool_validation_failures: 1, outcome: 'failure' };
      if (i === 1) return { tool_errors: 1, false_confirmation: true, p0_category: 'false_confirmation' };
      return {};
    },
    spans: (i) => {
      if (i === 0)
        return [
          {
            kind: 'tool',
            name: 'create_ticket',
            status: 'error',
            error_code: 'validation_failed',
            executed: false,
            tool_validation: 'failed',
          },
        ];
      if (i === 1)
        return [
          { kind: 'tool', name: 'create_ticket', status: 'error', error_code: 'http_500', executed: true, tool_validation: 'passed' },
        ];
      return [{ kind: 'tool', name: 'create_ticket', executed: true, tool_validation: 'passed' }];
    },
  },
  {
    key: 'ticket_canary',
    n: 10,
    days: W,
    hour: 14,
    base: { intent: 'ticket_create', tenant_id: 'amer', user_role: 'employee', ...canary, ...toolWrite, cost_usd: 0.05 },
    vary: (i) => (i < 3 ? { tool_errors: 1, outcome: 'failure' } : {}),
    spans: (i) => [
      {
        kind: 'tool',
        name: 'create_ticket',
        status: i < 3 ? 'error' : 'ok',
        ...(i < 3 ? { error_code: 'http_500' } : {}),
        executed: true,
        tool_validation: 'passed',
      },
    ],
  },
  {
    key: 'hr_specialist',
    n: 10,
    days: W,
    hour: 12,
    base: {
      intent: 'hr_request',
      tenant_id: 'emea',
      user_role: 'hr_specialist',
      risk_level: 'medium',
      ...rag(['hr_policies']),
      cost_usd: 0.02,
    },
  },
  {
    key: 'hr_leak',
    n: 4,
    days: W,
    hour: 15,
    base: {
      intent: 'hr_request',
      tenant_id: 'emea',
      user_role: 'employee',
      risk_level: 'high',
      ...canary,
      ...rag(['hr_policies']),
      cost_usd: 0.02,
    },
    vary: (i) => (i === 0 ? { p0_category: 'access_violation' } : {}),
  },
  {
    key: 'hr_blocked',
    n: 2,
    days: W,
    hour: 16,
    base: {
      intent: 'hr_request',
      tenant_id: 'emea',
      user_role: 'employee',
      guardrail_action: 'block',
      guardrail_category: 'injection',
      outcome: 'failure',
      cost_usd: 0.005,
    },
  },
  {
    key: 'hr_admin',
    n: 3,
    days: W,
    hour: 17,
    base: { intent: 'hr_request', tenant_id: 'emea', user_role: 'admin', ...rag(['hr_policies', 'it_kb']), cost_usd: 0.02 },
  },
  {
    key: 'expense',
    n: 5,
    days: W,
    hour: 8,
    base: { intent: 'expense_claim', tenant_id: 'amer', user_role: 'employee', cost_usd: 0.01 },
    vary: (i) => (i === 3 ? { outcome: 'abandoned' } : i === 4 ? { omitUser: true } : {}),
  },
  {
    key: 'travel_new',
    n: 1,
    days: ['2026-11-03'],
    hour: 18,
    base: { intent: 'travel_booking', tenant_id: 'amer', user_role: 'employee', cost_usd: 0.01 },
  },
  {
    key: 'adoption_z',
    n: 2,
    days: ['2026-11-03', '2026-11-04'],
    hour: 19,
    base: { intent: 'troubleshooting', tenant_id: 'amer', user_role: 'employee', user_id: userId('amer-z') },
  },
];

const OUT_OF_WINDOW: readonly Cohort[] = [
  ...(['policy_qna', 'troubleshooting', 'ticket_create', 'hr_request'] as const).map((intent, j): Cohort => ({
    key: `history_${intent}`,
    n: 1,
    days: ['2026-10-20'],
    hour: 9 + j,
    base: { intent, tenant_id: 'emea', user_role: 'employee', user_id: userId('hist') },
  })),
  { key: 'travel_old', n: 1, days: ['2026-10-01'], hour: 9, base: { intent: 'travel_booking', tenant_id: 'amer', user_role: 'employee' } },
  {
    key: 'adoption_y',
    n: 1,
    days: ['2026-10-26'],
    hour: 9,
    base: { intent: 'troubleshooting', tenant_id: 'amer', user_role: 'employee', user_id: userId('amer-y') },
  },
  {
    key: 'adoption_w',
    n: 1,
    days: ['2026-10-27'],
    hour: 9,
    base: { intent: 'troubleshooting', tenant_id: 'amer', user_role: 'employee', user_id: userId('amer-w') },
  },
  {
    key: 'adoption_x',
    n: 1,
    days: ['2026-10-28'],
    hour: 9,
    base: { intent: 'troubleshooting', tenant_id: 'amer', user_role: 'employee', user_id: userId('amer-x') },
  },
  {
    key: 'late',
    n: 3,
    days: ['2026-11-05'],
    hour: 9,
    base: {
      intent: 'policy_qna',
      tenant_id: 'emea',
      user_role: 'employee',
      ...canary,
      ...rag(['hr_policies']),
      ...toolWrite,
      status: 'error',
      error_code: 'provider_timeout',
      guardrail_action: 'block',
      false_confirmation: true,
      outcome: 'abandoned',
      cost_usd: 100,
      user_id: userId('late'),
    },
    vary: (i) => (i === 0 ? { p0_category: 'pii_leak' } : {}),
    spans: () => [{ kind: 'tool', name: 'update_ticket', status: 'error', executed: true, tool_validation: 'failed' }],
  },
];

export interface SampleData {
  readonly events: readonly TelemetryEvent[];
  /** Request ids by cohort key and index: `requestId('ticket_base', 1)`. */
  readonly requestId: (cohort: string, i: number) => string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Builds the sample events (not yet written). Every event is validated against the contract. */
export function buildSampleEvents(): SampleData {
  const events: TelemetryEvent[] = [];
  const requests = new Map<string, RequestEvent>();
  const next = { rag: 0, tool: 0, plain: 0 };
  const requestId = (cohort: string, i: number) => `req-${cohort}-${i}`;

  const addCohort = (c: Cohort, inWindow: boolean) => {
    for (let i = 0; i < c.n; i++) {
      const day = c.days[i % c.days.length] as string;
      const ts = `${day}T${pad(c.hour)}:${pad(i)}:00.000Z`;
      const { omitUser, ...varied } = c.vary?.(i) ?? {};
      const fields: RequestFields = { ...DEFAULTS, user_id: userId(`${c.base.tenant_id}-${c.base.user_role}`), ...c.base, ...varied };
      if (omitUser) delete fields.user_id;
      const path = fields.retrieval_used ? 'rag' : fields.tool_path !== 'none' ? 'tool' : 'plain';
      const step = { rag: 100, tool: 50, plain: 10 }[path];
      const total = inWindow ? step * ++next[path] : 999_999;
      const retrieval = fields.retrieval_used ? Math.min(30, total) : 0;
      const tool = fields.tool_path !== 'none' ? Math.min(20, total - retrieval) : 0;
      const req: RequestEvent = {
        schema_version: 1,
        event_type: 'request',
        event_id: `evt-${c.key}-${i}`,
        timestamp: ts,
        trace_id: `trace-${c.key}-${i}`,
        request_id: requestId(c.key, i),
        session_id: `sess-${c.key}-${Math.floor(i / 2)}`,
        ...fields,
        latency_ms: total,
        retrieval_latency_ms: retrieval,
        tool_latency_ms: tool,
        llm_latency_ms: total - retrieval - tool,
      };
      events.push(req);
      requests.set(req.request_id, req);
      (c.spans?.(i) ?? []).forEach((s, j) => {
        const span: SpanEvent = {
          ...common(req),
          event_type: 'span',
          event_id: `evt-${c.key}-${i}-span-${j}`,
          span_id: `span-${c.key}-${i}-${j}`,
          parent_span_id: `span-${c.key}-${i}-root`,
          span_kind: s.kind,
          name: s.name,
          latency_ms: s.kind === 'tool' ? tool : retrieval,
          status: s.status ?? 'ok',
          ...(s.error_code ? { error_code: s.error_code } : {}),
          ...(s.executed !== undefined ? { executed: s.executed } : {}),
          ...(s.tool_validation ? { tool_validation: s.tool_validation } : {}),
          ...(s.kind === 'retrieval' ? { sources_count: 1, access_denials: 0 } : {}),
        };
        events.push(span);
      });
    }
  };
  IN_WINDOW.forEach((c) => addCohort(c, true));
  OUT_OF_WINDOW.forEach((c) => addCohort(c, false));

  const feedback = (cohort: string, i: number, timestamp: string, fb: Partial<FeedbackEvent>, eventId = `evt-fb-${cohort}-${i}`) => {
    const req = requests.get(requestId(cohort, i));
    if (!req) throw new Error(`sample feedback for unknown request ${cohort}/${i}`);
    const f: FeedbackEvent = { ...common(req), event_type: 'feedback', event_id: eventId, timestamp, ...fb };
    events.push(f);
  };
  const ratedTwice = requests.get(requestId('qna_canary', 5)) as RequestEvent;
  feedback('qna_canary', 5, later(ratedTwice.timestamp), { user_rating: -1 });
  feedback('qna_canary', 5, later(ratedTwice.timestamp), { user_rating: -1 }); // the same record delivered twice
  feedback('ticket_base', 1, later(requestTs(requests, requestId('ticket_base', 1))), { user_rating: -1 });
  feedback('qna_base', 3, later(requestTs(requests, requestId('qna_base', 3))), { user_rating: 1 });
  feedback('troubleshoot', 2, later(requestTs(requests, requestId('troubleshoot', 2))), { escalated_to_human: true });
  feedback('expense', 1, later(requestTs(requests, requestId('expense', 1))), { abandoned: true, follow_up_within_5m: false });
  feedback('qna_base', 7, '2026-11-05T08:00:00.000Z', { user_rating: -1 });
  feedback('late', 1, '2026-11-05T12:00:00.000Z', { user_rating: -1 });

  for (const e of events) {
    const r = parseTelemetryEvent(e);
    if (!r.ok) throw new Error(`sample event ${e.event_id} breaks the contract: ${r.detail}`);
    if (r.droppedFields.length)
      throw new Error(`sample event ${e.event_id} has fields outside the contract: ${r.droppedFields.join(', ')}`);
  }
  return { events, requestId };
}

/** The fields every record of a request shares. */
function common(req: RequestEvent) {
  const {
    schema_version,
    timestamp,
    trace_id,
    request_id,
    session_id,
    tenant_id,
    user_id,
    user_role,
    channel,
    locale,
    intent,
    risk_level,
  } = req;
  const {
    app_version,
    prompt_version,
    orchestration_version,
    retrieval_config,
    tool_schema_version,
    guardrail_version,
    model,
    attributes,
  } = req;
  return {
    schema_version,
    timestamp,
    trace_id,
    request_id,
    session_id,
    tenant_id,
    user_role,
    channel,
    locale,
    intent,
    risk_level,
    app_version,
    prompt_version,
    orchestration_version,
    retrieval_config,
    tool_schema_version,
    guardrail_version,
    model,
    attributes,
    ...(user_id !== undefined ? { user_id } : {}),
  };
}

function requestTs(requests: Map<string, RequestEvent>, id: string): string {
  return (requests.get(id) as RequestEvent).timestamp;
}

/** Thirty minutes later, same day (sample hours stay below 23:30). */
function later(ts: string): string {
  return new Date(Date.parse(ts) + 30 * 60_000).toISOString();
}

const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  'array<string>': 'VARCHAR[]',
  'map<string,string>': 'MAP(VARCHAR, VARCHAR)',
};

/** The Parquet columns: contractColumns() minus the partition column event_type, with DuckDB types. */
export function parquetColumns(): { name: string; type: string }[] {
  return contractColumns()
    .filter((c) => c.name !== 'event_type')
    .map((c) => ({ name: c.name, type: DUCKDB_TYPES[c.type] }));
}

/**
 * Writes events as Parquet under `<dir>/events/event_type=<t>/dt=<d>/part-0.parquet`
 * (dt is the UTC date of `timestamp`, as ingest derives it). Returns the files written.
 */
export async function writeEventsParquet(connection: DuckDBConnection, events: readonly TelemetryEvent[], dir: string): Promise<string[]> {
  const staging = join(dir, 'staging.ndjson');
  writeFileSync(staging, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const cols = parquetColumns();
  const spec = [{ name: 'event_type', type: 'VARCHAR' }, ...cols].map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ');
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE staged_events AS SELECT * FROM read_json(${sqlString(staging)}, format = 'newline_delimited', columns = {${spec}})`,
  );
  const partitions = [...new Set(events.map((e) => `${e.event_type}|${e.timestamp.slice(0, 10)}`))].sort();
  const select = cols.map((c) => `"${c.name}"`).join(', ');
  const files: string[] = [];
  for (const p of partitions) {
    const [eventType, dt] = p.split('|') as [string, string];
    const folder = join(dir, 'events', `event_type=${eventType}`, `dt=${dt}`);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'part-0.parquet');
    await connection.run(
      `COPY (SELECT ${select} FROM staged_events WHERE event_type = ${sqlString(eventType)} AND substr("timestamp", 1, 10) = ${sqlString(dt)} ORDER BY "timestamp", event_id) TO ${sqlString(file)} (FORMAT parquet)`,
    );
    files.push(file);
  }
  await connection.run('DROP TABLE staged_events');
  return files;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
