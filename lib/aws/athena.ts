/**
 * Runs one SQL statement in an Athena workgroup and returns its rows: StartQueryExecution
 * (the workgroup enforces the results location, encryption and scan limit),
 * GetQueryExecution polled with exponential backoff up to a deadline (then
 * StopQueryExecution: a query nobody waits for must not keep scanning), and
 * GetQueryResults followed page by page. Values are typed from the result metadata:
 * numeric types become numbers, boolean becomes a boolean, NULL becomes null, anything
 * else stays a string.
 *
 * Used by the rollup (`rollup-runner.ts`) and by the gate's Athena source. Callers bind
 * parameters with `bindPositional` (lib/core/queries) before calling: Athena receives the
 * positional form the catalog deploys as named queries (`?` markers) with one checked SQL
 * literal per marker as ExecutionParameters, in order, never user text spliced into SQL.
 * A plain string is run as a complete statement without parameters.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
} from '@aws-sdk/client-athena';
import type { CellValue, PositionalStatement, Row } from '../core/queries';

export type { CellValue, PositionalStatement, Row };

export interface AthenaQueryOptions {
  readonly workGroup: string;
  readonly database: string;
  /** First wait between polls. @default 200 ms */
  readonly pollInitialMs?: number;
  /** Longest wait between polls. @default 5000 ms */
  readonly pollMaxMs?: number;
  /** Give up (and stop the query) after this long. @default 240000 ms */
  readonly deadlineMs?: number;
  /** @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface QueryOutcome {
  readonly queryExecutionId: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Row[];
  /** Bytes Athena scanned (what the query cost). */
  readonly bytesScanned: number;
}

/** A query that did not succeed: failed, cancelled, timed out, or could not be started or read. */
export class AthenaQueryError extends Error {
  constructor(
    message: string,
    /** FAILED, CANCELLED, TIMEOUT, or ERROR (an API call failed). */
    readonly state: 'FAILED' | 'CANCELLED' | 'TIMEOUT' | 'ERROR',
    readonly queryExecutionId?: string,
  ) {
    super(message);
    this.name = 'AthenaQueryError';
  }
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint', 'double', 'float', 'real', 'decimal']);

/** A result cell as its typed value. */
export function typedValue(type: string, text: string | undefined): CellValue {
  if (text === undefined) return null;
  const base = type.toLowerCase().replace(/\(.*$/, '');
  if (NUMERIC.has(base)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  if (base === 'boolean') return text === 'true';
  return text;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runAthenaQuery(
  athena: AthenaClient,
  statement: string | PositionalStatement,
  opts: AthenaQueryOptions,
): Promise<QueryOutcome> {
  const { sql, executionParameters } = typeof statement === 'string' ? { sql: statement, executionParameters: [] } : statement;
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const deadline = now() + (opts.deadlineMs ?? 240_000);
  const api = async <T>(what: string, call: () => Promise<T>, id?: string): Promise<T> => {
    try {
      return await call();
    } catch (e) {
      const err = e as { name?: string; message?: string };
      throw new AthenaQueryError(`${what} failed: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`, 'ERROR', id);
    }
  };

  const started = await api('StartQueryExecution', () =>
    athena.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: opts.workGroup,
        QueryExecutionContext: { Database: opts.database },
        // The API takes no empty list: a statement without parameters sends none.
        ...(executionParameters.length ? { ExecutionParameters: [...executionParameters] } : {}),
      }),
    ),
  );
  const id = started.QueryExecutionId;
  if (!id) throw new AthenaQueryError('StartQueryExecution returned no QueryExecutionId', 'ERROR');

  let wait = opts.pollInitialMs ?? 200;
  let bytesScanned: number;
  for (;;) {
    const { QueryExecution: q } = await api(
      'GetQueryExecution',
      () => athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      id,
    );
    const state = q?.Status?.State;
    if (state === 'SUCCEEDED') {
      bytesScanned = q?.Statistics?.DataScannedInBytes ?? 0;
      break;
    }
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = q?.Status?.AthenaError?.ErrorMessage ?? q?.Status?.StateChangeReason ?? 'no reason given';
      throw new AthenaQueryError(`query ${id} ${state}: ${reason}`, state, id);
    }
    if (now() + wait > deadline) {
      await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new AthenaQueryError(`query ${id} still ${state ?? 'pending'} after ${opts.deadlineMs ?? 240_000} ms; stopped`, 'TIMEOUT', id);
    }
    await sleep(wait);
    wait = Math.min(wait * 2, opts.pollMaxMs ?? 5000);
  }

  let columns: ColumnInfo[] | undefined;
  const rows: Row[] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await api(
      'GetQueryResults',
      () => athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 })),
      id,
    );
    columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
    const pageRows = page.ResultSet?.Rows ?? [];
    // The first row of the first page of a SELECT is the header.
    for (const r of first ? pageRows.slice(1) : pageRows) {
      const data = r.Data ?? [];
      rows.push(Object.fromEntries(columns.map((c, i) => [c.Name ?? `_col${i}`, typedValue(c.Type ?? 'varchar', data[i]?.VarCharValue)])));
    }
    first = false;
    token = page.NextToken;
  } while (token);
  return {
    queryExecutionId: id,
    columns: (columns ?? []).map((c) => ({ name: c.Name ?? '', type: c.Type ?? 'varchar' })),
    rows,
    bytesScanned,
  };
}
