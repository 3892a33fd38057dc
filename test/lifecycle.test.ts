import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPolicyRules, LOG_RETENTION_DAYS, type Policy } from '../lib/core/policy';
import {
  ABORT_MULTIPART_DAYS,
  auditLogRetentionDays,
  STORE_LAYOUT,
  STORE_NAMES,
  foreignPrefixes,
  lifecycleRulesFor,
  logRetentionDays,
  NONCURRENT_VERSION_DAYS,
  tierExpirationDays,
  type StoreName,
  type LifecycleRuleSpec,
} from '../lib/core/storage';
import { policyFrom, shippedPolicyText, TEST_NOW } from './support/policy';

type Retention = Policy['retention'];
const retention = (r: Partial<Retention>): Pick<Policy, 'retention'> => ({
  retention: { traces: '30d', metrics: '365d', debug: '72h', audit: '400d', logs: '30d', transitions: {}, ...r },
});

const shipped = policyFrom(shippedPolicyText(), 'telemetry-policy.yaml');

describe('lifecycleRulesFor, the shipped policy', () => {
  it('traces: 30 days bucket-wide, the debug prefixes at 72h rounded up to 3 days', () => {
    expect(lifecycleRulesFor('traces', shipped)).toEqual([
      { id: 'current-objects', expirationDays: 30, abortIncompleteMultipartUploadDays: 1 },
      { id: 'prefix-quarantine', prefix: 'quarantine/', expirationDays: 3 },
      { id: 'prefix-errors', prefix: 'errors/', expirationDays: 3 },
    ]);
  });

  it('metrics: 365 days with Standard-IA after 90, versions and delete markers in their own rule', () => {
    expect(lifecycleRulesFor('metrics', shipped)).toEqual([
      { id: 'current-objects', expirationDays: 365, infrequentAccessAfterDays: 90, abortIncompleteMultipartUploadDays: 1 },
      { id: 'noncurrent-versions', noncurrentVersionExpirationDays: 7, expiredObjectDeleteMarker: true },
    ]);
  });

  it('debug: 3 days; audit: 400 days, versioned', () => {
    expect(lifecycleRulesFor('debug', shipped)).toEqual([
      { id: 'current-objects', expirationDays: 3, abortIncompleteMultipartUploadDays: 1 },
    ]);
    expect(lifecycleRulesFor('audit', shipped)).toEqual([
      { id: 'current-objects', expirationDays: 400, abortIncompleteMultipartUploadDays: 1 },
      { id: 'noncurrent-versions', noncurrentVersionExpirationDays: 7, expiredObjectDeleteMarker: true },
    ]);
  });

  it('Athena results: analysts/ at the traces retention, incident/ at the debug retention', () => {
    expect(lifecycleRulesFor('results', shipped)).toEqual([
      { id: 'current-objects', expirationDays: 30, abortIncompleteMultipartUploadDays: 1 },
      { id: 'prefix-incident', prefix: 'incident/', expirationDays: 3 },
    ]);
  });
});

