import { afterEach, describe, expect, it, vi } from 'vitest';
import { DebugCapture, QuarantineRecord } from '../lib/core/contract';
import { createRedactor } from '../lib/core/redaction';
import { transformDebugBatch, type DebugTransformContext, type FirehoseEventIn } from '../lib/core/transform/transform';
import { createTransformHandler } from '../lambdas/shared/handler';
import { TRANSFORM_ENV } from '../lib/core/transform/env';

const NOW = new Date('2026-12-01T08:00:00.000Z');
const ENROLMENTS = [
  { cohort: 'inc_42', tenant_id: 'acme', reason: 'INC-42', expires_at: '2026-12-02T00:00:00Z' },
  { cohort: 'old', reason: 'INC-1', expires_at: '2026-11-30T00:00:00Z' },
  { cohort: 'any_tenant', reason: 'INC-7', expires_at: '2026-12-01T08:00:01Z' },
];
const ctx: DebugTransformContext = {
  redactor: createRedactor({}),
  hashKey: new Uint8Array(32).fill(1),
  allowedAttributes: new Set(),
  now: () => NOW,
  enrolments: ENROLMENTS,
};
const capture = (over: Record<string, unknown> = {}) => ({
  trace_id: 't-1',
  request_id: 'r-1',
  tenant_id: 'acme',
  timestamp: '2026-11-30T22:10:00Z',
  cohort: 'inc_42',
  reason: 'INC-42',
  prompt_text: 'I am alice@example.com, my card is 4111 1111 1111 1111',
  completion_text: 'Sent to +44 20 7946 0958',
  retrieved_text: 'db postgres://admin:pa55w0rd@db.internal/app',
  tool_payload: '{"to": "bob@example.com", "api_key": "Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0", "n": 1}',
  ...over,
});
const batch = (...records: unknown[]): FirehoseEventIn => ({
  invocationId: 'inv-d',
  records: records.map((r, i) => ({
    recordId: `d${i}`,
    data: Buffer.from(typeof r === 'string' ? r : JSON.stringify(r)).toString('base64'),
  })),
});
const decode = (data: string) => JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Record<string, unknown>;

describe('transformDebugBatch', () => {
  it('redacts an enrolled, live capture and partitions it under captures by its date', () => {
    const { response, stats } = transformDebugBatch(batch(capture()), ctx);
    const rec = response.records[0];
    expect(rec?.result).toBe('Ok');
    expect(rec?.metadata.partitionKeys).toEqual({ area: 'captures', event_type: 'capture', dt: '2026-11-30' });
    const out = decode(rec?.data ?? '');
    expect(DebugCapture.safeParse(out).success).toBe(true);
    expect(out).toMatchObject({
      prompt_text: 'I am [EMAIL], my card is [CARD]',
      completion_text: 'Sent to [PHONE]',
      retrieved_text: 'db postgres://[URL_CREDENTIALS]@db.internal/app',
      tool_payload: '{"to":"[EMAIL]","api_key":"[SECRET]","n":1}',
    });
    expect(stats.redactions).toEqual({ email: 2, card: 1, phone: 1, url_credentials: 1, generic_secret: 1 });
  });

  it('drops captures whose cohort is not enrolled, is expired, or names another tenant, counted by reason', () => {
    const { response, stats } = transformDebugBatch(
      batch(
        capture({ cohort: 'nobody' }),
        capture({ cohort: 'old' }),
        capture({ tenant_id: 'globex' }),
        capture({ cohort: 'any_tenant', tenant_id: 'globex' }),
      ),
      ctx,
    );
    expect(response.records.map((r) => [r.recordId, r.result, r.data])).toEqual([
      ['d0', 'Dropped', ''],
      ['d1', 'Dropped', ''],
      ['d2', 'Dropped', ''],
      ['d3', 'Ok', response.records[3]?.data],
    ]);
    expect(stats.dropped).toEqual({ not_enrolled: 1, expired: 1, tenant_mismatch: 1 });
    expect(stats.ok).toBe(1);
  });

  it('treats an enrolment as expired from its expires_at instant on', () => {
    const at = (iso: string) =>
      transformDebugBatch(batch(capture({ cohort: 'any_tenant' })), { ...ctx, now: () => new Date(iso) }).response.records[0]?.result;
    expect(at('2026-12-01T08:00:00.999Z')).toBe('Ok');
    expect(at('2026-12-01T08:00:01.000Z')).toBe('Dropped');
  });

  it('quarantines invalid captures instead of dropping or passing them', () => {
    const { response, stats } = transformDebugBatch(batch(capture({ timestamp: 'yesterday' }), 'not json at all'), ctx);
    expect(response.records.map((r) => r.metadata.partitionKeys.area)).toEqual(['quarantine', 'quarantine']);
    const q = decode(response.records[0]?.data ?? '');
    expect(QuarantineRecord.safeParse(q).success).toBe(true);
    expect(q).toMatchObject({
      quarantine_reason: 'schema_violation',
      quarantine_detail: 'timestamp: must be an RFC 3339 UTC timestamp, e.g. 2026-11-29T15:25:50.123Z',
      trace_id: 't-1',
    });
    expect(JSON.stringify(q)).not.toContain('alice@example.com');
    expect(stats.quarantined).toEqual({ schema_violation: 1, unparseable_json: 1 });
  });

  it('redacts a non-JSON tool payload as text', () => {
    const { response } = transformDebugBatch(
      batch(capture({ tool_payload: 'curl -H "Authorization: Bearer abcDEF123456ghiJKL789"' })),
      ctx,
    );
    expect(decode(response.records[0]?.data ?? '').tool_payload).toBe('curl -H "Authorization: Bearer [BEARER_TOKEN]"');
  });
});

