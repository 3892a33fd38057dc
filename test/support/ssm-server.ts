/**
 * A local Parameter Store for tests: a real HTTP server on 127.0.0.1 that speaks the
 * SSM JSON protocol (awsJson1_1: `POST /`, `X-Amz-Target: AmazonSSM.<Operation>`, JSON
 * body and response, errors as `{ "__type": ..., "message": ... }` with status 400).
 * The real `SSMClient` talks to it through `endpoint`; nothing under test is stubbed.
 *
 * Operations: GetParametersByPath (paginated, `pageSize` a page at most), GetParameters,
 * GetParameter, PutParameter, DeleteParameter, AddTagsToResource, RemoveTagsFromResource.
 * Failures are queued with `failNext`.
 *
 * PutParameter as AWS documents it
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html):
 * without `Overwrite` an existing name answers ParameterAlreadyExists; `Tags` together
 * with `Overwrite` is refused (tags of an existing parameter change through
 * AddTagsToResource); a value that does not match the request's `AllowedPattern`, or the
 * one stored with the parameter, answers ParameterPatternMismatchException. An overwrite
 * without `Description` or `AllowedPattern` keeps the stored ones (this server's choice:
 * no test relies on either).
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
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

export interface StoredParameter {
  value: string;
  type: string;
  version: number;
  lastModified: number;
  description?: string;
  allowedPattern?: string;
  /** Tag key to value. */
  tags?: Record<string, string>;
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

