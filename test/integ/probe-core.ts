/**
 * What the deploy test sends and what it expects to find, as plain data and pure
 * functions: the probe Lambda (./probe.ts) runs them in the account, the integ app
 * (./integ.telemetry.ts) writes the expectations into its assertions, and
 * test/integ.test.ts checks them offline against the producer SDK and the ingest
 * transform, so the deployed test and the offline one cannot disagree.
 */
import type { TelemetryEventInput } from '../../lib/client';
import { ID_PATTERN } from '../../lib/core/contract';

/**
 * Values planted in one request of each run. The key is AWS's documented example access
 * key id; the address is under example.com. Neither is real.
 */
export const PLANTED = { email: 'integ.planted@example.com', awsAccessKey: 'AKIAIOSFODNN7EXAMPLE' } as const;

/** The planted request's `error_message` as the application sends it. */
export const PLANTED_ERROR_MESSAGE = `provider timeout answering ${PLANTED.email} with key ${PLANTED.awsAccessKey}`;

/** The same message as the events table must hold it: both values replaced by their placeholders. */
export const EXPECTED_ERROR_MESSAGE = 'provider timeout answering [EMAIL] with key [AWS_ACCESS_KEY]';

/** Requests sent per run: the planted one and nine ordinary ones, packed into one Firehose record by the SDK. */
export const EVENTS_PER_RUN = 10;

/** What the probe is asked to do. */
export type ProbeRequest = { readonly action: 'send'; readonly run: string } | { readonly action: 'check'; readonly run: string };

/** The answer to `send`. Every value is a string: the assertions compare CloudFormation attributes. */
export interface SendReport {
  /** `sent`, or `failed: <reason>`. */
  readonly status: string;
  readonly events: string;
  readonly sent: string;
  readonly dropped: string;
  /** Firehose records (each holds many newline-delimited events). */
  readonly records: string;
}

/** The answer to `check`. Every value is a string (see `SendReport`). */
export interface CheckReport {
  /** `found`; `waiting: <what is missing>` (try again later); `error: <what failed>` (no point waiting). */
  readonly status: string;
  /** `PAR1` when the newest object under the run's partitions starts and ends with Parquet's magic bytes. */
  readonly parquet: string;
  /** Objects under the run's partitions. */
  readonly objects: string;
  /** Distinct `event_id`s of the run in the events table. */
  readonly events: string;
  /** `absent` or `present`: the planted address anywhere in the run's rows (any column). */
  readonly planted_email: string;
  /** `absent` or `present`: the planted key anywhere in the run's rows (any column). */
  readonly planted_key: string;
  /** The planted request's stored `error_message` (redacted; '' until found). */
  readonly error_message: string;
}

/** A run id: `integ-<UTC time>-<suffix>`, within the contract's id charset. */
export function runId(now: Date, suffix: string): string {
  const id = `integ-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${suffix}`;
  if (!ID_PATTERN.test(id)) throw new Error(`run id ${JSON.stringify(id)} must match ${ID_PATTERN}`);
  return id;
}

/**
 * The requests of one run: all share `trace_id` = the run id; request 0 carries the
 * planted values (in `error_message`, free text the ingest redacts, and as `user_id`,
 * which the ingest pseudonymizes).
 */
export function runEvents(run: string): TelemetryEventInput[] {
  if (!ID_PATTERN.test(run)) throw new Error(`run ${JSON.stringify(run)} must match ${ID_PATTERN}`);
  return Array.from({ length: EVENTS_PER_RUN }, (_, i): TelemetryEventInput => {
    const planted = i === 0;
    // prettier-ignore
    return {
      event_type: 'request', trace_id: run, request_id: `${run}-${i}`, session_id: run, tenant_id: 'integ',
      user_id: planted ? PLANTED.email : `integ-user-${i}`, user_role: 'employee', intent: 'policy_qna', risk_level: 'low',
      model: 'anthropic:claude-sonnet-4', prompt_version: 'pv-integ',
      status: planted ? 'timeout' : 'ok', ...(planted ? { error_code: 'provider_timeout', error_message: PLANTED_ERROR_MESSAGE } : {}),
      latency_ms: 100 + i, retrieval_latency_ms: 10, llm_latency_ms: 80, tool_latency_ms: 0,
      input_tokens: 100, output_tokens: planted ? 0 : 50, llm_calls: 1, provider_retries: planted ? 1 : 0, fallback_used: false,
      cache_hit: false, retrieval_used: false, sources: [], sources_count: 0, access_denials: 0, citations_present: false,
      tool_path: 'none', tools_proposed: 0, tools_executed: 0, tool_validation_failures: 0, tool_errors: 0,
      false_confirmation: false, guardrail_action: 'allow', redaction_applied: false, input_chars: 120, output_chars: planted ? 0 : 300,
      pii_detected: planted, outcome: planted ? 'failure' : 'success',
    };
  });
}

/** The UTC dates (`dt` partitions) a run sent at `now` can land in: today, and yesterday for a run that crossed midnight. */
export function runDates(now: Date): string[] {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return [...new Set([day(now.getTime()), day(now.getTime() - 86_400_000)])];
}

/** The events-table query for a run's rows (every column), over its candidate partitions. */
export function runQuery(database: string, run: string, dates: readonly string[]): string {
  const safe = (v: string, re: RegExp) => {
    if (!re.test(v)) throw new Error(`${JSON.stringify(v)} must match ${re}`);
    return v;
  };
  const dts = dates.map((d) => `'${safe(d, /^\d{4}-\d{2}-\d{2}$/)}'`).join(', ');
  const db = safe(database, /^[a-z0-9_]{1,255}$/);
  return `SELECT * FROM "${db}"."events" WHERE event_type = 'request' AND dt IN (${dts}) AND trace_id = '${safe(run, ID_PATTERN)}'`;
}

/** The `check` verdict from the stored objects and the run's rows as Athena returned them. */
export function checkVerdict(o: {
  readonly run: string;
  readonly objects: number;
  /** Magic bytes at the start and the end of the newest object. */
  readonly head: string;
  readonly tail: string;
  readonly rows: readonly Readonly<Record<string, unknown>>[];
}): CheckReport {
  const text = JSON.stringify(o.rows).toLowerCase();
  const seen = (v: string) => (text.includes(v.toLowerCase()) ? 'present' : 'absent');
  const events = new Set(o.rows.map((r) => r.event_id)).size;
  const planted = o.rows.find((r) => r.request_id === `${o.run}-0`);
  const parquet = o.objects === 0 ? 'none' : o.head === 'PAR1' && o.tail === 'PAR1' ? 'PAR1' : `not Parquet (${o.head}...${o.tail})`;
  const status =
    o.objects === 0
      ? 'waiting: no object under the run partitions yet'
      : events < EVENTS_PER_RUN
        ? `waiting: ${events} of ${EVENTS_PER_RUN} events in the table`
        : 'found';
  return {
    status,
    parquet,
    objects: String(o.objects),
    events: String(events),
    planted_email: seen(PLANTED.email),
    planted_key: seen(PLANTED.awsAccessKey),
    error_message: typeof planted?.error_message === 'string' ? planted.error_message : '',
  };
}
