/**
 * `fromOtelSpan(span, context)`: maps a span that carries OpenTelemetry GenAI
 * semantic-convention attributes onto a contract `span` record, so applications already
 * instrumented with OpenTelemetry can send to this stack.
 *
 * The span input is structural (no @opentelemetry dependency): an SDK `ReadableSpan`
 * fits it (`spanContext()` method, HrTime `[seconds, nanos]` times, `parentSpanContext`
 * or `parentSpanId`), and so does a plain object with `spanContext: { traceId, spanId }`
 * and epoch-millisecond times.
 *
 * | record field | from |
 * |---|---|
 * | trace_id, span_id | `spanContext` |
 * | parent_span_id | `parentSpanId`, else `parentSpanContext.spanId`, else `context.parent_span_id` |
 * | span_kind | `gen_ai.operation.name` (table `OPERATION_KINDS`), else `context.span_kind` |
 * | name | `gen_ai.tool.name`, else the span name |
 * | model | `gen_ai.provider.name` (or deprecated `gen_ai.system`) `:` `gen_ai.request.model` |
 * | input_tokens, output_tokens | `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens` |
 * | session_id | `gen_ai.conversation.id`, else `context.session_id` |
 * | latency_ms, timestamp | end time minus start time; start time |
 * | status, error_code | `error.type` (`timeout` in it: timeout) or status code ERROR: error |
 * | event_id | `otel-<traceId>-<spanId>`: a span exported twice de-duplicates |
 *
 * What the span carries wins; `context` supplies the rest (tenant_id, user_role, intent,
 * risk_level, request_id, ...). The result is validated against the contract. Never throws.
 */
import { SCHEMA_VERSION, parseTelemetryEvent, type SpanEvent } from '../core/contract';

/** OTel `HrTime` (`[seconds, nanoseconds]`), epoch milliseconds, or a Date. */
export type SpanTime = readonly [number, number] | number | Date;

/** The ids of a span. */
export interface SpanIds {
  readonly traceId: string;
  readonly spanId: string;
}

/** The part of an OpenTelemetry span the mapping reads (an SDK `ReadableSpan` fits). */
export interface OtelSpanInput {
  readonly name: string;
  /** The span's ids; `ReadableSpan` has it as a method. */
  readonly spanContext: SpanIds | (() => SpanIds);
  /** Parent span id (OTel SDK 1.x). */
  readonly parentSpanId?: string;
  /** Parent span context (OTel SDK 2.x). */
  readonly parentSpanContext?: Pick<SpanIds, 'spanId'>;
  readonly startTime: SpanTime;
  readonly endTime: SpanTime;
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** `code`: 0 unset, 1 ok, 2 error. */
  readonly status?: { readonly code: number; readonly message?: string };
}

/** Fields a span does not carry; the caller supplies them (the required five at least). */
export type OtelSpanContext = Pick<SpanEvent, 'tenant_id' | 'user_role' | 'intent' | 'risk_level' | 'request_id'> &
  Partial<Omit<SpanEvent, 'event_type' | 'schema_version' | 'trace_id' | 'span_id' | 'latency_ms' | 'timestamp'>>;

export type OtelMapResult = { readonly ok: true; readonly event: SpanEvent } | { readonly ok: false; readonly reason: string };

/** `gen_ai.operation.name` values and the span kind each maps to. */
export const OPERATION_KINDS: Readonly<Record<string, SpanEvent['span_kind']>> = {
  chat: 'llm',
  text_completion: 'llm',
  generate_content: 'llm',
  execute_tool: 'tool',
  embeddings: 'retrieval',
  retrieval: 'retrieval',
};

/** OTel `SpanStatusCode.ERROR`. */
const STATUS_ERROR = 2;
const LABEL_MAX = 256;
const FREE_TEXT_MAX = 65_536;

/** An own attribute (never one inherited through the prototype, e.g. `__proto__`). */
function attr(attrs: Readonly<Record<string, unknown>> | undefined, key: string): unknown {
  return attrs && typeof attrs === 'object' && Object.prototype.hasOwnProperty.call(attrs, key) ? attrs[key] : undefined;
}

/** A non-empty string attribute, or undefined; a present attribute of another type is an error. */
function text(attrs: Readonly<Record<string, unknown>> | undefined, key: string, problems: string[]): string | undefined {
  const v = attr(attrs, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    problems.push(`${key}: expected a string`);
    return undefined;
  }
  return v.length > 0 ? v : undefined;
}

/** A token count attribute: a non-negative integer (OTel int attributes may arrive as numbers only). */
function tokens(attrs: Readonly<Record<string, unknown>> | undefined, key: string, problems: string[]): number | undefined {
  const v = attr(attrs, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    problems.push(`${key}: expected a non-negative integer`);
    return undefined;
  }
  return v;
}

