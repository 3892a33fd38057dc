/**
 * The pure core of the Firehose transformation: every record in, every recordId out, in
 * order, each `Ok` (a validated, minimized, pseudonymized, redacted event, or a
 * quarantine stub) or `Dropped` (a debug capture with no live enrolment). Never
 * `ProcessingFailed`: Firehose would write the raw bytes to its error output.
 *
 * One record per Firehose record: de-aggregation (newline-delimited events packed by the
 * producer) happens in Firehose before the Lambda. A record that still holds several
 * JSON values is therefore a producer or configuration fault; it is quarantined as
 * `unparseable_json` with a detail saying so, never split here (splitting would return
 * more records than recordIds).
 */
import { enrolmentVerdict as sharedVerdict, type EnrolmentRule } from '../contract/enrolment';
import { createHash } from 'node:crypto';
// The contract's schema and parser only: the column list (JSON Schema) stays out of the Lambda bundle.
import { isJsonObject, parseDebugCapture, parseTelemetryEvent, readEventType } from '../contract/parse';
import {
  ID_PATTERN,
  QUARANTINE_ID_FIELDS,
  type DebugCapture,
  type QuarantineReason,
  type QuarantineRecord,
  type TelemetryEvent,
} from '../contract/schema';
import { mergeCounts, pseudonymize, type JsonValue, type RedactionCounts, type Redactor } from '../redaction';
import { samplingDecision } from './sampling';
import { dropUnlistedSignals } from './signals';

/** One record of a Firehose transformation event. */
export interface FirehoseRecordIn {
  readonly recordId: string;
  /** Base64 of the record's bytes. */
  readonly data: string;
  readonly approximateArrivalTimestamp?: number;
}

/** A Firehose transformation event (the fields the transform reads). */
export interface FirehoseEventIn {
  readonly invocationId?: string;
  readonly deliveryStreamArn?: string;
  readonly region?: string;
  readonly records: readonly FirehoseRecordIn[];
}

/** Partition keys for `!{partitionKeyFromLambda:...}`: low cardinality only. */
export interface PartitionKeys {
  readonly area: 'events' | 'quarantine' | 'captures';
  readonly event_type: string;
  /** YYYY-MM-DD, UTC. */
  readonly dt: string;
}

export interface FirehoseRecordOut {
  readonly recordId: string;
  readonly result: 'Ok' | 'Dropped';
  /** Base64 of one newline-terminated JSON object ('' when dropped). */
  readonly data: string;
  readonly metadata: { readonly partitionKeys: PartitionKeys };
}

export interface FirehoseResponse {
  readonly records: FirehoseRecordOut[];
}

/** Which stream a transform serves: `events` (the redact Lambda) or `captures` (the debug-capture Lambda). */
export type StreamKind = 'events' | 'captures';

/** Why a debug capture was dropped. */
export type EnrolmentDropReason = 'not_enrolled' | 'expired' | 'tenant_mismatch' | 'role_mismatch';

/** What happened in one batch: numbers and closed labels only, never content. */
export interface TransformStats {
  recordsIn: number;
  ok: number;
  quarantined: Partial<Record<QuarantineReason, number>>;
  dropped: Partial<Record<EnrolmentDropReason, number>>;
  fieldsDropped: number;
  attributesDropped: number;
  redactions: RedactionCounts;
  /** Valid records not stored because `capture.sampling_rate` sampled their trace out (events stream; counted, `Dropped`). */
  sampledOut?: number;
  /** User outcome signals removed from feedback records because the policy does not list them. */
  signalsDropped?: number;
}

export interface TransformContext {
  readonly redactor: Redactor;
  /** Key for the `user_id` HMAC. */
  readonly hashKey: Uint8Array;
  /** `attributes` keys declared in the policy; any other key is dropped and counted. */
  readonly allowedAttributes: ReadonlySet<string>;
  readonly now: () => Date;
  /** Larger decoded records are quarantined as `oversized`. Default 1 MiB (Firehose's record limit is 1000 KiB). */
  readonly maxRecordBytes?: number;
  /** Deeper JSON nesting is quarantined as `too_deep`. Default 16 (an event is two levels deep). */
  readonly maxDepth?: number;
  /** `capture.sampling_rate` (events stream): the fraction of traces stored. Default 1 (keep all). */
  readonly samplingRate?: number;
  /** `capture.user_outcome_signals` (events stream): feedback signals kept. Default: all four. */
  readonly outcomeSignals?: ReadonlySet<string>;
}

export interface DebugTransformContext extends TransformContext {
  readonly enrolments: readonly EnrolmentRule[];
}

