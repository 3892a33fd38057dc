/**
 * TelemetryClient against a real wire: the real FirehoseClient talks to the local
 * Firehose server (test/support/firehose-server.ts), which enforces the service limits
 * and injects partial failures, throttling, dropped connections and outages. Nothing
 * under test is stubbed.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { build } from 'esbuild';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseTelemetryEvent, type RequestEvent } from '../lib/core/contract';
import {
  FIREHOSE_LIMITS,
  TelemetryClient,
  backoffMs,
  billedBytes,
  classifyError,
  packBatches,
  packRecords,
  toLine,
  type DropNotice,
  type TelemetryClientOptions,
  type TelemetryEventInput,
} from '../lib/client';
import { startFirehoseServer, type FirehoseServer } from './support/firehose-server';

const STREAM = 'copilot-test-events';
const ROOT = resolve(import.meta.dirname, '..');
/** Retries fast enough for tests, generous enough that a quarter failing every time still converges. */
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 10, maxAttempts: 30, maxElapsedMs: 10_000, requestTimeoutMs: 5_000 } as const;

type RequestInput = Omit<RequestEvent, 'event_id' | 'timestamp' | 'schema_version'> &
  Partial<Pick<RequestEvent, 'event_id' | 'timestamp' | 'schema_version'>>;

/** A valid request event; `i` makes request_id unique. `pad` adds that many characters in attributes. */
function requestEvent(i: number, pad = 0, extra: Partial<RequestInput> = {}): RequestInput {
  const attributes: Record<string, string> = { team: 'it' };
  for (let k = 0; pad > 0; k++, pad -= 4_000) attributes[`pad_${k}`] = 'x'.repeat(Math.min(4_000, pad));
  return {
    event_type: 'request',
    trace_id: `trace-${i}`,
    request_id: `req-${i}`,
    session_id: `sess-${i % 7}`,
    tenant_id: i % 2 ? 'emea' : 'amer',
    user_role: 'employee',
    intent: 'policy_qna',
    risk_level: 'low',
    model: 'anthropic:claude-sonnet-4',
    attributes,
    status: 'ok',
    latency_ms: 120.5 + i,
    retrieval_latency_ms: 40,
    llm_latency_ms: 70.25,
    tool_latency_ms: 0,
    input_tokens: 800,
    output_tokens: 150,
    llm_calls: 1,
    provider_retries: 0,
    fallback_used: false,
    cache_hit: false,
    retrieval_used: true,
    sources: ['it_kb'],
    sources_count: 3,
    access_denials: 0,
    citations_present: true,
    tool_path: 'none',
    tools_proposed: 0,
    tools_executed: 0,
    tool_validation_failures: 0,
    tool_errors: 0,
    false_confirmation: false,
    guardrail_action: 'allow',
    redaction_applied: false,
    input_chars: 240,
    output_chars: 900,
    pii_detected: false,
    outcome: 'success',
    ...extra,
  };
}

let server: FirehoseServer;
let drops: DropNotice[];
const clients: TelemetryClient[] = [];

function client(opts: Partial<TelemetryClientOptions> = {}): TelemetryClient {
  const c = new TelemetryClient({
    streamName: STREAM,
    firehose: server.client(),
    flushIntervalMs: 60_000,
    retry: FAST_RETRY,
    onDrop: (d) => drops.push(d),
    ...opts,
  });
  clients.push(c);
  return c;
}

/** Received events grouped by request_id. */
function receivedByRequest(): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const e of server.events(STREAM)) {
    const k = String(e.request_id);
    out.set(k, [...(out.get(k) ?? []), e]);
  }
  return out;
}

/** Asserts the invariant recorded = sent + dropped + buffered. */
function expectAccounted(c: TelemetryClient): void {
  const s = c.stats();
  expect(s.recorded).toBe(s.sent + s.dropped + s.buffered);
}

