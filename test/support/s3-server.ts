/**
 * A local S3 for tests, just enough for PutObject: a real HTTP server on 127.0.0.1 that
 * accepts path-style `PUT /<bucket>/<key>` (REST-XML protocol; errors as S3's XML
 * `<Error><Code>...`) and keeps the objects in memory, every write in `puts` (so a test
 * can tell an overwrite from a new key). Use the real `S3Client` with `endpoint` and
 * `forcePathStyle: true`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  const failures: { code: string; status: number; left: number }[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://local').pathname.slice(1));
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>local</RequestId></Error>`);
    };
    if (req.method !== 'PUT' || !path.includes('/')) return fail(405, 'MethodNotAllowed', `${req.method} ${path} is not supported by the local S3 server`);
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) return fail(403, 'AccessDenied', 'unsigned request');
    const f = failures[0];
    if (f) {
      if (--f.left <= 0) failures.shift();
      return fail(f.status, f.code, 'injected by the test');
    }
    const body = Buffer.concat(chunks);
    objects.set(path, { body: body.toString('utf8'), contentType: req.headers['content-type'] });
    puts.push(path);
    res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
    res.end();
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    endpoint,
    objects,
    puts,
    failNext: (x) => void failures.push({ ...x, left: x.times ?? 1 }),
    client: () => {
      const c = new S3Client({
        endpoint, region: opts.region ?? 'eu-west-1', forcePathStyle: true, maxAttempts: 1,
        credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
      });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
