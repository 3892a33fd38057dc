import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QuarantineRecord, TelemetryEvent } from '../lib/core/contract';
import { createRedactor, pseudonymize } from '../lib/core/redaction';
import { decodeJson, prepareEvent, transformBatch, type FirehoseEventIn, type TransformContext } from '../lib/core/transform/transform';
import { createTransformHandler } from '../lambdas/shared/handler';
import { ingestEmfDocuments } from '../lib/core/transform/emf';
import { TRANSFORM_ENV } from '../lib/core/transform/env';
import { sampleEvents } from './fixtures/redaction-corpus';

const KEY = new Uint8Array(32).fill(9);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hash-key-AbCdEf';
const NOW = new Date('2026-12-01T08:00:00.000Z');
const ctx: TransformContext = { redactor: createRedactor({}), hashKey: KEY, allowedAttributes: new Set(['team', 'note']), now: () => NOW };

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const batch = (...datas: string[]): FirehoseEventIn => ({
  invocationId: 'inv-1',
  records: datas.map((d, i) => ({ recordId: `r${i}`, data: b64(d) })),
});
const decode = (data: string) => JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Record<string, unknown>;

describe('transformBatch: valid events', () => {
  it('validates, drops unknown fields and attributes, pseudonymizes user_id and redacts free text', () => {
    const ev = {
      ...sampleEvents().request,
      prompt: 'raw prompt',
      attributes: { team: 'hr', note: 'call +44 20 7946 0958', secret_attr: 'x' },
    };
    const { response, stats } = transformBatch(batch(JSON.stringify(ev)), ctx);
    const [rec] = response.records;
    expect(rec?.result).toBe('Ok');
    expect(rec?.metadata.partitionKeys).toEqual({ area: 'events', event_type: 'request', dt: '2026-11-29' });
    const raw = Buffer.from(rec?.data ?? '', 'base64').toString('utf8');
    expect(raw.endsWith('}\n')).toBe(true);
    expect(raw.split('\n')).toHaveLength(2);
    const out = decode(rec?.data ?? '');
    expect(TelemetryEvent.safeParse(out).success).toBe(true);
    expect(out.user_id).toBe(pseudonymize('alice@example.com', KEY));
    expect(out.error_message).toBe('mail to [EMAIL] failed');
    expect(out.attributes).toEqual({ team: 'hr', note: 'call [PHONE]' });
    expect('prompt' in out).toBe(false);
    expect(stats).toEqual({
      recordsIn: 1,
      ok: 1,
      quarantined: {},
      dropped: {},
      fieldsDropped: 1,
      attributesDropped: 1,
      redactions: { email: 1, phone: 1 },
      sampledOut: 0,
      signalsDropped: 0,
    });
  });

  it('partitions by the event date, not the arrival date', () => {
    const { response } = transformBatch(batch(JSON.stringify({ ...sampleEvents().span, timestamp: '2025-01-31T23:59:59.999Z' })), ctx);
    expect(response.records[0]?.metadata.partitionKeys).toEqual({ area: 'events', event_type: 'span', dt: '2025-01-31' });
  });
});

