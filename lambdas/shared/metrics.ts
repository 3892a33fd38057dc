/**
 * Ingest-health metrics from a batch's stats, through Powertools Metrics (EMF). One
 * function builds them for both the Lambda (which publishes to stdout) and
 * `llmops transform --emf` (which serializes the same documents to a file).
 *
 * Metrics: RecordsIn, RecordsOk, RecordsDropped, FieldsDropped, AttributesDropped,
 * RecordsQuarantined (dimension Reason), CapturesDropped (dimension Reason), Redactions
 * (dimension Type). Dimension values are closed labels (reasons, detector ids, policy
 * custom-pattern names), never content.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EmfOutput } from '@aws-lambda-powertools/metrics/types';
import type { TransformStats } from '../redact/core';

export interface MetricsOptions {
  /** CloudWatch namespace. Default: POWERTOOLS_METRICS_NAMESPACE, else `LLMOpsTelemetry`. */
  readonly namespace?: string;
  /** `service` dimension. Default: POWERTOOLS_SERVICE_NAME, else the stream kind. */
  readonly serviceName?: string;
  /** Metric timestamp. Default: now. */
  readonly timestamp?: Date;
}

/** One Metrics instance per dimension set, each holding its metrics (not yet published). */
export function buildIngestMetrics(stats: TransformStats, opts: MetricsOptions = {}): Metrics[] {
  const namespace = opts.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LLMOpsTelemetry';
  const serviceName = opts.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'llmops-ingest';
  const make = () => {
    const m = new Metrics({ namespace, serviceName });
    if (opts.timestamp) m.setTimestamp(opts.timestamp);
    return m;
  };
  const all: Metrics[] = [];
  const base = make();
  base.addMetric('RecordsIn', MetricUnit.Count, stats.recordsIn);
  base.addMetric('RecordsOk', MetricUnit.Count, stats.ok);
  base.addMetric('RecordsQuarantined', MetricUnit.Count, sum(stats.quarantined));
  base.addMetric('RecordsDropped', MetricUnit.Count, sum(stats.dropped));
  base.addMetric('FieldsDropped', MetricUnit.Count, stats.fieldsDropped);
  base.addMetric('AttributesDropped', MetricUnit.Count, stats.attributesDropped);
  base.addMetric('Redactions', MetricUnit.Count, sum(stats.redactions));
  all.push(base);
  const dimensioned = (metric: string, dimension: string, counts: Partial<Record<string, number>>) => {
    for (const [label, n] of Object.entries(counts)) {
      if (!n) continue;
      const m = make();
      m.addDimension(dimension, label);
      m.addMetric(metric, MetricUnit.Count, n);
      all.push(m);
    }
  };
  dimensioned('RecordsQuarantined', 'Reason', stats.quarantined);
  dimensioned('CapturesDropped', 'Reason', stats.dropped);
  dimensioned('Redactions', 'Type', stats.redactions);
  return all;
}

/** The EMF documents the Lambda logs for these stats. */
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
