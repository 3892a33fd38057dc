/**
 * fromOtelSpan: every GenAI semantic-convention attribute it reads, both span shapes
 * (SDK ReadableSpan with HrTime and `spanContext()`, plain objects with epoch ms),
 * rejections with their reasons, never throwing, and mapped spans sent through the
 * real client to the local Firehose.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTelemetryEvent } from '../lib/core/contract';
import { TelemetryClient, fromOtelSpan, spanTimeMs, type OtelSpanContext, type OtelSpanInput } from '../lib/client';
import { startFirehoseServer, type FirehoseServer } from './support/firehose-server';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const PARENT = 'a3ce929d0e0e4736';
/** 2026-11-29T15:25:50.123456789Z as OTel HrTime. */
const START: [number, number] = [1_795_965_950, 123_456_789];
const END: [number, number] = [1_795_965_951, 623_456_789]; // 1,500 ms later

const context: OtelSpanContext = {
  tenant_id: 'emea',
  user_role: 'employee',
  intent: 'policy_qna',
  risk_level: 'low',
  request_id: 'req-1',
  session_id: 'sess-ctx',
};

/** An SDK-1.x-like ReadableSpan: `spanContext()` method, HrTime, `parentSpanId`. */
function readableSpan(attributes: Record<string, unknown>, extra: Partial<OtelSpanInput> = {}): OtelSpanInput {
  return {
    name: 'chat claude-sonnet-4',
    spanContext: () => ({ traceId: TRACE, spanId: SPAN }),
    parentSpanId: PARENT,
    startTime: START,
    endTime: END,
    attributes,
    status: { code: 0 },
    ...extra,
  };
}

const chat = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'anthropic',
  'gen_ai.request.model': 'claude-sonnet-4',
  'gen_ai.usage.input_tokens': 812,
  'gen_ai.usage.output_tokens': 143,
  'gen_ai.conversation.id': 'conv-42',
};

function ok(span: OtelSpanInput, ctx: OtelSpanContext = context) {
  const r = fromOtelSpan(span, ctx);
  if (!r.ok) throw new Error(`expected a record, got: ${r.reason}`);
  return r.event;
}

function reason(span: OtelSpanInput, ctx: OtelSpanContext = context): string {
  const r = fromOtelSpan(span, ctx);
  if (r.ok) throw new Error('expected a rejection');
  return r.reason;
}

