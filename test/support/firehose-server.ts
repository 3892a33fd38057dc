/**
 * A local Firehose for tests and the client benchmark: a real HTTP server on 127.0.0.1
 * (ephemeral port) that speaks the Firehose JSON protocol (awsJson1_1: `POST /`,
 * `X-Amz-Target: Firehose_20150804.PutRecordBatch` or `.PutRecord`, base64 `Data`,
 * errors as `{ "__type": ..., "message": ... }` with status 400). The real
 * `FirehoseClient` talks to it through `endpoint`; nothing under test is stubbed.
 *
 * It enforces the service limits a producer must respect (500 records and 4 MiB per
 * PutRecordBatch, 1,000 KiB per record) and records every record it accepted, decoded,
 * so tests can assert delivery. Faults are scriptable:
 * - `faults.failFraction`: that fraction of the records of every batch (rounded up or
 *   down at random so that the fraction holds in expectation for any batch size, the
 *   records chosen by a seeded PRNG) is reported failed in `RequestResponses`;
 * - `faults.throttleEvery`: every n-th request is answered 400 `ThrottlingException`
 *   (`faults.throttleType` to answer e.g. `ServiceUnavailableException` instead);
 * - `faults.dropEvery`: every n-th request has its connection destroyed without an
 *   answer (`faults.dropAfterAccept`: after its records were accepted, which is how a
 *   producer ends up sending duplicates);
 * - `failNext(...)`: the next request(s) answer a given error;
 * - `down()` / `up()`: stop listening (connections are refused) and listen again on the
 *   same port.
 */
import { rng as prng } from './prng';
import { FirehoseClient } from '@aws-sdk/client-firehose';
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

/** Firehose limits (docs.aws.amazon.com/firehose/latest/dev/limits.html). */
export const FIREHOSE_LIMITS = { maxRecordBytes: 1_000 * 1024, maxBatchRecords: 500, maxBatchBytes: 4 * 1024 * 1024 } as const;

/** One record the server accepted. */
export interface ReceivedRecord {
  readonly stream: string;
  /** The record's bytes, decoded as UTF-8. */
  readonly data: string;
  readonly bytes: number;
  /** Which request (1-based, in arrival order) carried it. */
  readonly request: number;
}

/** One request the server received (also the refused and dropped ones). */
export interface ReceivedRequest {
  readonly n: number;
  readonly operation: string;
  readonly stream: string;
  readonly records: number;
  /** Sum of the decoded record sizes. */
  readonly bytes: number;
  /** Largest decoded record. */
  readonly maxRecordBytes: number;
  /** HTTP status answered, or `dropped` when the connection was destroyed. */
  outcome: number | 'dropped';
  /** Records reported failed in `RequestResponses`. */
  failed: number;
  /** Whether the request carried a SigV4 Authorization header. */
  readonly signed: boolean;
}

export interface FirehoseFaults {
  /** Fraction of the records of every batch reported failed (stochastic rounding). @default 0 */
  failFraction: number;
  /** Error code of a failed record. @default 'ServiceUnavailableException' */
  failErrorCode: string;
  /** Every n-th request is throttled (0: never). @default 0 */
  throttleEvery: number;
  /** Error type of a throttled request. @default 'ThrottlingException' */
  throttleType: string;
  /** Every n-th request has its connection destroyed (0: never). @default 0 */
  dropEvery: number;
  /** A dropped request's records are accepted before the drop. @default false */
  dropAfterAccept: boolean;
  /** Extra time before each answer, in milliseconds. @default 0 */
  delayMs: number;
}

export interface QueuedFirehoseFailure {
  /** Error code (`__type`), e.g. `ResourceNotFoundException`. */
  readonly type: string;
  readonly message?: string;
  /** @default 400 */
  readonly status?: number;
  /** How many requests fail. @default 1 */
  readonly times?: number;
}

export interface FirehoseServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly region: string;
  /** The scriptable faults; tests assign fields directly. */
  readonly faults: FirehoseFaults;
  /** Every record accepted, in order. */
  readonly records: ReceivedRecord[];
  /** Every request received, in order. */
  readonly requests: ReceivedRequest[];
  /** Streams that exist; a request for another answers ResourceNotFoundException. Empty: any name. */
  readonly streams: Set<string>;
  /** Every newline-delimited line of every accepted record of `stream` (or of all streams), parsed as JSON. */
  events(stream?: string): Record<string, unknown>[];
  /** The next request(s) answer this error. */
  failNext(failure: QueuedFirehoseFailure): void;
  /** Stops listening and closes every connection: new connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** A FirehoseClient for this server with static fake credentials (SDK retries off unless asked). */
  client(opts?: { maxAttempts?: number }): FirehoseClient;
  /** Fake credentials and region, for `env` of a child process. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'Firehose_20150804.';

/** `k` distinct indexes out of `n`. */
function pick(n: number, k: number, random: () => number): Set<number> {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return new Set(idx.slice(0, k));
}

