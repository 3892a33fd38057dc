import { P0_CATEGORIES, QUARANTINE_REASONS } from '../contract/schema';
import { PII_DETECTOR_IDS, SECRET_DETECTOR_IDS } from '../redaction/catalog';

/**
 * The metric dictionary (its shape; each metric's definition and decision are in
 * `metric-docs.ts`, kept out of the Lambda bundles that only need the shape): every metric of the five buckets, as data. The policy's alarms
 * name these metrics, the ingest transform and the rollups emit them, the dashboards
 * draw them and `llmops policy explain` prints them. A metric is either emitted (a
 * count, a sum or a distribution) or a ratio of two emitted metrics, computed with
 * CloudWatch metric math so that it aggregates correctly over any period.
 */

export const BUCKETS = ['reliability', 'quality', 'safety', 'cost', 'adoption'] as const;
export type BucketName = (typeof BUCKETS)[number];

/** Where a metric comes from. */
export type MetricSource =
  /** emitted by the redaction Lambda per Firehose batch (EMF) */
  | 'ingest'
  /** published by the scheduled rollup over the day's or week's data */
  | 'rollup';

/** Dimensions a metric is cut by, besides the policy's slices. */
export type FixedDimension = 'Path' | 'Category' | 'Type' | 'Reason';

/**
 * Every metric carries the `service` dimension of the function that publishes it
 * (Powertools' default dimension): it identifies the total, and each fixed or slice
 * dimension is published beside it. Dimensionless EMF documents are avoided.
 */
export const SERVICE_DIMENSION = 'service';
export const SERVICE_OF: Readonly<Record<MetricSource, string>> = { ingest: 'ingest', rollup: 'rollup' };
/** The debug-capture stream publishes its own health metrics under this service. */
export const DEBUG_CAPTURE_SERVICE = 'debug-capture';

interface MetricBase {
  /** CloudWatch metric name (PascalCase), unique across the dictionary. */
  readonly name: string;
  readonly bucket: BucketName;
}

export interface EmittedMetric extends MetricBase {
  readonly kind: 'emitted';
  readonly source: MetricSource;
  readonly unit: 'Count' | 'Milliseconds' | 'None';
  /** Statistic used by default in alarms and graphs. */
  readonly statistic: 'Sum' | 'Average' | 'Maximum' | 'p95';
  /** Whether the metric is also emitted once per policy slice (one dimension set per slice). */
  readonly sliced: boolean;
  /** A dimension the metric always carries, with its closed set of values. */
  readonly fixed?: { readonly dimension: FixedDimension; readonly values: readonly string[] };
  /**
   * Whether the ingest writes the metric's total in every batch, 0 included (the batch's
   * health counts, `buildIngestMetrics`). Every other series has a datapoint only where it
   * counts something: the aggregator skips zero contributions, a fixed-dimension or slice
   * series is written per value seen, and the rollup writes its figures after the period
   * (active users only for days with requests). So a missing datapoint means "no batch
   * arrived" for these totals, and "nothing counted" (or "not computed yet") for the rest.
   * @default false
   */
  readonly everyBatch?: boolean;
}

export interface RatioMetric extends MetricBase {
  readonly kind: 'ratio';
  /** numerator / denominator * 100, in percent (or a plain ratio when `percent` is false). */
  readonly numerator: string;
  readonly denominator: string;
  readonly percent: boolean;
}

export type MetricDefinition = EmittedMetric | RatioMetric;

const e = (m: Omit<EmittedMetric, 'kind'>): EmittedMetric => ({ kind: 'emitted', ...m });
const r = (m: Omit<RatioMetric, 'kind'>): RatioMetric => ({ kind: 'ratio', ...m });

/**
 * Guardrail categories with their own `GuardrailBlocks` series. `guardrail_category` is an
 * open label in the contract; any other value is counted as `other`, so the set of series
 * stays closed.
 */
export const GUARDRAIL_CATEGORIES = ['injection', 'exfiltration', 'disallowed_content'] as const;
export const OTHER_GUARDRAIL_CATEGORY = 'other';
const PATHS = ['rag', 'tool', 'plain'] as const;