export interface TransformResult {
  readonly response: FirehoseResponse;
  readonly stats: TransformStats;
  /** The events stream's valid records as written (redacted), for the bucket metrics. */
  readonly events?: readonly TelemetryEvent[];
}

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 16;
const EXCERPT_CHARS = 256;
const EXCERPT_WINDOW = 64 * 1024;
const USER_ID_VALUE = /("user_id"[ \t]{0,8}:[ \t]{0,8}")[^"\\]{0,256}"/g;

/** A fresh, empty stats object. */
export function emptyStats(): TransformStats {
  return {
    recordsIn: 0,
    ok: 0,
    quarantined: {},
    dropped: {},
    fieldsDropped: 0,
    attributesDropped: 0,
    redactions: {},
    sampledOut: 0,
    signalsDropped: 0,
  };
}

// ----- decoding ------------------------------------------------------------------------

type Decoded =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: QuarantineReason; readonly detail: string };

/**
 * Why a text that `JSON.parse` rejected is rejected: too deep, several top-level values, or
 * just not JSON. One linear pass that checks nesting depth and counts top-level
 * objects/arrays. Only run on failure: for text that parses, the same verdicts come from
 * the value (see `nestsDeeper`).
 */
function shapeOf(text: string, maxDepth: number): { tooDeep: boolean; topLevelValues: number } {
  let depth = 0;
  let inString = false;
  let values = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    // Only objects and arrays are counted: enough to tell "several events in one record".
    if (depth === 0 && (c === 123 || c === 91)) values++;
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return { tooDeep: true, topLevelValues: values };
    } else if (c === 125 || c === 93) depth = Math.max(0, depth - 1);
  }
  return { tooDeep: false, topLevelValues: values };
}

/**
 * True when a parsed value nests objects/arrays deeper than `maxDepth` (the top-level
 * object is depth 1). For valid JSON text this is exactly `shapeOf(text).tooDeep`: the
 * brackets outside strings are the value's containers. Level by level, so a deep value
 * never deepens the call stack (`JSON.parse` itself takes any depth a record can hold).
 */
function nestsDeeper(value: unknown, maxDepth: number): boolean {
  let level: object[] = typeof value === 'object' && value !== null ? [value] : [];
  for (let depth = 1; level.length > 0; depth++) {
    if (depth > maxDepth) return true;
    const next: object[] = [];
    for (const v of level) {
      const children: readonly unknown[] = Array.isArray(v) ? v : Object.values(v);
      for (let i = 0; i < children.length; i++) {
        const c = children[i];
        if (typeof c === 'object' && c !== null) next.push(c);
      }
    }
    level = next;
  }
  return false;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decoded bytes to a JSON value, or the quarantine reason. Parses first: valid JSON text
 * holds exactly one value, so only its depth can still reject it, and that is read off the
 * parsed value (a few containers) instead of a character scan of the whole text. Text that
 * does not parse is scanned to say why (too deep, several values, or not JSON).
 */
export function decodeJson(bytes: Uint8Array, maxBytes: number, maxDepth: number): Decoded {
  if (bytes.length > maxBytes)
    return { ok: false, reason: 'oversized', detail: `record is ${bytes.length} bytes; at most ${maxBytes} are accepted` };
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, reason: 'unparseable_json', detail: 'record is not valid UTF-8' };
  }
  let value: unknown;
  try {
    // The parser's message can quote the input, so it is never kept.
    value = JSON.parse(text) as unknown;
  } catch {
    return rejected(text, maxDepth);
  }
  if (nestsDeeper(value, maxDepth)) return tooDeep(maxDepth);
  return { ok: true, value };
}

/** The reason for text that `JSON.parse` rejected, in order: too deep, several values, empty, not JSON. */
function rejected(text: string, maxDepth: number): Decoded {
  const shape = shapeOf(text, maxDepth);
  if (shape.tooDeep) return tooDeep(maxDepth);
  if (shape.topLevelValues > 1) {
    return {
      ok: false,
      reason: 'unparseable_json',
      detail:
        'record holds several JSON values; one object per record is expected (Firehose de-aggregation splits newline-delimited events before the Lambda)',
    };
  }
  return { ok: false, reason: 'unparseable_json', detail: text.trim() === '' ? 'record is empty' : 'record is not valid JSON' };
}

function tooDeep(maxDepth: number): Decoded {
  return { ok: false, reason: 'too_deep', detail: `record nests deeper than ${maxDepth} levels` };
}

// ----- events ---------------------------------------------------------------------------