describe('lifecycleRulesFor, variants', () => {
  it('traces 7d and debug 48h: bucket-wide 7 days, errors/ and quarantine/ 2 days', () => {
    const rules = lifecycleRulesFor('traces', retention({ traces: '7d', debug: '48h' }));
    expect(rules.map((r) => [r.prefix ?? '*', r.expirationDays])).toEqual([
      ['*', 7],
      ['quarantine/', 2],
      ['errors/', 2],
    ]);
  });

  it('debug 25h rounds up to 2 whole days, 24h is 1 day', () => {
    expect(tierExpirationDays('debug', retention({ debug: '25h' }))).toBe(2);
    expect(tierExpirationDays('debug', retention({ debug: '24h' }))).toBe(1);
    expect(tierExpirationDays('debug', retention({ debug: '3d' }))).toBe(3);
  });

  it('traces 1d shorter than debug 72h: the prefix rules state the effective 1 day (S3 applies the earliest expiration)', () => {
    const p = retention({ traces: '1d', debug: '72h' });
    expect(lifecycleRulesFor('traces', p).map((r) => r.expirationDays)).toEqual([1, 1, 1]);
    expect(lifecycleRulesFor('results', p).map((r) => r.expirationDays)).toEqual([1, 1]);
  });

  it('traces 90d with Standard-IA after 30d; results never transition', () => {
    const p = retention({ traces: '90d', transitions: { traces: { infrequent_access_after: '30d' } } });
    expect(lifecycleRulesFor('traces', p)[0]).toEqual({
      id: 'current-objects',
      expirationDays: 90,
      infrequentAccessAfterDays: 30,
      abortIncompleteMultipartUploadDays: 1,
    });
    expect(lifecycleRulesFor('results', p)[0]).toEqual({
      id: 'current-objects',
      expirationDays: 90,
      abortIncompleteMultipartUploadDays: 1,
    });
  });

  it('fails when a transition would come less than 30 days before expiry', () => {
    expect(() =>
      lifecycleRulesFor('traces', retention({ traces: '45d', transitions: { traces: { infrequent_access_after: '30d' } } })),
    ).toThrow(
      new Error(
        'retention.transitions.traces.infrequent_access_after is 30d; Standard-IA needs at least 30d and at least 30d before the traces expiry (45d)',
      ),
    );
  });

  it('fails when a transition comes before 30 days', () => {
    expect(() => lifecycleRulesFor('metrics', retention({ transitions: { metrics: { infrequent_access_after: '29d' } } }))).toThrow(
      new Error(
        'retention.transitions.metrics.infrequent_access_after is 29d; Standard-IA needs at least 30d and at least 30d before the metrics expiry (365d)',
      ),
    );
  });
});

describe('log group retention', () => {
  it('retention.logs maps to the same number of days', () => {
    expect(logRetentionDays(retention({ logs: '14d' }))).toBe(14);
    expect(logRetentionDays(shipped)).toBe(30);
  });

  it('fails when retention.logs is not a CloudWatch value', () => {
    expect(() => logRetentionDays(retention({ logs: '31d' }))).toThrow(
      new Error(`retention.logs is 31d; CloudWatch Logs allows ${LOG_RETENTION_DAYS.map((d) => `${d}d`).join(', ')}`),
    );
  });

  it('audit log groups get the nearest CloudWatch value at or above retention.audit', () => {
    expect(auditLogRetentionDays(retention({ audit: '400d' }))).toBe(400);
    expect(auditLogRetentionDays(retention({ audit: '401d' }))).toBe(545);
    expect(auditLogRetentionDays(retention({ audit: '91d' }))).toBe(120);
    expect(auditLogRetentionDays(retention({ audit: '3653d' }))).toBe(3653);
  });

  it('fails when retention.audit is longer than CloudWatch Logs can keep', () => {
    expect(() => auditLogRetentionDays(retention({ audit: '4000d' }))).toThrow(
      new Error('retention.audit is 4000d; CloudWatch Logs keeps at most 3653d, so an audit log group cannot keep it that long'),
    );
  });
});

/** Random retention sections that the policy rules accept. */
const validRetention: fc.Arbitrary<Retention> = fc
  .record({
    traces: fc.integer({ min: 1, max: 90 }),
    metrics: fc.integer({ min: 30, max: 730 }),
    debugHours: fc.integer({ min: 24, max: 72 }),
    debugInDays: fc.boolean(),
    auditExtra: fc.integer({ min: 0, max: 2000 }),
    logs: fc.constantFrom(...LOG_RETENTION_DAYS),
    tracesIa: fc.option(fc.integer({ min: 30, max: 60 }), { nil: undefined }),
    metricsIa: fc.option(fc.integer({ min: 30, max: 700 }), { nil: undefined }),
    auditIa: fc.option(fc.integer({ min: 30, max: 3000 }), { nil: undefined }),
  })
  .map((g) => {
    const debugDays = g.debugHours / 24;
    const debug = g.debugInDays && Number.isInteger(debugDays) ? `${debugDays}d` : `${g.debugHours}h`;
    const audit = Math.max(g.traces, g.metrics, Math.ceil(debugDays), g.logs) + g.auditExtra;
    const ia = (after: number | undefined, expiry: number) =>
      after !== undefined && expiry - after >= 30 ? { infrequent_access_after: `${after}d` } : undefined;
    const transitions: Retention['transitions'] = {};
    const t = ia(g.tracesIa, g.traces);
    const m = ia(g.metricsIa, g.metrics);
    const a = ia(g.auditIa, audit);
    if (t) transitions.traces = t;
    if (m) transitions.metrics = m;
    if (a) transitions.audit = a;
    return { traces: `${g.traces}d`, metrics: `${g.metrics}d`, debug, audit: `${audit}d`, logs: `${g.logs}d`, transitions };
  });

