import { QUARANTINE_REASONS } from '../lib/contract/schema';
import { PII_DETECTOR_IDS, SECRET_DETECTOR_IDS } from '../lib/redaction/catalog';

/**
 * The metric dictionary: every metric of the five buckets, as data. The policy's alarms
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
  /** What is counted or measured, precisely enough to recompute it from the records. */
  readonly definition: string;
  /** The decision this metric supports. */
  readonly decision: string;
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

const P0_CATEGORIES = ['access_violation', 'pii_leak', 'unauthorized_tool_action', 'false_confirmation'] as const;
const PATHS = ['rag', 'tool', 'plain'] as const;

export const METRICS: readonly MetricDefinition[] = [
  // reliability
  e({ name: 'Requests', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'request records ingested', decision: 'the denominator of every rate; traffic to judge a canary' }),
  e({ name: 'Errors', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "requests with status 'error' or 'timeout'", decision: 'roll back the change that raised it' }),
  r({ name: 'ErrorRate', bucket: 'reliability', numerator: 'Errors', denominator: 'Requests', percent: true,
    definition: 'Errors / Requests, in percent', decision: 'roll back or fail over when it rises after a change' }),
  e({ name: 'ProviderTimeouts', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "requests with status 'timeout' or error_code 'provider_timeout'", decision: 'fail over to the fallback model or provider' }),
  r({ name: 'ProviderTimeoutRate', bucket: 'reliability', numerator: 'ProviderTimeouts', denominator: 'Requests', percent: true,
    definition: 'ProviderTimeouts / Requests, in percent', decision: 'page: the model provider is failing users now' }),
  e({ name: 'Latency', bucket: 'reliability', source: 'ingest', unit: 'Milliseconds', statistic: 'p95', sliced: true,
    fixed: { dimension: 'Path', values: PATHS },
    definition: 'end-to-end latency_ms of requests, by path: rag (retrieval used), tool (tool_path read/write), plain',
    decision: 'p50/p95/p99 by path show which stage to tune or roll back' }),
  e({ name: 'RequestsWithRetries', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: 'requests with provider_retries > 0', decision: 'capacity or quota problems at the provider' }),
  r({ name: 'RetryRate', bucket: 'reliability', numerator: 'RequestsWithRetries', denominator: 'Requests', percent: true,
    definition: 'RequestsWithRetries / Requests, in percent', decision: 'raise quotas or shed load before timeouts follow' }),
  e({ name: 'Fallbacks', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: 'requests with fallback_used', decision: 'how much traffic runs on the degraded path' }),
  r({ name: 'FallbackRate', bucket: 'reliability', numerator: 'Fallbacks', denominator: 'Requests', percent: true,
    definition: 'Fallbacks / Requests, in percent', decision: 'restore the primary path; check fallback quality' }),

  // quality
  e({ name: 'Ratings', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'feedback records with a user_rating', decision: 'whether the rating signal is strong enough to judge' }),
  e({ name: 'NegativeRatings', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'feedback with user_rating -1 (thumbs) or 1..2 (five-star)', decision: 'export the rated requests as regression cases' }),
  r({ name: 'NegativeRatingRate', bucket: 'quality', numerator: 'NegativeRatings', denominator: 'Ratings', percent: true,
    definition: 'NegativeRatings / Ratings, in percent', decision: 'ticket: answers got worse for a slice' }),
  e({ name: 'Feedback', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'feedback records', decision: 'the denominator of follow-up and escalation rates' }),
  e({ name: 'FollowUps', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'feedback with follow_up_within_5m', decision: 'the user had to ask again: the answer did not resolve it' }),
  r({ name: 'FollowUpRate', bucket: 'quality', numerator: 'FollowUps', denominator: 'Feedback', percent: true,
    definition: 'FollowUps / Feedback, in percent', decision: 'revise prompts or retrieval for the slice' }),
  e({ name: 'Escalations', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'feedback with escalated_to_human, plus requests with outcome escalated', decision: 'staffing and where the assistant falls short' }),
  r({ name: 'EscalationRate', bucket: 'quality', numerator: 'Escalations', denominator: 'Requests', percent: true,
    definition: 'Escalations / Requests, in percent', decision: 'ticket when a slice escalates more than usual' }),
  e({ name: 'ToolTasks', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "requests with tool_path 'write'", decision: 'the denominator of tool task success' }),
  e({ name: 'ToolTaskSuccesses', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "write-tool requests with outcome 'success', no tool errors and no false confirmation", decision: 'whether tool flows complete' }),
  r({ name: 'ToolTaskSuccessRate', bucket: 'quality', numerator: 'ToolTaskSuccesses', denominator: 'ToolTasks', percent: true,
    definition: 'ToolTaskSuccesses / ToolTasks, in percent', decision: 'disable a failing tool; fix the tool schema' }),
  e({ name: 'PolicyAnswers', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: "requests with intent 'policy_qna' and status 'ok'", decision: 'the denominator of citation presence' }),
  e({ name: 'PolicyAnswersCited', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: "requests with intent 'policy_qna', status 'ok' and citations_present", decision: 'grounded policy answers' }),
  r({ name: 'CitationPresence', bucket: 'quality', numerator: 'PolicyAnswersCited', denominator: 'PolicyAnswers', percent: true,
    definition: 'PolicyAnswersCited / PolicyAnswers, in percent', decision: 'ticket: policy answers without sources are a liability' }),
  e({ name: 'Refusals', bucket: 'quality', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "requests with guardrail_action 'block'", decision: 'over-blocking: users refused legitimate help' }),
  r({ name: 'RefusalRate', bucket: 'quality', numerator: 'Refusals', denominator: 'Requests', percent: true,
    definition: 'Refusals / Requests, in percent', decision: 'ticket: tune the guardrail for the slice that rose' }),

  // safety
  e({ name: 'P0Events', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    fixed: { dimension: 'Category', values: P0_CATEGORIES },
    definition: 'requests carrying a p0_category, by category', decision: 'page: contain with a kill switch, then investigate' }),
  e({ name: 'AccessViolations', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "requests with p0_category 'access_violation'", decision: 'page: disable the connector that leaked' }),
  e({ name: 'AccessDenials', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'sum of access_denials on requests (expected: permissions working)', decision: 'a sudden drop means permission checks stopped' }),
  e({ name: 'PiiDetections', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'requests with pii_detected', decision: 'leakage risk by slice; tighten output checks' }),
  e({ name: 'GuardrailBlocks', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    fixed: { dimension: 'Category', values: ['injection', 'exfiltration', 'disallowed_content', 'other'] },
    definition: "requests with guardrail_action 'block', by guardrail_category", decision: 'attack trends; guardrail tuning' }),
  e({ name: 'Redactions', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    fixed: { dimension: 'Type', values: [...PII_DETECTOR_IDS, ...SECRET_DETECTOR_IDS, 'custom'] },
    definition: 'values replaced by the ingest redactor, by detector (custom patterns together)', decision: 'applications sending text they should not' }),
  e({ name: 'RecordsQuarantined', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    fixed: { dimension: 'Reason', values: QUARANTINE_REASONS },
    definition: 'records rejected at ingest (invalid, unparseable, oversized), kept as redacted stubs, by reason', decision: 'a producer is broken; fix before evidence is lost' }),
  e({ name: 'FieldsDropped', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: 'fields outside the event contract dropped at ingest', decision: 'a producer sends more than the contract allows (minimization)' }),
  e({ name: 'AttributesDropped', bucket: 'safety', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: 'attribute keys not declared in the policy, dropped at ingest', decision: 'declare the key in the policy, or stop sending it' }),
  e({ name: 'RecordsIn', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: 'records the ingest transform received', decision: 'pipeline throughput; silence means producers stopped' }),
  e({ name: 'RecordsOk', bucket: 'reliability', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: 'records that passed validation and were written to events/', decision: 'with RecordsIn and RecordsQuarantined: every record accounted for' }),

  // cost
  e({ name: 'InputTokens', bucket: 'cost', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'sum of input_tokens on requests', decision: 'prompt size and retrieval volume' }),
  e({ name: 'OutputTokens', bucket: 'cost', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: 'sum of output_tokens on requests', decision: 'answer length; output caps' }),
  e({ name: 'CostUsd', bucket: 'cost', source: 'ingest', unit: 'None', statistic: 'Sum', sliced: true,
    definition: "sum of cost_usd, or estimated from the policy's price table when absent (an estimate)", decision: 'spend by slice' }),
  r({ name: 'CostPerRequest', bucket: 'cost', numerator: 'CostUsd', denominator: 'Requests', percent: false,
    definition: 'CostUsd / Requests, in USD', decision: 'unit economics of a change' }),
  e({ name: 'SuccessfulTasks', bucket: 'cost', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "requests with outcome 'success'", decision: 'the denominator of cost per successful task' }),
  r({ name: 'CostPerSuccessfulTask', bucket: 'cost', numerator: 'CostUsd', denominator: 'SuccessfulTasks', percent: false,
    definition: 'CostUsd / SuccessfulTasks, in USD', decision: 'ticket when over budget: cheaper model, caching, shorter prompts' }),
  e({ name: 'CacheHits', bucket: 'cost', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: false,
    definition: 'requests with cache_hit', decision: 'whether caching pays' }),
  r({ name: 'CacheHitRate', bucket: 'cost', numerator: 'CacheHits', denominator: 'Requests', percent: true,
    definition: 'CacheHits / Requests, in percent', decision: 'tune the cache' }),
  e({ name: 'DailyCostUsd', bucket: 'cost', source: 'rollup', unit: 'None', statistic: 'Maximum', sliced: true,
    definition: 'cost of the UTC day so far, recomputed hourly from the traces tier', decision: 'budget tracking' }),

  // adoption
  e({ name: 'ActiveUsersDaily', bucket: 'adoption', source: 'rollup', unit: 'Count', statistic: 'Maximum', sliced: true,
    definition: 'distinct pseudonymized user_id with a request in the UTC day', decision: 'is the assistant used' }),
  e({ name: 'ActiveUsersWeekly', bucket: 'adoption', source: 'rollup', unit: 'Count', statistic: 'Maximum', sliced: true,
    definition: 'distinct pseudonymized user_id over the last 7 UTC days', decision: 'ticket when it falls week on week' }),
  e({ name: 'RepeatUsers', bucket: 'adoption', source: 'rollup', unit: 'Count', statistic: 'Maximum', sliced: false,
    definition: 'users active on 2 or more days of the last 7', decision: 'retention: does it earn a second visit' }),
  e({ name: 'Completions', bucket: 'adoption', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "requests with outcome 'success'", decision: 'completion vs abandonment' }),
  e({ name: 'Abandonments', bucket: 'adoption', source: 'ingest', unit: 'Count', statistic: 'Sum', sliced: true,
    definition: "requests with outcome 'abandoned', plus feedback with abandoned", decision: 'where users give up' }),
  r({ name: 'AbandonmentRate', bucket: 'adoption', numerator: 'Abandonments', denominator: 'Requests', percent: true,
    definition: 'Abandonments / Requests, in percent', decision: 'fix the flows users give up on' }),
  e({ name: 'NewIntents', bucket: 'adoption', source: 'rollup', unit: 'Count', statistic: 'Maximum', sliced: false,
    definition: 'intents seen today that were not seen in the previous 28 days', decision: 'intent drift: new use the system was not built for' }),
];

const BY_NAME = new Map(METRICS.map((m) => [m.name, m]));

/** The metric with this name, or undefined. */
export function findMetric(name: string): MetricDefinition | undefined {
  return BY_NAME.get(name);
}

export const METRIC_NAMES: readonly string[] = METRICS.map((m) => m.name);

/** The metrics of one bucket, in dictionary order. */
export function metricsOf(bucket: BucketName): MetricDefinition[] {
  return METRICS.filter((m) => m.bucket === bucket);
}

/** The CloudWatch namespace of a stack's metrics: `LLMOps/<name>-<environment>`. */
export function metricsNamespace(policy: { readonly name: string; readonly environment: string }): string {
  return `LLMOps/${policy.name}-${policy.environment}`;
}
