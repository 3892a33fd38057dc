/**
 * The metric dictionary against its emitters: every declared metric is published by the
 * emitter its `source` names (the ingest transform's EMF documents, the rollup's
 * PutMetricData datapoints), with that emitter's `service` dimension (the dimension the
 * alarms and dashboards select), or it is a ratio computed with metric math from two
 * such metrics. And every metric the emitters publish is declared, but for their own
 * health metrics. Pure: the emitters' core functions on sample data, no aws-cdk-lib.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  DEBUG_CAPTURE_SERVICE,
  EVERY_BATCH_METRICS,
  METRICS,
  SERVICE_DIMENSION,
  SERVICE_OF,
  type EmittedMetric,
  type MetricDefinition,
} from '../lib/core/metrics/dictionary';
import { aggregateBatch, SliceAdmission } from '../lib/core/transform/aggregate';
import { ingestEmfDocuments, publishIngestMetrics, serviceOf } from '../lib/core/transform/emf';
import { emptyStats, type TransformStats } from '../lib/core/transform/transform';
import { parseTelemetryEvent, QUARANTINE_REASONS, type FeedbackEvent, type RequestEvent, type TelemetryEvent } from '../lib/core/contract';
import { datumsFor } from '../lib/core/rollup/metrics';
import { planRollup, ROLLUP_SCHEDULES } from '../lib/core/rollup/plan';
import { toMetricDatum } from '../lib/core/rollup/publish';
import { ROLLUP_FAILURES_METRIC } from '../lib/core/rollup/names';
import { buildSampleEvents } from './support/sample-events';
import { variantPolicy } from './support/policy';

const policy = variantPolicy(() => {});

/** Emitted metric name -> the services that publish it. */
type Published = Map<string, Set<string>>;

function add(out: Published, name: string, service: unknown): void {
  const s = out.get(name) ?? new Set<string>();
  s.add(String(service));
  out.set(name, s);
}

/**
 * What the ingest transforms publish (the Lambdas' path: EMF lines on stdout) for a batch
 * of `events` on the events stream, and for a batch on the debug stream. Powertools
 * flushes a document early when a metric reaches 100 values, so stdout is where all of
 * them are.
 */
function ingestPublished(events: readonly TelemetryEvent[]): Published {
  const lines: string[] = [];
  const capture = (chunk: unknown) => (
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')),
    true
  );
  vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
  try {
    const groups = aggregateBatch(events, { policy, admission: new SliceAdmission(policy.slices.dimensions) });
    publishIngestMetrics(emptyStats(), { kind: 'events', groups });
    publishIngestMetrics(emptyStats(), { kind: 'captures' });
  } finally {
    vi.restoreAllMocks();
  }
  const out: Published = new Map();
  const docs = lines
    .join('\n')
    .split('\n')
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const d of docs) {
    const directives = (d._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics;
    for (const directive of directives) {
      // A dimension set without `service` would be a series no alarm selects.
      const service = directive.Dimensions.every((set) => set.includes(SERVICE_DIMENSION)) ? d[SERVICE_DIMENSION] : '(none)';
      for (const m of directive.Metrics) add(out, m.Name, service);
    }
  }
  return out;
}

/** What the rollup publishes for every query of both schedules, each answered with one row carrying every column the mappings read. */
function rollupPublished(): Published {
  const out: Published = new Map();
  for (const schedule of ROLLUP_SCHEDULES) {
    for (const q of planRollup(schedule, new Date('2026-11-29T12:30:00Z')).queries) {
      const rows = Object.keys(q.stamps).map((day) => ({
        activity_date: day,
        tenant_id: '(all)',
        intent: 'policy_qna',
        daily_active_users: 3,
        weekly_active_users: 5,
        cost_usd: 1.5,
        repeat_users: 2,
      }));
      for (const d of datumsFor(q, rows, policy.slices.dimensions).map(toMetricDatum)) {
        add(out, d.MetricName, d.Dimensions.find((x) => x.Name === SERVICE_DIMENSION)?.Value);
      }
    }
  }
  return out;
}

/**
 * The decision-query sample, plus requests and a feedback with the flags it leaves at
 * zero (the aggregator omits zero contributions): retries, fallback, cache hit, PII,
 * access denials, an escalated outcome, a follow-up.
 */
function sampleEvents(): TelemetryEvent[] {
  const sample = buildSampleEvents().events;
  const request = sample.find((e): e is RequestEvent => e.event_type === 'request')!;
  const feedback = sample.find((e): e is FeedbackEvent => e.event_type === 'feedback')!;
  return [
    ...sample,
    { ...request, event_id: 'evt-flags', provider_retries: 2, fallback_used: true, cache_hit: true, pii_detected: true, access_denials: 1 },
    // Escalations count request outcomes (the sample's escalation is a feedback record)
    { ...request, event_id: 'evt-escalated', outcome: 'escalated' },
    { ...feedback, event_id: 'evt-fb-flags', follow_up_within_5m: true },
  ];
}

const events = sampleEvents();
const ingest = ingestPublished(events);
const rollup = rollupPublished();
const publishers = (name: string) => [...(ingest.get(name) ?? []), ...(rollup.get(name) ?? [])].sort();
/** The `service` dimension the alarms and dashboards select a metric by (TelemetryMetrics: SERVICE_OF[source]). */
const serviceFor = (m: EmittedMetric) => SERVICE_OF[m.source];

