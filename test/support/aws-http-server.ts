/**
 * What the local AWS protocol servers (ssm-, firehose-, athena-, cloudwatch- and
 * s3-server.ts) share, and nothing of their protocols: an HTTP server on 127.0.0.1 on an
 * ephemeral port that can stop and listen again on the same port, reading a request body,
 * reading an AWS JSON request (`POST /`, `X-Amz-Target: <prefix><Operation>`, JSON body),
 * writing JSON answers and AWS JSON errors (`{ "__type": ..., "message": ... }`), the
 * queue of scripted failures, and the fake credentials the real SDK clients sign with.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** Static credentials for the SDK clients of the local servers (nothing checks them). */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' } as const;

/** The fake credentials and a region, as `env` of a child process (a CLI run). */
export function fakeEnv(region: string): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_REGION: region };
}

/** An error a server answers with its code (`type`) and `status` (400 unless said). */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface AwsHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Keeps an SDK client so that `close` destroys it; returns it. */
  track<C extends { destroy(): void }>(client: C): C;
  /** Stops listening and destroys every open connection: new connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Destroys the tracked clients, then `down()`. */
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 (ephemeral port) that hands every request to `handle`. */
export async function startAwsHttpServer(opts: {
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}): Promise<AwsHttpServer> {
  const sockets = new Set<Socket>();
  const clients: { destroy(): void }[] = [];
  const server = createServer((req, res) => void opts.handle(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    track: (client) => {
      clients.push(client);
      return client;
    },
    down,
    up: () => (server.listening ? Promise.resolve() : listen(port)),
    close: async () => {
      for (const c of clients) c.destroy();
      await down();
    },
  };
}

/** The whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Whether the request carries a SigV4 Authorization header. */
export function isSigned(req: IncomingMessage): boolean {
  return String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256');
}

/** One AWS JSON protocol request, read. */
export interface AwsJsonRequest {
  /** `X-Amz-Target` as sent. */
  readonly target: string;
  /** The target without `targetPrefix` (the whole target when it lacks the prefix). */
  readonly operation: string;
  /** Whether it is a `POST` whose target has `targetPrefix`. */
  readonly known: boolean;
  /** The parsed JSON body; `{}` when empty or not JSON (the operation then rejects it). */
  readonly body: Record<string, unknown>;
  /** The body as received. */
  readonly wire: Buffer;
  /** The body after inflating (`wire` when not gzipped, or when inflating failed). */
  readonly raw: Buffer;
  /** Whether the body was sent gzipped (`Content-Encoding: gzip`) and `gunzip` was asked. */
  readonly gzip: boolean;
  readonly signed: boolean;
}

/** Reads an AWS JSON request; `gunzip` inflates a `Content-Encoding: gzip` body. */
export async function readAwsJsonRequest(req: IncomingMessage, opts: { targetPrefix: string; gunzip?: boolean }): Promise<AwsJsonRequest> {
  const wire = await readBody(req);
  const gzip = opts.gunzip === true && req.headers['content-encoding'] === 'gzip';
  let raw = wire;
  try {
    if (gzip) raw = gunzipSync(wire);
  } catch {
    /* parsed as it came: the operation rejects it */
  }
  const target = String(req.headers['x-amz-target'] ?? '');
  const known = req.method === 'POST' && target.startsWith(opts.targetPrefix);
  const operation = target.startsWith(opts.targetPrefix) ? target.slice(opts.targetPrefix.length) : target;
  let body: Record<string, unknown> = {};
  try {
    body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
  } catch {
    /* answered by the operation */
  }
  return { target, operation, known, body, wire, raw, gzip, signed: isSigned(req) };
}

/** Answers `body` as JSON; `headers` add to (or replace) `content-type: application/x-amz-json-1.1`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers });
  res.end(JSON.stringify(body));
}

/** Answers an AWS JSON error: `{ "__type": type, "message": message }`. */
export function sendAwsError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { __type: type, message }, headers);
}

/** A scripted failure: `times` calls (1 unless said) of `operation` (any, unless said) fail. */
export interface Queueable {
  readonly operation?: string;
  readonly times?: number;
}

/** The failures a test queued with `failNext`, in order. */
export class FailureQueue<F extends Queueable> {
  private readonly queued: (F & { left: number })[] = [];

  push(failure: F): void {
    this.queued.push({ ...failure, left: failure.times ?? 1 });
  }

  /** The first queued failure that applies to `operation`, counted as used; undefined: none. */
  take(operation?: string): F | undefined {
    const i = this.queued.findIndex((f) => f.operation === undefined || f.operation === operation);
    if (i < 0) return undefined;
    const f = this.queued[i]!;
    if (--f.left <= 0) this.queued.splice(i, 1);
    return f;
  }
}
