/**
 * The EMF documents of one batch, through Powertools Metrics. One function builds them
 * for both the Lambda (which publishes to stdout) and `llmops transform --emf` (which
 * serializes the same documents to a file).
 *
 * - Ingest health: RecordsIn, RecordsOk, FieldsDropped, AttributesDropped,
 *   RecordsQuarantined (and by Reason), Redactions (and by Type: the detector id, custom
 *   patterns together as `custom`); the events stream adds RecordsValid, RecordsSampledOut
 *   and OutcomeSignalsDropped; the debug stream adds CapturesDropped (and by Reason).
 * - Bucket metrics (events stream only): the groups of `aggregateBatch`, one document per
 *   dimension set.
 *
 * Every document carries the `service` dimension, the transforming Lambda's service name
 * (lib/core/env/services.ts): `ingest` for the events stream, `debug-capture` for the debug stream. Dimension values are closed labels, never content.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EmfOutput } from '@aws-lambda-powertools/metrics/types';
import { SERVICE_NAMES, type LambdaName } from '../env/services';
import { EMITTED_UNITS, type MetricGroup } from './aggregate';
import { PII_DETECTOR_IDS, SECRET_DETECTOR_IDS } from '../redaction/catalog';
import type { StreamKind, TransformStats } from './transform';

export interface MetricsOptions {
  /** Which stream's transform publishes: decides the `service` dimension. Default `events`. */
  readonly kind?: StreamKind;
  /** CloudWatch namespace (the Lambda passes its POWERTOOLS_METRICS_NAMESPACE). Default `LLMOpsTelemetry`. */
  readonly namespace?: string;
  /** Metric timestamp. Default: now. */
  readonly timestamp?: Date;
  /** The bucket metrics of the batch (events stream). */
  readonly groups?: readonly MetricGroup[];
}

/** The namespace when none is given (`llmops transform --emf` without a policy's namespace). */
export const DEFAULT_NAMESPACE = 'LLMOpsTelemetry';

const UNIT: Record<string, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  None: MetricUnit.NoUnit,
};

/** The Lambda that transforms each stream. */
export const TRANSFORM_LAMBDA: Readonly<Record<StreamKind, LambdaName>> = { events: 'redact', captures: 'debug-capture' };

/** The service dimension of a stream's metrics: the service name of the Lambda that transforms it. */
export const serviceOf = (kind: StreamKind): string => SERVICE_NAMES[TRANSFORM_LAMBDA[kind]];

/**
 * Values of one metric per EMF document: Powertools publishes a document by itself when a
 * metric reaches MAX_METRIC_VALUES_SIZE (100) values (Metrics.addMetric), so 99 stay ours.
 */
const MAX_VALUES = 99;

const DETECTOR_IDS: ReadonlySet<string> = new Set([...PII_DETECTOR_IDS, ...SECRET_DETECTOR_IDS]);

/** Detector ids are their own Type; custom pattern names fold into `custom` (a closed set of series). */
function redactionType(label: string): string {
  return DETECTOR_IDS.has(label) ? label : 'custom';
}

/** One Metrics instance per dimension set, each holding its metrics (not yet published). */
export function buildIngestMetrics(stats: TransformStats, opts: MetricsOptions = {}): Metrics[] {
  const kind = opts.kind ?? 'events';
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const make = (dimensions: Record<string, string> = {}) => {
    const m = new Metrics({ namespace, serviceName: serviceOf(kind) });
    if (opts.timestamp) m.setTimestamp(opts.timestamp);
    for (const [k, v] of Object.entries(dimensions)) m.addDimension(k, v);
    return m;
  };
  const all: Metrics[] = [];
  const base = make();
  base.addMetric('RecordsIn', MetricUnit.Count, stats.recordsIn);
  base.addMetric('RecordsOk', MetricUnit.Count, stats.ok);
  base.addMetric('RecordsQuarantined', MetricUnit.Count, sum(stats.quarantined));
  if (kind === 'captures') base.addMetric('CapturesDropped', MetricUnit.Count, sum(stats.dropped));
  base.addMetric('FieldsDropped', MetricUnit.Count, stats.fieldsDropped);
  base.addMetric('AttributesDropped', MetricUnit.Count, stats.attributesDropped);
  base.addMetric('Redactions', MetricUnit.Count, sum(stats.redactions));
  if (kind === 'events') {
    // Every valid record is stored (RecordsOk) or sampled out: RecordsIn = RecordsValid + RecordsQuarantined.
    const sampledOut = stats.sampledOut ?? 0;
    base.addMetric('RecordsValid', MetricUnit.Count, stats.ok + sampledOut);
    base.addMetric('RecordsSampledOut', MetricUnit.Count, sampledOut);
    base.addMetric('OutcomeSignalsDropped', MetricUnit.Count, stats.signalsDropped ?? 0);
  }
  all.push(base);
  const dimensioned = (
    metric: string,
    dimension: string,
    counts: Partial<Record<string, number>>,
    fold: (label: string) => string = (l) => l,
  ) => {
    const folded = new Map<string, number>();
    for (const [label, n] of Object.entries(counts)) if (n) folded.set(fold(label), (folded.get(fold(label)) ?? 0) + n);
    for (const [label, n] of folded) {
      const m = make({ [dimension]: label });
      m.addMetric(metric, MetricUnit.Count, n);
      all.push(m);
    }
  };
  dimensioned('RecordsQuarantined', 'Reason', stats.quarantined);
  if (kind === 'captures') dimensioned('CapturesDropped', 'Reason', stats.dropped);
  dimensioned('Redactions', 'Type', stats.redactions, redactionType);

  for (const g of opts.groups ?? []) {
    // A document holds at most MAX_VALUES values of a metric: Powertools would flush a
    // fuller one to stdout by itself, which loses it from `serializeMetrics` (the CLI's file).
    const chunks: Metrics[] = [];
    for (const [name, values] of g.values) {
      const unit = UNIT[EMITTED_UNITS.get(name) ?? 'Count'] ?? MetricUnit.Count;
      values.forEach((v, i) => {
        const k = Math.floor(i / MAX_VALUES);
        chunks[k] ??= make({ ...g.dimensions });
        chunks[k].addMetric(name, unit, v);
      });
    }
    all.push(...chunks);
  }
  return all;
}

/** The EMF documents the Lambda logs for this batch. */
export function ingestEmfDocuments(stats: TransformStats, opts: MetricsOptions = {}): EmfOutput[] {
  return buildIngestMetrics(stats, opts).map((m) => m.serializeMetrics());
}

/** Publishes the metrics (EMF lines on stdout, where Lambda ships them to CloudWatch). */
export function publishIngestMetrics(stats: TransformStats, opts: MetricsOptions = {}): void {
  for (const m of buildIngestMetrics(stats, opts)) m.publishStoredMetrics();
}

function sum(counts: Partial<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v ?? 0;
  return n;
}