/**
 * The intents whose answers must cite a source when the policy names none
 * (`buckets.quality.citation_required_intents`): PolicyAnswers and PolicyAnswersCited count them.
 */
export const DEFAULT_CITATION_REQUIRED_INTENTS = ['policy_qna'] as const;

export const METRICS: readonly MetricDefinition[] = [
  // reliability
  e({ name: 'Requests', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'Errors', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'ErrorRate', bucket: 'reliability', numerator: 'Errors', denominator: 'Requests', percent: true }),
  e({ name: 'ProviderTimeouts', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'ProviderTimeoutRate', bucket: 'reliability', numerator: 'ProviderTimeouts', denominator: 'Requests', percent: true }),
  e({
    name: 'Latency',
    bucket: 'reliability',
    source: 'ingest',
    unit: 'Milliseconds',
    statistic: 'p95',
    sliced: true,
    fixed: { dimension: 'Path', values: PATHS },
  }),
  e({ name: 'RequestsWithRetries', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false }),
  r({ name: 'RetryRate', bucket: 'reliability', numerator: 'RequestsWithRetries', denominator: 'Requests', percent: true }),
  e({ name: 'Fallbacks', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false }),
  r({ name: 'FallbackRate', bucket: 'reliability', numerator: 'Fallbacks', denominator: 'Requests', percent: true }),

  // quality
  e({ name: 'Ratings', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'NegativeRatings', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'NegativeRatingRate', bucket: 'quality', numerator: 'NegativeRatings', denominator: 'Ratings', percent: true }),
  e({ name: 'Feedback', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'FollowUps', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'FollowUpRate', bucket: 'quality', numerator: 'FollowUps', denominator: 'Feedback', percent: true }),
  e({ name: 'Escalations', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'EscalationRate', bucket: 'quality', numerator: 'Escalations', denominator: 'Requests', percent: true }),
  e({ name: 'ToolTasks', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'ToolTaskSuccesses', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'ToolTaskSuccessRate', bucket: 'quality', numerator: 'ToolTaskSuccesses', denominator: 'ToolTasks', percent: true }),
  e({ name: 'PolicyAnswers', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false }),
  e({ name: 'PolicyAnswersCited', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false }),
  r({ name: 'CitationPresence', bucket: 'quality', numerator: 'PolicyAnswersCited', denominator: 'PolicyAnswers', percent: true }),
  e({ name: 'Refusals', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'RefusalRate', bucket: 'quality', numerator: 'Refusals', denominator: 'Requests', percent: true }),

  // safety
  e({
    name: 'P0Events',
    bucket: 'safety',
    source: 'ingest',
    unit: 'Count',
    statistic: 'Sum',
    sliced: false,
    fixed: { dimension: 'Category', values: P0_CATEGORIES },
  }),
  e({ name: 'AccessViolations', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'AccessDenials', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'PiiDetections', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({
    name: 'GuardrailBlocks',
    bucket: 'safety',
    source: 'ingest',
    unit: 'Count',
    statistic: 'Sum',
    sliced: false,
    fixed: { dimension: 'Category', values: [...GUARDRAIL_CATEGORIES, OTHER_GUARDRAIL_CATEGORY] },
  }),
  e({
    name: 'Redactions',
    bucket: 'safety',
    source: 'ingest',
    unit: 'Count',
    statistic: 'Sum',
    sliced: false,
    fixed: { dimension: 'Type', values: [...PII_DETECTOR_IDS, ...SECRET_DETECTOR_IDS, 'custom'] },
    everyBatch: true,
  }),
  e({
    name: 'RecordsQuarantined',
    bucket: 'safety',
    source: 'ingest',
    unit: 'Count',
    statistic: 'Sum',
    sliced: false,
    fixed: { dimension: 'Reason', values: QUARANTINE_REASONS },
    everyBatch: true,
  }),
  e({ name: 'FieldsDropped', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false, everyBatch: true }),
  e({ name: 'AttributesDropped', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false, everyBatch: true }),
  e({ name: 'RecordsIn', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false, everyBatch: true }),
  e({ name: 'RecordsOk', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false, everyBatch: true }),
  e({ name: 'RecordsValid', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false, everyBatch: true }),
  e({
    name: 'RecordsSampledOut',
    bucket: 'reliability',
    source: 'ingest',
    unit: 'Count',
    statistic: 'Sum',
    sliced: false,
    everyBatch: true,
  }),
  r({ name: 'SampledKeptRate', bucket: 'reliability', numerator: 'RecordsOk', denominator: 'RecordsValid', percent: true }),
  e({
    name: 'OutcomeSignalsDropped',
    bucket: 'safety',
    source: 'ingest',
    unit: 'Count',
    statistic: 'Sum',
    sliced: false,
    everyBatch: true,
  }),

  // cost
  e({ name: 'InputTokens', bucket: 'cost', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'OutputTokens', bucket: 'cost', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'CostUsd', bucket: 'cost', source: 'ingest', unit: 'None', statistic: 'Sum', sliced: true }),
  r({ name: 'CostPerRequest', bucket: 'cost', numerator: 'CostUsd', denominator: 'Requests', percent: false }),
  e({ name: 'SuccessfulTasks', bucket: 'cost', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'CostPerSuccessfulTask', bucket: 'cost', numerator: 'CostUsd', denominator: 'SuccessfulTasks', percent: false }),
  e({ name: 'CacheHits', bucket: 'cost', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false }),
  r({ name: 'CacheHitRate', bucket: 'cost', numerator: 'CacheHits', denominator: 'Requests', percent: true }),
  e({ name: 'DailyCostUsd', bucket: 'cost', source: 'rollup', unit: 'None', statistic: 'Maximum', sliced: true }),

  // adoption
  e({ name: 'ActiveUsersDaily', bucket: 'adoption', source: 'rollup', unit: 'Count', statistic: 'Maximum', sliced: true }),
  e({ name: 'ActiveUsersWeekly', bucket: 'adoption', source: 'rollup', unit: 'Count', statistic: 'Maximum', sliced: true }),
  e({ name: 'RepeatUsers', bucket: 'adoption', source: 'rollup', unit: 'Count', statistic: 'Maximum', sliced: false }),
  e({ name: 'Completions', bucket: 'adoption', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  e({ name: 'Abandonments', bucket: 'adoption', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true }),
  r({ name: 'AbandonmentRate', bucket: 'adoption', numerator: 'Abandonments', denominator: 'Requests', percent: true }),
  e({ name: 'NewIntents', bucket: 'adoption', source: 'rollup', unit: 'Count', statistic: 'Maximum', sliced: false }),
];

const BY_NAME = new Map(METRICS.map((m) => [m.name, m]));

/** The metric with this name, or undefined. */
export function findMetric(name: string): MetricDefinition | undefined {
  return BY_NAME.get(name);
}

export const METRIC_NAMES: readonly string[] = METRICS.map((m) => m.name);

/** The totals the ingest writes in every batch, 0 included: the only series whose missing datapoint means "no batch arrived". */
export const EVERY_BATCH_METRICS: readonly string[] = METRICS.filter((m) => m.kind === 'emitted' && m.everyBatch).map((m) => m.name);

/** The values of a metric's fixed dimension (e.g. P0Events' categories); throws for a metric without one. */
export function fixedValuesOf(name: string): readonly string[] {
  const m = findMetric(name);
  if (m?.kind !== 'emitted' || !m.fixed) throw new Error(`${name} is not an emitted metric with a fixed dimension`);
  return m.fixed.values;
}

/** The metrics of one bucket, in dictionary order. */
export function metricsOf(bucket: BucketName): MetricDefinition[] {
  return METRICS.filter((m) => m.bucket === bucket);
}

/** The CloudWatch namespace of a stack's metrics: `LLMOps/<name>-<environment>`. */
export function metricsNamespace(policy: { readonly name: string; readonly environment: string }): string {
  return `LLMOps/${policy.name}-${policy.environment}`;
}