/** A validated, minimized, pseudonymized and redacted event, or why it was rejected. */
export type PreparedEvent =
  | {
      readonly ok: true;
      readonly event: TelemetryEvent;
      readonly fieldsDropped: number;
      readonly attributesDropped: number;
      readonly redactions: RedactionCounts;
    }
  | { readonly ok: false; readonly reason: QuarantineReason; readonly detail: string };

/**
 * Everything ingest does to one decoded record: drop undeclared attributes, validate
 * (dropping unknown fields), pseudonymize `user_id`, redact every free-text field.
 * Never mutates `value`. Shared by the Lambda and `llmops redact --events`.
 */
export function prepareEvent(value: unknown, ctx: Pick<TransformContext, 'redactor' | 'hashKey' | 'allowedAttributes'>): PreparedEvent {
  return prepare(value, ctx, (userId) => pseudonymize(userId, ctx.hashKey), false);
}

/**
 * `prepareEvent` with the `user_id` pseudonymization given (a batch passes a memoized one).
 * `owned`: `value` is the caller's own fresh parse, read afterwards only for its ids and
 * event_type, so undeclared attributes are removed by replacing its `attributes` instead
 * of copying the whole record.
 */
function prepare(
  value: unknown,
  ctx: Pick<TransformContext, 'redactor' | 'allowedAttributes'>,
  pseudonym: (userId: string) => string,
  owned: boolean,
): PreparedEvent {
  let attributesDropped = 0;
  let input = value;
  if (isJsonObject(value) && Object.prototype.hasOwnProperty.call(value, 'attributes') && isJsonObject(value.attributes)) {
    const attributes = value.attributes;
    const kept: [string, unknown][] = [];
    for (const k of Object.keys(attributes)) {
      if (ctx.allowedAttributes.has(k)) kept.push([k, attributes[k]]);
      else attributesDropped++;
    }
    // With nothing to drop the record goes to the parser as it is.
    if (attributesDropped > 0) {
      // Spread and fromEntries define own properties: a "__proto__" key stays data.
      const declared = Object.fromEntries(kept);
      if (owned) value.attributes = declared;
      else input = { ...value, attributes: declared };
    }
  }
  const parsed = parseTelemetryEvent(input);
  if (!parsed.ok) return { ok: false, reason: parsed.reason, detail: parsed.detail };
  // The parser builds a fresh object for the event and for its attributes (zod objects and
  // records never return their input), so both are edited in place.
  const event: TelemetryEvent = parsed.value;
  const redactions: RedactionCounts = {};
  if (event.user_id !== undefined) event.user_id = pseudonym(event.user_id);
  if ((event.event_type === 'request' || event.event_type === 'span') && event.error_message !== undefined) {
    event.error_message = ctx.redactor.redactText(event.error_message, redactions).text;
  }
  const attributes = event.attributes;
  if (attributes) {
    for (const k of Object.keys(attributes)) {
      const r = ctx.redactor.redactValue(attributes[k] as string, k);
      attributes[k] = r.value as string;
      mergeCounts(redactions, r.counts);
    }
  }
  return { ok: true, event, fieldsDropped: parsed.droppedFields.length, attributesDropped, redactions };
}

// ----- batches --------------------------------------------------------------------------

/**
 * A batch's encoder of record data: base64 of `json` and a newline, written through one
 * scratch buffer reused for every record instead of a Buffer (and a joined string) each.
 */
function recordEncoder(): (json: string) => string {
  let scratch = Buffer.allocUnsafe(0);
  return (json) => {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const need = json.length * 3 + 1;
    if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, 64 * 1024));
    const n = scratch.write(json, 0, 'utf8');
    scratch[n] = 0x0a;
    return scratch.toString('base64', 0, n + 1);
  };
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * `pseudonymize` under one key, memoized for one batch: a user sends many events (a request
 * and its spans, feedback), and a lookup costs far less than an HMAC. Lives only as long as
 * the batch.
 */
function batchPseudonymizer(key: Uint8Array): (userId: string) => string {
  const seen = new Map<string, string>();
  return (userId) => {
    let hash = seen.get(userId);
    if (hash === undefined) {
      hash = pseudonymize(userId, key);
      seen.set(userId, hash);
    }
    return hash;
  };
}

/**
 * Transforms a batch from the events stream. Every valid record is in `events` (the bucket
 * metrics count them all); `capture.sampling_rate` then decides which are stored
 * (`applySampling`), and unlisted outcome signals never reach either.
 */
