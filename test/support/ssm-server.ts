/**
 * A local Parameter Store for tests: a real HTTP server on 127.0.0.1 that speaks the
 * SSM JSON protocol (awsJson1_1: `POST /`, `X-Amz-Target: AmazonSSM.<Operation>`, JSON
 * body and response, errors as `{ "__type": ..., "message": ... }` with status 400).
 * The real `SSMClient` talks to it through `endpoint`; nothing under test is stubbed.
 *
 * Operations: GetParametersByPath (paginated, `pageSize` a page at most), GetParameters,
 * GetParameter, PutParameter, DeleteParameter. Failures are queued with `failNext`.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredParameter {
  value: string;
  type: string;
  version: number;
  lastModified: number;
}

export interface RecordedCall {
  /** Operation name, e.g. `GetParametersByPath`. */
  readonly operation: string;
  readonly body: Record<string, unknown>;
  /** Whether the request carried a SigV4 Authorization header. */
  readonly signed: boolean;
}

export interface QueuedFailure {
  /** Only calls of this operation fail. @default - any operation */
  readonly operation?: string;
  /** Error code (`__type`), e.g. `ThrottlingException`. */
  readonly type: string;
  readonly message?: string;
  /** @default 400 */
  readonly status?: number;
  /** How many calls fail. @default 1 */
  readonly times?: number;
}

export interface SsmServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly region: string;
  /** Parameters by name; tests read and edit it directly. */
  readonly parameters: Map<string, StoredParameter>;
  /** Every call received, in order. */
  readonly calls: RecordedCall[];
  /** Largest page GetParametersByPath returns (AWS: at most 10, and at most MaxResults). */
  pageSize: number;
  /** Extra time before each response, in milliseconds. */
  delayMs: number;
  /** Stores a parameter (String) as if PutParameter had been called. */
  put(name: string, value: string): void;
  /** The next matching call(s) fail with this error. */
  failNext(failure: QueuedFailure): void;
  /** Calls of one operation. */
  callsOf(operation: string): RecordedCall[];
  /** An SSMClient for this server with static fake credentials and no retries. */
  client(opts?: { maxAttempts?: number }): SSMClient;
  /** Fake credentials, also for `env` of a CLI run. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const FAKE_CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' };

export async function startSsmServer(opts: { region?: string } = {}): Promise<SsmServer> {
  const region = opts.region ?? 'eu-west-1';
  const parameters = new Map<string, StoredParameter>();
  const calls: RecordedCall[] = [];
  const failures: (QueuedFailure & { left: number })[] = [];
  const state = { pageSize: 10, delayMs: 0 };

  const put = (name: string, value: string, type = 'String'): number => {
    const prev = parameters.get(name);
    const version = (prev?.version ?? 0) + 1;
    parameters.set(name, { value, type, version, lastModified: Date.now() / 1000 });
    return version;
  };
  const shape = (name: string, p: StoredParameter) => ({
    Name: name, Type: p.type, Value: p.value, Version: p.version, LastModifiedDate: p.lastModified,
    ARN: `arn:aws:ssm:${region}:123456789012:parameter${name}`, DataType: 'text',
  });

  const operations: Record<string, (b: Record<string, unknown>) => unknown> = {
    GetParametersByPath(b) {
      const path = String(b.Path ?? '');
      if (!path.startsWith('/')) throw new SsmError('ValidationException', 'path must start with /');
      const base = path.endsWith('/') ? path : `${path}/`;
      const names = [...parameters.keys()]
        .filter((n) => n.startsWith(base) && (b.Recursive === true || !n.slice(base.length).includes('/')))
        .sort();
      const max = Math.min(state.pageSize, typeof b.MaxResults === 'number' ? b.MaxResults : 10);
      const start = b.NextToken === undefined ? 0 : Number(String(b.NextToken).replace(/^page-/, ''));
      if (!Number.isInteger(start)) throw new SsmError('InvalidNextToken', 'The specified token is not valid.');
      const page = names.slice(start, start + max);
      const next = start + max < names.length ? `page-${start + max}` : undefined;
      return { Parameters: page.map((n) => shape(n, parameters.get(n)!)), ...(next ? { NextToken: next } : {}) };
    },
    GetParameters(b) {
      const names = (b.Names as string[] | undefined) ?? [];
      if (names.length > 10) throw new SsmError('ValidationException', 'at most 10 names');
      return {
        Parameters: names.filter((n) => parameters.has(n)).map((n) => shape(n, parameters.get(n)!)),
        InvalidParameters: names.filter((n) => !parameters.has(n)),
      };
    },
    GetParameter(b) {
      const name = String(b.Name);
      const p = parameters.get(name);
      if (!p) throw new SsmError('ParameterNotFound', `Parameter ${name} not found.`);
      return { Parameter: shape(name, p) };
    },
    PutParameter(b) {
      const name = String(b.Name);
      if (parameters.has(name) && b.Overwrite !== true) throw new SsmError('ParameterAlreadyExists', 'The parameter already exists.');
      if (typeof b.Value !== 'string' || b.Value.length === 0) throw new SsmError('ValidationException', 'Value must not be empty');
      return { Version: put(name, b.Value, String(b.Type ?? 'String')), Tier: 'Standard' };
    },
    DeleteParameter(b) {
      if (!parameters.delete(String(b.Name))) throw new SsmError('ParameterNotFound', 'not found');
      return {};
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^AmazonSSM\./, '');
    let body: Record<string, unknown> = {};
    try {
      body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      /* answered below as a serialization error */
    }
    calls.push({ operation, body, signed: typeof req.headers.authorization === 'string' && req.headers.authorization.startsWith('AWS4-HMAC-SHA256') });
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${calls.length}` });
      res.end(JSON.stringify(payload));
    };
    try {
      if (req.method !== 'POST' || !target.startsWith('AmazonSSM.')) throw new SsmError('UnknownOperationException', `unsupported request ${req.method} ${target}`);
      const i = failures.findIndex((f) => f.operation === undefined || f.operation === operation);
      if (i >= 0) {
        const f = failures[i]!;
        if (--f.left <= 0) failures.splice(i, 1);
        throw new SsmError(f.type, f.message ?? `${f.type} (injected by the test)`, f.status ?? 400);
      }
      const op = operations[operation];
      if (!op) throw new SsmError('UnknownOperationException', `operation ${operation} is not implemented by the local SSM server`);
      send(200, op(body));
    } catch (e) {
      if (e instanceof SsmError) send(e.status, { __type: e.type, message: e.message });
      else send(500, { __type: 'InternalServerError', message: String(e) });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: SSMClient[] = [];

  return {
    endpoint,
    region,
    parameters,
    calls,
    get pageSize() { return state.pageSize; },
    set pageSize(n: number) { state.pageSize = n; },
    get delayMs() { return state.delayMs; },
    set delayMs(n: number) { state.delayMs = n; },
    put: (name, value) => void put(name, value),
    failNext: (f) => void failures.push({ ...f, left: f.times ?? 1 }),
    callsOf: (operation) => calls.filter((c) => c.operation === operation),
    client: (o = {}) => {
      const c = new SSMClient({ endpoint, region, credentials: FAKE_CREDENTIALS, maxAttempts: o.maxAttempts ?? 1 });
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