describe('fromOtelSpan: mapping', () => {
  it('maps a chat span: ids, model, tokens, conversation, latency, timestamp, status', () => {
    const event = ok(readableSpan(chat));
    expect(event).toEqual({
      schema_version: 1,
      event_type: 'span',
      event_id: `otel-${TRACE}-${SPAN}`,
      timestamp: '2026-11-29T15:25:50.123Z',
      trace_id: TRACE,
      span_id: SPAN,
      parent_span_id: PARENT,
      span_kind: 'llm',
      name: 'chat claude-sonnet-4',
      latency_ms: 1_500,
      status: 'ok',
      model: 'anthropic:claude-sonnet-4',
      input_tokens: 812,
      output_tokens: 143,
      session_id: 'conv-42',
      tenant_id: 'emea',
      user_role: 'employee',
      intent: 'policy_qna',
      risk_level: 'low',
      request_id: 'req-1',
    });
    expect(parseTelemetryEvent(event).ok).toBe(true);
  });

  it.each([
    ['chat', 'llm'],
    ['text_completion', 'llm'],
    ['generate_content', 'llm'],
    ['execute_tool', 'tool'],
    ['embeddings', 'retrieval'],
    ['retrieval', 'retrieval'],
  ] as const)('gen_ai.operation.name %s gives span_kind %s', (operation, kind) => {
    expect(ok(readableSpan({ 'gen_ai.operation.name': operation })).span_kind).toBe(kind);
  });

  it('execute_tool: the name is gen_ai.tool.name and the tool counts as executed (unless the context says)', () => {
    const span = readableSpan(
      { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'create_ticket' },
      { name: 'execute_tool create_ticket' },
    );
    expect(ok(span)).toMatchObject({ span_kind: 'tool', name: 'create_ticket', executed: true });
    expect(ok(span, { ...context, executed: false })).toMatchObject({ executed: false });
  });

  it('model: gen_ai.provider.name, else the deprecated gen_ai.system; the model id alone without either', () => {
    expect(
      ok(readableSpan({ ...chat, 'gen_ai.provider.name': undefined, 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o' })).model,
    ).toBe('openai:gpt-4o');
    expect(ok(readableSpan({ ...chat, 'gen_ai.system': 'openai' })).model).toBe('anthropic:claude-sonnet-4');
    expect(ok(readableSpan({ ...chat, 'gen_ai.provider.name': undefined })).model).toBe('claude-sonnet-4');
    expect(ok(readableSpan({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic' }))).not.toHaveProperty('model');
  });

  it('session_id: gen_ai.conversation.id wins over the context; the context fills it when absent', () => {
    expect(ok(readableSpan(chat)).session_id).toBe('conv-42');
    expect(ok(readableSpan({ ...chat, 'gen_ai.conversation.id': undefined })).session_id).toBe('sess-ctx');
  });

  it('status: error.type gives error and error_code; a timeout type gives timeout; status code ERROR gives error with its message', () => {
    expect(ok(readableSpan({ ...chat, 'error.type': 'RateLimitError' }))).toMatchObject({ status: 'error', error_code: 'RateLimitError' });
    expect(ok(readableSpan({ ...chat, 'error.type': 'ProviderTimeout' }))).toMatchObject({
      status: 'timeout',
      error_code: 'ProviderTimeout',
    });
    const failed = ok(readableSpan(chat, { status: { code: 2, message: 'upstream returned 529' } }));
    expect(failed).toMatchObject({ status: 'error', error_message: 'upstream returned 529' });
    expect(failed).not.toHaveProperty('error_code');
    expect(ok(readableSpan(chat, { status: { code: 1, message: 'ignored when ok' } }))).not.toHaveProperty('error_message');
  });

  it('accepts the SDK 2.x shape (parentSpanContext) and a plain object with epoch-ms times and a spanContext object', () => {
    const plain: OtelSpanInput = {
      name: 'embeddings',
      spanContext: { traceId: TRACE, spanId: SPAN },
      parentSpanContext: { spanId: PARENT },
      startTime: Date.parse('2026-11-29T15:25:50.000Z'),
      endTime: Date.parse('2026-11-29T15:25:50.250Z'),
      attributes: { 'gen_ai.operation.name': 'embeddings' },
    };
    expect(ok(plain)).toMatchObject({
      parent_span_id: PARENT,
      latency_ms: 250,
      timestamp: '2026-11-29T15:25:50.000Z',
      span_kind: 'retrieval',
      status: 'ok',
    });
    expect(spanTimeMs([1, 500_000])).toBe(1_000.5);
    expect(spanTimeMs(new Date(5))).toBe(5);
  });

  it('the context supplies the rest: span_kind for an unmapped operation, parent_span_id of a root span, version tags', () => {
    const guard = readableSpan({ 'gen_ai.operation.name': 'invoke_agent' }, { parentSpanId: undefined });
    expect(ok(guard, { ...context, span_kind: 'guardrail', parent_span_id: 'root-1', prompt_version: 'pv-2' })).toMatchObject({
      span_kind: 'guardrail',
      parent_span_id: 'root-1',
      prompt_version: 'pv-2',
    });
    // ...but what the span carries wins.
    expect(ok(readableSpan(chat), { ...context, span_kind: 'guardrail' }).span_kind).toBe('llm');
  });
});

describe('fromOtelSpan: rejections', () => {
  it('fails when the operation has no span kind and the context gives none', () => {
    expect(reason(readableSpan({ 'gen_ai.operation.name': 'invoke_agent' }))).toBe(
      'gen_ai.operation.name: invoke_agent has no span kind (known: chat, text_completion, generate_content, execute_tool, embeddings, retrieval); pass context.span_kind',
    );
    expect(reason(readableSpan({}))).toBe('gen_ai.operation.name: absent; pass context.span_kind');
  });

  it('fails when the span has no parent and the context gives none', () => {
    expect(reason(readableSpan(chat, { parentSpanId: '' }))).toBe('parent_span_id: the span has no parent; pass context.parent_span_id');
  });

  it('fails when the span has not ended or ends before it starts', () => {
    expect(reason(readableSpan(chat, { endTime: [0, 0] }))).toBe(
      'endTime: expected HrTime [seconds, nanos] or epoch milliseconds (has the span ended?)',
    );
    expect(reason(readableSpan(chat, { startTime: END, endTime: START }))).toBe('endTime: before startTime');
  });

  it('fails when attributes have the wrong type', () => {
    expect(
      reason(readableSpan({ ...chat, 'gen_ai.usage.input_tokens': '812', 'gen_ai.usage.output_tokens': -1, 'gen_ai.request.model': 7 })),
    ).toBe(
      'gen_ai.request.model: expected a string; gen_ai.usage.input_tokens: expected a non-negative integer; gen_ai.usage.output_tokens: expected a non-negative integer',
    );
  });

  it('fails with the contract detail when the result does not validate (bad trace id, context missing a field)', () => {
    expect(reason(readableSpan(chat, { spanContext: { traceId: 'not a trace id!', spanId: SPAN } }))).toBe(
      'schema_violation: event_id: must match [A-Za-z0-9._:-]{1,128}; trace_id: must match [A-Za-z0-9._:-]{1,128}',
    );
    const { tenant_id: _tenant, ...noTenant } = context;
    expect(reason(readableSpan(chat), noTenant as OtelSpanContext)).toBe('schema_violation: tenant_id: required (string)');
  });

  it('never throws, whatever the span and context (fast-check), and ignores prototype keys', () => {
    const evil = Object.defineProperty(readableSpan(chat), 'attributes', {
      get: () => {
        throw new Error('boom');
      },
    });
    expect(fromOtelSpan(evil, context)).toEqual({ ok: false, reason: 'unreadable span (Error)' });
    const protoAttrs = readableSpan(
      JSON.parse('{"__proto__":{"gen_ai.operation.name":"chat"},"gen_ai.operation.name":"embeddings"}') as Record<string, unknown>,
    );
    expect(ok(protoAttrs).span_kind).toBe('retrieval');
    expect(reason(readableSpan(JSON.parse('{"__proto__":{"gen_ai.operation.name":"chat"}}') as Record<string, unknown>))).toBe(
      'gen_ai.operation.name: absent; pass context.span_kind',
    );
    const anyValue = fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true, withMap: true });
    const spanLike = fc.record(
      {
        name: fc.oneof(fc.string(), anyValue),
        spanContext: fc.oneof(fc.record({ traceId: fc.string(), spanId: fc.string() }), anyValue),
        parentSpanId: fc.oneof(fc.string(), anyValue),
        startTime: fc.oneof(fc.tuple(fc.integer(), fc.integer()), fc.double(), anyValue),
        endTime: fc.oneof(fc.tuple(fc.integer(), fc.integer()), fc.double(), anyValue),
        attributes: fc.oneof(
          fc.dictionary(fc.constantFrom(...Object.keys(chat), 'error.type', 'gen_ai.tool.name', 'gen_ai.system', '__proto__'), anyValue),
          anyValue,
        ),
        status: fc.oneof(fc.record({ code: fc.integer({ min: 0, max: 2 }), message: fc.string() }), anyValue),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(spanLike, anyValue), fc.oneof(fc.constant(context), anyValue), (span, ctx) => {
        const r = fromOtelSpan(span as OtelSpanInput, ctx as OtelSpanContext);
        expect(typeof r.ok).toBe('boolean');
        if (r.ok) expect(parseTelemetryEvent(r.event).ok).toBe(true);
        else expect(typeof r.reason).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});

describe('fromOtelSpan through the client', () => {
  let server: FirehoseServer;
  beforeEach(async () => {
    server = await startFirehoseServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('mapped spans arrive as contract records on the events stream', async () => {
    const client = new TelemetryClient({ streamName: 'events', firehose: server.client(), flushIntervalMs: 60_000 });
    const spans = [
      readableSpan(chat),
      readableSpan(
        { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search_kb' },
        { spanContext: () => ({ traceId: TRACE, spanId: 'b7ad6b7169203331' }) },
      ),
    ];
    for (const s of spans) {
      const r = fromOtelSpan(s, context);
      expect(r.ok && client.record(r.event)).toBe(true);
    }
    await client.close();
    expect(server.events('events').map((e) => [e.span_kind, e.name, e.event_id])).toEqual([
      ['llm', 'chat claude-sonnet-4', `otel-${TRACE}-${SPAN}`],
      ['tool', 'search_kb', `otel-${TRACE}-b7ad6b7169203331`],
    ]);
    expect(client.stats()).toMatchObject({ recorded: 2, sent: 2, invalid: 0 });
  });
});
