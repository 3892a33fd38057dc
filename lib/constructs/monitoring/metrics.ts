/**
 * CloudWatch metric objects for the metric dictionary. Alarms and dashboards are built
 * from these, never from hand-typed metric names: a ratio becomes metric math over its
 * two emitted metrics, so it aggregates correctly over any period.
 */
import { Duration, aws_cloudwatch as cw } from 'aws-cdk-lib';
import { findMetric, SERVICE_DIMENSION, SERVICE_OF, type EmittedMetric, type MetricDefinition } from '../../core/metrics/dictionary';

export interface MetricOptions {
  /** One dimension to restrict to, e.g. `{ Category: 'access_violation' }` or `{ intent: 'policy_qna' }`. */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** @default - the metric's own statistic (ratios: Sum of both sides) */
  readonly statistic?: string;
  /** @default 5 minutes */
  readonly period?: Duration;
  /** Graph label. @default - the metric name */
  readonly label?: string;
}

export class TelemetryMetrics {
  constructor(
    /** The namespace the ingest transform and the rollups publish to. */
    readonly namespace: string,
  ) {}

  /** The metric of the dictionary with this name (emitted, or a ratio as metric math). */
  metric(name: string, opts: MetricOptions = {}): cw.IMetric {
    const def = findMetric(name);
    if (!def) throw new Error(`no metric named ${JSON.stringify(name)} in the metric dictionary`);
    return this.of(def, opts);
  }

  /** P0 events, optionally of one category. Any P0 event pages. */
  metricP0Events(opts: MetricOptions = {}): cw.IMetric {
    return this.metric('P0Events', opts);
  }

  of(def: MetricDefinition, opts: MetricOptions = {}): cw.IMetric {
    const period = opts.period ?? Duration.minutes(5);
    if (def.kind === 'emitted') return this.emitted(def, opts, period);
    const n = this.emitted(emittedDef(def.numerator), { ...opts, statistic: 'Sum' }, period);
    const d = this.emitted(emittedDef(def.denominator), { ...opts, statistic: 'Sum' }, period);
    // Ids are unique per metric and dimensions, so several ratios can share one graph.
    const suffix = Object.entries(opts.dimensions ?? {})
      .map(([k, v]) => `_${k}_${v}`)
      .join('')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_');
    const nid = `${def.numerator.toLowerCase()}${suffix}`;
    const did = `${def.denominator.toLowerCase()}${suffix}`;
    // No datapoint when the denominator is zero: an idle period is not a 0% or 100% rate.
    const scale = def.percent ? '100 * ' : '';
    return new cw.MathExpression({
      expression: `IF(${did} > 0, ${scale}${nid} / ${did})`,
      usingMetrics: { [nid]: n, [did]: d },
      period,
      label: opts.label ?? def.name,
    });
  }

  private emitted(def: EmittedMetric, opts: MetricOptions, period: Duration): cw.Metric {
    return new cw.Metric({
      namespace: this.namespace,
      metricName: def.name,
      dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_OF[def.source], ...opts.dimensions },
      statistic: opts.statistic ?? def.statistic,
      period,
      unit: undefined,
      label: opts.label,
    });
  }
}

function emittedDef(name: string): EmittedMetric {
  const def = findMetric(name);
  if (def?.kind !== 'emitted') throw new Error(`ratio part ${name} is not an emitted metric`);
  return def;
}