export function transformBatch(event: FirehoseEventIn, ctx: TransformContext): TransformResult {
  const events: TelemetryEvent[] = [];
  /** Output index of each valid record, beside its event. */
  const at: number[] = [];
  const pseudonym = batchPseudonymizer(ctx.hashKey);
  const result = runBatch(event, ctx, (value, stats) => {
    const p = prepare(value, ctx, pseudonym, true);
    if (!p.ok) return p;
    if (ctx.outcomeSignals) stats.signalsDropped = (stats.signalsDropped ?? 0) + dropUnlistedSignals(p.event, ctx.outcomeSignals);
    events.push(p.event);
    at.push(stats.recordsIn - 1);
    stats.fieldsDropped += p.fieldsDropped;
    stats.attributesDropped += p.attributesDropped;
    mergeCounts(stats.redactions, p.redactions);
    return {
      result: 'Ok',
      body: p.event,
      keys: { area: 'events', event_type: p.event.event_type, dt: p.event.timestamp.slice(0, 10) },
    };
  });
  applySampling(result, events, at, ctx.samplingRate ?? 1);
  return { ...result, events };
}

/**
 * Turns the valid records that `capture.sampling_rate` samples out into `Dropped`, counted
 * in `sampledOut` (and no longer in `ok`). A trace with an always-kept record (P0 or
 * flagged) in this batch keeps all its records of the batch.
 */
function applySampling(result: TransformResult, events: readonly TelemetryEvent[], at: readonly number[], rate: number): void {
  if (rate >= 1) return;
  const decisions = events.map((e) => samplingDecision(e, rate));
  const promoted = new Set(events.filter((_, i) => decisions[i] === 'always').map((e) => e.trace_id));
  const { records } = result.response;
  const { stats } = result;
  events.forEach((e, i) => {
    const out = records[at[i] as number] as FirehoseRecordOut;
    if (decisions[i] !== 'sampled_out' || promoted.has(e.trace_id)) return;
    records[at[i] as number] = { ...out, result: 'Dropped', data: '' };
    stats.ok--;
    stats.sampledOut = (stats.sampledOut ?? 0) + 1;
  });
}

/** Transforms a batch from the debug-capture stream: enrolment and expiry checked again, then redacted. */
export function transformDebugBatch(event: FirehoseEventIn, ctx: DebugTransformContext): TransformResult {
  return runBatch(event, ctx, (value, stats) => {
    const parsed = parseDebugCapture(value);
    if (!parsed.ok) return { ok: false, reason: parsed.reason, detail: parsed.detail };
    stats.fieldsDropped += parsed.droppedFields.length;
    const capture = parsed.value;
    const verdict = enrolmentVerdict(capture, ctx.enrolments, ctx.now());
    if (verdict !== 'enrolled') return { result: 'Dropped', reason: verdict };
    const out: DebugCapture = { ...capture };
    for (const field of ['prompt_text', 'completion_text', 'retrieved_text'] as const) {
      const v = out[field];
      if (v === undefined) continue;
      const r = ctx.redactor.redactText(v);
      out[field] = r.text;
      mergeCounts(stats.redactions, r.counts);
    }
    if (out.tool_payload !== undefined) out.tool_payload = redactPayload(out.tool_payload, ctx.redactor, stats.redactions);
    return { result: 'Ok', body: out, keys: { area: 'captures', event_type: 'capture', dt: out.timestamp.slice(0, 10) } };
  });
}

/** Which live enrolment, if any, allows this capture at `now` (the rule shared with the producer and the kill-switch client). */
export function enrolmentVerdict(capture: DebugCapture, enrolments: readonly EnrolmentRule[], now: Date): 'enrolled' | EnrolmentDropReason {
  return sharedVerdict(capture, enrolments, now.getTime());
}

/** A tool payload that is JSON is redacted value by value (keys give context); other text as text. */
function redactPayload(payload: string, redactor: Redactor, counts: RedactionCounts): string {
  const t = payload.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    const decoded = decodeJson(Buffer.from(payload, 'utf8'), Number.MAX_SAFE_INTEGER, 64);
    if (decoded.ok) {
      const r = redactor.redactValue(decoded.value as JsonValue);
      mergeCounts(counts, r.counts);
      return JSON.stringify(r.value);
    }
  }
  const r = redactor.redactText(payload);
  mergeCounts(counts, r.counts);
  return r.text;
}

type RecordOutcome =
  | { readonly result: 'Ok'; readonly body: object; readonly keys: PartitionKeys }
  | { readonly result: 'Dropped'; readonly reason: EnrolmentDropReason }
  | { readonly ok: false; readonly reason: QuarantineReason; readonly detail: string };