/** Asserts every request the server saw respected the Firehose limits, and every record the de-aggregation limit. */
function expectWithinLimits(): void {
  for (const r of server.requests) {
    expect(r.records).toBeLessThanOrEqual(FIREHOSE_LIMITS.maxBatchRecords);
    expect(r.bytes).toBeLessThanOrEqual(FIREHOSE_LIMITS.maxBatchBytes);
    expect(r.maxRecordBytes).toBeLessThanOrEqual(FIREHOSE_LIMITS.maxRecordBytes);
  }
  for (const r of server.records) {
    expect(r.data.endsWith('\n')).toBe(true);
    expect(r.data.split('\n').length - 1).toBeLessThanOrEqual(FIREHOSE_LIMITS.maxEventsPerRecord);
  }
}

beforeEach(async () => {
  server = await startFirehoseServer();
  drops = [];
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.close();
});

describe('TelemetryClient: delivery', () => {
  it('delivers every recorded event exactly as recorded with a quarter of every batch failing, throttling and dropped connections', async () => {
    server.faults.failFraction = 0.25;
    server.faults.throttleEvery = 4;
    server.faults.dropEvery = 7;
    server.faults.dropAfterAccept = true;
    const c = client({ flushIntervalMs: 10, maxBufferedEvents: 100_000, maxBufferedBytes: 256 * 1024 * 1024 });
    const sent = new Map<string, RequestInput>();
    // Small events and ~12 KB events, in several waves so that timer flushes and retries overlap.
    for (let wave = 0; wave < 4; wave++) {
      for (let i = wave * 2_500; i < (wave + 1) * 2_500; i++) {
        const e = requestEvent(
          i,
          i % 50 === 0 ? 12_000 : 0,
          i % 3 === 0 ? { event_id: `id-${i}`, timestamp: '2026-11-29T15:25:50.123Z' } : {},
        );
        if (c.record(e as TelemetryEventInput)) sent.set(e.request_id, e);
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    await c.flush();

    expect(sent.size).toBe(10_000);
    const s = c.stats();
    expect(s).toMatchObject({ recorded: 10_000, invalid: 0, sent: 10_000, dropped: 0, buffered: 0 });
    expect(s.retried).toBeGreaterThan(0);
    expect(drops).toEqual([]);

    // The faults really happened.
    const answered = server.requests.filter((r) => r.outcome === 200);
    for (const r of answered) expect([Math.floor(r.records / 4), Math.ceil(r.records / 4)]).toContain(r.failed);
    expect(answered.filter((r) => r.failed > 0).length).toBeGreaterThan(3);
    expect(server.requests.filter((r) => r.outcome === 400).length).toBeGreaterThan(0);
    expect(server.requests.filter((r) => r.outcome === 'dropped').length).toBeGreaterThan(0);
    expect(server.requests.some((r) => r.records >= 5)).toBe(true);

    // 100% delivered, each exactly as recorded; duplicates only from retries (same event_id).
    const got = receivedByRequest();
    expect(got.size).toBe(10_000);
    // Plain comparisons (10,000 vitest expectations would dominate the run), one assertion at the end.
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const mismatches: string[] = [];
    let duplicates = 0;
    for (const [requestId, input] of sent) {
      const copies = got.get(requestId)!;
      const first = copies[0]!;
      duplicates += copies.length - 1;
      if (!copies.every((copy) => isDeepStrictEqual(copy, first))) mismatches.push(`${requestId}: copies differ`);
      const { event_id, timestamp } = first as { event_id: string; timestamp: string };
      if (!isDeepStrictEqual(first, { schema_version: 1, event_id, timestamp, ...input })) mismatches.push(`${requestId}: not as recorded`);
      if (input.event_id ? event_id !== input.event_id : !UUID.test(event_id)) mismatches.push(`${requestId}: event_id ${event_id}`);
      if (input.timestamp ? timestamp !== input.timestamp : !parseTelemetryEvent(first).ok)
        mismatches.push(`${requestId}: timestamp ${timestamp}`);
    }
    expect(mismatches).toEqual([]);
    // Duplicates come only from requests whose connection dropped after the records were accepted.
    const acceptedThenDropped = server.records.filter((r) => server.requests[r.request - 1]!.outcome === 'dropped');
    const eventsInDropped = acceptedThenDropped.reduce((n, r) => n + r.data.split('\n').length - 1, 0);
    expect(duplicates).toBe(eventsInDropped);
    expect(duplicates).toBeGreaterThan(0);
    expectWithinLimits();
  });

  it('sends on the flush timer without flush() being called', async () => {
    const c = client({ flushIntervalMs: 20 });
    c.record(requestEvent(1) as TelemetryEventInput);
    expect(server.requests).toHaveLength(0); // record() returned before any I/O
    // Waits for the client to count the send: the server holds the event before the client
    // has read the response (checking the server first raced, sent 0 and buffered 1). A
    // generous wait: the first send loads SDK modules, slow on a busy machine (the timer is 20 ms).
    await vi.waitFor(() => expect(c.stats()).toMatchObject({ recorded: 1, sent: 1, buffered: 0, records: 1, requests: 1 }), {
      timeout: 30_000,
      interval: 10,
    });
    expect(server.events(STREAM)).toHaveLength(1);
  });

  it('sends a full batch worth (4 MiB) at once, without waiting for the timer', async () => {
    const c = client({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 400; i++) c.record(requestEvent(i, 12_000) as TelemetryEventInput);
    // Well under the 60 s timer, generous for a busy machine.
    await vi.waitFor(() => expect(server.requests.length).toBeGreaterThan(0), { timeout: 30_000, interval: 10 });
    await c.flush();
    expect(c.stats()).toMatchObject({ recorded: 400, sent: 400, buffered: 0 });
  });

  it('strips fields the contract does not know and fills event_id, timestamp and schema_version', async () => {
    const c = client({ now: () => Date.parse('2026-11-29T15:25:50.123Z') });
    const input = { ...requestEvent(1), prompt_text: 'raw prompt must not be sent', extra: { nested: true } };
    expect(c.record(input as unknown as TelemetryEventInput)).toBe(true);
    await c.flush();
    const [got] = server.events(STREAM);
    expect(got).not.toHaveProperty('prompt_text');
    expect(got).not.toHaveProperty('extra');
    expect(got).toMatchObject({ schema_version: 1, timestamp: '2026-11-29T15:25:50.123Z', request_id: 'req-1' });
    expect(got!.event_id).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  });

  it('fails when Firehose rejects the stream: rejected, not retried, reason given', async () => {
    server.streams.add('some-other-stream');
    const c = client();
    for (let i = 0; i < 3; i++) c.record(requestEvent(i) as TelemetryEventInput);
    await c.flush();
    expect(server.requests).toHaveLength(1);
    expect(c.stats()).toMatchObject({ recorded: 3, sent: 0, dropped: 3, buffered: 0, droppedByReason: { rejected: 3 } });
    expect(drops).toEqual([{ reason: 'rejected', count: 3, detail: 'ResourceNotFoundException (HTTP 400); not retried' }]);
  });

  it('gives up after maxAttempts and counts the events as send_failed with the last error', async () => {
    server.failNext({ type: 'ServiceUnavailableException', times: 100 });
    const c = client({ retry: { ...FAST_RETRY, maxAttempts: 4 } });
    for (let i = 0; i < 5; i++) c.record(requestEvent(i) as TelemetryEventInput);
    await c.flush();
    expect(server.requests).toHaveLength(4);
    expect(c.stats()).toMatchObject({ recorded: 5, sent: 0, retried: 15, dropped: 5, droppedByReason: { send_failed: 5 }, buffered: 0 });
    expect(drops).toEqual([{ reason: 'send_failed', count: 5, detail: 'ServiceUnavailableException (HTTP 400) after 4 attempt(s)' }]);
  });

  it('gives up failed records after maxAttempts with the per-record error code', async () => {
    server.faults.failFraction = 1;
    const c = client({ retry: { ...FAST_RETRY, maxAttempts: 3 } });
    c.record(requestEvent(1) as TelemetryEventInput);
    await c.flush();
    expect(server.requests.map((r) => r.failed)).toEqual([1, 1, 1]);
    expect(drops).toEqual([{ reason: 'send_failed', count: 1, detail: 'ServiceUnavailableException (record) after 3 attempt(s)' }]);
  });

  it('bounds the total retry time by maxElapsedMs', async () => {
    server.failNext({ type: 'ThrottlingException', times: 1_000 });
    const c = client({ retry: { baseDelayMs: 40, maxDelayMs: 40, maxAttempts: 1_000, maxElapsedMs: 300 } });
    c.record(requestEvent(1) as TelemetryEventInput);
    await c.flush();
    expect(c.stats().droppedByReason.send_failed).toBe(1);
    // Given up by the elapsed-time bound, long before the 1,000 attempts allowed.
    const attempts = server.requests.length;
    expect(attempts).toBeLessThan(1_000);
    expect(drops).toEqual([{ reason: 'send_failed', count: 1, detail: `ThrottlingException (HTTP 400) after ${attempts} attempt(s)` }]);
  });
});

describe('TelemetryClient: bounded memory', () => {
  it('with the endpoint down, holds at most maxBufferedEvents and accounts for every event', async () => {
    await server.down();
    const c = client({
      maxBufferedEvents: 100,
      flushIntervalMs: 5,
      retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 5, maxElapsedMs: 200 },
    });
    let maxBuffered = 0;
    for (let i = 0; i < 2_000; i++) {
      c.record(requestEvent(i, i % 10 === 0 ? 8_000 : 0) as TelemetryEventInput);
      if (i % 50 === 0) c.record({ event_type: 'request' } as TelemetryEventInput); // invalid
      const s = c.stats();
      maxBuffered = Math.max(maxBuffered, s.buffered);
      expect(s.buffered).toBeLessThanOrEqual(100);
      expectAccounted(c);
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 10)); // let timer flushes fail and retry
    }
    expect(maxBuffered).toBe(100);
    await c.flush();
    const s = c.stats();
    expect(s).toMatchObject({ recorded: 2_000, invalid: 40, sent: 0, buffered: 0, bufferedBytes: 0 });
    expect(s.dropped).toBe(2_000);
    expect(s.droppedByReason.buffer_full + s.droppedByReason.send_failed).toBe(2_000);
    expect(s.droppedByReason.buffer_full).toBeGreaterThan(1_000);
    expect(s.droppedByReason.send_failed).toBeGreaterThanOrEqual(100);
    expect(s.droppedByReason.invalid).toBe(40);
    expect(drops.filter((d) => d.reason === 'send_failed')[0]?.detail).toMatch(/^Error \(ECONNREFUSED\) after \d attempt\(s\)$/);
    expect(drops.find((d) => d.reason === 'buffer_full')).toEqual({
      reason: 'buffer_full',
      count: 1,
      detail: '100 events buffered (maxBufferedEvents 100)',
      eventId: expect.any(String),
    });

    // Back up: new events flow again.
    await server.up();
    c.record(requestEvent(9_999) as TelemetryEventInput);
    await c.flush();
    expect(c.stats()).toMatchObject({ recorded: 2_001, sent: 1, buffered: 0 });
    expect(server.events(STREAM).map((e) => e.request_id)).toEqual(['req-9999']);
  });

  it('also bounds the buffered bytes (maxBufferedBytes)', async () => {
    await server.down();
    const c = client({ maxBufferedBytes: 100_000 });
    for (let i = 0; i < 30; i++) c.record(requestEvent(i, 12_000) as TelemetryEventInput);
    const s = c.stats();
    expect(s.bufferedBytes).toBeLessThanOrEqual(100_000);
    expect(s.buffered).toBeLessThan(10);
    expect(s.droppedByReason.buffer_full).toBe(30 - s.buffered);
    expectAccounted(c);
  });
});

