/**
 * Issue 16, item 6: the policy settings do what the signed spec says. Sampling by trace id
 * with P0 and flagged records always kept, outcome signals the policy does not list dropped
 * at ingest, debug-capture enrolments by user role, citation-required intents from the
 * policy, escalations and abandonments counted once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTelemetryEvent, type TelemetryEvent } from '../lib/core/contract';
import { enrolmentVerdict } from '../lib/core/contract/enrolment';
import { parsePolicy, PolicyError } from '../lib/core/policy';
import { createRedactor } from '../lib/core/redaction';
import { explainPolicy, outcomeSignalsSentence, samplingSentence } from '../lib/core/spec/policy';
import { aggregateBatch, SliceAdmission, type MetricGroup } from '../lib/core/transform/aggregate';
import { ingestEmfDocuments } from '../lib/core/transform/emf';
import { aggregateOptionsFrom, captureContext, transformConfigFromPolicy } from '../lib/core/transform/env';
import { isAlwaysKept, samplingDecision, traceFraction } from '../lib/core/transform/sampling';
import {
  transformBatch,
  transformDebugBatch,
  type FirehoseEventIn,
  type TransformContext,
  type TransformResult,
} from '../lib/core/transform/transform';
import { sampleEvents } from './fixtures/redaction-corpus';
import { shippedPolicyText, TEST_NOW, variantPolicy } from './support/policy';

const KEY = new Uint8Array(32).fill(7);
const NOW = new Date('2026-12-01T08:00:00.000Z');
const base: TransformContext = { redactor: createRedactor({}), hashKey: KEY, allowedAttributes: new Set(['team']), now: () => NOW };

/** A plain request, span and feedback of one trace: nothing flagged, nothing P0. */
function plain(traceId: string, n = 0): Record<'request' | 'span' | 'feedback', Record<string, unknown>> {
  const s = sampleEvents();
  const ids = { trace_id: traceId, request_id: `req-${n}` };
  const { error_code: _c, error_message: _m, ...request } = s.request;
  return {
    request: { ...request, ...ids, event_id: `ev-r-${n}`, status: 'ok' },
    span: { ...s.span, ...ids, event_id: `ev-s-${n}` },
    feedback: { ...s.feedback, ...ids, event_id: `ev-f-${n}`, escalated_to_human: undefined },
  };
}

const valid = (r: Record<string, unknown>): TelemetryEvent => {
  const p = parseTelemetryEvent(r);
  if (!p.ok) throw new Error(p.detail);
  return p.value;
};

const batch = (...records: Record<string, unknown>[]): FirehoseEventIn => ({
  records: records.map((r, i) => ({ recordId: `r${i}`, data: Buffer.from(JSON.stringify(r)).toString('base64') })),
});

const traceId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
const rate = fc.double({ min: 0.01, max: 0.99, noNaN: true });

/** Metric name to its total (the dimensionless group). */
const totals = (groups: readonly MetricGroup[]): Record<string, number> => {
  const g = groups.find((x) => Object.keys(x.dimensions).length === 0);
  return Object.fromEntries([...(g?.values ?? [])].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0)]));
};

