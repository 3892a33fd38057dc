/**
 * A local CloudWatch metrics service for tests: a real HTTP server on 127.0.0.1 that
 * speaks what the installed `@aws-sdk/client-cloudwatch` (3.1164) sends: the AWS JSON
 * 1.0 protocol in its query-compatible mode (`POST /`, `Content-Type:
 * application/x-amz-json-1.0`, `X-Amz-Target: GraniteServiceVersion20100801.<Operation>`,
 * `x-amzn-query-mode: true`; timestamps as epoch seconds; errors as `{ "__type":
 * "com.amazonaws.cloudwatch#<Code>Exception", "message" }` with the query error code in
 * the `x-amzn-query-error` header). The real `CloudWatchClient` talks to it through
 * `endpoint`; nothing under test is stubbed.
 *
 * Operations:
 * - PutMetricData, with the service limits checked as CloudWatch does: at most 1,000
 *   items per call, a 1 MB request body, 30 dimensions per item, 150 values per item,
 *   finite values, timestamps at most 2 weeks in the past and 2 hours ahead of `now()`.
 *   The client gzips PutMetricData bodies of 10 KB or more (`Content-Encoding: gzip`,
 *   the operation's request-compression trait): the server inflates them, and the 1 MB
 *   limit applies to the bytes on the wire, as CloudWatch applies it.
 *   Every datapoint is kept (CloudWatch aggregates repeated datapoints; it never
 *   replaces them), so a test can tell a rerun that overwrote from one that added.
 * - GetMetricData: MetricStat queries (exact dimension-set match, as CloudWatch) with
 *   Sum, Average, Minimum, Maximum, SampleCount and pNN (nearest rank over the raw
 *   values) per period aligned to StartTime; and metric-math expressions over other
 *   query ids: numbers, ids, + - * /, comparisons, IF(c, a[, b]) and FILL(x, v).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
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

/** One stored datapoint (a PutMetricData item; a `Values` array is kept as its raw values). */
export interface StoredDatum {
  readonly namespace: string;
  readonly metricName: string;
  /** Dimensions by name. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  /** Raw values, each repeated per its count. */
  readonly values: readonly number[];
  readonly unit?: string;
}

export interface RecordedCall {
  readonly operation: string;
  readonly body: Record<string, unknown>;
  /** Request body size on the wire, in bytes (compressed when gzipped). */
  readonly bytes: number;
  /** Request body size after inflating, in bytes. */
  readonly jsonBytes: number;
  /** Whether the body was gzipped. */
  readonly gzip: boolean;
  /** Whether the request carried a SigV4 Authorization header. */
  readonly signed: boolean;
  /** The error code returned, if the call failed. */
  error?: string;
}

export interface QueuedFailure {
  /** Only calls of this operation fail. @default - any operation */
  readonly operation?: string;
  /** Query error code, e.g. `Throttling`, `InternalServiceError`. */
  readonly code: string;
  readonly message?: string;
  /** @default 400 */
  readonly status?: number;
  /** @default 1 */
  readonly times?: number;
}

export interface CloudWatchServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly region: string;
  /** Every datapoint received, in order. */
  readonly datums: StoredDatum[];
  readonly calls: RecordedCall[];
  /** The service clock (for the PutMetricData timestamp window). */
  now: () => number;
  failNext(failure: QueuedFailure): void;
  callsOf(operation: string): RecordedCall[];
  /** Datapoints of one metric, optionally with exactly these dimensions. */
  datumsOf(metricName: string, dimensions?: Record<string, string>): StoredDatum[];
  /** A client for this server with static fake credentials and no retries. */
  client(opts?: { maxAttempts?: number }): CloudWatchClient;
  /** Fake credentials and region, for `env` of a CLI run. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export const CLOUDWATCH_LIMITS = {
  maxItemsPerPut: 1000,
  maxPutBytes: 1_048_576,
  maxDimensions: 30,
  maxValuesPerItem: 150,
  maxQueries: 500,
  pastMs: 14 * 86_400_000,
  futureMs: 2 * 3_600_000,
} as const;

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';

type Dim = { Name?: unknown; Value?: unknown };
const dimsOf = (list: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const d of (Array.isArray(list) ? list : []) as Dim[]) out[String(d.Name)] = String(d.Value);
  return out;
};
const sameDims = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

/** One statistic over raw values. */
export function statistic(stat: string, values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sum = values.reduce((a, b) => a + b, 0);
  switch (stat) {
    case 'Sum':
      return sum;
    case 'Average':
      return sum / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'SampleCount':
      return values.length;
  }
  const p = /^p(\d{1,2}(?:\.\d+)?)$/.exec(stat);
  if (!p) throw new AwsError('InvalidParameterValue', `The value ${stat} for parameter Stat is not supported by the local server.`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((Number(p[1]) / 100) * sorted.length));
  return sorted[rank - 1];
}