describe('TelemetryClient: packing', () => {
  it('packs many small events per record: 600 events in two records (500 + 100), one request', async () => {
    const c = client();
    for (let i = 0; i < 600; i++) c.record(requestEvent(i) as TelemetryEventInput);
    await c.flush();
    expect(server.requests).toHaveLength(1);
    expect(server.records.map((r) => r.data.split('\n').length - 1)).toEqual([500, 100]);
    expect(c.stats()).toMatchObject({ sent: 600, records: 2, requests: 1 });
    expect(c.stats().billedBytes).toBe(billedBytes(server.records.map((r) => r.bytes)));
    expectWithinLimits();
  });

  it('fills records up to 1,000 KiB and batches up to 4 MiB (about 10 MiB of 50 KB events)', async () => {
    const c = client({ maxBufferedBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 200; i++) c.record(requestEvent(i, 50_000) as TelemetryEventInput);
    await c.flush();
    expect(c.stats()).toMatchObject({ recorded: 200, sent: 200, dropped: 0 });
    const eventBytes = toLine(parseOk(server.events(STREAM)[0])).bytes;
    const perRecord = Math.floor(FIREHOSE_LIMITS.maxRecordBytes / eventBytes);
    // Every record but the last of a flush is full: no room for one more event.
    expect(server.records.filter((r) => r.data.split('\n').length - 1 === perRecord).length).toBeGreaterThanOrEqual(
      server.records.length - 1,
    );
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
    // Every batch but the last packed one is full (requests run concurrently: arrival order is not packing order).
    const bySize = server.requests.map((r) => r.bytes).sort((x, y) => y - x);
    expect(bySize.slice(0, -1).every((b) => b > FIREHOSE_LIMITS.maxBatchBytes - FIREHOSE_LIMITS.maxRecordBytes)).toBe(true);
    expectWithinLimits();
  });

  it('drops one event larger than a record (oversized), with a reason, and sends the rest', async () => {
    const c = client();
    c.record(requestEvent(1) as TelemetryEventInput);
    expect(c.record(requestEvent(2, 1_100_000, { event_id: 'too-big' }) as TelemetryEventInput)).toBe(false);
    c.record(requestEvent(3) as TelemetryEventInput);
    await c.flush();
    expect(server.events(STREAM).map((e) => e.request_id)).toEqual(['req-1', 'req-3']);
    expect(c.stats()).toMatchObject({ recorded: 3, sent: 2, dropped: 1, droppedByReason: { oversized: 1 } });
    expect(drops).toEqual([
      {
        reason: 'oversized',
        count: 1,
        eventId: 'too-big',
        detail: expect.stringMatching(/^the event is 11\d{5} bytes; a Firehose record holds at most 1024000$/),
      },
    ]);
  });

  it('packRecords: at most 500 events and 1,000 KiB per record, order kept', () => {
    const lines = Array.from({ length: 1_200 }, (_, i) => toLine({ i }));
    expect(packRecords(lines).map((r) => r.events)).toEqual([500, 500, 200]);
    const big = Array.from({ length: 5 }, () => ({ text: `${'x'.repeat(399_999)}\n`, bytes: 400_000 }));
    const records = packRecords(big);
    expect(records.map((r) => [r.events, r.data.length])).toEqual([
      [2, 800_000],
      [2, 800_000],
      [1, 400_000],
    ]);
    const exact = [{ text: `${'y'.repeat(FIREHOSE_LIMITS.maxRecordBytes - 1)}\n`, bytes: FIREHOSE_LIMITS.maxRecordBytes }];
    expect(packRecords(exact).map((r) => r.data.length)).toEqual([FIREHOSE_LIMITS.maxRecordBytes]);
    expect(Buffer.from(packRecords(lines)[2]!.data).toString().split('\n')[0]).toBe('{"i":1000}');
  });

  it('packBatches: at most 500 records and 4 MiB per batch', () => {
    const tiny = Array.from({ length: 1_234 }, () => ({ data: new Uint8Array(10) }));
    expect(packBatches(tiny).map((b) => b.length)).toEqual([500, 500, 234]);
    const full = Array.from({ length: 9 }, () => ({ data: new Uint8Array(FIREHOSE_LIMITS.maxRecordBytes) }));
    expect(packBatches(full).map((b) => b.length)).toEqual([4, 4, 1]);
  });

  it('billedBytes rounds every record up to 5 KB', () => {
    expect(billedBytes([1, 5_120, 5_121, 0])).toBe(5_120 + 5_120 + 10_240 + 5_120);
  });
});

describe('TelemetryClient: never breaks the application', () => {
  const proto = Object.prototype as Record<string, unknown>;

  it('record() never throws and counts every call once, whatever it is given (fast-check)', () => {
    const c = client({ maxBufferedEvents: 1_000_000, maxBufferedBytes: 1024 * 1024 * 1024 });
    const cyclic: Record<string, unknown> = { ...requestEvent(1) };
    cyclic.self = cyclic;
    cyclic.attributes = { a: 'b' };
    (cyclic.attributes as Record<string, unknown>).loop = cyclic;
    const throwing = Object.defineProperty({ ...requestEvent(2) }, 'tenant_id', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    const proxy = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('trap');
        },
        get: () => {
          throw new Error('trap');
        },
      },
    );
    const protoKeys = JSON.parse(
      `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"attributes":{"__proto__":"x"}}`,
    ) as object;
    const special = fc.constantFrom<unknown>(
      cyclic,
      throwing,
      proxy,
      protoKeys,
      10n,
      Symbol('s'),
      () => 1,
      new Date(),
      new Map(),
      [requestEvent(3)],
      null,
      undefined,
      'x'.repeat(2_000_000),
    );
    const mutated = fc
      .tuple(
        fc.constantFrom(...Object.keys(requestEvent(0))),
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
      )
      .map(([k, v]) => ({ ...requestEvent(4), [k]: v }));
    const withProtoKey = fc
      .dictionary(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'event_id', 'toString', 'hasOwnProperty'),
        fc.anything({ withBigInt: true }),
      )
      .map((d) => Object.assign(JSON.parse('{"__proto__":{"polluted":true}}') as object, requestEvent(5), d));
    const huge = fc
      .constantFrom('error_message', 'intent', 'event_id', 'tenant_id')
      .map((k) => ({ ...requestEvent(6), [k]: 'é'.repeat(300_000) }));
    let calls = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true }),
          special,
          mutated,
          withProtoKey,
          huge,
        ),
        (input) => {
          const r = c.record(input as TelemetryEventInput);
          calls++;
          expect(typeof r).toBe('boolean');
          expect(proto.polluted).toBeUndefined();
        },
      ),
      { numRuns: 600 },
    );
    const s = c.stats();
    expect(s.recorded + s.invalid).toBe(calls);
    expect(s.invalid).toBeGreaterThan(0);
    expectAccounted(c);
    for (const d of drops) expect(d.detail).not.toMatch(/boom|trap|éé/); // reasons, never content
  });

  it('record() stays synchronous and returns at once, and an onDrop that throws is swallowed', async () => {
    const c = client({
      onDrop: () => {
        throw new Error('handler bug');
      },
    });
    expect(c.record({} as TelemetryEventInput)).toBe(false);
    expect(c.record(requestEvent(1, 1_100_000) as TelemetryEventInput)).toBe(false);
    expect(c.record(requestEvent(2) as TelemetryEventInput)).toBe(true);
    expect(server.requests).toHaveLength(0);
    await c.flush();
    expect(c.stats()).toMatchObject({ recorded: 2, invalid: 1, sent: 1, droppedByReason: { invalid: 1, oversized: 1 } });
  });

  it('an invalid event is reported with key paths, never values', () => {
    const c = client();
    c.record({ ...requestEvent(1), tenant_id: 'alice@example.com', latency_ms: -1 } as TelemetryEventInput);
    expect(drops).toEqual([
      {
        reason: 'invalid',
        count: 1,
        detail: 'schema_violation: tenant_id: must match [A-Za-z0-9._:-]{1,128}; latency_ms: too small (at least 0)',
      },
    ]);
    expect(c.stats()).toMatchObject({ recorded: 0, invalid: 1, dropped: 0 });
  });
});

