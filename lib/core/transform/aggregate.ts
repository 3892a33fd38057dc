/**
 * The bucket metrics of one Firehose batch, computed from the validated (redacted)
 * records: plain TypeScript, no AWS. The transform turns the groups into EMF documents;
 * tests call this directly.
 *
 * Each metric is published once in total, once per value of its fixed dimension, and
 * once per value of each policy slice (one dimension set per slice, never their cross
 * product). A group is one dimension set with every metric that applies to it.
 */
import {
  DEFAULT_CITATION_REQUIRED_INTENTS,
  findMetric,
  GUARDRAIL_CATEGORIES,
  METRICS,
  OTHER_GUARDRAIL_CATEGORY,
  type EmittedMetric,
} from '../metrics/dictionary';
import type { FeedbackEvent, RequestEvent, TelemetryEvent } from '../contract';
import type { Policy, SliceField } from '../policy/schema';

/** The value a slice reports for values that have no series of their own. */
export const OTHER = 'other';

export interface MetricGroup {
  /** The dimension set: `{}` for the total, `{ Path: 'rag' }`, `{ intent: 'policy_qna' }`... */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Metric name to its values (counts and sums: one value; latency: every observation). */
  readonly values: ReadonlyMap<string, number[]>;
}

/** Per-slice admission of values that have no list in the policy: the first max_values seen. */
export class SliceAdmission {
  private readonly admitted = new Map<string, Set<string>>();

  constructor(private readonly slices: Policy['slices']['dimensions']) {}

  /** The dimension value to publish for `value` of slice `field`. */
  valueFor(field: SliceField, value: string): string {
    const d = this.slices[field];
    if (!d) return OTHER;
    if (d.values) return d.values.includes(value) ? value : OTHER;
    let set = this.admitted.get(field);
    if (!set) this.admitted.set(field, (set = new Set()));
    if (set.has(value)) return value;
    if (set.size < d.max_values) {
      set.add(value);
      return value;
    }
    return OTHER;
  }
}

export interface AggregateOptions {
  /** `buckets.quality.citation_required_intents` (absent: `policy_qna`) is the only part of the buckets read. */
  readonly policy: Pick<Policy, 'slices' | 'pricing' | 'capture'> & {
    readonly buckets?: { readonly quality: Pick<Policy['buckets']['quality'], 'citation_required_intents'> };
  };
  /** Keeps admitted slice values across batches (one per Lambda container). */
  readonly admission: SliceAdmission;
}

/** The latency path of a request: rag when it retrieved, tool when it used a tool, else plain. */
export function latencyPath(r: Pick<RequestEvent, 'retrieval_used' | 'tool_path'>): 'rag' | 'tool' | 'plain' {
  if (r.retrieval_used) return 'rag';
  return r.tool_path === 'none' ? 'plain' : 'tool';
}

/** cost_usd when the record has it, else the policy's price table (an estimate; 0 for an unknown model). */
export function requestCost(
  r: Pick<RequestEvent, 'cost_usd' | 'model' | 'input_tokens' | 'output_tokens'>,
  pricing: Policy['pricing'],
): number {
  if (r.cost_usd !== undefined) return r.cost_usd;
  const price = r.model ? pricing.models[r.model] : undefined;
  if (!price) return 0;
  return (r.input_tokens / 1000) * price.input_per_1k + (r.output_tokens / 1000) * price.output_per_1k;
}

/** The per-record contributions: metric name to value (0 contributions are omitted). */
function requestContributions(r: RequestEvent, pricing: Policy['pricing'], citationIntents: ReadonlySet<string>): [string, number][] {
  const out: [string, number][] = [['Requests', 1]];
  const add = (name: string, v: number | boolean) => {
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    if (n !== 0) out.push([name, n]);
  };
  add('Errors', r.status !== 'ok');
  add('ProviderTimeouts', r.status === 'timeout' || r.error_code === 'provider_timeout');
  add('RequestsWithRetries', r.provider_retries > 0);
  add('Fallbacks', r.fallback_used);
  add('Escalations', r.outcome === 'escalated');
  const writes = r.tool_path === 'write';
  add('ToolTasks', writes);
  add('ToolTaskSuccesses', writes && r.outcome === 'success' && r.tool_errors === 0 && !r.false_confirmation);
  const policyAnswer = citationIntents.has(r.intent) && r.status === 'ok';
  add('PolicyAnswers', policyAnswer);
  add('PolicyAnswersCited', policyAnswer && r.citations_present);
  add('Refusals', r.guardrail_action === 'block');
  add('AccessViolations', r.p0_category === 'access_violation');
  add('AccessDenials', r.access_denials);
  add('PiiDetections', r.pii_detected);
  add('InputTokens', r.input_tokens);
  add('OutputTokens', r.output_tokens);
  add('CostUsd', requestCost(r, pricing));
  add('SuccessfulTasks', r.outcome === 'success');
  add('Completions', r.outcome === 'success');
  add('CacheHits', r.cache_hit);
  add('Abandonments', r.outcome === 'abandoned');
  return out;
}