// ---------------------------------------------------------------- metric math

type Node =
  { t: 'num'; v: number } | { t: 'id'; id: string } | { t: 'bin'; op: string; a: Node; b: Node } | { t: 'call'; fn: string; args: Node[] };

/** Parses the metric-math subset the gate uses; throws AwsError ValidationError on anything else. */
export function parseExpression(text: string): Node {
  const tokens = text.match(/\s*(\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|==|!=|[-+*/(),<>])/gy);
  if (!tokens || tokens.join('').replace(/\s/g, '') !== text.replace(/\s/g, ''))
    throw new AwsError('ValidationError', `cannot parse expression ${text}`);
  const toks = tokens.map((x) => x.trim());
  let i = 0;
  const peek = () => toks[i];
  const take = (want?: string) => {
    const tok = toks[i++];
    if (tok === undefined || (want !== undefined && tok !== want))
      throw new AwsError('ValidationError', `expression ${text}: expected ${want ?? 'a token'} at ${i}`);
    return tok;
  };
  const primary = (): Node => {
    const tok = take();
    if (tok === '(') {
      const n = comparison();
      take(')');
      return n;
    }
    if (tok === '-') return { t: 'bin', op: '-', a: { t: 'num', v: 0 }, b: primary() };
    if (/^\d/.test(tok)) return { t: 'num', v: Number(tok) };
    if (/^[A-Za-z_]/.test(tok)) {
      if (peek() === '(') {
        take('(');
        const args = [comparison()];
        while (peek() === ',') {
          take(',');
          args.push(comparison());
        }
        take(')');
        return { t: 'call', fn: tok.toUpperCase(), args };
      }
      return { t: 'id', id: tok };
    }
    throw new AwsError('ValidationError', `expression ${text}: unexpected ${tok}`);
  };
  const level = (ops: string[], next: () => Node) => (): Node => {
    let n = next();
    while (ops.includes(peek() ?? '')) n = { t: 'bin', op: take(), a: n, b: next() };
    return n;
  };
  const term = level(['*', '/'], primary);
  const sum = level(['+', '-'], term);
  const comparison = level(['>', '<', '>=', '<=', '==', '!='], sum);
  const root = comparison();
  if (i !== toks.length) throw new AwsError('ValidationError', `expression ${text}: unexpected ${toks[i]}`);
  return root;
}

/** Evaluates at one timestamp; undefined means no datapoint. */
function evaluate(n: Node, at: (id: string) => number | undefined): number | undefined {
  switch (n.t) {
    case 'num':
      return n.v;
    case 'id':
      return at(n.id);
    case 'bin': {
      const a = evaluate(n.a, at);
      const b = evaluate(n.b, at);
      if (a === undefined || b === undefined) return undefined;
      switch (n.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return b === 0 ? undefined : a / b;
        case '>':
          return a > b ? 1 : 0;
        case '<':
          return a < b ? 1 : 0;
        case '>=':
          return a >= b ? 1 : 0;
        case '<=':
          return a <= b ? 1 : 0;
        case '==':
          return a === b ? 1 : 0;
        default:
          return a !== b ? 1 : 0;
      }
    }
    case 'call': {
      if (n.fn === 'IF') {
        const c = evaluate(n.args[0]!, at);
        if (c === undefined) return undefined;
        return c !== 0 ? evaluate(n.args[1]!, at) : n.args[2] ? evaluate(n.args[2], at) : undefined;
      }
      if (n.fn === 'FILL') return evaluate(n.args[0]!, at) ?? evaluate(n.args[1]!, at);
      throw new AwsError('ValidationError', `function ${n.fn} is not supported by the local server`);
    }
  }
}

function ids(n: Node): string[] {
  if (n.t === 'id') return [n.id];
  if (n.t === 'bin') return [...ids(n.a), ...ids(n.b)];
  if (n.t === 'call') return n.args.flatMap(ids);
  return [];
}

// ---------------------------------------------------------------- server

