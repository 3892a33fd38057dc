/**
 * The telemetry policy schema. One zod schema is the source of truth for the loader's
 * structural checks, the TypeScript `Policy` type and the editor JSON Schema
 * (`telemetry-policy.schema.json`). Cross-field rules (audit retention, the P0 alarm,
 * switch references...) live in `rules.ts`, over the parsed value.
 *
 * Every object is strict: an unknown key is an error, because a typo in a security
 * policy (`retension:`) must never be silently ignored.
 */
import { z } from 'zod';
import { BUCKETS, DEFAULT_CITATION_REQUIRED_INTENTS, EVERY_BATCH_METRICS, METRIC_NAMES } from '../metrics/dictionary';
import { PII_DETECTOR_IDS, PII_MODES, type PiiDetectorId } from '../redaction/catalog';
import { USER_OUTCOME_SIGNALS } from '../contract/schema';
import { durationPattern } from './durations';
import { INFREQUENT_ACCESS_MIN_DAYS, MAX_ENROLMENT_HOURS, retentionRange } from './limits';

// ---------------------------------------------------------------- scalars

const RESOURCE_PREFIX = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,23}$/;
const resourcePrefix = (what: string) =>
  z.string().regex(RESOURCE_PREFIX, {
    error: `${what} must be 2 to 24 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen`,
  });

const SNAKE = /^[a-z][a-z0-9_]{0,63}$/;
const snakeKey = (what: string) =>
  z.string().regex(SNAKE, {
    error: `${what} must be snake_case: lowercase letters, digits and underscores, starting with a letter, at most 64 characters`,
  });

const KEBAB = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,62}$/;