describe('TelemetryClient: close()', () => {
  it('flushes, is idempotent, and drops later events as closed', async () => {
    const c = client();
    c.record(requestEvent(1) as TelemetryEventInput);
    const [a, b] = [c.close(), c.close()];
    expect(a).toBe(b);
    await a;
    expect(server.events(STREAM)).toHaveLength(1);
    expect(c.record(requestEvent(2) as TelemetryEventInput)).toBe(false);
    expect(c.stats()).toMatchObject({ recorded: 2, sent: 1, dropped: 1, droppedByReason: { closed: 1 } });
  });

  it('never keeps the process alive: a child exits at once with a pending retry, and close() sends before exit', async () => {
    const run = (code: string) =>
      new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
          cwd: ROOT,
          env: { ...process.env, ...server.env, NODE_NO_WARNINGS: '1' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (exit) => done({ code: exit, stderr }));
      });
    const prelude = `import { FirehoseClient } from '@aws-sdk/client-firehose';
      import { TelemetryClient } from './lib/client/index.ts';
      const event = ${JSON.stringify(requestEvent(1))};`;
    const [pending, closed, idle] = await Promise.all([
      // Endpoint refuses; the timer flush fails and schedules a 30 s retry; the script's own work ends after 300 ms.
      run(`${prelude}
        const c = new TelemetryClient({ streamName: 's', firehose: new FirehoseClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }), flushIntervalMs: 20, retry: { baseDelayMs: 30000, maxDelayMs: 30000, maxElapsedMs: 600000 } });
        c.record(event);
        setTimeout(() => { if (c.stats().retried !== 1) process.exitCode = 3; }, 300);
        // Exits with the retry still pending: had the retry timer held the process, the retry would have run (retried 2).
        process.on('exit', () => { if (c.stats().retried !== 1 || c.stats().requests !== 1) process.exitCode = 4; });`),
      // close() sends what is buffered before the process ends.
      run(`${prelude}
        const c = new TelemetryClient({ streamName: '${STREAM}', firehose: new FirehoseClient({ endpoint: '${server.endpoint}', maxAttempts: 1 }), flushIntervalMs: 60000 });
        c.record(event);
        await c.close();`),
      // A client that is never closed does not hold the process (flush timer unref'd).
      run(`${prelude}
        new TelemetryClient({ streamName: 's', flushIntervalMs: 1000 }).record(event);`),
    ]);
    expect(pending.stderr).toBe('');
    expect(pending.code).toBe(0);
    expect(closed).toMatchObject({ code: 0, stderr: '' });
    expect(idle).toMatchObject({ code: 0, stderr: '' });
    expect(server.events(STREAM).map((e) => e.request_id)).toEqual(['req-1']);
  });
});

