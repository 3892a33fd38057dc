/**
 * `llmops redact --text | --events` and `llmops transform`: the ingest redaction and
 * transform, run locally with the same engine and core as the Lambdas.
 *
 * Options shared by all: `--policy FILE` (detectors, custom patterns, declared
 * attributes, enrolments), `--hash-key-file FILE` or env `LLMOPS_HASH_KEY` (else an
 * ephemeral random key, with a warning). Usage errors exit 2 with one line on stderr.
 */
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  decodeJson,
  prepareEvent,
  transformBatch,
  transformDebugBatch,
  type FirehoseEventIn,
  type TransformContext,
} from '../core/transform/transform';
import { ingestEmfDocuments } from '../core/transform/emf';
import { aggregateBatch } from '../core/transform/aggregate';
import { loadPolicy, PolicyError } from '../core/policy';
import { createLineRedactor } from '../core/redaction';
import {
  aggregateOptionsFrom,
  captureContext,
  KEEP_ALL,
  transformConfigFromPolicy,
  transformContext,
  type TransformConfig,
} from '../core/transform/env';
import { DEFAULT_CITATION_REQUIRED_INTENTS } from '../core/metrics/dictionary';
import type { CliCommand, CliIO } from './io';

/** Shortest hash key accepted, in bytes. */
const MIN_KEY_BYTES = 16;
const MAX_EVENT_LINE_BYTES = 1024 * 1024;

/**
 * Without --policy: every PII detector plain, no custom pattern, no attribute declared, no
 * enrolment, no slices or prices, thumbs ratings, citations required of policy_qna, every
 * record and outcome signal kept.
 */
export const NO_POLICY: TransformConfig = {
  redaction: { detectors: {}, customPatterns: [], allowedAttributes: [] },
  metrics: { slices: {}, pricing: {}, rating_scale: 'thumbs', citation_required_intents: [...DEFAULT_CITATION_REQUIRED_INTENTS] },
  enrolments: [],
  capture: KEEP_ALL,
};

class UsageError extends Error {}

