/**
 * The telemetry event contract, version 1, as zod schemas: exactly
 * shared/spec/telemetry-event.md. The Lambdas, the CLI, the producer SDK, the Glue
 * columns and the docs all derive from these schemas; nothing retypes the field list.
 *
 * Fields that carry free text are tagged with `.meta({ freeText: true })`: the ingest
 * transform redacts them, and `contractColumns()` reports them.
 */
import * as z from 'zod';

/** The charset and length of every opaque id: `[A-Za-z0-9._:-]{1,128}`. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Contract version carried in `schema_version`. */
export const SCHEMA_VERSION = 1 as const;

/** The three kinds of telemetry record. */
export const EVENT_TYPES = ['request', 'span', 'feedback'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Metadata attached to a schema: `freeText` marks a field the ingest transform redacts. */
export interface FieldMeta {
  readonly freeText?: boolean;
  readonly description?: string;
}

const id = () => z.string().regex(ID_PATTERN, { error: 'must match [A-Za-z0-9._:-]{1,128}' });
const timestamp = () => z.iso.datetime({ error: 'must be an RFC 3339 UTC timestamp, e.g. 2026-11-29T15:25:50.123Z' });
const label = () => z.string().min(1).max(256);
const freeText = () =>
  z
    .string()
    .max(65_536)
    .meta({ freeText: true } satisfies FieldMeta);
const count = () => z.int().min(0);
const ms = () => z.number().min(0);
const usd = () => z.number().min(0);

const STATUS = ['ok', 'error', 'timeout'] as const;
const GUARDRAIL_ACTIONS = ['allow', 'block', 'redact', 'escalate'] as const;

/** The P0 categories a request can carry (`p0_category`): the one list the metrics, alarms and dashboards read. */
export const P0_CATEGORIES = ['access_violation', 'pii_leak', 'unauthorized_tool_action', 'false_confirmation'] as const;
export type P0Category = (typeof P0_CATEGORIES)[number];

/** Fields on every request, span and feedback record. */
export const commonShape = {
  schema_version: z.literal(SCHEMA_VERSION),
  event_id: id(),
  timestamp: timestamp(),
  trace_id: id(),
  request_id: id(),
  session_id: id(),
  tenant_id: id(),
  /** Never stored as sent: replaced by a keyed hash at ingest. */
  user_id: z.string().min(1).max(256).optional(),
  user_role: label(),
  region: label().optional(),
  channel: label().optional(),
  locale: label().optional(),
  intent: label(),
  risk_level: z.enum(['low', 'medium', 'high']),
  app_version: label().optional(),
  prompt_version: label().optional(),
  orchestration_version: label().optional(),
  retrieval_config: label().optional(),
  tool_schema_version: label().optional(),
  guardrail_version: label().optional(),
  model: label().optional(),
  /** Free-form tags; keys must be declared in the policy; values are scanned for PII. */
  attributes: z
    .record(
      z.string().max(128),
      z
        .string()
        .max(4_096)
        .meta({ freeText: true } satisfies FieldMeta),
    )
    .optional(),
};

/** `request`: the end-to-end summary of one user request. */
export const RequestEvent = z.object({
  ...commonShape,
  event_type: z.literal('request'),
  status: z.enum(STATUS),
  error_code: label().optional(),
  error_message: freeText().optional(),
  latency_ms: ms(),
  retrieval_latency_ms: ms(),
  llm_latency_ms: ms(),
  tool_latency_ms: ms(),
  input_tokens: count(),
  output_tokens: count(),
  cost_usd: usd().optional(),
  llm_calls: count(),
  provider_retries: count(),
  fallback_used: z.boolean(),
  cache_hit: z.boolean(),
  retrieval_used: z.boolean(),
  sources: z.array(label()).max(256),
  sources_count: count(),
  access_denials: count(),
  citations_present: z.boolean(),
  tool_path: z.enum(['none', 'read', 'write']),
  tools_proposed: count(),
  tools_executed: count(),
  tool_validation_failures: count(),
  tool_errors: count(),
  false_confirmation: z.boolean(),
  guardrail_action: z.enum(GUARDRAIL_ACTIONS),
  guardrail_category: label().optional(),
  redaction_applied: z.boolean(),
  input_chars: count(),
  output_chars: count(),
  language: label().optional(),
  pii_detected: z.boolean(),
  structured_output_valid: z.boolean().optional(),
  outcome: z.enum(['success', 'failure', 'abandoned', 'escalated', 'unknown']),
  p0_category: z.enum(P0_CATEGORIES).optional(),
});

/** `span`: one timed step inside a request. */
export const SpanEvent = z.object({
  ...commonShape,
  event_type: z.literal('span'),
  span_id: id(),
  parent_span_id: id(),
  span_kind: z.enum(['retrieval', 'llm', 'tool', 'guardrail', 'input_check', 'output_check']),
  name: label(),
  latency_ms: ms(),
  status: z.enum(STATUS),
  error_code: label().optional(),
  error_message: freeText().optional(),
  input_tokens: count().optional(),
  output_tokens: count().optional(),
  cost_usd: usd().optional(),
  tool_validation: z.enum(['passed', 'failed', 'skipped']).optional(),
  executed: z.boolean().optional(),
  sources_count: count().optional(),
  access_denials: count().optional(),
  guardrail_action: z.enum(GUARDRAIL_ACTIONS).optional(),
  guardrail_category: label().optional(),
});

/** `feedback`: a user-outcome signal that arrives after the request. */
export const FeedbackEvent = z.object({
  ...commonShape,
  event_type: z.literal('feedback'),
  user_rating: z
    .int()
    .min(-1)
    .max(5)
    .refine((v) => v !== 0, { error: 'must be -1, +1 or 1..5' })
    .optional(),
  escalated_to_human: z.boolean().optional(),
  follow_up_within_5m: z.boolean().optional(),
  abandoned: z.boolean().optional(),
});

/** The feedback fields that are user outcome signals: the values of the policy's `capture.user_outcome_signals`. */
export const USER_OUTCOME_SIGNALS = ['user_rating', 'escalated_to_human', 'follow_up_within_5m', 'abandoned'] as const;
export type UserOutcomeSignal = (typeof USER_OUTCOME_SIGNALS)[number];

/** Any telemetry record, discriminated on `event_type`. */
export const TelemetryEvent = z.discriminatedUnion('event_type', [RequestEvent, SpanEvent, FeedbackEvent]);

export type RequestEvent = z.infer<typeof RequestEvent>;
export type SpanEvent = z.infer<typeof SpanEvent>;
export type FeedbackEvent = z.infer<typeof FeedbackEvent>;
export type TelemetryEvent = z.infer<typeof TelemetryEvent>;

/** The schema of each event type. */
export const EVENT_SCHEMAS = { request: RequestEvent, span: SpanEvent, feedback: FeedbackEvent } as const;

/**
 * A debug capture: raw content for an enrolled cohort, on its own stream and tier.
 * Checked again at ingest (enrolled, not expired) and redacted before it is stored.
 */
export const DebugCapture = z.object({
  trace_id: id(),
  request_id: id(),
  tenant_id: id(),
  /** The role of the user whose request this is; an enrolment that names a role captures only that role (a capture without one: nothing). */
  user_role: label().optional(),
  timestamp: timestamp(),
  cohort: label(),
  reason: z.string().min(1).max(500),
  prompt_text: z
    .string()
    .meta({ freeText: true } satisfies FieldMeta)
    .optional(),
  completion_text: z
    .string()
    .meta({ freeText: true } satisfies FieldMeta)
    .optional(),
  retrieved_text: z
    .string()
    .meta({ freeText: true } satisfies FieldMeta)
    .optional(),
  tool_payload: z
    .string()
    .meta({ freeText: true } satisfies FieldMeta)
    .optional(),
});
export type DebugCapture = z.infer<typeof DebugCapture>;

/** Why a record went to the quarantine instead of the events area. A closed list. */
export const QUARANTINE_REASONS = [
  'unparseable_json',
  'not_an_object',
  'schema_violation',
  'oversized',
  'too_deep',
  'internal_error',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/**
 * What is kept of a rejected record: flat, so it fits the same Glue/Parquet table as the
 * events. Only the reason, sizes, a hash of the raw bytes, the ids that could be read and
 * a redacted, truncated excerpt. Never the raw record.
 */
export const QuarantineRecord = z.object({
  schema_version: z.literal(SCHEMA_VERSION),
  event_type: z.enum(EVENT_TYPES).optional(),
  event_id: id().optional(),
  trace_id: id().optional(),
  request_id: id().optional(),
  tenant_id: id().optional(),
  /** Ingest time. */
  timestamp: timestamp(),
  quarantine_reason: z.enum(QUARANTINE_REASONS),
  /** Key paths and the kind of problem; never values. */
  quarantine_detail: z.string().max(512),
  raw_bytes: z.int().min(0),
  raw_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Redacted, then truncated. */
  raw_excerpt: z
    .string()
    .max(256)
    .meta({ freeText: true } satisfies FieldMeta),
});
export type QuarantineRecord = z.infer<typeof QuarantineRecord>;

/** Ids a quarantine record may carry when they could be read and match the id charset. */
export const QUARANTINE_ID_FIELDS = ['event_id', 'trace_id', 'request_id', 'tenant_id'] as const;
