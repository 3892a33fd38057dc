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
 * Operations: StartQueryExecution (workgroup and database checked), GetQueryExecution
 * (QUEUED, then RUNNING for `pollsUntilDone` polls, then SUCCEEDED or FAILED),
 * GetQueryResults (header row first, paginated by `pageSize`, at most MaxResults 1000),
 * StopQueryExecution. Scripted failures: `failQueries` (the execution ends FAILED),
 * `hangQueries` (never finishes: deadlines), `failNext` (the API call itself errors).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import type { DuckDBConnection } from '@duckdb/node-api';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EngineResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** Cells as Athena renders them (strings), null for NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
}
export type QueryEngine = (sql: string) => Promise<EngineResult>;

export interface Execution {
  readonly id: string;
  readonly sql: string;
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
  /** Executions whose SQL matches end FAILED (`times` of them). */
  failQueries(match: (sql: string) => boolean, opts?: { times?: number; reason?: string }): void;
  /** Executions whose SQL matches stay RUNNING until stopped. */
  hangQueries(match: (sql: string) => boolean): void;
  /** The next API call(s) of an operation error. */
  failNext(f: { operation?: string; type: string; message?: string; status?: number; times?: number }): void;
  callsOf(operation: string): RecordedCall[];
  client(opts?: { maxAttempts?: number }): AthenaClient;
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

const FAKE_CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' };

class AthenaError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
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

export async function startAthenaServer(opts: { engine: QueryEngine; workGroup: string; database: string; region?: string }): Promise<AthenaServer> {
  const region = opts.region ?? 'eu-west-1';
  const executions: Execution[] = [];
  const calls: RecordedCall[] = [];
  const apiFailures: { operation?: string; type: string; message?: string; status?: number; left: number }[] = [];
  const queryFailures: { match: (sql: string) => boolean; left: number; reason: string }[] = [];
  const hangs: ((sql: string) => boolean)[] = [];
  const state = { pollsUntilDone: 1, pageSize: 1000 };

  const find = (b: Record<string, unknown>) => {
    const e = executions.find((x) => x.id === b.QueryExecutionId);
    if (!e) throw new AthenaError('InvalidRequestException', `QueryExecution ${String(b.QueryExecutionId)} was not found`);
    return e;
  };

  const finish = async (e: Execution) => {
    if (hangs.some((h) => h(e.sql))) return;
    const f = queryFailures.find((x) => x.left > 0 && x.match(e.sql));
    if (f) {
      f.left--;
      e.state = 'FAILED';
      e.reason = f.reason;
      return;
    }
    try {
      e.result = await opts.engine(e.sql);
      e.state = 'SUCCEEDED';
    } catch (err) {
      e.state = 'FAILED';
      e.reason = `SYNTAX_ERROR: ${(err as Error).message.split('\n')[0]}`;
    }
  };

  const operations: Record<string, (b: Record<string, unknown>) => Promise<unknown> | unknown> = {
    StartQueryExecution(b) {
      const sql = String(b.QueryString ?? '');
      if (!sql) throw new AthenaError('InvalidRequestException', 'QueryString is required');
      const workGroup = String(b.WorkGroup ?? 'primary');
      if (workGroup !== opts.workGroup) throw new AthenaError('InvalidRequestException', `WorkGroup ${workGroup} is not found.`);
      const database = String((b.QueryExecutionContext as { Database?: string } | undefined)?.Database ?? '');
      if (database !== opts.database) throw new AthenaError('InvalidRequestException', `Database ${database || '(none)'} is not found.`);
      const id = `qe-${String(executions.length + 1).padStart(4, '0')}`;
      executions.push({ id, sql, workGroup, database, state: 'QUEUED', polls: 0 });
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
          QueryExecutionId: e.id, Query: e.sql, StatementType: 'DML', WorkGroup: e.workGroup,
          QueryExecutionContext: { Database: e.database },
          Status: { State: e.state, ...(e.reason ? { StateChangeReason: e.reason, AthenaError: { ErrorCategory: 2, ErrorMessage: e.reason } } : {}) },
          Statistics: { DataScannedInBytes: e.state === 'SUCCEEDED' ? 10_485_760 : 0 },
        },
      };
    },
    GetQueryResults(b) {
      const e = find(b);
      if (e.state !== 'SUCCEEDED' || !e.result) throw new AthenaError('InvalidRequestException', `Query has not yet finished. Current state: ${e.state}`);
      const max = typeof b.MaxResults === 'number' ? b.MaxResults : 1000;
      if (max < 1 || max > 1000) throw new AthenaError('InvalidRequestException', 'MaxResults must be between 1 and 1000');
      const all = [e.result.columns.map((c) => c.name), ...e.result.rows];
      const size = Math.min(max, state.pageSize);
      const start = b.NextToken === undefined ? 0 : Number(String(b.NextToken).replace(/^page-/, ''));
      if (!Number.isInteger(start)) throw new AthenaError('InvalidRequestException', 'invalid NextToken');
      const page = all.slice(start, start + size);
      return {
        UpdateCount: 0,
        ResultSet: {
          Rows: page.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
          ResultSetMetadata: { ColumnInfo: e.result.columns.map((c) => ({ Name: c.name, Label: c.name, Type: c.type, CatalogName: 'hive', Nullable: 'UNKNOWN' })) },
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
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^AmazonAthena\./, '');
    let body: Record<string, unknown> = {};
    try {
      body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      /* answered below */
    }
    calls.push({ operation, body, signed: String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256') });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${calls.length}` });
      res.end(JSON.stringify(payload));
    };
    try {
      if (req.method !== 'POST' || !target.startsWith('AmazonAthena.')) throw new AthenaError('UnknownOperationException', `unsupported request ${req.method} ${target}`);
      const i = apiFailures.findIndex((f) => f.operation === undefined || f.operation === operation);
      if (i >= 0) {
        const f = apiFailures[i]!;
        if (--f.left <= 0) apiFailures.splice(i, 1);
        throw new AthenaError(f.type, f.message ?? `${f.type} (injected by the test)`, f.status ?? 400);
      }
      const op = operations[operation];
      if (!op) throw new AthenaError('UnknownOperationException', `operation ${operation} is not implemented by the local Athena server`);
      send(200, await op(body));
    } catch (e) {
      if (e instanceof AthenaError) send(e.status, { __type: e.type, message: e.message, Message: e.message });
      else send(500, { __type: 'InternalServerException', message: String(e) });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: AthenaClient[] = [];

  return {
    endpoint,
    region,
    executions,
    calls,
    get pollsUntilDone() { return state.pollsUntilDone; },
    set pollsUntilDone(n: number) { state.pollsUntilDone = n; },
    get pageSize() { return state.pageSize; },
    set pageSize(n: number) { state.pageSize = n; },
    failQueries: (match, o = {}) => void queryFailures.push({ match, left: o.times ?? 1, reason: o.reason ?? 'GENERIC_INTERNAL_ERROR: injected by the test' }),
    hangQueries: (match) => void hangs.push(match),
    failNext: (f) => void apiFailures.push({ ...f, left: f.times ?? 1 }),
    callsOf: (operation) => calls.filter((c) => c.operation === operation),
    client: (o = {}) => {
      const c = new AthenaClient({ endpoint, region, credentials: FAKE_CREDENTIALS, maxAttempts: o.maxAttempts ?? 1 });
      clients.push(c);
      return c;
    },
    env: { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_REGION: region },
    close: async () => {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