const COMMON = {
  policy: { type: 'string' },
  'hash-key-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const REDACT_HELP = `Usage: llmops redact (--text | --events) [--policy FILE] [--hash-key-file FILE]

  --text     each stdin line is redacted to exactly one stdout line
  --events   JSON Lines events in, validated and redacted events out; rejected events
             are reported on stderr as {"line","reason","detail"} (exit 1 if any)
  --policy FILE         detectors, custom patterns and declared attributes (without it:
                        every PII detector plain, no custom pattern, no attribute declared)
  --hash-key-file FILE  key for user_id pseudonymization and keyed tokens
                        (else env LLMOPS_HASH_KEY, else an ephemeral random key)
`;

const TRANSFORM_HELP = `Usage: llmops transform [--debug-capture] [--policy FILE] [--hash-key-file FILE] [--emf FILE]

  Reads a Firehose transformation event (JSON) on stdin and writes the exact response
  the Lambda would return on stdout.
  --debug-capture  run the debug-capture transform (enrolments from --policy)
  --emf FILE       write the EMF metric documents the Lambda would log (JSON Lines)
`;

/** Runs `body`, turning usage problems into exit code 2 and one line on stderr. */
async function guarded(name: string, io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`llmops ${name}: ${(e as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    throw e;
  }
}

/** The transform settings of `--policy FILE` (the same the Lambdas' environment holds), else NO_POLICY. */
function readPolicy(file: string | undefined): TransformConfig {
  if (file === undefined) return NO_POLICY;
  try {
    return transformConfigFromPolicy(loadPolicy(file).policy);
  } catch (e) {
    if (e instanceof PolicyError) {
      const n = e.problems.length;
      throw new UsageError(
        `policy ${file} is invalid: ${e.message.split('\n')[0]}${n > 1 ? ` (and ${n - 1} more; run 'llmops policy check ${file}')` : ''}`,
      );
    }
    throw e;
  }
}

/** The hash key from `--hash-key-file`, else `LLMOPS_HASH_KEY`, else a random one (with a warning). */
export function resolveHashKey(file: string | undefined, io: CliIO): Uint8Array {
  let key: Buffer;
  let source: string;
  if (file !== undefined) {
    try {
      key = readFileSync(file);
    } catch (e) {
      throw new UsageError(`cannot read the hash key file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    // A trailing line break is an editor's, not the key's.
    if (key.at(-1) === 10) key = key.subarray(0, key.at(-2) === 13 ? -2 : -1);
    source = `the hash key file ${file}`;
  } else if (io.env.LLMOPS_HASH_KEY !== undefined && io.env.LLMOPS_HASH_KEY !== '') {
    key = Buffer.from(io.env.LLMOPS_HASH_KEY, 'utf8');
    source = 'LLMOPS_HASH_KEY';
  } else {
    io.stderr.write(
      'llmops: warning: no hash key (--hash-key-file or LLMOPS_HASH_KEY); using an ephemeral random key, so user_id hashes and keyed tokens will not match any other run\n',
    );
    return new Uint8Array(randomBytes(32));
  }
  if (key.length < MIN_KEY_BYTES)
    throw new UsageError(`${source} holds ${key.length} bytes; the hash key must be at least ${MIN_KEY_BYTES} bytes`);
  return new Uint8Array(key);
}

function buildContext(config: TransformConfig, hashKey: Uint8Array): TransformContext {
  try {
    return { ...transformContext(config.redaction, hashKey, () => new Date()), ...captureContext(config.capture) };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Writes `s`, waiting for the stream to drain when its buffer is full. */
function write(out: NodeJS.WritableStream, s: string): Promise<void> | undefined {
  if (out.write(s)) return undefined;
  return new Promise((resolve) => out.once('drain', () => resolve()));
}

/**
 * Calls `onBatch` with the lines of stdin (without their line breaks), streaming. Each line
 * is decoded from its own bytes (a line break byte never occurs inside a UTF-8 sequence),
 * so an ASCII line is a flat one-byte string even when the chunk around it holds other
 * characters: the scanner reads such strings fastest. Returns the last line when the input
 * does not end with a line break.
 */
async function eachLine(
  stdin: NodeJS.ReadableStream,
  onBatch: (lines: string[]) => Promise<void> | undefined,
): Promise<{ endedWithNewline: boolean; tail: string | undefined }> {
  // Bytes of the line not ended yet, kept as chunks so a long line is copied once.
  let carry: Buffer[] = [];
  for await (const chunk of stdin as AsyncIterable<Uint8Array | string>) {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let nl = buf.indexOf(10);
    if (nl === -1) {
      if (buf.length > 0) carry.push(buf);
      continue;
    }
    const lines: string[] = [];
    let start = 0;
    if (carry.length > 0) {
      carry.push(buf.subarray(0, nl));
      lines.push(Buffer.concat(carry).toString('utf8'));
      carry = [];
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    // An all-ASCII chunk (the common case) needs no UTF-8 decoding: Latin-1 reads the same characters, faster.
    const encoding = isAscii(buf) ? 'latin1' : 'utf8';
    while (nl !== -1) {
      lines.push(buf.toString(encoding, start, nl));
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    if (start < buf.length) carry.push(buf.subarray(start));
    if (lines.length > 0) await onBatch(lines);
  }
  const tail = carry.length > 0 ? Buffer.concat(carry).toString('utf8') : undefined;
  return { endedWithNewline: tail === undefined, tail };
}

/** `llmops redact --text | --events`. */
export const redactCommand: CliCommand = (args, io) =>
  guarded('redact', io, async () => {
    const { values } = parseArgs({
      args,
      options: { ...COMMON, text: { type: 'boolean' }, events: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(REDACT_HELP);
      return 0;
    }
    if (values.text === values.events) throw new UsageError('give exactly one of --text or --events');
    const config = readPolicy(values.policy);
    const ctx = buildContext(config, resolveHashKey(values['hash-key-file'], io));
    return values.text ? redactTextStream(ctx, io) : redactEventStream(ctx, io);
  });

async function redactTextStream(ctx: TransformContext, io: CliIO): Promise<number> {
  const redactLine = createLineRedactor(ctx.redactor);
  const one = (line: string) => (line.endsWith('\r') ? `${redactLine(line.slice(0, -1))}\r` : redactLine(line));
  const { tail } = await eachLine(io.stdin, (lines) => {
    // Redacted in place and joined once: one flat string to encode, rather than a tree of concatenations.
    for (let k = 0; k < lines.length; k++) lines[k] = one(lines[k] as string);
    lines.push('');
    return write(io.stdout, lines.join('\n'));
  });
  if (tail !== undefined) await write(io.stdout, one(tail));
  return 0;
}

async function redactEventStream(ctx: TransformContext, io: CliIO): Promise<number> {
  let n = 0;
  let rejected = 0;
  const handle = (line: string): [string, string] => {
    n++;
    if (line.trim() === '') return ['', ''];
    const decoded = decodeJson(Buffer.from(line, 'utf8'), MAX_EVENT_LINE_BYTES, 16);
    const p = decoded.ok ? prepareEvent(decoded.value, ctx) : decoded;
    if (p.ok) return [`${JSON.stringify(p.event)}\n`, ''];
    rejected++;
    return ['', `${JSON.stringify({ line: n, reason: p.reason, detail: p.detail })}\n`];
  };
  const flush = (lines: string[]) => {
    let out = '';
    let err = '';
    for (const line of lines) {
      const [o, e] = handle(line);
      out += o;
      err += e;
    }
    if (err) io.stderr.write(err);
    return out ? write(io.stdout, out) : undefined;
  };
  const { tail } = await eachLine(io.stdin, flush);
  if (tail !== undefined) await flush([tail]);
  return rejected > 0 ? 1 : 0;
}

/** `llmops transform`: a Firehose transformation event on stdin, the Lambda's response on stdout. */
export const transformCommand: CliCommand = (args, io) =>
  guarded('transform', io, async () => {
    const { values } = parseArgs({
      args,
      options: { ...COMMON, emf: { type: 'string' }, 'debug-capture': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(TRANSFORM_HELP);
      return 0;
    }
    const config = readPolicy(values.policy);
    const ctx = buildContext(config, resolveHashKey(values['hash-key-file'], io));
    const chunks: Buffer[] = [];
    for await (const c of io.stdin as AsyncIterable<Buffer | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    const event = parseFirehoseEvent(Buffer.concat(chunks).toString('utf8'));
    const { response, stats, events } = values['debug-capture']
      ? transformDebugBatch(event, { ...ctx, enrolments: config.enrolments })
      : transformBatch(event, ctx);
    await write(io.stdout, `${JSON.stringify(response)}\n`);
    if (values.emf !== undefined) {
      const options = aggregateOptionsFrom(config.metrics);
      const groups = events ? aggregateBatch(events, options) : [];
      const docs = ingestEmfDocuments(stats, { kind: values['debug-capture'] ? 'captures' : 'events', groups });
      try {
        writeFileSync(values.emf, docs.map((d) => `${JSON.stringify(d)}\n`).join(''));
      } catch (e) {
        throw new UsageError(`cannot write ${values.emf} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    return 0;
  });

/** Checks the shape of a Firehose transformation event; problems are usage errors. */
export function parseFirehoseEvent(text: string): FirehoseEventIn {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError('stdin is not JSON; expected a Firehose transformation event {"records":[{"recordId","data"}]}');
  }
  const records = typeof v === 'object' && v !== null ? (v as { records?: unknown }).records : undefined;
  if (!Array.isArray(records))
    throw new UsageError('stdin has no "records" array; expected a Firehose transformation event {"records":[{"recordId","data"}]}');
  records.forEach((r: unknown, i) => {
    const rec = r as { recordId?: unknown; data?: unknown } | null;
    if (typeof rec !== 'object' || rec === null || typeof rec.recordId !== 'string' || typeof rec.data !== 'string') {
      throw new UsageError(`records[${i}] needs a string recordId and a base64 string data`);
    }
  });
  return v as FirehoseEventIn;
}