/** Epoch milliseconds of a span time, or undefined when it is not one. */
export function spanTimeMs(t: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof t === 'number') ms = t;
  else if (t instanceof Date) ms = t.getTime();
  else if (Array.isArray(t) && t.length === 2 && typeof t[0] === 'number' && typeof t[1] === 'number') ms = t[0] * 1_000 + t[1] / 1e6;
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

const clip = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

/** Maps a GenAI span onto a contract `span` record. Never throws. */
export function fromOtelSpan(span: OtelSpanInput, context: OtelSpanContext): OtelMapResult {
  try {
    return map(span, context);
  } catch (e) {
    return { ok: false, reason: `unreadable span (${e instanceof Error ? e.name : typeof e})` };
  }
}

function map(span: OtelSpanInput, context: OtelSpanContext): OtelMapResult {
  if (typeof span !== 'object' || span === null) return { ok: false, reason: 'span: expected an object' };
  const problems: string[] = [];
  const a = span.attributes;

  const ids = typeof span.spanContext === 'function' ? span.spanContext() : span.spanContext;
  if (!ids || typeof ids.traceId !== 'string' || typeof ids.spanId !== 'string') problems.push('spanContext: traceId and spanId required');

  const start = spanTimeMs(span.startTime);
  const end = spanTimeMs(span.endTime);
  if (start === undefined) problems.push('startTime: expected HrTime [seconds, nanos] or epoch milliseconds');
  if (end === undefined) problems.push('endTime: expected HrTime [seconds, nanos] or epoch milliseconds (has the span ended?)');
  if (start !== undefined && end !== undefined && end < start) problems.push('endTime: before startTime');

  const operation = text(a, 'gen_ai.operation.name', problems);
  const kind =
    (operation !== undefined && Object.prototype.hasOwnProperty.call(OPERATION_KINDS, operation)
      ? OPERATION_KINDS[operation]
      : undefined) ?? context?.span_kind;
  if (kind === undefined) {
    problems.push(
      operation === undefined
        ? 'gen_ai.operation.name: absent; pass context.span_kind'
        : `gen_ai.operation.name: ${clip(operation, 64)} has no span kind (known: ${Object.keys(OPERATION_KINDS).join(', ')}); pass context.span_kind`,
    );
  }

  // An empty parent id is how some exporters write "no parent".
  const parent = span.parentSpanId || span.parentSpanContext?.spanId || context?.parent_span_id || undefined;
  if (parent === undefined) problems.push('parent_span_id: the span has no parent; pass context.parent_span_id');

  const provider = text(a, 'gen_ai.provider.name', problems) ?? text(a, 'gen_ai.system', problems);
  const requestModel = text(a, 'gen_ai.request.model', problems);
  const inputTokens = tokens(a, 'gen_ai.usage.input_tokens', problems);
  const outputTokens = tokens(a, 'gen_ai.usage.output_tokens', problems);
  const conversation = text(a, 'gen_ai.conversation.id', problems);
  const toolName = text(a, 'gen_ai.tool.name', problems);
  const errorType = text(a, 'error.type', problems);
  if (typeof span.name !== 'string') problems.push('name: expected a string');
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };

  const failed = errorType !== undefined || span.status?.code === STATUS_ERROR;
  const status: SpanEvent['status'] = !failed ? 'ok' : errorType !== undefined && /timeout/i.test(errorType) ? 'timeout' : 'error';
  const message = failed && typeof span.status?.message === 'string' && span.status.message.length > 0 ? span.status.message : undefined;

  // What the span carries; only defined values, so that the context fills the rest.
  const derived: Record<string, unknown> = {
    schema_version: SCHEMA_VERSION,
    event_type: 'span',
    event_id: `otel-${ids.traceId}-${ids.spanId}`,
    timestamp: new Date(start!).toISOString(),
    trace_id: ids.traceId,
    span_id: ids.spanId,
    parent_span_id: parent,
    span_kind: kind,
    name: clip(toolName ?? span.name, LABEL_MAX),
    latency_ms: end! - start!,
    status,
    session_id: conversation,
    model: requestModel === undefined ? undefined : clip(provider === undefined ? requestModel : `${provider}:${requestModel}`, LABEL_MAX),
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    error_code: errorType === undefined ? undefined : clip(errorType, LABEL_MAX),
    error_message: message === undefined ? undefined : clip(message, FREE_TEXT_MAX),
    executed: kind === 'tool' && operation === 'execute_tool' && context?.executed === undefined ? true : undefined,
  };
  const event: Record<string, unknown> = { ...context };
  for (const [k, v] of Object.entries(derived)) if (v !== undefined) event[k] = v;

  const parsed = parseTelemetryEvent(event);
  if (!parsed.ok) return { ok: false, reason: `${parsed.reason}: ${parsed.detail}` };
  return { ok: true, event: parsed.value as SpanEvent };
}