export async function startCloudWatchServer(opts: { region?: string; now?: () => number } = {}): Promise<CloudWatchServer> {
  const region = opts.region ?? 'eu-west-1';
  const datums: StoredDatum[] = [];
  const calls: RecordedCall[] = [];
  const failures = new FailureQueue<QueuedFailure>();
  const clock = { now: opts.now ?? (() => Date.now()) };

  const putMetricData = (b: Record<string, unknown>, bytes: number) => {
    if (bytes > CLOUDWATCH_LIMITS.maxPutBytes)
      throw new AwsError('RequestEntityTooLarge', `Request size ${bytes} exceeded ${CLOUDWATCH_LIMITS.maxPutBytes} bytes`, 413);
    const ns = String(b.Namespace ?? '');
    if (!ns || ns.startsWith('AWS/')) throw new AwsError('InvalidParameterValue', `The value ${ns} for parameter Namespace is not valid.`);
    const items = (b.MetricData as Record<string, unknown>[] | undefined) ?? [];
    if (items.length === 0 || items.length > CLOUDWATCH_LIMITS.maxItemsPerPut) {
      throw new AwsError(
        'InvalidParameterValue',
        `The collection MetricData must contain between 1 and ${CLOUDWATCH_LIMITS.maxItemsPerPut} items; it has ${items.length}.`,
      );
    }
    const now = clock.now();
    const accepted: StoredDatum[] = items.map((m, idx) => {
      const dims = (m.Dimensions as unknown[] | undefined) ?? [];
      if (dims.length > CLOUDWATCH_LIMITS.maxDimensions)
        throw new AwsError(
          'InvalidParameterValue',
          `MetricData.member.${idx + 1}.Dimensions has ${dims.length} dimensions; at most ${CLOUDWATCH_LIMITS.maxDimensions}.`,
        );
      const ts = typeof m.Timestamp === 'number' ? m.Timestamp * 1000 : now;
      if (ts < now - CLOUDWATCH_LIMITS.pastMs || ts > now + CLOUDWATCH_LIMITS.futureMs) {
        throw new AwsError(
          'InvalidParameterValue',
          `The parameter MetricData.member.${idx + 1}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`,
        );
      }
      let values: number[];
      if (Array.isArray(m.Values)) {
        if (m.Values.length > CLOUDWATCH_LIMITS.maxValuesPerItem)
          throw new AwsError(
            'InvalidParameterValue',
            `MetricData.member.${idx + 1}.Values has more than ${CLOUDWATCH_LIMITS.maxValuesPerItem} values.`,
          );
        const counts = (m.Counts as number[] | undefined) ?? [];
        values = (m.Values as number[]).flatMap((v, k) => Array.from({ length: counts[k] ?? 1 }, () => v));
      } else if (typeof m.Value === 'number') values = [m.Value];
      else throw new AwsError('InvalidParameterCombination', `MetricData.member.${idx + 1} must have Value or Values.`);
      if (values.some((v) => !Number.isFinite(v)))
        throw new AwsError('InvalidParameterValue', `MetricData.member.${idx + 1} has a non-finite value.`);
      return {
        namespace: ns,
        metricName: String(m.MetricName),
        dimensions: dimsOf(dims),
        timestamp: ts,
        values,
        unit: m.Unit as string | undefined,
      };
    });
    datums.push(...accepted);
    return {};
  };

  const getMetricData = (b: Record<string, unknown>) => {
    const queries = (b.MetricDataQueries as Record<string, unknown>[] | undefined) ?? [];
    if (queries.length === 0 || queries.length > CLOUDWATCH_LIMITS.maxQueries)
      throw new AwsError('ValidationError', `MetricDataQueries must have 1 to ${CLOUDWATCH_LIMITS.maxQueries} members.`);
    const start = Number(b.StartTime) * 1000;
    const end = Number(b.EndTime) * 1000;
    if (!(end > start)) throw new AwsError('ValidationError', 'The parameter StartTime must be less than the parameter EndTime.');
    const series = new Map<string, Map<number, number>>();
    const byId = new Map(queries.map((q) => [String(q.Id), q]));
    const resolve = (id: string, stack: string[] = []): Map<number, number> => {
      const done = series.get(id);
      if (done) return done;
      const q = byId.get(id);
      if (!q) throw new AwsError('ValidationError', `Unknown metric id ${id} in an expression.`);
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(id))
        throw new AwsError(
          'ValidationError',
          `The value ${id} for parameter MetricDataQueries.member.Id must start with a lowercase letter.`,
        );
      if (stack.includes(id)) throw new AwsError('ValidationError', `Circular reference to ${id}.`);
      let out: Map<number, number>;
      if (q.MetricStat) {
        const ms = q.MetricStat as {
          Metric: { Namespace: string; MetricName: string; Dimensions?: unknown };
          Period: number;
          Stat: string;
        };
        const period = Number(ms.Period) * 1000;
        if (!(period >= 60_000) || period % 60_000 !== 0)
          throw new AwsError('ValidationError', `Period ${ms.Period} must be a multiple of 60.`);
        const dims = dimsOf(ms.Metric.Dimensions);
        const buckets = new Map<number, number[]>();
        for (const d of datums) {
          if (d.namespace !== ms.Metric.Namespace || d.metricName !== ms.Metric.MetricName || !sameDims(d.dimensions, dims)) continue;
          if (d.timestamp < start || d.timestamp >= end) continue;
          const bucket = start + Math.floor((d.timestamp - start) / period) * period;
          buckets.set(bucket, [...(buckets.get(bucket) ?? []), ...d.values]);
        }
        out = new Map([...buckets].map(([t, vs]) => [t, statistic(ms.Stat, vs) as number]));
      } else if (typeof q.Expression === 'string') {
        const node = parseExpression(q.Expression);
        const refs = [...new Set(ids(node))].map((r) => [r, resolve(r, [...stack, id])] as const);
        const times = new Set(refs.flatMap(([, s]) => [...s.keys()]));
        out = new Map();
        for (const t of times) {
          const v = evaluate(node, (r) => refs.find(([name]) => name === r)?.[1].get(t));
          if (v !== undefined && Number.isFinite(v)) out.set(t, v);
        }
      } else throw new AwsError('ValidationError', `Query ${id} needs MetricStat or Expression.`);
      series.set(id, out);
      return out;
    };
    const descending = b.ScanBy !== 'TimestampAscending';
    const results = queries
      .filter((q) => q.ReturnData !== false)
      .map((q) => {
        const id = String(q.Id);
        const points = [...resolve(id)].sort((x, y) => (descending ? y[0] - x[0] : x[0] - y[0]));
        return {
          Id: id,
          Label: (q.Label as string | undefined) ?? id,
          Timestamps: points.map(([t]) => t / 1000),
          Values: points.map(([, v]) => v),
          StatusCode: 'Complete',
        };
      });
    return { MetricDataResults: results, Messages: [] };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { target, operation, known, body, wire, raw, gzip, signed } = await readAwsJsonRequest(req, {
      targetPrefix: TARGET_PREFIX,
      gunzip: true,
    });
    const call: RecordedCall = { operation, body, bytes: wire.length, jsonBytes: raw.length, gzip, signed };
    calls.push(call);
    const headers = () => ({ 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${calls.length}` });
    try {
      if (!known) throw new AwsError('InvalidAction', `unsupported request ${req.method} ${target}`);
      if (req.headers['content-type'] !== 'application/x-amz-json-1.0')
        throw new AwsError('InvalidParameterValue', `unexpected content-type ${req.headers['content-type']}`);
      const f = failures.take(operation);
      if (f) throw new AwsError(f.code, f.message ?? `${f.code} (injected by the test)`, f.status ?? 400);
      if (operation === 'PutMetricData') sendJson(res, 200, putMetricData(body, wire.length), headers());
      else if (operation === 'GetMetricData') sendJson(res, 200, getMetricData(body), headers());
      else throw new AwsError('InvalidAction', `operation ${operation} is not implemented by the local CloudWatch server`);
    } catch (e) {
      const err = e instanceof AwsError ? e : new AwsError('InternalServiceError', String(e), 500);
      call.error = err.type;
      sendAwsError(res, err.status, `com.amazonaws.cloudwatch#${err.type}Exception`, err.message, {
        ...headers(),
        'x-amzn-query-error': `${err.type};Sender`,
      });
    }
  };

  const { endpoint, track, close } = await startAwsHttpServer({ handle });

  return {
    endpoint,
    region,
    datums,
    calls,
    get now() {
      return clock.now;
    },
    set now(fn: () => number) {
      clock.now = fn;
    },
    failNext: (f) => failures.push(f),
    callsOf: (operation) => calls.filter((c) => c.operation === operation),
    datumsOf: (name, dims) => datums.filter((d) => d.metricName === name && (dims === undefined || sameDims(d.dimensions, dims))),
    client: (o = {}) => track(new CloudWatchClient({ endpoint, region, credentials: FAKE_CREDENTIALS, maxAttempts: o.maxAttempts ?? 1 })),
    env: fakeEnv(region),
    close,
  };
}