function feedbackContributions(f: FeedbackEvent, scale: Policy['capture']['rating_scale']): [string, number][] {
  const out: [string, number][] = [['Feedback', 1]];
  if (f.user_rating !== undefined) {
    out.push(['Ratings', 1]);
    if (scale === 'thumbs' ? f.user_rating < 0 : f.user_rating <= 2) out.push(['NegativeRatings', 1]);
  }
  if (f.follow_up_within_5m) out.push(['FollowUps', 1]);
  // Escalations and Abandonments count request outcomes only: a feedback record saying
  // the same of its request would count that request twice (the feedback is stored, and
  // the abandonment query joins both per request).
  return out;
}

/** The slice values of a record: one per slice field it carries (`source`: one per source). */
function sliceValues(e: TelemetryEvent, admission: SliceAdmission, fields: readonly SliceField[]): [SliceField, string][] {
  const out: [SliceField, string][] = [];
  for (const field of fields) {
    if (field === 'source') {
      if (e.event_type === 'request') for (const s of new Set(e.sources)) out.push([field, admission.valueFor(field, s)]);
      continue;
    }
    const v = (e as Record<string, unknown>)[field];
    if (typeof v === 'string') out.push([field, admission.valueFor(field, v)]);
  }
  return out;
}

const key = (dims: Record<string, string>) => JSON.stringify(Object.entries(dims).sort());

export function aggregateBatch(events: readonly TelemetryEvent[], opts: AggregateOptions): MetricGroup[] {
  const groups = new Map<string, { dimensions: Record<string, string>; values: Map<string, number[]> }>();
  const put = (dimensions: Record<string, string>, name: string, value: number, sum: boolean) => {
    const k = key(dimensions);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { dimensions, values: new Map() }));
    const vals = g.values.get(name);
    if (!vals) g.values.set(name, [value]);
    else if (sum) vals[0] = (vals[0] ?? 0) + value;
    else vals.push(value);
  };
  const fields = Object.keys(opts.policy.slices.dimensions) as SliceField[];
  const citationIntents = new Set<string>(opts.policy.buckets?.quality.citation_required_intents ?? DEFAULT_CITATION_REQUIRED_INTENTS);

  for (const e of events) {
    let contributions: [string, number][];
    if (e.event_type === 'request') contributions = requestContributions(e, opts.policy.pricing, citationIntents);
    else if (e.event_type === 'feedback') contributions = feedbackContributions(e, opts.policy.capture.rating_scale);
    else continue; // spans carry step detail for queries; the bucket metrics come from requests and feedback
    const slices = sliceValues(e, opts.admission, fields);
    for (const [name, v] of contributions) {
      const def = findMetric(name) as EmittedMetric;
      put({}, name, v, true);
      if (def.sliced) for (const [field, value] of slices) put({ [field]: value }, name, v, true);
    }
    if (e.event_type === 'request') {
      const path = latencyPath(e);
      put({}, 'Latency', e.latency_ms, false);
      put({ Path: path }, 'Latency', e.latency_ms, false);
      for (const [field, value] of slices) put({ [field]: value }, 'Latency', e.latency_ms, false);
      if (e.p0_category) {
        put({}, 'P0Events', 1, true);
        put({ Category: e.p0_category }, 'P0Events', 1, true);
      }
      if (e.guardrail_action === 'block') {
        const c =
          e.guardrail_category && (GUARDRAIL_CATEGORIES as readonly string[]).includes(e.guardrail_category)
            ? e.guardrail_category
            : OTHER_GUARDRAIL_CATEGORY;
        put({}, 'GuardrailBlocks', 1, true);
        put({ Category: c }, 'GuardrailBlocks', 1, true);
      }
    }
  }
  return [...groups.values()];
}

/** Every metric the aggregator can emit, with its unit (for the EMF writer). */
export const EMITTED_UNITS: ReadonlyMap<string, EmittedMetric['unit']> = new Map(
  METRICS.filter((m): m is EmittedMetric => m.kind === 'emitted').map((m) => [m.name, m.unit]),
);
