/**
 * What each metric of the dictionary means and the decision it supports: the text half
 * of the dictionary, for the spec, the dashboards and reviewers. A test checks that every
 * metric has its entry.
 */
import { METRICS, type BucketName, type MetricDefinition } from './dictionary';

export interface MetricDoc {
  /** What is counted or measured, precisely enough to recompute it from the records. */
  readonly definition: string;
  /** The decision this metric supports. */
  readonly decision: string;
}

export const METRIC_DOCS: Readonly<Record<string, MetricDoc>> = {
  Requests: {
    definition: 'request records ingested',
    decision: 'the denominator of every rate; traffic to judge a canary',
  },
  Errors: {
    definition: "requests with status 'error' or 'timeout'",
    decision: 'roll back the change that raised it',
  },
  ErrorRate: {
    definition: 'Errors / Requests, in percent',
    decision: 'roll back or fail over when it rises after a change',
  },
  ProviderTimeouts: {
    definition: "requests with status 'timeout' or error_code 'provider_timeout'",
    decision: 'fail over to the fallback model or provider',
  },
  ProviderTimeoutRate: {
    definition: 'ProviderTimeouts / Requests, in percent',
    decision: 'page: the model provider is failing users now',
  },
  Latency: {
    definition: 'end-to-end latency_ms of requests, by path: rag (retrieval used), tool (tool_path read/write), plain',
    decision: 'p50/p95/p99 by path show which stage to tune or roll back',
  },
  RequestsWithRetries: {
    definition: 'requests with provider_retries > 0',
    decision: 'capacity or quota problems at the provider',
  },
  RetryRate: {
    definition: 'RequestsWithRetries / Requests, in percent',
    decision: 'raise quotas or shed load before timeouts follow',
  },
  Fallbacks: {
    definition: 'requests with fallback_used',
    decision: 'how much traffic runs on the degraded path',
  },
  FallbackRate: {
    definition: 'Fallbacks / Requests, in percent',
    decision: 'restore the primary path; check fallback quality',
  },
  Ratings: {
    definition: 'feedback records with a user_rating',
    decision: 'whether the rating signal is strong enough to judge',
  },
  NegativeRatings: {
    definition: 'feedback with user_rating -1 (thumbs) or 1..2 (five-star)',
    decision: 'export the rated requests as regression cases',
  },
  NegativeRatingRate: {
    definition: 'NegativeRatings / Ratings, in percent',
    decision: 'ticket: answers got worse for a slice',
  },
  Feedback: {
    definition: 'feedback records',
    decision: 'the denominator of follow-up and escalation rates',
  },
  FollowUps: {
    definition: 'feedback with follow_up_within_5m',
    decision: 'the user had to ask again: the answer did not resolve it',
  },
  FollowUpRate: {
    definition: 'FollowUps / Feedback, in percent',
    decision: 'revise prompts or retrieval for the slice',
  },
  Escalations: {
    definition:
      "requests with outcome 'escalated', each counted once (feedback escalated_to_human is stored and queryable, not counted again: it would count its request twice)",
    decision: 'staffing and where the assistant falls short',
  },
  EscalationRate: {
    definition: 'Escalations / Requests, in percent',
    decision: 'ticket when a slice escalates more than usual',
  },
  ToolTasks: {
    definition: "requests with tool_path 'write'",
    decision: 'the denominator of tool task success',
  },
  ToolTaskSuccesses: {
    definition: "write-tool requests with outcome 'success', no tool errors and no false confirmation",
    decision: 'whether tool flows complete',
  },
  ToolTaskSuccessRate: {
    definition: 'ToolTaskSuccesses / ToolTasks, in percent',
    decision: 'disable a failing tool; fix the tool schema',
  },
  PolicyAnswers: {
    definition: "requests of a citation-required intent (buckets.quality.citation_required_intents) with status 'ok'",
    decision: 'the denominator of citation presence',
  },
  PolicyAnswersCited: {
    definition: "requests of a citation-required intent with status 'ok' and citations_present",
    decision: 'grounded policy answers',
  },
  CitationPresence: {
    definition: 'PolicyAnswersCited / PolicyAnswers, in percent',
    decision: 'ticket: policy answers without sources are a liability',
  },
  Refusals: {
    definition: "requests with guardrail_action 'block'",
    decision: 'over-blocking: users refused legitimate help',
  },
  RefusalRate: {
    definition: 'Refusals / Requests, in percent',
    decision: 'ticket: tune the guardrail for the slice that rose',
  },
  P0Events: {
    definition: 'requests carrying a p0_category, by category',
    decision: 'page: contain with a kill switch, then investigate',
  },
  AccessViolations: {
    definition: "requests with p0_category 'access_violation'",
    decision: 'page: disable the connector that leaked',
  },
  AccessDenials: {
    definition: 'sum of access_denials on requests (expected: permissions working)',
    decision: 'a sudden drop means permission checks stopped',
  },
  PiiDetections: {
    definition: 'requests with pii_detected',
    decision: 'leakage risk by slice; tighten output checks',
  },
  GuardrailBlocks: {
    definition: "requests with guardrail_action 'block', by guardrail_category",
    decision: 'attack trends; guardrail tuning',
  },
  Redactions: {
    definition: 'values replaced by the ingest redactor, by detector (custom patterns together)',
    decision: 'applications sending text they should not',
  },
  RecordsQuarantined: {
    definition: 'records rejected at ingest (invalid, unparseable, oversized), kept as redacted stubs, by reason',
    decision: 'a producer is broken; fix before evidence is lost',
  },
  FieldsDropped: {
    definition: 'fields outside the event contract dropped at ingest',
    decision: 'a producer sends more than the contract allows (minimization)',
  },
  AttributesDropped: {
    definition: 'attribute keys not declared in the policy, dropped at ingest',
    decision: 'declare the key in the policy, or stop sending it',
  },
  RecordsIn: {
    definition: 'records the ingest transform received',
    decision: 'pipeline throughput; silence means producers stopped',
  },
  RecordsOk: {
    definition: 'records that passed validation and were written to events/',
    decision: 'with RecordsIn and RecordsQuarantined: every record accounted for',
  },
  RecordsValid: {
    definition: 'records of the events stream that passed validation, before sampling (each is stored or sampled out)',
    decision: 'the denominator of the sampled kept rate; RecordsIn = RecordsValid + RecordsQuarantined',
  },
  RecordsSampledOut: {
    definition:
      'valid records not stored because capture.sampling_rate sampled their trace out (returned to Firehose as Dropped); the bucket metrics still count them',
    decision: 'with RecordsOk: every valid record accounted for; storage saved by sampling',
  },
  SampledKeptRate: {
    definition:
      'RecordsOk / RecordsValid, in percent: the share of valid records stored (the sampling rate plus the always-kept P0 and flagged records)',
    decision: 'check that sampling stores what the policy says; raise capture.sampling_rate when too little evidence is kept',
  },
  OutcomeSignalsDropped: {
    definition: 'user outcome signals removed from feedback records at ingest because capture.user_outcome_signals does not list them',
    decision: 'list the signal in the policy, or stop sending it',
  },
  InputTokens: {
    definition: 'sum of input_tokens on requests',
    decision: 'prompt size and retrieval volume',
  },
  OutputTokens: {
    definition: 'sum of output_tokens on requests',
    decision: 'answer length; output caps',
  },
  CostUsd: {
    definition: "sum of cost_usd, or estimated from the policy's price table when absent (an estimate)",
    decision: 'spend by slice',
  },
  CostPerRequest: {
    definition: 'CostUsd / Requests, in USD',
    decision: 'unit economics of a change',
  },
  SuccessfulTasks: {
    definition: "requests with outcome 'success'",
    decision: 'the denominator of cost per successful task',
  },
  CostPerSuccessfulTask: {
    definition: 'CostUsd / SuccessfulTasks, in USD',
    decision: 'ticket when over budget: cheaper model, caching, shorter prompts',
  },
  CacheHits: {
    definition: 'requests with cache_hit',
    decision: 'whether caching pays',
  },
  CacheHitRate: {
    definition: 'CacheHits / Requests, in percent',
    decision: 'tune the cache',
  },
  DailyCostUsd: {
    definition: 'cost of the UTC day so far, recomputed hourly from the traces tier',
    decision: 'budget tracking',
  },
  ActiveUsersDaily: {
    definition: 'distinct pseudonymized user_id with a request in the UTC day',
    decision: 'is the assistant used',
  },
  ActiveUsersWeekly: {
    definition: 'distinct pseudonymized user_id over the last 7 UTC days',
    decision: 'ticket when it falls week on week',
  },
  RepeatUsers: {
    definition: 'users active on 2 or more days of the last 7',
    decision: 'retention: does it earn a second visit',
  },
  Completions: {
    definition: "requests with outcome 'success'",
    decision: 'completion vs abandonment',
  },
  Abandonments: {
    definition:
      "requests with outcome 'abandoned', each counted once (feedback abandoned is stored and joined per request by the abandonment query, not counted again)",
    decision: 'where users give up',
  },
  AbandonmentRate: {
    definition: 'Abandonments / Requests, in percent',
    decision: 'fix the flows users give up on',
  },
  NewIntents: {
    definition: 'intents seen today that were not seen in the previous 28 days',
    decision: 'intent drift: new use the system was not built for',
  },
};

export type DocumentedMetric = MetricDefinition & MetricDoc;

/** The metrics of one bucket with their text, in dictionary order. */
export function documentedMetricsOf(bucket: BucketName): DocumentedMetric[] {
  return METRICS.filter((m) => m.bucket === bucket).map((m) => ({ ...m, ...(METRIC_DOCS[m.name] ?? { definition: '', decision: '' }) }));
}