const text = (what: string, max = 2000) =>
  z
    .string()
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} must be at most ${max} characters` });

const duration = (units: Parameters<typeof durationPattern>[0], what: string) =>
  z.string().regex(durationPattern(units), {
    error: `${what} must be a whole number followed by ${units.map((u) => `'${u}'`).join(' or ')}, e.g. '30${units[0]}'`,
  });

/** `this-account`, a 12-digit account id, or an IAM role/user ARN. */
const PRINCIPAL = /^(?:this-account|[0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:(?:role|user)\/[A-Za-z0-9+=,.@_\-/]{1,512})$/;
const principal = z.string().regex(PRINCIPAL, {
  error: "principal must be 'this-account', a 12-digit account id, or an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)",
});

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const timestamp = z.string().regex(RFC3339, { error: "must be an RFC 3339 timestamp, e.g. '2026-12-01T18:00:00Z'" });

// ---------------------------------------------------------------- sections

export const OWNER_ROLES = ['product', 'engineering', 'sre', 'security'] as const;
export type OwnerRole = (typeof OWNER_ROLES)[number];

const Owner = z.strictObject({
  name: text('owner name', 200).describe('Team or person.'),
  contact: text('owner contact', 320).describe('Email, chat channel or URL, printed in alarm descriptions and the spec.'),
});

const Owners = z.strictObject({
  product: Owner,
  engineering: Owner,
  sre: Owner,
  security: Owner,
});

/** The feedback fields that are user outcome signals (the event contract's list). */
export const OUTCOME_SIGNALS = USER_OUTCOME_SIGNALS;

const Capture = z.strictObject({
  schema_version: z
    .literal(1, { error: 'capture.schema_version must be 1 (the only event contract version)' })
    .describe('Event contract version.'),
  attributes: z
    .array(snakeKey('an attribute key'))
    .max(50, { error: 'at most 50 attribute keys may be declared' })
    .default([])
    .describe('Declared `attributes` keys. Any other key is dropped at ingest and counted.'),
  user_outcome_signals: z
    .array(z.enum(OUTCOME_SIGNALS))
    .default([...OUTCOME_SIGNALS])
    .describe(
      'Feedback fields (user outcome signals) the stack keeps. Any other is removed from the record at ingest, counted (OutcomeSignalsDropped), and feeds no metric.',
    ),
  rating_scale: z.enum(['thumbs', 'five_star']).default('thumbs').describe('thumbs: -1/+1; five_star: 1..5.'),
  sampling_rate: z
    .number()
    .gt(0, { error: 'capture.sampling_rate must be greater than 0 (use 1 to keep all)' })
    .max(1, { error: 'capture.sampling_rate must be at most 1' })
    .default(1)
    .describe(
      'Fraction of traces whose records are stored, decided by trace id (a request, its spans and its feedback together). P0 and flagged records (errors, guardrail blocks and escalations, false confirmations, escalations to a human) are always stored. Metrics count every record, before sampling.',
    ),
});

const detectorShape = Object.fromEntries(PII_DETECTOR_IDS.map((id) => [id, z.enum(PII_MODES).optional()])) as Record<
  PiiDetectorId,
  z.ZodOptional<z.ZodEnum<{ plain: 'plain'; keyed: 'keyed'; off: 'off' }>>
>;

const CustomPattern = z.strictObject({
  name: snakeKey('a custom pattern name'),
  pattern: text('a custom pattern', 500).describe('Regular expression (no backreferences, lookarounds or nested quantifiers).'),
  placeholder: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{1,31}$/, { error: 'placeholder must be UPPER_SNAKE_CASE, 2 to 32 characters (written as [NAME])' }),
});

export const PSEUDONYMIZABLE_FIELDS = ['user_id', 'session_id'] as const;

const Redaction = z.strictObject({
  detectors: z
    .strictObject(detectorShape)
    .prefault({})
    .describe(
      'PII detectors: plain ([EMAIL]), keyed ([EMAIL:<keyed hash>], correlatable) or off. Unlisted: plain. Secret detectors are always on.',
    ),
  custom_patterns: z.array(CustomPattern).max(50).default([]),
  pseudonymize: z
    .array(z.enum(PSEUDONYMIZABLE_FIELDS))
    .default(['user_id'])
    .describe('Identifier fields replaced by HMAC-SHA256 under a key in Secrets Manager. user_id always is.'),
});

const Transition = z.strictObject({
  infrequent_access_after: duration(['d'], 'infrequent_access_after'),
});

const Retention = z.strictObject({
  traces: duration(['d'], 'retention.traces').describe(`Redacted request/span/feedback records. ${retentionRange('traces')}.`),
  metrics: duration(['d'], 'retention.metrics').describe(`Aggregated metrics and rollups. ${retentionRange('metrics')}.`),
  debug: duration(['h', 'd'], 'retention.debug').describe(`Redacted debug captures and the ingest quarantine. ${retentionRange('debug')}.`),
  audit: duration(['d'], 'retention.audit').describe('Access logs, CloudTrail, kill-switch audit. At least the longest other tier.'),
  logs: duration(['d'], 'retention.logs').describe("Lambda and service log groups. One of CloudWatch Logs' allowed values."),
  transitions: z
    .strictObject({ traces: Transition.optional(), metrics: Transition.optional(), audit: Transition.optional() })
    .prefault({})
    .describe(
      `Optional move to S3 Standard-IA, only where it pays off (at least ${INFREQUENT_ACCESS_MIN_DAYS} days, and ${INFREQUENT_ACCESS_MIN_DAYS} days before expiry).`,
    ),
});

const Role = z.strictObject({
  principals: z.array(principal).min(1, { error: 'at least one principal is required' }).describe('Who may assume the role.'),
});

/** IAM Identity Center permission set names (CreatePermissionSet: [\w+=,.@-]{1,32}). */
const PERMISSION_SET = /^[\w+=,.@-]{1,32}$/;
/** IAM tag keys and values (the characters IAM allows, without spaces). */
const TAG_KEY = /^[A-Za-z0-9_.:/=+@-]{1,128}$/;
const TAG_VALUE = /^[A-Za-z0-9_.:/=+@-]{0,256}$/;

const Federated = z
  .strictObject({
    sso_permission_sets: z
      .array(
        z.string().regex(PERMISSION_SET, {
          error: 'a permission set name is 1 to 32 letters, digits and + = , . @ _ - (as IAM Identity Center allows)',
        }),
      )
      .default([])
      .describe('IAM Identity Center permission sets of the deploying account whose sessions may assume the responder role.'),
    principal_tags: z
      .record(
        z.string().regex(TAG_KEY, { error: 'a principal tag key is 1 to 128 letters, digits and _ . : / = + @ -' }),
        z.string().regex(TAG_VALUE, { error: 'a principal tag value is at most 256 letters, digits and _ . : / = + @ -' }),
      )
      .default({})
      .describe(
        'Session tags (e.g. from a SAML assertion) a principal of the deploying account must carry, all of them, to assume the responder role.',
      ),
  })
  .refine((f) => f.sso_permission_sets.length > 0 || Object.keys(f.principal_tags).length > 0, {
    error: 'federated needs sso_permission_sets or principal_tags (or remove it)',
  });

const Access = z.strictObject({
  metrics_readers: Role.describe('Dashboards, metrics and the metrics tier.'),
  trace_analysts: Role.describe('Athena over the traces tier.'),
  incident_responders: Role.extend({
    require_mfa: z
      .literal(true, { error: 'access.incident_responders.require_mfa cannot be turned off: the debug tier requires MFA' })
      .default(true),
    federated: Federated.optional().describe(
      'Federated responders whose sessions cannot carry aws:MultiFactorAuthPresent (IAM Identity Center, SAML): trusted by permission set or session tag instead, MFA being enforced at their sign-in.',
    ),
  }).describe('The debug tier: captures, quarantine, Firehose error output. Reads are audited.'),
  kill_switch_operators: Role.describe('May flip kill switches.'),
});

const Enrolment = z.strictObject({
  cohort: snakeKey('cohort').describe('Name of the enrolment; captures carry it.'),
  tenant_id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional(),
  user_role: snakeKey('user_role').optional(),
  reason: text('reason', 500).describe('Why, e.g. an incident id.'),
  expires_at: timestamp.describe(`At most ${MAX_ENROLMENT_HOURS} hours ahead. An expired enrolment captures nothing.`),
});

const DebugCapture = z.strictObject({
  enabled: z.boolean().default(false).describe('Off by default.'),
  enrolments: z.array(Enrolment).default([]),
});

export const SEVERITIES = ['page', 'ticket'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const STATISTICS = ['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount', 'p50', 'p90', 'p95', 'p99'] as const;
export const MISSING_DATA = ['breaching', 'not_breaching', 'ignore', 'missing'] as const;

const Runbook = z.strictObject({
  mitigation: text('runbook.mitigation').describe('Immediate mitigation (which kill switch).'),
  confirm: text('runbook.confirm').describe('How to confirm impact.'),
  diagnose: text('runbook.diagnose').describe('Where to diagnose: dashboard, query.'),
  rollback: text('runbook.rollback').describe('How to roll back.'),
});

const Alarm = z.strictObject({
  id: z
    .string()
    .regex(KEBAB, { error: 'alarm id must be kebab-case: lowercase letters, digits and single hyphens, at most 63 characters' }),
  description: text('description', 500).optional(),
  metric: z.enum(METRIC_NAMES as [string, ...string[]], {
    error: 'metric must be one of the metric dictionary (llmops policy explain lists them)',
  }),
  dimensions: z
    .record(z.string().regex(/^[A-Za-z_]{1,64}$/), z.string().min(1).max(128))
    .optional()
    .describe('Restrict to one slice or fixed dimension value, e.g. { Category: access_violation }.'),
  statistic: z.enum(STATISTICS).optional().describe("Default: the metric's own statistic."),
  comparison: z.enum(['above', 'below']).default('above'),
  threshold: z.number().optional().describe('Fixed threshold (percent for rates, ms for latency, USD for cost).'),
  anomaly_band: z
    .number()
    .min(1)
    .max(10)
    .optional()
    .describe('Instead of a threshold: alarm outside this many standard deviations of the learned baseline.'),
  period: duration(['m', 'h', 'd'], 'period').default('5m'),
  evaluation_periods: z.int().min(1).max(288).default(1),
  datapoints_to_alarm: z.int().min(1).max(288).optional().describe('M of N; default: all evaluation periods.'),
  missing_data: z
    .enum(MISSING_DATA)
    .default('not_breaching')
    .describe(
      `How a period without a datapoint counts. Most metrics are written only when they count something, so breaching is allowed only on the ingest totals written in every batch (${EVERY_BATCH_METRICS.join(', ')}).`,
    ),
  severity: z.enum(SEVERITIES, { error: "severity must be 'page' (P0, outages) or 'ticket' (degradations)" }),
  runbook: Runbook,
});

const Bucket = z.strictObject({
  owner: z.enum(OWNER_ROLES).describe('Which owner (from owners) answers for this bucket.'),
  decision: text('decision', 500).describe('The decision this bucket supports.'),
  alarms: z.array(Alarm).default([]),
});

const QualityBucket = Bucket.extend({
  citation_required_intents: z
    .array(snakeKey('an intent'))
    .min(1, { error: 'citation_required_intents needs at least one intent (CitationPresence counts answers of these intents)' })
    .max(20, { error: 'at most 20 citation_required_intents may be listed' })
    .default([...DEFAULT_CITATION_REQUIRED_INTENTS])
    .describe(
      'Intents whose answers must cite a source: PolicyAnswers and PolicyAnswersCited (CitationPresence) count requests of these intents. When slices.dimensions.intent lists values, each must be one of them.',
    ),
});

const Buckets = z.strictObject({
  ...(Object.fromEntries(BUCKETS.map((b) => [b, Bucket])) as Record<(typeof BUCKETS)[number], typeof Bucket>),
  quality: QualityBucket,
});

/** Record fields a metric may be sliced by. */
export const SLICE_FIELDS = [
  'tenant_id',
  'user_role',
  'intent',
  'risk_level',
  'tool_path',
  'source',
  'model',
  'channel',
  'region',
  'locale',
  'app_version',
  'prompt_version',
  'orchestration_version',
  'retrieval_config',
  'tool_schema_version',
  'guardrail_version',
] as const;
export type SliceField = (typeof SLICE_FIELDS)[number];

const Slices = z.strictObject({
  dimensions: z
    .partialRecord(
      z.enum(SLICE_FIELDS),
      z.strictObject({
        max_values: z.int().min(1).max(1000).describe('Cap on the values with their own series.'),
        values: z
          .array(z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, { error: 'a slice value is an id: letters, digits and . _ : -' }))
          .optional()
          .describe(
            'The values that get their own series; every other value is counted as "other". Without a list, each transform instance admits the first max_values values it sees.',
          ),
      }),
    )
    .default({})
    .describe('Each slice is one dimension set (never their cross product); values beyond max_values fold into "other".'),
  max_series: z.int().min(1).describe('Budget: worst-case number of custom metric series.'),
  max_monthly_usd: z.number().positive().describe('Budget: worst-case monthly cost of those series (list price, estimate).'),
});

const Subscription = z.strictObject({
  protocol: z.enum(['email', 'https']),
  endpoint: text('endpoint', 2048),
});

const Route = z.strictObject({ subscriptions: z.array(Subscription).default([]) });

const Alerting = z.strictObject({
  page: Route.describe('P0 and outages: someone is woken.'),
  ticket: Route.describe('Degradations: a ticket for the owning team.'),
});

const SwitchState = z.enum(['on', 'off']);
const SwitchSpec = z.strictObject({
  description: text('description', 500).optional(),
  initial: SwitchState.optional(),
  safe_default: SwitchState.optional().describe('What applications assume when the switch cannot be read.'),
});
const ToolSwitch = SwitchSpec.extend({ kind: z.enum(['read', 'write']) });

/** Every role: `allowed_roles: all`. */
export const ALL_ROLES = 'all';

const Source = SwitchSpec.extend({
  domain: snakeKey('a source domain').describe('What the source is about, e.g. hr, it: the unit of "unexpected source domain by persona".'),
  allowed_roles: z
    .union([z.literal(ALL_ROLES), z.array(snakeKey('a role')).min(1, { error: 'allowed_roles lists at least one role, or is all' })], {
      error: "allowed_roles is 'all' or a list of roles (snake_case), e.g. [hr_specialist, admin]",
    })
    .describe(
      'The user_role values that may retrieve from the source, or all. A request whose sources include one its user_role may not see is a P0 access violation, whatever the application reported.',
    ),
});

const Sources = z
  .record(snakeKey('a source name'), Source)
  .default({})
  .describe(
    'The retrieval sources (connectors): each a domain, the roles allowed to see it, and a connector kill switch connectors.<name> (on = the source may be queried).',
  );

const AutoTrip = z.strictObject({
  alarm: z.string().regex(/^[a-z]+\.[a-z0-9-]+$/, { error: "alarm must be '<bucket>.<alarm id>', e.g. 'safety.access-violation-hr'" }),
  switch: z.string().regex(/^(?:read_only_mode|debug_capture|(?:tools|connectors|human_review)\.[a-z][a-z0-9_]*)$/, {
    error: 'switch must be read_only_mode, debug_capture, tools.<name>, connectors.<name> or human_review.<intent>',
  }),
  set: SwitchState.describe('The state the trip sets.'),
});

const KillSwitches = z.strictObject({
  cache_ttl: duration(['s'], 'kill_switches.cache_ttl')
    .default('30s')
    .describe('Client cache: the worst-case time for a flip to take effect.'),
  read_only_mode: SwitchSpec.prefault({}).describe('on = every write tool disabled.'),
  debug_capture: SwitchSpec.prefault({}).describe('on = debug captures allowed for enrolled cohorts.'),
  tools: z.record(snakeKey('a tool name'), ToolSwitch).default({}).describe('on = the tool may run.'),
  connectors: z
    .unknown()
    .refine(() => false, {
      error: 'kill_switches.connectors moved to sources: every declared source is a connector switch (connectors.<source>)',
    })
    .optional()
    .describe('Moved: every entry of `sources` is a connector switch.'),
  human_review: z.record(snakeKey('an intent'), SwitchSpec).default({}).describe('on = every request of the intent needs human review.'),
  auto_trips: z
    .array(AutoTrip)
    .default([])
    .describe(
      'Page alarms that flip a switch without a human. A connector or human_review switch needs an alarm restricted to it (dimensions { source: <connector> } or { intent: <intent> }); a tool switch cannot be tripped (no metric is cut by tool).',
    ),
});

export const VERSION_TAGS = [
  'app_version',
  'prompt_version',
  'orchestration_version',
  'retrieval_config',
  'tool_schema_version',
  'guardrail_version',
  'model',
] as const;

const Gates = z.strictObject({
  dimension: z.enum(VERSION_TAGS).default('prompt_version'),
  window: duration(['m', 'h'], 'gates.window').default('1h'),
  min_requests: z.int().min(1).default(200).describe('Fewer canary requests than this: inconclusive.'),
  tolerances: z.strictObject({
    error_rate_pp: z.number().min(0).describe('Allowed rise in error rate, percentage points.'),
    p95_latency_pct: z.number().min(0).describe('Allowed rise in p95 latency, percent of baseline.'),
    refusal_rate_pp: z.number().min(0).describe('Allowed rise in refusal rate, percentage points.'),
    tool_failure_rate_pp: z.number().min(0).describe('Allowed rise in tool failure rate, percentage points.'),
  }),
});

const Price = z.strictObject({
  input_per_1k: z.number().min(0),
  output_per_1k: z.number().min(0),
});

const Pricing = z.strictObject({
  currency: z.literal('USD').default('USD'),
  models: z.record(z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9._:/-]+$/, { error: "model must be 'provider:model-id'" }), Price).default({}),
});

const Queries = z.strictObject({
  scan_limit_mb: z
    .int()
    .min(10, { error: 'queries.scan_limit_mb must be at least 10 (Athena minimum cutoff is 10 MB)' })
    .default(1024)
    .describe('Athena bytes-scanned cutoff per query, in MB.'),
});

export const PolicySchema = z
  .strictObject({
    name: resourcePrefix('name').describe('Resource prefix.'),
    environment: resourcePrefix('environment').describe("'prod' retains data stores on stack deletion."),
    owners: Owners,
    capture: Capture,
    redaction: Redaction.prefault({}),
    retention: Retention,
    access: Access,
    debug_capture: DebugCapture.prefault({}),
    buckets: Buckets,
    slices: Slices,
    alerting: Alerting,
    sources: Sources,
    kill_switches: KillSwitches,
    gates: Gates,
    pricing: Pricing.prefault({}),
    queries: Queries.prefault({}),
  })
  .describe('LLMOps telemetry policy');

export type Policy = z.output<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;
export type AlarmPolicy = Policy['buckets']['safety']['alarms'][number];
export type MetricBucketPolicy = Policy['buckets']['safety'];
/** Defined once, in the event contract; lib/core/transform/env.ts checks that the parsed enrolment is exactly this type. */
export type { Enrolment } from '../contract/enrolment';
