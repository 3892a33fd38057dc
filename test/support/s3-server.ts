/**
 * A local S3 for tests, just enough for PutObject: a real HTTP server on 127.0.0.1 that
 * accepts path-style `PUT /<bucket>/<key>` (REST-XML protocol; errors as S3's XML
 * `<Error><Code>...`) and keeps the objects in memory, every write in `puts` (so a test
 * can tell an overwrite from a new key). Use the real `S3Client` with `endpoint` and
 * `forcePathStyle: true`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FAKE_CREDENTIALS, FailureQueue, isSigned, readBody, startAwsHttpServer } from './aws-http-server';

export interface StoredObject {
  readonly body: string;
  readonly contentType?: string;
}

export interface S3Server {
  readonly endpoint: string;
  /** `<bucket>/<key>` to its current object. */
  readonly objects: Map<string, StoredObject>;
  /** Every PutObject, in order: `<bucket>/<key>`. */
  readonly puts: string[];
  /** The next PUT(s) fail with this code (e.g. AccessDenied, 403). */
  failNext(f: { code: string; status: number; times?: number }): void;
  client(): S3Client;
  close(): Promise<void>;
}

export async function startS3Server(opts: { region?: string } = {}): Promise<S3Server> {
  const objects = new Map<string, StoredObject>();
  const puts: string[] = [];
  const failures = new FailureQueue<{ code: string; status: number; times?: number }>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://local').pathname.slice(1));
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>local</RequestId></Error>`,
      );
    };
    if (req.method !== 'PUT' || !path.includes('/'))
      return fail(405, 'MethodNotAllowed', `${req.method} ${path} is not supported by the local S3 server`);
    if (!isSigned(req)) return fail(403, 'AccessDenied', 'unsigned request');
    const f = failures.take();
    if (f) return fail(f.status, f.code, 'injected by the test');
    objects.set(path, { body: body.toString('utf8'), contentType: req.headers['content-type'] });
    puts.push(path);
    res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
    res.end();
  };

  const { endpoint, track, close } = await startAwsHttpServer({ handle });
  return {
    endpoint,
    objects,
    puts,
    failNext: (x) => failures.push(x),
    client: () =>
      track(
        new S3Client({ endpoint, region: opts.region ?? 'eu-west-1', forcePathStyle: true, maxAttempts: 1, credentials: FAKE_CREDENTIALS }),
      ),
    close,
  };
}