export async function startSsmServer(opts: { region?: string } = {}): Promise<SsmServer> {
  const region = opts.region ?? 'eu-west-1';
  const parameters = new Map<string, StoredParameter>();
  const calls: RecordedCall[] = [];
  const failures = new FailureQueue<QueuedFailure>();
  const state = { pageSize: 10, delayMs: 0 };

  const put = (
    name: string,
    value: string,
    type = 'String',
    extra: Pick<StoredParameter, 'description' | 'allowedPattern' | 'tags'> = {},
  ): number => {
    const prev = parameters.get(name);
    const version = (prev?.version ?? 0) + 1;
    parameters.set(name, {
      value,
      type,
      version,
      lastModified: Date.now() / 1000,
      description: extra.description ?? prev?.description,
      allowedPattern: extra.allowedPattern ?? prev?.allowedPattern,
      tags: { ...prev?.tags, ...extra.tags },
    });
    return version;
  };
  const tagsOf = (b: Record<string, unknown>): Record<string, string> =>
    Object.fromEntries(((b.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((t) => [t.Key, t.Value]));
  const taggedParameter = (b: Record<string, unknown>): StoredParameter => {
    if (b.ResourceType !== 'Parameter')
      throw new AwsError('InvalidResourceType', `resource type ${String(b.ResourceType)} is not supported here`);
    const p = parameters.get(String(b.ResourceId));
    if (!p) throw new AwsError('InvalidResourceId', `Parameter ${String(b.ResourceId)} not found.`);
    return p;
  };
  const shape = (name: string, p: StoredParameter) => ({
    Name: name,
    Type: p.type,
    Value: p.value,
    Version: p.version,
    LastModifiedDate: p.lastModified,
    ARN: `arn:aws:ssm:${region}:123456789012:parameter${name}`,
    DataType: 'text',
  });

  const operations: Record<string, (b: Record<string, unknown>) => unknown> = {
    GetParametersByPath(b) {
      const path = String(b.Path ?? '');
      if (!path.startsWith('/')) throw new AwsError('ValidationException', 'path must start with /');
      const base = path.endsWith('/') ? path : `${path}/`;
      const names = [...parameters.keys()]
        .filter((n) => n.startsWith(base) && (b.Recursive === true || !n.slice(base.length).includes('/')))
        .sort();
      const max = Math.min(state.pageSize, typeof b.MaxResults === 'number' ? b.MaxResults : 10);
      const start = b.NextToken === undefined ? 0 : Number(String(b.NextToken).replace(/^page-/, ''));
      if (!Number.isInteger(start)) throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
      const page = names.slice(start, start + max);
      const next = start + max < names.length ? `page-${start + max}` : undefined;
      return { Parameters: page.map((n) => shape(n, parameters.get(n)!)), ...(next ? { NextToken: next } : {}) };
    },
    GetParameters(b) {
      const names = (b.Names as string[] | undefined) ?? [];
      if (names.length > 10) throw new AwsError('ValidationException', 'at most 10 names');
      return {
        Parameters: names.filter((n) => parameters.has(n)).map((n) => shape(n, parameters.get(n)!)),
        InvalidParameters: names.filter((n) => !parameters.has(n)),
      };
    },
    GetParameter(b) {
      const name = String(b.Name);
      const p = parameters.get(name);
      if (!p) throw new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
      return { Parameter: shape(name, p) };
    },
    PutParameter(b) {
      const name = String(b.Name);
      if (b.Overwrite === true && b.Tags !== undefined)
        throw new AwsError('ValidationException', 'Invalid request: tags and overwrite can not be used together.');
      if (parameters.has(name) && b.Overwrite !== true) throw new AwsError('ParameterAlreadyExists', 'The parameter already exists.');
      if (typeof b.Value !== 'string' || b.Value.length === 0) throw new AwsError('ValidationException', 'Value must not be empty');
      const pattern = typeof b.AllowedPattern === 'string' ? b.AllowedPattern : parameters.get(name)?.allowedPattern;
      if (pattern !== undefined && !new RegExp(pattern).test(b.Value))
        throw new AwsError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${pattern}`);
      const version = put(name, b.Value, String(b.Type ?? 'String'), {
        description: typeof b.Description === 'string' ? b.Description : undefined,
        allowedPattern: typeof b.AllowedPattern === 'string' ? b.AllowedPattern : undefined,
        tags: tagsOf(b),
      });
      return { Version: version, Tier: 'Standard' };
    },
    DeleteParameter(b) {
      if (!parameters.delete(String(b.Name))) throw new AwsError('ParameterNotFound', 'not found');
      return {};
    },
    AddTagsToResource(b) {
      const p = taggedParameter(b);
      p.tags = { ...p.tags, ...tagsOf(b) };
      return {};
    },
    RemoveTagsFromResource(b) {
      const p = taggedParameter(b);
      const keys = new Set((b.TagKeys as string[] | undefined) ?? []);
      p.tags = Object.fromEntries(Object.entries(p.tags ?? {}).filter(([k]) => !keys.has(k)));
      return {};
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { target, operation, known, body, signed } = await readAwsJsonRequest(req, { targetPrefix: 'AmazonSSM.' });
    calls.push({ operation, body, signed });
    if (state.delayMs > 0) await sleep(state.delayMs);
    const headers = () => ({ 'x-amzn-requestid': `req-${calls.length}` });
    try {
      if (!known) throw new AwsError('UnknownOperationException', `unsupported request ${req.method} ${target}`);
      const f = failures.take(operation);
      if (f) throw new AwsError(f.type, f.message ?? `${f.type} (injected by the test)`, f.status ?? 400);
      const op = operations[operation];
      if (!op) throw new AwsError('UnknownOperationException', `operation ${operation} is not implemented by the local SSM server`);
      sendJson(res, 200, op(body), headers());
    } catch (e) {
      if (e instanceof AwsError) sendAwsError(res, e.status, e.type, e.message, headers());
      else sendAwsError(res, 500, 'InternalServerError', String(e), headers());
    }
  };

  const { endpoint, track, close } = await startAwsHttpServer({ handle });

  return {
    endpoint,
    region,
    parameters,
    calls,
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(n: number) {
      state.pageSize = n;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(n: number) {
      state.delayMs = n;
    },
    put: (name, value) => void put(name, value),
    failNext: (f) => failures.push(f),
    callsOf: (operation) => calls.filter((c) => c.operation === operation),
    client: (o = {}) => track(new SSMClient({ endpoint, region, credentials: FAKE_CREDENTIALS, maxAttempts: o.maxAttempts ?? 1 })),
    env: fakeEnv(region),
    close,
  };
}