/** The days after which S3 deletes a current object at `key`: the earliest expiration among the rules that match it. */
function effectiveExpiry(rules: LifecycleRuleSpec[], key: string): number | undefined {
  const days = rules.filter((r) => r.expirationDays !== undefined && key.startsWith(r.prefix ?? '')).map((r) => r.expirationDays as number);
  return days.length ? Math.min(...days) : undefined;
}

describe('lifecycleRulesFor, property: for any valid retention', () => {
  it('the generator only makes retentions the policy rules accept', () => {
    fc.assert(
      fc.property(validRetention, (r) => {
        expect(checkPolicyRules({ retention: r }, { now: TEST_NOW }).filter((f) => f.level === 'error')).toEqual([]);
      }),
    );
  });

  it('every key of every bucket expires, never later than its tier; versions, delete markers and uploads are bounded', () => {
    fc.assert(
      fc.property(
        validRetention,
        fc.constantFrom(...STORE_NAMES),
        fc.stringMatching(/^[a-z0-9=/._-]{1,20}$/),
        (r, bucket: StoreName, suffix) => {
          const p = { retention: r };
          const input = structuredClone(r);
          const rules = lifecycleRulesFor(bucket, p);
          expect(r).toEqual(input);
          const layout = STORE_LAYOUT[bucket];
          const bucketDays = tierExpirationDays(layout.tier, p);

          // One bucket-wide rule: the bucket's tier, multipart uploads aborted.
          const wide = rules.filter((x) => x.prefix === undefined && x.expirationDays !== undefined);
          expect(wide).toHaveLength(1);
          expect(wide[0]?.expirationDays).toBe(bucketDays);
          expect(wide[0]?.abortIncompleteMultipartUploadDays).toBe(ABORT_MULTIPART_DAYS);

          // Any key, under a declared prefix or not, expires no later than the tier governing it.
          for (const key of [suffix, ...layout.prefixes.map((x) => x.prefix + suffix)]) {
            const governing = layout.prefixes.find((x) => key.startsWith(x.prefix))?.tier ?? layout.tier;
            const expiry = effectiveExpiry(rules, key);
            expect(typeof expiry, `a rule expires ${key}`).toBe('number');
            expect(expiry).toBeLessThanOrEqual(tierExpirationDays(governing, p));
          }
          // Every prefix of another tier has its own rule at min(its tier, the bucket's tier).
          for (const f of foreignPrefixes(bucket)) {
            expect(rules.find((x) => x.prefix === f.prefix)?.expirationDays).toBe(Math.min(tierExpirationDays(f.tier, p), bucketDays));
          }

          // Versioned: noncurrent versions and delete markers in a rule of their own (S3 refuses them beside an expiration in days).
          const versions = rules.filter((x) => x.noncurrentVersionExpirationDays !== undefined || x.expiredObjectDeleteMarker);
          if (layout.versioned) {
            expect(versions).toEqual([
              { id: 'noncurrent-versions', noncurrentVersionExpirationDays: NONCURRENT_VERSION_DAYS, expiredObjectDeleteMarker: true },
            ]);
          } else {
            expect(versions).toEqual([]);
          }

          // Transitions only where they pay off.
          for (const x of rules.filter((y) => y.infrequentAccessAfterDays !== undefined)) {
            expect(x.infrequentAccessAfterDays).toBeGreaterThanOrEqual(30);
            expect((x.expirationDays as number) - (x.infrequentAccessAfterDays as number)).toBeGreaterThanOrEqual(30);
          }
          expect(new Set(rules.map((x) => x.id)).size).toBe(rules.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