export async function startFirehoseServer(opts: { region?: string; seed?: number } = {}): Promise<FirehoseServer> {
  const region = opts.region ?? 'eu-west-1';
  const random = prng(opts.seed ?? 42);
  const faults: FirehoseFaults = {
    failFraction: 0,
    failErrorCode: 'ServiceUnavailableException',
    throttleEvery: 0,
    throttleType: 'ThrottlingException',
    dropEvery: 0,
    dropAfterAccept: false,
    delayMs: 0,
  };
  const records: ReceivedRecord[] = [];
  const requests: ReceivedRequest[] = [];
  const streams = new Set<string>();
  const queued = new FailureQueue<QueuedFirehoseFailure>();
  let recordIds = 0;

  /** Decodes and checks the records of a request against the service limits. */
  const decode = (body: Record<string, unknown>, operation: string): Buffer[] => {
    const raw = operation === 'PutRecord' ? [body.Record] : body.Records;
    if (!Array.isArray(raw) || raw.length === 0) throw new AwsError('InvalidArgumentException', 'Records must hold at least one record');
    if (raw.length > FIREHOSE_LIMITS.maxBatchRecords) {
      throw new AwsError(
        'InvalidArgumentException',
        `${raw.length} records; PutRecordBatch takes at most ${FIREHOSE_LIMITS.maxBatchRecords}`,
      );
    }
    return raw.map((r, i) => {
      const data = (r as { Data?: unknown } | undefined)?.Data;
      if (typeof data !== 'string') throw new AwsError('SerializationException', `Records[${i}].Data must be base64`);
      return Buffer.from(data, 'base64');
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { target, operation, known, body, signed } = await readAwsJsonRequest(req, { targetPrefix: TARGET_PREFIX });
    const stream = String(body.DeliveryStreamName ?? '');
    let data: Buffer[] = [];
    let decodeError: unknown;
    try {
      data = decode(body, operation);
    } catch (e) {
      decodeError = e;
    }
    const bytes = data.reduce((n, d) => n + d.length, 0);
    const entry: ReceivedRequest = {
      n: requests.length + 1,
      operation,
      stream,
      records: data.length,
      bytes,
      maxRecordBytes: data.reduce((m, d) => Math.max(m, d.length), 0),
      outcome: 200,
      failed: 0,
      signed,
    };
    requests.push(entry);
    if (faults.delayMs > 0) await sleep(faults.delayMs);

    const accept = (d: Buffer) => {
      records.push({ stream, data: d.toString('utf8'), bytes: d.length, request: entry.n });
      return { RecordId: `rec-${++recordIds}` };
    };
    const headers = { 'x-amzn-requestid': `req-${entry.n}` };
    const send = (status: number, payload: unknown) => {
      entry.outcome = status;
      sendJson(res, status, payload, headers);
    };

    try {
      if (!known) throw new AwsError('UnknownOperationException', `unsupported request ${req.method} ${target}`);
      if (operation !== 'PutRecordBatch' && operation !== 'PutRecord')
        throw new AwsError('UnknownOperationException', `${operation} is not implemented by the local Firehose`);
      if (decodeError) throw decodeError;
      if (streams.size > 0 && !streams.has(stream))
        throw new AwsError('ResourceNotFoundException', `Firehose ${stream} under account 123456789012 not found.`);
      const big = data.findIndex((d) => d.length > FIREHOSE_LIMITS.maxRecordBytes);
      if (big >= 0)
        throw new AwsError(
          'InvalidArgumentException',
          `Records[${big}] is ${data[big]!.length} bytes; a record holds at most ${FIREHOSE_LIMITS.maxRecordBytes}`,
        );
      if (bytes > FIREHOSE_LIMITS.maxBatchBytes)
        throw new AwsError('InvalidArgumentException', `the batch holds ${bytes} bytes; at most ${FIREHOSE_LIMITS.maxBatchBytes}`);
      const q = queued.take();
      if (q) throw new AwsError(q.type, q.message ?? `${q.type} (injected by the test)`, q.status ?? 400);
      if (faults.throttleEvery > 0 && entry.n % faults.throttleEvery === 0) throw new AwsError(faults.throttleType, 'Slow down.');
      if (faults.dropEvery > 0 && entry.n % faults.dropEvery === 0) {
        if (faults.dropAfterAccept) data.forEach(accept);
        entry.outcome = 'dropped';
        req.socket.destroy();
        return;
      }
      if (operation === 'PutRecord') {
        send(200, { ...accept(data[0]!), Encrypted: false });
        return;
      }
      // Stochastic rounding: exactly the fraction in expectation, whatever the batch size.
      const share = data.length * faults.failFraction;
      const failing = pick(data.length, Math.floor(share) + (random() < share - Math.floor(share) ? 1 : 0), random);
      const responses = data.map((d, i) =>
        failing.has(i) ? { ErrorCode: faults.failErrorCode, ErrorMessage: 'Injected failure (local Firehose)' } : accept(d),
      );
      entry.failed = failing.size;
      send(200, { FailedPutCount: failing.size, Encrypted: false, RequestResponses: responses });
    } catch (e) {
      const err = e instanceof AwsError ? e : new AwsError('InternalFailure', String(e), 500);
      entry.outcome = err.status;
      sendAwsError(res, err.status, err.type, err.message, headers);
    }
  };

  const { endpoint, track, down, up, close } = await startAwsHttpServer({ handle });

  return {
    endpoint,
    region,
    faults,
    records,
    requests,
    streams,
    events: (s) =>
      records
        .filter((r) => s === undefined || r.stream === s)
        .flatMap((r) =>
          r.data
            .split('\n')
            .filter((l) => l.length > 0)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        ),
    failNext: (f) => queued.push(f),
    down,
    up,
    client: (o = {}) => track(new FirehoseClient({ endpoint, region, credentials: FAKE_CREDENTIALS, maxAttempts: o.maxAttempts ?? 1 })),
    env: fakeEnv(region),
    close,
  };
}