describe('debug-capture handler', () => {
  afterEach(() => vi.restoreAllMocks());
  const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hash-key-AbCdEf';
  const env = (enrolments: typeof ENROLMENTS) =>
    TRANSFORM_ENV.captures.encode({
      REDACTION_CONFIG: { detectors: {}, customPatterns: [], allowedAttributes: [] },
      HASH_KEY_SECRET_ARN: SECRET_ARN,
      ENROLMENTS: enrolments,
    });

  it('reads ENROLMENTS once, logs counts only and never a planted value', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((c: unknown) => {
      written.push(String(c));
      return true;
    }) as typeof process.stdout.write);
    let keyLoads = 0;
    const handler = createTransformHandler('captures', {
      env: env(ENROLMENTS),
      loadHashKey: async () => {
        keyLoads++;
        return new Uint8Array(32);
      },
      now: () => NOW,
    });
    const first = await handler(batch(capture(), capture({ cohort: 'old' })));
    const second = await handler(batch(capture()));
    vi.restoreAllMocks();
    expect(first.records.map((r) => r.result)).toEqual(['Ok', 'Dropped']);
    expect(second.records.map((r) => r.result)).toEqual(['Ok']);
    expect(keyLoads).toBe(1);
    const all = written.join('');
    for (const p of ['alice@example.com', '4111 1111 1111 1111', 'pa55w0rd', 'Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0', '+44 20 7946 0958'])
      expect(all).not.toContain(p);
    expect(all).toContain('"CapturesDropped":1');
    expect(all).toContain('"Reason":"expired"');
  });

  it('fails when ENROLMENTS is not valid JSON', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const handler = createTransformHandler('captures', {
      env: { ...env([]), ENROLMENTS: '[{' },
      loadHashKey: async () => new Uint8Array(32),
    });
    await expect(handler(batch(capture()))).rejects.toThrow(
      'ENROLMENTS is not valid JSON; expected a JSON array of {"cohort","tenant_id"?,"user_role"?,"reason","expires_at"} ([] when none is live)',
    );
  });

  it('fails when an enrolment has no expiry, naming the variable and the field', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const handler = createTransformHandler('captures', {
      env: { ...env([]), ENROLMENTS: '[{"cohort":"inc_42","reason":"INC-42"}]' },
      loadHashKey: async () => new Uint8Array(32),
    });
    await expect(handler(batch(capture()))).rejects.toThrow(
      'ENROLMENTS is invalid: 0.expires_at: Invalid input: expected string, received undefined; expected a JSON array of {"cohort","tenant_id"?,"user_role"?,"reason","expires_at"} ([] when none is live)',
    );
  });
});
