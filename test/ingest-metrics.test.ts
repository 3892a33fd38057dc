import { afterEach, describe, expect, it, vi } from 'vitest';
import { findMetric, METRIC_NAMES } from '../lib/core/metrics/dictionary';
import { OTHER } from '../lib/core/transform/aggregate';
import { transformConfigFromPolicy, transformEnvFromPolicy } from '../lib/core/transform/env';
import type { RequestEvent, TelemetryEvent } from '../lib/core/contract';
import { createTransformHandler } from '../lambdas/shared/handler';
import { buildSampleEvents } from './support/sample-events';
import { variantPolicy } from './support/policy';

const policy = variantPolicy(() => {});
const KEY = new Uint8Array(32).fill(7);

/** Runs the real events handler on `events`, with the Lambda environment the stack gives it; returns the EMF documents. */
async function emfOf(events: readonly TelemetryEvent[]): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const capture = (chunk: unknown) => (
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')),
    true
  );
  vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void written.push(a.map(String).join(' ')));
  const handler = createTransformHandler('events', {
    env: transformEnvFromPolicy(policy, 'events', { hashKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k' }),
    loadHashKey: async () => KEY,
  });
  const records = events.map((e, i) => ({
    recordId: `r${i}`,
    approximateArrivalTimestamp: 0,
    data: Buffer.from(JSON.stringify(e)).toString('base64'),
  }));
  await handler({ invocationId: 'inv', deliveryStreamArn: 'arn', region: 'eu-west-1', records } as never);
  vi.restoreAllMocks();
  return written
    .join('\n')
    .split('\n')
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l));
}

const dims = (d: Record<string, unknown>) => (d._aws as any).CloudWatchMetrics[0].Dimensions[0] as string[];
/** Documents merged by dimension set (Powertools splits a document when a metric reaches 100 values): "k=v,..." -> metric -> values. */
function merged(docs: Record<string, unknown>[]): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const d of docs) {
    const key = dims(d)
      .filter((k) => k !== 'service')
      .map((k) => `${k}=${String(d[k])}`)
      .join(',');
    const g = out.get(key) ?? new Map<string, number[]>();
    out.set(key, g);
    for (const m of (d._aws as any).CloudWatchMetrics[0].Metrics)
      g.set(m.Name, [...(g.get(m.Name) ?? []), ...[d[m.Name] as number | number[]].flat()]);
  }
  return out;
}
const sum = (v: number[] | undefined) => (v ?? []).reduce((a, b) => a + b, 0);

describe('bucket metrics emitted by the transform (EMF through Powertools)', () => {
  afterEach(() => vi.restoreAllMocks());
  const { events } = buildSampleEvents();
  const requests = events.filter((e): e is RequestEvent => e.event_type === 'request');

  it('publishes the totals and one document per slice value, with the service dimension and one more at most', async () => {
    const docs = await emfOf(events);
    for (const d of docs) {
      expect(dims(d)[0]).toBe('service');
      expect(d.service).toBe('ingest');
      expect(dims(d).length).toBeLessThanOrEqual(2);
    }
    const m = merged(docs);
    const total = m.get('')!;
    expect(sum(total.get('Requests'))).toBe(requests.length);
    expect(sum(total.get('P0Events'))).toBe(requests.filter((r) => r.p0_category).length);
    expect(sum(total.get('Errors'))).toBe(requests.filter((r) => r.status !== 'ok').length);
    for (const intent of policy.slices.dimensions.intent!.values!) {
      expect(sum(m.get(`intent=${intent}`)?.get('Requests'))).toBe(requests.filter((r) => r.intent === intent).length);
    }
    const others = requests.filter((r) => !policy.slices.dimensions.intent!.values!.includes(r.intent)).length;
    expect(others).toBeGreaterThan(0);
    expect(sum(m.get(`intent=${OTHER}`)?.get('Requests'))).toBe(others);
    for (const c of ['access_violation', 'false_confirmation']) {
      expect(sum(m.get(`Category=${c}`)?.get('P0Events'))).toBe(requests.filter((r) => r.p0_category === c).length);
    }
  });

  it('keeps latency observations (percentiles possible) by path', async () => {
    const m = merged(await emfOf(events));
    for (const path of ['rag', 'tool', 'plain'] as const) {
      const expected = requests
        .filter((r) => (r.retrieval_used ? 'rag' : r.tool_path === 'none' ? 'plain' : 'tool') === path)
        .map((r) => r.latency_ms);
      expect([...(m.get(`Path=${path}`)?.get('Latency') ?? [])].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    }
    expect([...(m.get('')?.get('Latency') ?? [])].sort((a, b) => a - b)).toEqual(requests.map((r) => r.latency_ms).sort((a, b) => a - b));
  });

  it('publishes only dictionary metrics, and only values the policy or the dictionary allow as dimensions', async () => {
    const docs = await emfOf(events);
    const allowed: Record<string, readonly string[]> = Object.fromEntries(
      Object.entries(policy.slices.dimensions)
        .filter(([, v]) => v?.values)
        .map(([k, v]) => [k, [...v!.values!, OTHER]]),
    );
    for (const d of docs) {
      for (const m of (d._aws as any).CloudWatchMetrics[0].Metrics) expect(METRIC_NAMES).toContain(m.Name);
      const extra = dims(d).find((k) => k !== 'service');
      if (!extra) continue;
      const def = (d._aws as any).CloudWatchMetrics[0].Metrics.map((m: any) => findMetric(m.Name));
      if (allowed[extra]) expect(allowed[extra]).toContain(d[extra]);
      else if (extra === 'prompt_version') expect(typeof d[extra]).toBe('string');
      else expect(def.every((x: any) => x?.fixed?.dimension === extra && x.fixed.values.includes(d[extra]))).toBe(true);
    }
    expect(transformConfigFromPolicy(policy).metrics.slices).toEqual(policy.slices.dimensions);
  });
});
