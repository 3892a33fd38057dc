/**
 * A local Athena for tests: a real HTTP server on 127.0.0.1 that speaks what
 * `@aws-sdk/client-athena` (3.1164) sends: the AWS JSON 1.1 protocol (`POST /`,
 * `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: AmazonAthena.<Operation>`;
 * errors as `{ "__type", "message" }` with status 400). The real `AthenaClient` talks to
 * it through `endpoint`; nothing under test is stubbed.
 *
 * Queries run on an engine the test provides (`duckdbEngine` runs them on DuckDB over
 * the sample Parquet, with the Trino macros of duckdb-compat.ts), so the SQL Athena
 * would receive is the SQL that runs.
 *
 * Execution parameters: StartQueryExecution takes `ExecutionParameters` (one SQL literal
 * per `?` of QueryString, in order, as Athena does); the server substitutes them into the
 * `?` outside comments, string literals and quoted identifiers (`substitutePositional`)
 * and runs that. A count that does not match ends the execution FAILED, as a query
 * Athena cannot bind; the reason text is this server's own.
 *
 * Operations: StartQueryExecution (workgroup and database checked), GetQueryExecution
 * (QUEUED, then RUNNING for `pollsUntilDone` polls, then SUCCEEDED or FAILED),
 * GetQueryResults (header row first, paginated by `pageSize`, at most MaxResults 1000),
 * StopQueryExecution. Scripted failures: `failQueries` (the execution ends FAILED),
 * `hangQueries` (never finishes: deadlines), `failNext` (the API call itself errors).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AwsError,
  FAKE_CREDENTIALS,
  FailureQueue,
  fakeEnv,
  readAwsJsonRequest,
  sendAwsError,
  sendJson,
  startAwsHttpServer,
} from './aws-http-server';

export interface EngineResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** Cells as Athena renders them (strings), null for NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
}
export type QueryEngine = (sql: string) => Promise<EngineResult>;

export interface Execution {
  readonly id: string;
  /** QueryString as sent. */
  readonly sql: string;
  /** ExecutionParameters as sent (empty when none were). */
  readonly executionParameters: readonly string[];
  /** The statement the engine runs: `sql` with the parameters substituted (or `sql` itself without parameters). */
  readonly boundSql: string;
  readonly workGroup: string;
  readonly database: string;
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  polls: number;
  reason?: string;
  result?: EngineResult;
}

export interface RecordedCall {
  readonly operation: string;
  readonly body: Record<string, unknown>;
  readonly signed: boolean;
}

export interface AthenaServer {
  readonly endpoint: string;
  readonly region: string;
  readonly executions: Execution[];
  readonly calls: RecordedCall[];
  /** GetQueryExecution polls answered RUNNING before the state is final. @default 1 */
  pollsUntilDone: number;
  /** Rows per GetQueryResults page, header included on the first page. @default 1000 */
  pageSize: number;
  /** Executions whose bound SQL matches end FAILED (`times` of them). */
  failQueries(match: (sql: string) => boolean, opts?: { times?: number; reason?: string }): void;
  /** Executions whose bound SQL matches stay RUNNING until stopped. */
  hangQueries(match: (sql: string) => boolean): void;
  /** The next API call(s) of an operation error. */
  failNext(f: { operation?: string; type: string; message?: string; status?: number; times?: number }): void;
  callsOf(operation: string): RecordedCall[];
  client(opts?: { maxAttempts?: number }): AthenaClient;
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/** DuckDB type name to the Athena (Trino) type Athena reports in ColumnInfo. */
function athenaType(duck: string): string {
  const t = duck.toUpperCase();
  if (/^(BIGINT|HUGEINT|UBIGINT)$/.test(t)) return 'bigint';
  if (/^(INTEGER|SMALLINT|TINYINT|UINTEGER|USMALLINT|UTINYINT)$/.test(t)) return 'integer';
  if (/^(DOUBLE|FLOAT)$/.test(t)) return 'double';
  if (t.startsWith('DECIMAL')) return 'decimal';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  if (t.endsWith('[]')) return 'array';
  return 'varchar';
}

/**
 * Substitutes SQL literals into the `?` markers of a statement, in order, skipping
 * comments, string literals and quoted identifiers (where a `?` is no parameter). Written
 * apart from lib/core/queries so the tests check the positional form against an
 * independent reading of it. Returns the bound text, or the counts when they differ.
 */
export function substitutePositional(sql: string, parameters: readonly string[]): { sql: string } | { markers: number; given: number } {
  let out = '';
  let used = 0;
  let markers = 0;
  for (let i = 0; i < sql.length;) {
    const c = sql[i] as string;
    let end = i + 1;
    if (c === '-' && sql[i + 1] === '-') end = sql.includes('\n', i) ? sql.indexOf('\n', i) : sql.length;
    else if (c === '/' && sql[i + 1] === '*') end = sql.includes('*/', i + 2) ? sql.indexOf('*/', i + 2) + 2 : sql.length;
    else if (c === "'" || c === '"') {
      end = i + 1;
      while (end < sql.length && !(sql[end] === c && sql[end + 1] !== c)) end += sql[end] === c ? 2 : 1;
      end = Math.min(end + 1, sql.length);
    } else if (c === '?') {
      markers++;
      out += parameters[used++] ?? '?';
      i++;
      continue;
    }
    out += sql.slice(i, end);
    i = end;
  }
  return markers === parameters.length ? { sql: out } : { markers, given: parameters.length };
}

/** An engine that runs the SQL on a DuckDB connection (see duckdb-compat.ts). */
export function duckdbEngine(connection: DuckDBConnection): QueryEngine {
  return async (sql) => {
    const reader = await connection.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => athenaType(t.toString()));
    const rows = reader.getRowsJson().map((r) => r.map((v) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v))));
    return { columns: names.map((name, i) => ({ name, type: types[i] ?? 'varchar' })), rows };
  };
}