describe('packaging', () => {
  it('is importable without aws-cdk-lib: the bundle of lib/client contains no CDK module', async () => {
    const result = await build({
      entryPoints: ['lib/client/index.ts'],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      external: ['@aws-sdk/*'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('lib/client/index.ts');
    expect(inputs.filter((i) => /aws-cdk-lib|constructs|cdk-nag/.test(i))).toEqual([]);
  });
});

describe('retry policy', () => {
  it('backoff: full jitter under a doubling cap, at most maxDelayMs', () => {
    const retry = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5, 10].map((a) => backoffMs(a, retry, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffMs(3, retry, () => 0)).toBe(0);
  });

  it('classifies throttling, 5xx and network errors as retryable, other 4xx as final', () => {
    const err = (name: string, status?: number) =>
      Object.assign(new Error('x'), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });
    expect(classifyError(err('ServiceUnavailableException', 400))).toEqual({
      retryable: true,
      code: 'ServiceUnavailableException (HTTP 400)',
    });
    expect(classifyError(err('ThrottlingException', 400)).retryable).toBe(true);
    expect(classifyError(err('InternalFailure', 500)).retryable).toBe(true);
    expect(classifyError(err('Anything', 503)).retryable).toBe(true);
    expect(classifyError(err('TimeoutError'))).toEqual({ retryable: true, code: 'TimeoutError' });
    expect(classifyError(Object.assign(err('TimeoutError'), { code: 'ECONNRESET' }))).toEqual({
      retryable: true,
      code: 'TimeoutError (ECONNRESET)',
    });
    expect(classifyError(err('ResourceNotFoundException', 400))).toEqual({
      retryable: false,
      code: 'ResourceNotFoundException (HTTP 400)',
    });
    expect(classifyError(err('AccessDeniedException', 403)).retryable).toBe(false);
    expect(classifyError(err('InvalidArgumentException', 400)).retryable).toBe(false);
    expect(classifyError('not an error')).toEqual({ retryable: true, code: 'Error' });
  });
});

function parseOk(e: unknown) {
  const r = parseTelemetryEvent(e);
  if (!r.ok) throw new Error(r.detail);
  return r.value;
}