describe('transformBatch: quarantine', () => {
  const quarantined = (data: string, extra: Partial<TransformContext> = {}) => {
    const { response, stats } = transformBatch(batch(data), { ...ctx, ...extra });
    const rec = response.records[0];
    expect(rec?.result).toBe('Ok');
    const q = decode(rec?.data ?? '');
    expect(QuarantineRecord.safeParse(q).success).toBe(true);
    return { rec, q, stats };
  };

  it('unparseable JSON keeps only reason, sizes, hash and a redacted excerpt', () => {
    const data = '{"note": "mail bob@example.com", AKIAIOSFODNN7EXAMPLE';
    const { rec, q, stats } = quarantined(data);
    expect(rec?.metadata.partitionKeys).toEqual({ area: 'quarantine', event_type: 'unknown', dt: '2026-12-01' });
    expect(q).toEqual({
      schema_version: 1,
      timestamp: '2026-12-01T08:00:00.000Z',
      quarantine_reason: 'unparseable_json',
      quarantine_detail: 'record is not valid JSON',
      raw_bytes: Buffer.byteLength(data),
      raw_sha256: createHash('sha256').update(data).digest('hex'),
      raw_excerpt: '{"note": "mail [EMAIL]", [AWS_ACCESS_KEY]',
    });
    expect(stats.quarantined).toEqual({ unparseable_json: 1 });
  });

  it('a schema violation keeps the readable ids and event_type, and the detail names paths only', () => {
    const ev = { ...sampleEvents().span, latency_ms: 'slow', error_message: 'see alice@example.com' };
    const { rec, q } = quarantined(JSON.stringify(ev));
    expect(rec?.metadata.partitionKeys).toEqual({ area: 'quarantine', event_type: 'span', dt: '2026-12-01' });
    expect(q).toMatchObject({
      event_type: 'span',
      event_id: 'ev-1',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      request_id: 'req-1',
      tenant_id: 'acme',
      quarantine_reason: 'schema_violation',
      quarantine_detail: 'latency_ms: expected number',
    });
    expect(JSON.stringify(q)).not.toContain('alice@example.com');
  });

  it('the excerpt never holds user_id as sent', () => {
    const { q } = quarantined('{"user_id": "u-829301", "event_type": "span", broken');
    expect(q.raw_excerpt).toBe('{"user_id": "[USER_ID]", "event_type": "span", broken');
  });

  it('ids that break the charset are not copied into the quarantine record', () => {
    const { q } = quarantined(JSON.stringify({ event_type: 'span', trace_id: 'bob@example.com', tenant_id: 'acme' }));
    expect(q.trace_id).toBeUndefined();
    expect(q.tenant_id).toBe('acme');
  });

  it('a record that is not an object is quarantined', () => {
    expect(quarantined('[1,2,3]').q).toMatchObject({
      quarantine_reason: 'not_an_object',
      quarantine_detail: 'record is an array; expected a JSON object',
    });
  });

  it('several JSON objects in one record are quarantined, not split', () => {
    const one = JSON.stringify(sampleEvents().feedback);
    expect(quarantined(`${one}\n${one}\n`).q).toMatchObject({
      quarantine_reason: 'unparseable_json',
      quarantine_detail:
        'record holds several JSON values; one object per record is expected (Firehose de-aggregation splits newline-delimited events before the Lambda)',
    });
  });

  it('oversized records are quarantined', () => {
    const big = JSON.stringify({ ...sampleEvents().feedback, pad: 'x'.repeat(2000) });
    expect(quarantined(big, { maxRecordBytes: 1000 }).q).toMatchObject({
      quarantine_reason: 'oversized',
      quarantine_detail: `record is ${big.length} bytes; at most 1000 are accepted`,
      raw_bytes: big.length,
    });
  });

  it('deeply nested records are quarantined, not crashes (100k levels)', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(quarantined(deep).q).toMatchObject({ quarantine_reason: 'too_deep', quarantine_detail: 'record nests deeper than 16 levels' });
    const deepObj = `{"a":${'{"a":'.repeat(50)}1${'}'.repeat(51)}`;
    expect(quarantined(deepObj).q).toMatchObject({ quarantine_reason: 'too_deep' });
  });

  it('invalid UTF-8 and empty records are quarantined', () => {
    const { response } = transformBatch(
      {
        records: [
          { recordId: 'a', data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64') },
          { recordId: 'b', data: '' },
        ],
      },
      ctx,
    );
    expect(response.records.map((r) => decode(r.data).quarantine_detail)).toEqual(['record is not valid UTF-8', 'record is empty']);
  });

  it('a crash inside one record affects that record only (internal_error)', () => {
    let calls = 0;
    const flaky = createRedactor({});
    const redactor = {
      redactText: (s: string) => {
        calls++;
        if (s.includes('boom')) throw new Error('engine failure with boom in it');
        return flaky.redactText(s);
      },
      redactValue: flaky.redactValue,
    };
    const bad = JSON.stringify({ ...sampleEvents().request, error_message: 'boom' });
    const good = JSON.stringify(sampleEvents().request);
    const { response, stats } = transformBatch(batch(good, bad, good), { ...ctx, redactor });
    expect(response.records.map((r) => r.result)).toEqual(['Ok', 'Ok', 'Ok']);
    expect(response.records.map((r) => r.metadata.partitionKeys.area)).toEqual(['events', 'quarantine', 'events']);
    const q = decode(response.records[1]?.data ?? '');
    expect(q).toMatchObject({
      quarantine_reason: 'internal_error',
      quarantine_detail: 'the transform failed on this record',
      event_id: 'ev-1',
    });
    expect(JSON.stringify(q)).not.toContain('engine failure');
    expect(stats.quarantined).toEqual({ internal_error: 1 });
    expect(calls).toBeGreaterThan(2);
  });

  it('__proto__ and constructor keys are data, not prototypes', () => {
    const raw = `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},${JSON.stringify({ ...sampleEvents().feedback, attributes: { team: 'x' } }).slice(1, -1)},"attributes":{"__proto__":"a","constructor":"b","team":"hr"}}`;
    const { response, stats } = transformBatch(batch(raw), ctx);
    const out = decode(response.records[0]?.data ?? '');
    expect(response.records[0]?.metadata.partitionKeys.area).toBe('events');
    expect(out.attributes).toEqual({ team: 'hr' });
    expect(stats.fieldsDropped).toBe(2);
    expect(stats.attributesDropped).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decodeJson and prepareEvent', () => {
  const verdict = (text: string, maxDepth = 3) => {
    const d = decodeJson(Buffer.from(text, 'utf8'), 1 << 20, maxDepth);
    return d.ok ? 'ok' : `${d.reason}: ${d.detail}`;
  };

  it('depth limits hold at the boundary, for text that parses and text that does not', () => {
    expect(verdict('[[[1]]]')).toBe('ok');
    expect(verdict('{"a":{"b":[{}]}}')).toBe('too_deep: record nests deeper than 3 levels');
    expect(verdict('[[[[')).toBe('too_deep: record nests deeper than 3 levels');
    expect(verdict('{"a":"[[[[{{{{"}')).toBe('ok');
    expect(verdict('[[[]]] [')).toBe(
      'unparseable_json: record holds several JSON values; one object per record is expected (Firehose de-aggregation splits newline-delimited events before the Lambda)',
    );
    expect(verdict('1 2')).toBe('unparseable_json: record is not valid JSON');
    expect(verdict(' \n')).toBe('unparseable_json: record is empty');
    expect(verdict('"x"', 0)).toBe('ok');
    expect(verdict('[]', 0)).toBe('too_deep: record nests deeper than 0 levels');
  });

  it('prepareEvent never mutates its input, and drops undeclared attributes from its output only', () => {
    const freeze = <T>(v: T): T => {
      if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) freeze(x);
      return Object.freeze(v);
    };
    const value = freeze({
      ...sampleEvents().span,
      error_message: 'mail bob@example.com',
      attributes: { team: 'hr', note: 'call +44 20 7946 0958', other: 'x' },
      extra: 1,
    });
    const before = JSON.stringify(value);
    const p = prepareEvent(value, ctx);
    expect(JSON.stringify(value)).toBe(before);
    expect(p).toMatchObject({ ok: true, fieldsDropped: 1, attributesDropped: 1, redactions: { email: 1, phone: 1 } });
    if (!p.ok) return;
    expect(p.event).toMatchObject({
      attributes: { team: 'hr', note: 'call [PHONE]' },
      error_message: 'mail [EMAIL]',
      user_id: pseudonymize('alice@example.com', KEY),
    });
    expect(Object.keys(p.event.attributes ?? {})).toEqual(['team', 'note']);
  });

  it('every user_id in a batch is pseudonymized under the key, repeated or not', () => {
    const users = ['alice@example.com', 'bob@example.com', 'alice@example.com', 'carol', 'bob@example.com'];
    const { response } = transformBatch(batch(...users.map((u) => JSON.stringify({ ...sampleEvents().feedback, user_id: u }))), ctx);
    expect(response.records.map((r) => decode(r.data).user_id)).toEqual(users.map((u) => pseudonymize(u, KEY)));
  });
});

describe('transformBatch: properties', () => {
  const record = fc.oneof(
    fc.constantFrom(...Object.values(sampleEvents()).map((e) => JSON.stringify(e))),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ maxLength: 200 }),
    fc
      .record({
        event_type: fc.constantFrom('request', 'span', 'feedback', 'x'),
        trace_id: fc.string(),
        attributes: fc.dictionary(fc.string(), fc.string()),
      })
      .map((v) => JSON.stringify(v)),
  );
  it('returns exactly the input recordIds in order; every output is Ok and parses as an event or a quarantine record', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uuid(), record), { maxLength: 20 }), (recs) => {
        const event: FirehoseEventIn = { records: recs.map(([id, d]) => ({ recordId: id, data: b64(d) })) };
        const { response, stats } = transformBatch(event, ctx);
        expect(response.records.map((r) => r.recordId)).toEqual(recs.map(([id]) => id));
        expect(stats.recordsIn).toBe(recs.length);
        expect(stats.ok + Object.values(stats.quarantined).reduce((a, b) => a + (b ?? 0), 0)).toBe(recs.length);
        for (const r of response.records) {
          expect(r.result).toBe('Ok');
          const text = Buffer.from(r.data, 'base64').toString('utf8');
          expect(text.endsWith('\n') && !text.slice(0, -1).includes('\n')).toBe(true);
          const v = JSON.parse(text) as unknown;
          const schema = r.metadata.partitionKeys.area === 'events' ? TelemetryEvent : QuarantineRecord;
          expect(schema.safeParse(v).success).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('redact handler (real handler, captured stdout)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs ids and counts only, emits EMF metrics, and never writes a planted value', async () => {
    const planted = [
      'alice@example.com',
      'bob.secret@example.com',
      '+44 20 7946 0958',
      'AKIAIOSFODNN7EXAMPLE',
      'hunter2xyz',
      'raw prompt text',
    ];
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
    const logSpy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void written.push(a.map(String).join(' ')));
    const loadedFrom: string[] = [];
    const handler = createTransformHandler('events', {
      env: {
        ...TRANSFORM_ENV.events.encode({
          REDACTION_CONFIG: { detectors: { email: 'keyed' }, customPatterns: [], allowedAttributes: ['note'] },
          METRICS_CONFIG: { slices: {}, pricing: {}, rating_scale: 'thumbs', citation_required_intents: ['policy_qna'] },
          HASH_KEY_SECRET_ARN: SECRET_ARN,
          CAPTURE_CONFIG: { samplingRate: 1, outcomeSignals: ['user_rating'] },
        }),
        POWERTOOLS_METRICS_NAMESPACE: 'LLMOps/test-ns',
      },
      loadHashKey: async (arn) => (loadedFrom.push(arn), KEY),
      now: () => NOW,
    });
    const ev = {
      ...sampleEvents().request,
      user_id: planted[0],
      error_message: `to ${planted[1]} ${planted[2]} ${planted[3]} password=${planted[4]}`,
      prompt: planted[5],
      attributes: { note: planted[1] },
    };
    const response = await handler(
      batch(JSON.stringify(ev), `{"broken": "${planted[0]}"`, JSON.stringify({ ...ev, latency_ms: planted[1] })),
    );
    logSpy.mockRestore();
    vi.restoreAllMocks();
    expect(response.records.map((r) => r.recordId)).toEqual(['r0', 'r1', 'r2']);
    expect(loadedFrom).toEqual([SECRET_ARN]);
    const all = written.join('');
    for (const p of planted) expect(all).not.toContain(p);
    const emf = all
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf.find((d) => 'RecordsIn' in d)).toMatchObject({ RecordsIn: 3, RecordsOk: 1, RecordsQuarantined: 2, FieldsDropped: 1 });
    // the namespace is the function's POWERTOOLS_METRICS_NAMESPACE, as the construct sets it
    expect(
      new Set(emf.flatMap((d) => (d._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics.map((m) => m.Namespace))),
    ).toEqual(new Set(['LLMOps/test-ns']));
    expect(emf.filter((d) => d.Reason).map((d) => [d.Reason, d.RecordsQuarantined])).toEqual([
      ['unparseable_json', 1],
      ['schema_violation', 1],
    ]);
    expect(
      emf
        .filter((d) => d.Type)
        .map((d) => d.Type)
        .sort(),
    ).toEqual(['aws_access_key', 'email', 'password', 'phone']);
    expect(all).toContain('"message":"batch transformed"');
    expect(all).toContain('"invocationId":"inv-1"');
  });

  it('fails when the environment is empty: the invocation fails (no record passes), naming every variable, and the next one tries again', async () => {
    const written: string[] = [];
    const capture = ((c: unknown) => (written.push(String(c)), true)) as typeof process.stdout.write;
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const env: Record<string, string> = {};
    let loads = 0;
    const handler = createTransformHandler('events', { env, loadHashKey: async () => (loads++, KEY) });
    await expect(handler(batch('{}'))).rejects.toThrow(
      [
        'REDACTION_CONFIG is not set; expected JSON {"detectors":{<PII detector>:"plain|keyed|off"},"customPatterns":[{"name","pattern","placeholder"}],"allowedAttributes":[...]}',
        'METRICS_CONFIG is not set; expected JSON {"slices":{...},"pricing":{"<provider:model>":{...}},"rating_scale":"thumbs|five_star","citation_required_intents":[...]}',
        'HASH_KEY_SECRET_ARN is not set; expected the ARN of the hash key secret (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)',
        'CAPTURE_CONFIG is not set; expected JSON {"samplingRate":<(0,1]>,"outcomeSignals":[...]}',
      ].join('\n'),
    );
    expect(loads).toBe(0);
    expect(written.join('')).toContain('"message":"configuration failed"');
    // A fixed environment configures the next invocation (a failure is not cached).
    Object.assign(
      env,
      TRANSFORM_ENV.events.encode({
        REDACTION_CONFIG: { detectors: {}, customPatterns: [], allowedAttributes: [] },
        METRICS_CONFIG: { slices: {}, pricing: {}, rating_scale: 'thumbs', citation_required_intents: ['policy_qna'] },
        HASH_KEY_SECRET_ARN: SECRET_ARN,
        CAPTURE_CONFIG: { samplingRate: 1, outcomeSignals: ['user_rating'] },
      }),
    );
    expect((await handler(batch('{}'))).records.map((r) => r.recordId)).toEqual(['r0']);
    expect(loads).toBe(1);
  });

  it('fails when a custom pattern is refused by the engine, as a problem of REDACTION_CONFIG', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const handler = createTransformHandler('events', {
      env: TRANSFORM_ENV.events.encode({
        REDACTION_CONFIG: { detectors: {}, customPatterns: [{ name: 'bad', pattern: '(a+)+', placeholder: 'BAD' }], allowedAttributes: [] },
        METRICS_CONFIG: { slices: {}, pricing: {}, rating_scale: 'thumbs', citation_required_intents: ['policy_qna'] },
        HASH_KEY_SECRET_ARN: SECRET_ARN,
        CAPTURE_CONFIG: { samplingRate: 1, outcomeSignals: ['user_rating'] },
      }),
      loadHashKey: async () => KEY,
    });
    await expect(handler(batch('{}'))).rejects.toThrow(
      'REDACTION_CONFIG: custom pattern bad: pattern has unbounded repetition (+); use a bounded {m,n} with n at most 256',
    );
  });

  it('ingest EMF documents: one per dimension set, numbers and labels only', () => {
    const stats = {
      recordsIn: 2,
      ok: 1,
      quarantined: { oversized: 1 },
      dropped: {},
      fieldsDropped: 0,
      attributesDropped: 0,
      redactions: { email: 3, employee_number: 2 },
    };
    const docs = ingestEmfDocuments(stats, { namespace: 'N' });
    expect(
      docs.map((d) =>
        Object.keys(d)
          .filter((k) => k !== '_aws')
          .sort(),
      ),
    ).toEqual([
      [
        'AttributesDropped',
        'FieldsDropped',
        'OutcomeSignalsDropped',
        'RecordsIn',
        'RecordsOk',
        'RecordsQuarantined',
        'RecordsSampledOut',
        'RecordsValid',
        'Redactions',
        'service',
      ],
      ['Reason', 'RecordsQuarantined', 'service'],
      ['Redactions', 'Type', 'service'],
      ['Redactions', 'Type', 'service'],
    ]);
    // events stream: service "ingest"; custom patterns fold into one Type
    expect(docs.map((d) => [d.service, d.Type ?? null, d.Redactions ?? null])).toEqual([
      ['ingest', null, 5],
      ['ingest', null, null],
      ['ingest', 'email', 3],
      ['ingest', 'custom', 2],
    ]);
    const captures = ingestEmfDocuments({ ...stats, dropped: { expired: 1 } }, { namespace: 'N', kind: 'captures' });
    expect(captures[0]).toMatchObject({ service: 'debug-capture', CapturesDropped: 1 });
  });

  it('keeps every value of a latency metric with more than 100 observations in the returned documents (none flushed to stdout)', () => {
    const stats = { recordsIn: 0, ok: 0, quarantined: {}, dropped: {}, fieldsDropped: 0, attributesDropped: 0, redactions: {} };
    const latencies = Array.from({ length: 250 }, (_, i) => i + 1);
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    let docs;
    try {
      docs = ingestEmfDocuments(stats, {
        namespace: 'N',
        groups: [{ dimensions: { Path: 'rag' }, values: new Map([['LatencyMs', latencies]]) }],
      });
    } finally {
      process.stdout.write = write;
    }
    expect(written.join('')).not.toContain('LatencyMs');
    const withLatency = docs.filter((d) => 'LatencyMs' in d);
    expect(withLatency.map((d) => [d.Path, [d.LatencyMs].flat().length])).toEqual([
      ['rag', 99],
      ['rag', 99],
      ['rag', 52],
    ]);
    expect(withLatency.flatMap((d) => [d.LatencyMs].flat())).toEqual(latencies);
  });
});