describe('capture.sampling_rate: by trace id, P0 and flagged records always kept, metrics before sampling', () => {
  it('decides the same for every record of a trace, in any batch (fast-check)', () => {
    fc.assert(
      fc.property(traceId, rate, (id, r) => {
        const t = plain(id);
        const decisions = [t.request, t.span, t.feedback].map((e) => samplingDecision(valid(e), r));
        expect(new Set(decisions).size).toBe(1);
        expect(decisions[0]).toBe(traceFraction(id) < r ? 'sampled_in' : 'sampled_out');
        // a second batch, alone or among other traces, stores the same records of the trace
        const kept = (res: TransformResult, first: number) => res.response.records.slice(first, first + 3).map((x) => x.result);
        const alone = transformBatch(batch(t.request, t.span, t.feedback), { ...base, samplingRate: r });
        const other = plain(`${id}-other`, 1);
        const mixed = transformBatch(batch(other.request, t.request, t.span, t.feedback), { ...base, samplingRate: r });
        expect(kept(mixed, 1)).toEqual(kept(alone, 0));
        expect(kept(alone, 0)).toEqual(Array(3).fill(decisions[0] === 'sampled_out' ? 'Dropped' : 'Ok'));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a fraction of traces within tolerance of the rate (fast-check over the ids)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(traceId, { minLength: 4000, maxLength: 4000 }), rate, (ids, r) => {
        const kept = ids.filter((id) => traceFraction(id) < r).length / ids.length;
        // 4000 Bernoulli draws: the standard deviation is at most 0.8 percentage points; 4 of them
        expect(Math.abs(kept - r)).toBeLessThan(0.032);
      }),
      { numRuns: 10 },
    );
  });

  it('always keeps P0 and flagged records, at any rate and any trace id (fast-check)', () => {
    const flags: [string, (t: ReturnType<typeof plain>) => Record<string, unknown>][] = [
      ['p0_category', (t) => ({ ...t.request, p0_category: 'pii_leak' })],
      ['detected_p0 (the ingest detection)', (t) => ({ ...valid(t.request), detected_p0: 'access_violation' })],
      ['request error', (t) => ({ ...t.request, status: 'error' })],
      ['request timeout', (t) => ({ ...t.request, status: 'timeout' })],
      ['guardrail block', (t) => ({ ...t.request, guardrail_action: 'block' })],
      ['guardrail escalate', (t) => ({ ...t.span, guardrail_action: 'escalate' })],
      ['false confirmation', (t) => ({ ...t.request, false_confirmation: true })],
      ['outcome escalated', (t) => ({ ...t.request, outcome: 'escalated' })],
      ['span error', (t) => ({ ...t.span, status: 'error' })],
      ['feedback escalated_to_human', (t) => ({ ...t.feedback, escalated_to_human: true })],
    ];
    fc.assert(
      fc.property(traceId, rate, fc.constantFrom(...flags), (id, r, [name, make]) => {
        const record = make(plain(id)) as TelemetryEvent;
        expect(isAlwaysKept(record), name).toBe(true);
        expect(samplingDecision(record, r), name).toBe('always');
      }),
      { numRuns: 300 },
    );
  });

  it('a sampled-out record is Dropped and counted, never lost; every recordId returns; the metrics count it', () => {
    // find a trace the rate samples out, and one it keeps
    const out = Array.from({ length: 100 }, (_, i) => `t-out-${i}`).find((id) => traceFraction(id) >= 0.5)!;
    const kept = Array.from({ length: 100 }, (_, i) => `t-in-${i}`).find((id) => traceFraction(id) < 0.5)!;
    const o = plain(out, 0);
    const k = plain(kept, 1);
    const res = transformBatch(batch(o.request, o.span, k.request, o.feedback, 'a string, not a record' as never), {
      ...base,
      samplingRate: 0.5,
    });
    expect(res.response.records.map((r) => [r.recordId, r.result])).toEqual([
      ['r0', 'Dropped'],
      ['r1', 'Dropped'],
      ['r2', 'Ok'],
      ['r3', 'Dropped'],
      ['r4', 'Ok'], // the quarantine stub
    ]);
    expect(res.response.records.filter((r) => r.result === 'Dropped').every((r) => r.data === '')).toBe(true);
    expect(res.stats).toMatchObject({ recordsIn: 5, ok: 1, sampledOut: 3, quarantined: { not_an_object: 1 } });
    // every valid record reaches the metrics, sampled out or not
    expect(res.events).toHaveLength(4);
    const groups = aggregateBatch(res.events!, aggregateOptionsFrom(transformConfigFromPolicy(variantPolicy(() => {})).metrics));
    expect(totals(groups).Requests).toBe(2);
    const [doc] = ingestEmfDocuments(res.stats, { kind: 'events' }) as unknown as Record<string, number>[];
    expect([doc!.RecordsIn, doc!.RecordsValid, doc!.RecordsOk, doc!.RecordsSampledOut, doc!.RecordsQuarantined]).toEqual([5, 4, 1, 3, 1]);
  });

  it('keeps every record of a trace that has a P0 or flagged record in the same batch', () => {
    const out = Array.from({ length: 100 }, (_, i) => `t-p0-${i}`).find((id) => traceFraction(id) >= 0.5)!;
    const t = plain(out);
    const res = transformBatch(batch({ ...t.request, p0_category: 'access_violation' }, t.span, t.feedback), {
      ...base,
      samplingRate: 0.5,
    });
    expect(res.response.records.map((r) => r.result)).toEqual(['Ok', 'Ok', 'Ok']);
    expect(res.stats.sampledOut).toBe(0);
  });

  it('a rate of 1 stores every record', () => {
    fc.assert(
      fc.property(traceId, (id) => {
        const t = plain(id);
        const res = transformBatch(batch(t.request, t.span, t.feedback), { ...base, samplingRate: 1 });
        expect(res.response.records.map((r) => r.result)).toEqual(['Ok', 'Ok', 'Ok']);
      }),
      { numRuns: 50 },
    );
  });
});

describe('capture.user_outcome_signals: unlisted signals are dropped at ingest, counted, and feed no metric', () => {
  it('removes an unlisted signal from the stored record and from the metrics', () => {
    const policy = variantPolicy((d) => void (d.capture.user_outcome_signals = ['escalated_to_human', 'abandoned']));
    const config = transformConfigFromPolicy(policy);
    const t = plain('trace-signals');
    const feedback = { ...t.feedback, user_rating: -1, follow_up_within_5m: true, abandoned: true };
    const res = transformBatch(batch(feedback), { ...base, ...captureContext(config.capture) });
    const stored = JSON.parse(Buffer.from(res.response.records[0]!.data, 'base64').toString('utf8')) as Record<string, unknown>;
    expect('user_rating' in stored).toBe(false);
    expect('follow_up_within_5m' in stored).toBe(false);
    expect(stored.abandoned).toBe(true);
    expect(res.stats.signalsDropped).toBe(2);
    const t0 = totals(aggregateBatch(res.events!, aggregateOptionsFrom(config.metrics)));
    expect(t0).toEqual({ Feedback: 1 });
    const [doc] = ingestEmfDocuments(res.stats, { kind: 'events' }) as unknown as Record<string, number>[];
    expect(doc!.OutcomeSignalsDropped).toBe(2);
  });

  it('with every signal listed, keeps them all and counts the ratings', () => {
    const config = transformConfigFromPolicy(variantPolicy(() => {}));
    const feedback = { ...plain('trace-all').feedback, user_rating: -1, follow_up_within_5m: true };
    const res = transformBatch(batch(feedback), { ...base, ...captureContext(config.capture) });
    expect(res.stats.signalsDropped).toBe(0);
    expect(totals(aggregateBatch(res.events!, aggregateOptionsFrom(config.metrics)))).toEqual({
      Feedback: 1,
      Ratings: 1,
      NegativeRatings: 1,
      FollowUps: 1,
    });
  });
});

describe('debug-capture enrolments by user_role', () => {
  const enrolments = [{ cohort: 'staff', user_role: 'employee', reason: 'INC-9', expires_at: '2026-12-02T00:00:00Z' }];
  const capture = (over: Record<string, unknown>) => ({
    trace_id: 't-1',
    request_id: 'r-1',
    tenant_id: 'acme',
    timestamp: '2026-12-01T07:00:00Z',
    cohort: 'staff',
    reason: 'INC-9',
    prompt_text: 'hello',
    ...over,
  });

  it("an enrolment of user_role employee does not capture an hr_specialist's request, nor one that names no role", () => {
    const res = transformDebugBatch(batch(capture({ user_role: 'hr_specialist' }), capture({}), capture({ user_role: 'employee' })), {
      ...base,
      enrolments,
    });
    expect(res.response.records.map((r) => r.result)).toEqual(['Dropped', 'Dropped', 'Ok']);
    expect(res.stats.dropped).toEqual({ role_mismatch: 2 });
  });

  it('the kill-switch question (is the cohort enrolled at all) does not need a role', () => {
    expect(enrolmentVerdict({ cohort: 'staff' }, enrolments, NOW.getTime(), 'cohort')).toBe('enrolled');
    expect(enrolmentVerdict({ cohort: 'staff', tenant_id: 'acme' }, enrolments, NOW.getTime())).toBe('role_mismatch');
  });
});

describe('citation-required intents come from the policy', () => {
  const request = (intent: string, cited: boolean) => valid({ ...plain(`t-${intent}`).request, intent, citations_present: cited });
  const groupsFor = (intents?: string[]) => {
    const policy = variantPolicy((d) => {
      if (intents) d.buckets.quality.citation_required_intents = intents;
    });
    return totals(
      aggregateBatch(
        [request('policy_qna', true), request('hr_request', false)],
        aggregateOptionsFrom(transformConfigFromPolicy(policy).metrics),
      ),
    );
  };

  it('the shipped policy keeps policy_qna', () => {
    expect(groupsFor()).toMatchObject({ PolicyAnswers: 1, PolicyAnswersCited: 1 });
  });

  it('a policy listing hr_request counts hr_request answers, and not policy_qna', () => {
    const t = groupsFor(['hr_request']);
    expect(t.PolicyAnswers).toBe(1);
    expect(t.PolicyAnswersCited).toBeUndefined();
  });

  it('fails when a citation-required intent is not one of the declared intent values, naming file, line and column', () => {
    const text = shippedPolicyText().replace('citation_required_intents: [policy_qna]', 'citation_required_intents: [policy_qna, payroll]');
    let message = '';
    try {
      parsePolicy(text, 'telemetry-policy.yaml', { now: TEST_NOW });
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      message = e.message;
    }
    const at = text.indexOf('payroll]');
    const before = text.slice(0, at).split('\n');
    expect(message).toBe(
      `telemetry-policy.yaml:${before.length}:${before.at(-1)!.length + 1} buckets.quality.citation_required_intents[1]: is "payroll"; not one of the intents the policy declares (slices.dimensions.intent.values: policy_qna, troubleshooting, ticket_create, hr_request): add it there or fix the name`,
    );
  });
});

describe('Escalations and Abandonments count one event once', () => {
  it('a request and its feedback that both say escalated (or abandoned) count 1', () => {
    const t = plain('t-esc');
    const opts = { policy: variantPolicy(() => {}), admission: new SliceAdmission({}) };
    const escalated = totals(
      aggregateBatch([valid({ ...t.request, outcome: 'escalated' }), valid({ ...t.feedback, escalated_to_human: true })], opts),
    );
    expect(escalated.Escalations).toBe(1);
    const abandoned = totals(
      aggregateBatch([valid({ ...t.request, outcome: 'abandoned' }), valid({ ...t.feedback, abandoned: true })], opts),
    );
    expect(abandoned.Abandonments).toBe(1);
  });
});

describe('the spec states the settings, derived from the policy', () => {
  it('sampling: the rate, by trace id, what is always kept, that metrics count everything', () => {
    const p = variantPolicy((d) => void (d.capture.sampling_rate = 0.25));
    const md = explainPolicy(p);
    const s = samplingSentence(p);
    expect(md).toContain(s);
    expect(s).toContain('the records of 25% of traces are stored, decided by trace id');
    expect(s).toContain('as a fraction below 0.25');
    expect(s).toContain('Always stored, at any rate: P0 records');
    expect(s).toContain('The bucket metrics and alarms count every valid record, before sampling.');
  });

  it('outcome signals: which are kept, and that the others are dropped at ingest', () => {
    const p = variantPolicy((d) => void (d.capture.user_outcome_signals = ['user_rating']));
    expect(explainPolicy(p)).toContain(outcomeSignalsSentence(p));
    expect(outcomeSignalsSentence(p)).toBe(
      '- User outcome signals kept: `user_rating` (rating scale: -1 / +1). `escalated_to_human`, `follow_up_within_5m`, `abandoned` are removed from feedback records at ingest, counted (OutcomeSignalsDropped), never stored and never counted in a metric.',
    );
  });

  it('citation-required intents and the enrolment rule', () => {
    const p = variantPolicy((d) => void (d.buckets.quality.citation_required_intents = ['policy_qna', 'hr_request']));
    const md = explainPolicy(p);
    expect(md).toContain('- Citations: answers of `policy_qna`, `hr_request` must cite a source');
    expect(md).toContain("the enrolment's user role (if it names one) is the capture's `user_role`");
  });
});