/** The per-record loop shared by both streams: decode, handle, quarantine on any failure, one output per input. */
function runBatch(
  event: FirehoseEventIn,
  ctx: TransformContext,
  handle: (value: unknown, stats: TransformStats) => RecordOutcome,
): TransformResult {
  const stats = emptyStats();
  const records: FirehoseRecordOut[] = [];
  const maxBytes = ctx.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const maxDepth = ctx.maxDepth ?? DEFAULT_MAX_DEPTH;
  const encode = recordEncoder();
  for (const rec of event.records) {
    stats.recordsIn++;
    const recordId = String(rec.recordId);
    let bytes: Buffer = Buffer.alloc(0);
    let value: unknown;
    let out: FirehoseRecordOut;
    try {
      bytes = Buffer.from(typeof rec.data === 'string' ? rec.data : '', 'base64');
      const decoded = decodeJson(bytes, maxBytes, maxDepth);
      let outcome: RecordOutcome;
      if (decoded.ok) {
        value = decoded.value;
        outcome = handle(value, stats);
      } else {
        outcome = { ok: false, reason: decoded.reason, detail: decoded.detail };
      }
      if ('result' in outcome && outcome.result === 'Ok') {
        stats.ok++;
        out = { recordId, result: 'Ok', data: encode(JSON.stringify(outcome.body)), metadata: { partitionKeys: outcome.keys } };
      } else if ('result' in outcome) {
        stats.dropped[outcome.reason] = (stats.dropped[outcome.reason] ?? 0) + 1;
        out = {
          recordId,
          result: 'Dropped',
          data: '',
          metadata: { partitionKeys: { area: 'captures', event_type: 'capture', dt: day(ctx.now()) } },
        };
      } else {
        out = quarantine(recordId, outcome.reason, outcome.detail, bytes, value, ctx, stats, encode);
      }
    } catch {
      // A crash while handling one record affects that record only.
      out = quarantine(recordId, 'internal_error', 'the transform failed on this record', bytes, value, ctx, stats, encode);
    }
    records.push(out);
  }
  return { response: { records }, stats };
}

/** Builds the quarantine stub: reason, sizes, hash, readable ids, redacted excerpt. Never throws. */
function quarantine(
  recordId: string,
  reason: QuarantineReason,
  detail: string,
  bytes: Uint8Array,
  value: unknown,
  ctx: TransformContext,
  stats: TransformStats,
  encode: (json: string) => string,
): FirehoseRecordOut {
  stats.quarantined[reason] = (stats.quarantined[reason] ?? 0) + 1;
  const now = safeNow(ctx);
  const rec: QuarantineRecord = {
    schema_version: 1,
    timestamp: now.toISOString(),
    quarantine_reason: reason,
    quarantine_detail: detail.slice(0, 512),
    raw_bytes: bytes.length,
    raw_sha256: createHash('sha256').update(bytes).digest('hex'),
    raw_excerpt: '',
  };
  const eventType = readEventType(value);
  if (eventType) rec.event_type = eventType;
  if (isJsonObject(value)) {
    for (const f of QUARANTINE_ID_FIELDS) {
      const v = Object.prototype.hasOwnProperty.call(value, f) ? value[f] : undefined;
      if (typeof v === 'string' && ID_PATTERN.test(v)) rec[f] = v;
    }
  }
  rec.raw_excerpt = excerpt(bytes, ctx.redactor, stats);
  return {
    recordId,
    result: 'Ok',
    data: encode(JSON.stringify(rec)),
    metadata: { partitionKeys: { area: 'quarantine', event_type: eventType ?? 'unknown', dt: day(now) } },
  };
}

function safeNow(ctx: TransformContext): Date {
  try {
    const d = ctx.now();
    if (!Number.isNaN(d.getTime())) return d;
  } catch {
    // fall through
  }
  return new Date();
}

/**
 * The first 256 characters of the redacted raw text. The redaction runs over a 64 KiB
 * window before cutting, so a value is never cut in half before it is recognized.
 */
function excerpt(bytes: Uint8Array, redactor: Redactor, stats: TransformStats): string {
  try {
    // user_id is never kept as sent, not even in the quarantine: blank its value first.
    const text = Buffer.from(bytes.subarray(0, EXCERPT_WINDOW)).toString('utf8').replace(USER_ID_VALUE, '$1[USER_ID]"');
    const r = redactor.redactText(text);
    mergeCounts(stats.redactions, r.counts);
    return r.text.replace(/[\u0000-\u001f\u007f\ufffd]/g, '.').slice(0, EXCERPT_CHARS);
  } catch {
    return '';
  }
}