export async function startAthenaServer(opts: {
  engine: QueryEngine;
  workGroup: string;
  database: string;
  region?: string;
}): Promise<AthenaServer> {
  const region = opts.region ?? 'eu-west-1';
  const executions: Execution[] = [];
  const calls: RecordedCall[] = [];
  const apiFailures = new FailureQueue<{ operation?: string; type: string; message?: string; status?: number; times?: number }>();
  const queryFailures: { match: (sql: string) => boolean; left: number; reason: string }[] = [];
  const hangs: ((sql: string) => boolean)[] = [];
  const state = { pollsUntilDone: 1, pageSize: 1000 };

  const find = (b: Record<string, unknown>) => {
    const e = executions.find((x) => x.id === b.QueryExecutionId);
    if (!e) throw new AwsError('InvalidRequestException', `QueryExecution ${String(b.QueryExecutionId)} was not found`);
    return e;
  };

  const finish = async (e: Execution) => {
    if (hangs.some((h) => h(e.boundSql))) return;
    const bound = substitutePositional(e.sql, e.executionParameters);
    if (!('sql' in bound)) {
      e.state = 'FAILED';
      e.reason = `INVALID_PARAMETER_USAGE: the query has ${bound.markers} ? parameter(s) but ${bound.given} ExecutionParameters were given (local Athena server)`;
      return;
    }
    const f = queryFailures.find((x) => x.left > 0 && x.match(e.boundSql));
    if (f) {
      f.left--;
      e.state = 'FAILED';
      e.reason = f.reason;
      return;
    }
    try {
      e.result = await opts.engine(bound.sql);
      e.state = 'SUCCEEDED';
    } catch (err) {
      e.state = 'FAILED';
      e.reason = `SYNTAX_ERROR: ${(err as Error).message.split('\n')[0]}`;
    }
  };

  const operations: Record<string, (b: Record<string, unknown>) => Promise<unknown> | unknown> = {
    StartQueryExecution(b) {
      const sql = String(b.QueryString ?? '');
      if (!sql) throw new AwsError('InvalidRequestException', 'QueryString is required');
      const workGroup = String(b.WorkGroup ?? 'primary');
      if (workGroup !== opts.workGroup) throw new AwsError('InvalidRequestException', `WorkGroup ${workGroup} is not found.`);
      const database = String((b.QueryExecutionContext as { Database?: string } | undefined)?.Database ?? '');
      if (database !== opts.database) throw new AwsError('InvalidRequestException', `Database ${database || '(none)'} is not found.`);
      const params = b.ExecutionParameters;
      if (
        params !== undefined &&
        (!Array.isArray(params) || params.length === 0 || !params.every((p) => typeof p === 'string' && p !== ''))
      )
        throw new AwsError('InvalidRequestException', 'ExecutionParameters must be a list of 1 or more non-empty strings');
      const executionParameters = (params ?? []) as string[];
      const bound = substitutePositional(sql, executionParameters);
      const id = `qe-${String(executions.length + 1).padStart(4, '0')}`;
      executions.push({
        id,
        sql,
        executionParameters,
        boundSql: 'sql' in bound ? bound.sql : sql,
        workGroup,
        database,
        state: 'QUEUED',
        polls: 0,
      });
      return { QueryExecutionId: id };
    },
    async GetQueryExecution(b) {
      const e = find(b);
      if (e.state === 'QUEUED' || e.state === 'RUNNING') {
        e.polls++;
        if (e.polls > state.pollsUntilDone) await finish(e);
        else e.state = 'RUNNING';
      }
      return {
        QueryExecution: {
          QueryExecutionId: e.id,
          Query: e.sql,
          ...(e.executionParameters.length ? { ExecutionParameters: e.executionParameters } : {}),
          StatementType: 'DML',
          WorkGroup: e.workGroup,
          QueryExecutionContext: { Database: e.database },
          Status: {
            State: e.state,
            ...(e.reason ? { StateChangeReason: e.reason, AwsError: { ErrorCategory: 2, ErrorMessage: e.reason } } : {}),
          },
          Statistics: { DataScannedInBytes: e.state === 'SUCCEEDED' ? 10_485_760 : 0 },
        },
      };
    },
    GetQueryResults(b) {
      const e = find(b);
      if (e.state !== 'SUCCEEDED' || !e.result)
        throw new AwsError('InvalidRequestException', `Query has not yet finished. Current state: ${e.state}`);
      const max = typeof b.MaxResults === 'number' ? b.MaxResults : 1000;
      if (max < 1 || max > 1000) throw new AwsError('InvalidRequestException', 'MaxResults must be between 1 and 1000');
      const all = [e.result.columns.map((c) => c.name), ...e.result.rows];
      const size = Math.min(max, state.pageSize);
      const start = b.NextToken === undefined ? 0 : Number(String(b.NextToken).replace(/^page-/, ''));
      if (!Number.isInteger(start)) throw new AwsError('InvalidRequestException', 'invalid NextToken');
      const page = all.slice(start, start + size);
      return {
        UpdateCount: 0,
        ResultSet: {
          Rows: page.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
          ResultSetMetadata: {
            ColumnInfo: e.result.columns.map((c) => ({
              Name: c.name,
              Label: c.name,
              Type: c.type,
              CatalogName: 'hive',
              Nullable: 'UNKNOWN',
            })),
          },
        },
        ...(start + size < all.length ? { NextToken: `page-${start + size}` } : {}),
      };
    },
    StopQueryExecution(b) {
      const e = find(b);
      if (e.state === 'QUEUED' || e.state === 'RUNNING') e.state = 'CANCELLED';
      return {};
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { target, operation, known, body, signed } = await readAwsJsonRequest(req, { targetPrefix: 'AmazonAthena.' });
    calls.push({ operation, body, signed });
    const headers = () => ({ 'x-amzn-requestid': `req-${calls.length}` });
    try {
      if (!known) throw new AwsError('UnknownOperationException', `unsupported request ${req.method} ${target}`);
      const f = apiFailures.take(operation);
      if (f) throw new AwsError(f.type, f.message ?? `${f.type} (injected by the test)`, f.status ?? 400);
      const op = operations[operation];
      if (!op) throw new AwsError('UnknownOperationException', `operation ${operation} is not implemented by the local Athena server`);
      sendJson(res, 200, await op(body), headers());
    } catch (e) {
      if (e instanceof AwsError) sendJson(res, e.status, { __type: e.type, message: e.message, Message: e.message }, headers());
      else sendAwsError(res, 500, 'InternalServerException', String(e), headers());
    }
  };

  const { endpoint, track, close } = await startAwsHttpServer({ handle });

  return {
    endpoint,
    region,
    executions,
    calls,
    get pollsUntilDone() {
      return state.pollsUntilDone;
    },
    set pollsUntilDone(n: number) {
      state.pollsUntilDone = n;
    },
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(n: number) {
      state.pageSize = n;
    },
    failQueries: (match, o = {}) =>
      void queryFailures.push({ match, left: o.times ?? 1, reason: o.reason ?? 'GENERIC_INTERNAL_ERROR: injected by the test' }),
    hangQueries: (match) => void hangs.push(match),
    failNext: (f) => apiFailures.push(f),
    callsOf: (operation) => calls.filter((c) => c.operation === operation),
    client: (o = {}) => track(new AthenaClient({ endpoint, region, credentials: FAKE_CREDENTIALS, maxAttempts: o.maxAttempts ?? 1 })),
    env: fakeEnv(region),
    close,
  };
}
