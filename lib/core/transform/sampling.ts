/**
 * `capture.sampling_rate`: which valid records the events stream stores. Pure.
 *
 * - The decision is by trace: `traceFraction(trace_id)` maps the trace id to [0, 1) with
 *   SHA-256 (the first 48 bits), and the trace is kept when that is below the rate. The
 *   request, its spans and its feedback share the trace id, so they share the decision,
 *   in any batch, on any Lambda instance, on any day.
 * - Always kept, whatever the rate: records that are P0 (`p0_category`, or `detected_p0`
 *   set by the ingest's own detection) and flagged records (`isAlwaysKept`): an error
 *   or timeout, a guardrail block or escalation, a false confirmation, an escalation to a
 *   human (request outcome or feedback). In a batch that holds such a record, every record
 *   of its trace is kept too (the transform promotes them), so a P0 request keeps the spans
 *   that explain it when they travel together.
 * - Sampling decides only what is stored: the bucket metrics are computed from every valid
 *   record before it (the dashboards and alarms count every request), and a sampled-out
 *   record is returned to Firehose as `Dropped` and counted (`RecordsSampledOut`).
 */
import { createHash } from 'node:crypto';
import type { TelemetryEvent } from '../contract/schema';

/** Why a record is kept or not: `always` (P0 or flagged), `sampled_in` (its trace is inside the rate), `sampled_out` (not stored, counted). */
export type SamplingDecision = 'always' | 'sampled_in' | 'sampled_out';

/** The trace id's place in [0, 1): the first 48 bits of its SHA-256, so uniform and the same everywhere. */
export function traceFraction(traceId: string): number {
  return createHash('sha256').update(traceId, 'utf8').digest().readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Whether this record is kept at any rate: P0 (`p0_category`, or `detected_p0` from the
 * ingest's own detection, read defensively), status `error` or `timeout`, guardrail_action
 * `block` or `escalate`, a false confirmation, outcome `escalated` or feedback `escalated_to_human`.
 */
export function isAlwaysKept(record: TelemetryEvent): boolean {
  const r = record as Partial<Record<string, unknown>>;
  return (
    (r.detected_p0 ?? r.p0_category ?? undefined) !== undefined ||
    (r.status !== undefined && r.status !== 'ok') ||
    r.guardrail_action === 'block' ||
    r.guardrail_action === 'escalate' ||
    r.false_confirmation === true ||
    r.outcome === 'escalated' ||
    r.escalated_to_human === true
  );
}

/**
 * Whether `capture.sampling_rate` keeps this record: always for P0 and flagged records,
 * else by its trace id (`traceFraction(trace_id) < rate`). A rate of 1 keeps everything;
 * a rate outside (0, 1] is a caller's bug (the policy schema refuses one) and keeps everything.
 */
export function samplingDecision(record: TelemetryEvent, rate: number): SamplingDecision {
  if (isAlwaysKept(record)) return 'always';
  if (!(rate > 0 && rate < 1)) return 'sampled_in';
  return traceFraction(record.trace_id) < rate ? 'sampled_in' : 'sampled_out';
}
