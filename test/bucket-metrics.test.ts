import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findMetric } from '../lib/core/metrics/dictionary';
import { aggregateBatch, latencyPath, OTHER, requestCost, SliceAdmission, type MetricGroup } from '../lib/core/transform/aggregate';
import type { RequestEvent, TelemetryEvent } from '../lib/core/contract';
import { buildSampleEvents } from './support/sample-events';
import { variantPolicy } from './support/policy';

const policy = variantPolicy(() => {});

function request(over: Partial<RequestEvent> = {}): RequestEvent {
  return {
    schema_version: 1,
    event_type: 'request',
    event_id: `e-${Math.random().toString(36).slice(2)}`,
    timestamp: '2026-11-29T10:00:00.000Z',
    trace_id: 't1',
    request_id: 'r1',
    session_id: 's1',
    tenant_id: 'emea',
    user_role: 'employee',
    intent: 'policy_qna',
    risk_level: 'low',
    status: 'ok',
    latency_ms: 1000,
    retrieval_latency_ms: 100,
    llm_latency_ms: 800,
    tool_latency_ms: 0,
    input_tokens: 1000,
    output_tokens: 200,
    llm_calls: 1,
    provider_retries: 0,
    fallback_used: false,
    cache_hit: false,
    retrieval_used: true,
    sources: ['it_kb'],
    sources_count: 1,
    access_denials: 0,
    citations_present: true,
    tool_path: 'none',
    tools_proposed: 0,
    tools_executed: 0,
    tool_validation_failures: 0,
    tool_errors: 0,
    false_confirmation: false,
    guardrail_action: 'allow',
    redaction_applied: false,
    input_chars: 100,
    output_chars: 400,
    pii_detected: false,
    outcome: 'success',
    ...over,
  } as RequestEvent;
}

function group(groups: MetricGroup[], dims: Record<string, string>): Map<string, number[]> | undefined {
  return groups.find((g) => JSON.stringify(Object.entries(g.dimensions).sort()) === JSON.stringify(Object.entries(dims).sort()))
    ?.values as Map<string, number[]>;
}