describe('the metric dictionary against its emitters', () => {
  const emitted = METRICS.filter((m): m is EmittedMetric => m.kind === 'emitted');
  const ratios = METRICS.filter((m): m is Extract<MetricDefinition, { kind: 'ratio' }> => m.kind === 'ratio');

  it('the sample data is valid telemetry, and the emitters publish under their service names', () => {
    expect(events.filter((e) => !parseTelemetryEvent(e).ok)).toEqual([]);
    expect([...new Set([...ingest.values()].flatMap((s) => [...s]))].sort()).toEqual([DEBUG_CAPTURE_SERVICE, serviceOf('events')].sort());
    expect([...new Set([...rollup.values()].flatMap((s) => [...s]))]).toEqual([SERVICE_OF.rollup]);
    expect(serviceOf('events')).toBe(SERVICE_OF.ingest);
    expect(serviceOf('captures')).toBe(DEBUG_CAPTURE_SERVICE);
  });

  it.each(emitted.map((m) => [m.name, m] as const))('%s is published by its source, with its service dimension', (_name, m) => {
    expect(publishers(m.name)).toContain(serviceFor(m));
  });

  it.each(ratios.map((m) => [m.name, m] as const))('%s is computed from two published metrics', (_name, m) => {
    for (const part of [m.numerator, m.denominator]) {
      const def = METRICS.find((x) => x.name === part);
      expect(def?.kind, `${m.name}: ${part}`).toBe('emitted');
      expect(publishers(part), `${m.name}: ${part}`).toContain(serviceFor(def as EmittedMetric));
    }
  });

  it('every metric the emitters publish is declared, but for the pipelines own health metrics', () => {
    const declared = new Set(METRICS.map((m) => m.name));
    const undeclared = [...new Set([...ingest.keys(), ...rollup.keys()])].filter((n) => !declared.has(n)).sort();
    // CapturesDropped: the debug-capture stream's health; RollupFailures (published by the runner, not by datumsFor) is the rollup's.
    expect(undeclared).toEqual(['CapturesDropped']);
    expect(declared.has(ROLLUP_FAILURES_METRIC)).toBe(false);
  });
});

/**
 * What a missing datapoint means, which the policy check relies on to refuse
 * `missing_data: breaching` (lib/core/policy/rules.ts): the metrics marked `everyBatch`
 * are exactly the totals a batch writes even when it counts nothing; every other series
 * is written only when it counts something, so its missing datapoint means zero.
 */
describe('which metrics a batch writes as an explicit 0', () => {
  /** Metric name to the values written in one dimension set of the events stream's documents. */
  function written(stats: TransformStats, batch: readonly TelemetryEvent[]): { dims: string[]; name: string; values: number[] }[] {
    const groups = aggregateBatch(batch, { policy, admission: new SliceAdmission(policy.slices.dimensions) });
    return ingestEmfDocuments(stats, { kind: 'events', groups }).flatMap((d) => {
      const doc = d as unknown as Record<string, unknown> & {
        _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      };
      const [directive] = doc._aws.CloudWatchMetrics;
      const dims = (directive?.Dimensions[0] ?? []).filter((k) => k !== SERVICE_DIMENSION).map((k) => `${k}=${String(doc[k])}`);
      return (directive?.Metrics ?? []).map((m) => ({ dims, name: m.Name, values: [doc[m.Name]].flat() as number[] }));
    });
  }

  it('an empty batch writes exactly the everyBatch totals, each as 0', () => {
    const out = written(emptyStats(), []);
    expect(out.map((w) => w.name).sort()).toEqual([...EVERY_BATCH_METRICS].sort());
    expect(out.every((w) => w.dims.length === 0 && w.values.every((v) => v === 0))).toBe(true);
  });

  it('any batch writes the everyBatch totals, and no other series as 0 (fast-check)', () => {
    const counts = fc.integer({ min: 0, max: 3 });
    fc.assert(
      fc.property(
        fc.subarray(events),
        fc.record({ recordsIn: counts, ok: counts, fieldsDropped: counts, attributesDropped: counts }),
        fc.dictionary(fc.constantFrom(...QUARANTINE_REASONS), counts),
        fc.dictionary(fc.constantFrom('email', 'aws_access_key', 'employee_number'), counts),
        (batch, totals, quarantined, redactions) => {
          const out = written({ ...emptyStats(), ...totals, quarantined, redactions }, batch);
          const totalsWritten = out.filter((w) => w.dims.length === 0).map((w) => w.name);
          expect(totalsWritten).toEqual(expect.arrayContaining([...EVERY_BATCH_METRICS]));
          for (const w of out) {
            if (w.dims.length === 0 && EVERY_BATCH_METRICS.includes(w.name)) continue;
            if (w.name === 'Latency') continue; // observations of requests, written only for a batch with requests
            expect(
              w.values.some((v) => v !== 0),
              `${w.name} {${w.dims.join(', ')}} written as 0`,
            ).toBe(true);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rollup metrics are never everyBatch: the rollup writes them on its schedule, not per batch', () => {
    expect(METRICS.filter((m) => m.kind === 'emitted' && m.source === 'rollup' && m.everyBatch)).toEqual([]);
  });
});