describe('bucket metrics of a batch', () => {
  it('counts the total, one dimension set per slice, never their cross product', () => {
    const events = [
      request({ intent: 'policy_qna', tenant_id: 'emea', status: 'error', cost_usd: 0.02 }),
      request({ intent: 'hr_request', tenant_id: 'emea', status: 'timeout', cost_usd: 0.03 }),
      request({ intent: 'travel', tenant_id: 'mars', cost_usd: 0.05, outcome: 'abandoned' }),
    ];
    const groups = aggregateBatch(events, { policy, admission: new SliceAdmission(policy.slices.dimensions) });
    expect(group(groups, {})?.get('Requests')).toEqual([3]);
    expect(group(groups, {})?.get('Errors')).toEqual([2]);
    expect(group(groups, {})?.get('ProviderTimeouts')).toEqual([1]);
    expect(group(groups, {})?.get('CostUsd')?.[0]).toBeCloseTo(0.1, 10);
    expect(group(groups, { intent: 'policy_qna' })?.get('Requests')).toEqual([1]);
    expect(group(groups, { intent: OTHER })?.get('Abandonments')).toEqual([1]);
    expect(group(groups, { tenant_id: 'emea' })?.get('Requests')).toEqual([2]);
    expect(group(groups, { tenant_id: OTHER })?.get('Requests')).toEqual([1]);
    for (const g of groups) expect(Object.keys(g.dimensions).length).toBeLessThanOrEqual(1);
    // metrics that are not sliced appear only in the total or their fixed dimension
    for (const g of groups) {
      for (const name of g.values.keys()) {
        const def = findMetric(name);
        expect(def?.kind).toBe('emitted');
        const dim = Object.keys(g.dimensions)[0];
        if (dim && def?.kind === 'emitted') expect(def.sliced || def.fixed?.dimension === dim, `${name} by ${dim}`).toBe(true);
      }
    }
  });

  it('keeps every latency observation, by path and by slice, for percentiles', () => {
    const events = [
      request({ latency_ms: 100, retrieval_used: true }),
      request({ latency_ms: 200, retrieval_used: false, tool_path: 'write' }),
      request({ latency_ms: 300, retrieval_used: false, tool_path: 'none' }),
      request({ latency_ms: 400, retrieval_used: true, tool_path: 'read' }),
    ];
    const groups = aggregateBatch(events, { policy, admission: new SliceAdmission(policy.slices.dimensions) });
    expect(group(groups, {})?.get('Latency')).toEqual([100, 200, 300, 400]);
    expect(group(groups, { Path: 'rag' })?.get('Latency')).toEqual([100, 400]);
    expect(group(groups, { Path: 'tool' })?.get('Latency')).toEqual([200]);
    expect(group(groups, { Path: 'plain' })?.get('Latency')).toEqual([300]);
    expect(group(groups, { intent: 'policy_qna' })?.get('Latency')).toEqual([100, 200, 300, 400]);
  });

  it('counts P0 events and guardrail blocks by category, feedback signals by the rating scale', () => {
    const events: TelemetryEvent[] = [
      request({ p0_category: 'access_violation' }),
      request({ p0_category: 'false_confirmation', guardrail_action: 'block', guardrail_category: 'injection' }),
      request({ guardrail_action: 'block', guardrail_category: 'something_new' }),
      {
        schema_version: 1,
        event_type: 'feedback',
        event_id: 'f1',
        timestamp: '2026-11-29T10:00:00Z',
        trace_id: 't',
        request_id: 'r',
        session_id: 's',
        tenant_id: 'emea',
        user_role: 'employee',
        intent: 'policy_qna',
        risk_level: 'low',
        user_rating: -1,
        follow_up_within_5m: true,
      } as TelemetryEvent,
      {
        schema_version: 1,
        event_type: 'feedback',
        event_id: 'f2',
        timestamp: '2026-11-29T10:00:00Z',
        trace_id: 't',
        request_id: 'r',
        session_id: 's',
        tenant_id: 'emea',
        user_role: 'employee',
        intent: 'policy_qna',
        risk_level: 'low',
        user_rating: 1,
      } as TelemetryEvent,
    ];
    const groups = aggregateBatch(events, { policy, admission: new SliceAdmission(policy.slices.dimensions) });
    expect(group(groups, {})?.get('P0Events')).toEqual([2]);
    expect(group(groups, { Category: 'access_violation' })?.get('P0Events')).toEqual([1]);
    expect(group(groups, { Category: 'false_confirmation' })?.get('P0Events')).toEqual([1]);
    expect(group(groups, {})?.get('AccessViolations')).toEqual([1]);
    expect(group(groups, { Category: 'injection' })?.get('GuardrailBlocks')).toEqual([1]);
    expect(group(groups, { Category: 'other' })?.get('GuardrailBlocks')).toEqual([1]);
    expect(group(groups, {})?.get('Refusals')).toEqual([2]);
    expect(group(groups, {})?.get('Ratings')).toEqual([2]);
    expect(group(groups, {})?.get('NegativeRatings')).toEqual([1]);
    expect(group(groups, {})?.get('FollowUps')).toEqual([1]);
    const fiveStar = { ...policy, capture: { ...policy.capture, rating_scale: 'five_star' as const } };
    const g5 = aggregateBatch([{ ...events[3], user_rating: 2 } as TelemetryEvent], {
      policy: fiveStar,
      admission: new SliceAdmission(policy.slices.dimensions),
    });
    expect(group(g5, {})?.get('NegativeRatings')).toEqual([1]);
  });

  it("prices a record without cost_usd from the policy's table", () => {
    const price = policy.pricing.models['anthropic:claude-sonnet-4']!;
    expect(
      requestCost(request({ model: 'anthropic:claude-sonnet-4', input_tokens: 2000, output_tokens: 1000 }), policy.pricing),
    ).toBeCloseTo(2 * price.input_per_1k + price.output_per_1k, 12);
    expect(requestCost(request({ model: 'unknown:model', input_tokens: 2000 }), policy.pricing)).toBe(0);
    expect(requestCost(request({ cost_usd: 0.5, model: 'anthropic:claude-sonnet-4' }), policy.pricing)).toBe(0.5);
  });

  it('admits at most max_values unlisted values per slice, the rest as other', () => {
    const admission = new SliceAdmission(policy.slices.dimensions);
    const max = policy.slices.dimensions.prompt_version!.max_values;
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^pv-[0-9]{1,3}$/), { maxLength: 50 }), (versions) => {
        for (const v of versions) admission.valueFor('prompt_version', v);
        const published = new Set(versions.map((v) => admission.valueFor('prompt_version', v)));
        published.delete(OTHER);
        expect(published.size).toBeLessThanOrEqual(max);
      }),
    );
  });

  it('agrees with a direct count over the query sample data', () => {
    const { events } = buildSampleEvents();
    const groups = aggregateBatch(events, { policy, admission: new SliceAdmission(policy.slices.dimensions) });
    const requests = events.filter((e): e is RequestEvent => e.event_type === 'request');
    const total = group(groups, {})!;
    expect(total.get('Requests')).toEqual([requests.length]);
    expect(total.get('Errors') ?? [0]).toEqual([requests.filter((r) => r.status !== 'ok').length]);
    expect(total.get('P0Events') ?? [0]).toEqual([requests.filter((r) => r.p0_category).length]);
    expect(total.get('Latency')).toHaveLength(requests.length);
    for (const path of ['rag', 'tool', 'plain'] as const) {
      expect(group(groups, { Path: path })?.get('Latency') ?? []).toHaveLength(requests.filter((r) => latencyPath(r) === path).length);
    }
  });
});
