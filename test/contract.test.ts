import { describe, expect, it } from 'vitest';
import {
  DebugCapture,
  EVENT_TYPES,
  QuarantineRecord,
  TelemetryEvent,
  contractColumns,
  contractFields,
  parseDebugCapture,
  parseTelemetryEvent,
} from '../lib/core/contract';
import { sampleEvents } from './fixtures/redaction-corpus';

describe('event contract', () => {
  it('accepts a valid event of each type', () => {
    for (const [type, ev] of Object.entries(sampleEvents())) {
      const r = parseTelemetryEvent(ev);
      expect(r.ok, type).toBe(true);
      if (r.ok) expect(r.value.event_type).toBe(type);
      expect(TelemetryEvent.safeParse(ev).success).toBe(true);
    }
  });

  it('drops unknown fields and reports their names, never their values', () => {
    const r = parseTelemetryEvent({ ...sampleEvents().span, prompt: 'secret text', debug: { x: 1 } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.droppedFields).toEqual(['prompt', 'debug']);
    expect(JSON.stringify(r.value)).not.toContain('secret text');
    expect('prompt' in r.value).toBe(false);
  });

  it('keeps __proto__ and constructor keys as data, counted as unknown', () => {
    const raw = JSON.parse(
      `{"__proto__": {"polluted": true}, "constructor": "x", ${JSON.stringify(sampleEvents().feedback).slice(1)}`,
    ) as unknown;
    const r = parseTelemetryEvent(raw);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.droppedFields).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('fails when event_type is missing', () => {
    const { event_type: _omit, ...rest } = sampleEvents().span;
    expect(parseTelemetryEvent(rest)).toEqual({
      ok: false,
      reason: 'schema_violation',
      detail: 'event_type: required (one of request, span, feedback)',
    });
  });

  it('fails when event_type is not one of the three', () => {
    expect(parseTelemetryEvent({ ...sampleEvents().span, event_type: 'log' })).toEqual({
      ok: false,
      reason: 'schema_violation',
      detail: 'event_type: not one of request, span, feedback',
    });
  });

  it('fails when the record is not an object', () => {
    expect(parseTelemetryEvent([1, 2])).toEqual({
      ok: false,
      reason: 'not_an_object',
      detail: 'record is an array; expected a JSON object',
    });
    expect(parseTelemetryEvent(null)).toEqual({ ok: false, reason: 'not_an_object', detail: 'record is null; expected a JSON object' });
  });

  it('fails when an id breaks the charset, naming the path and never the value', () => {
    const r = parseTelemetryEvent({ ...sampleEvents().span, trace_id: 'john@example.com is here' });
    expect(r).toEqual({ ok: false, reason: 'schema_violation', detail: 'trace_id: must match [A-Za-z0-9._:-]{1,128}', eventType: 'span' });
  });

  it('fails when timestamp is not RFC 3339 UTC', () => {
    for (const ts of ['2026-11-29 15:25:50', '2026-11-29T15:25:50+01:00', '2026-02-30T00:00:00Z']) {
      const r = parseTelemetryEvent({ ...sampleEvents().feedback, timestamp: ts });
      expect(r).toEqual({
        ok: false,
        reason: 'schema_violation',
        detail: 'timestamp: must be an RFC 3339 UTC timestamp, e.g. 2026-11-29T15:25:50.123Z',
        eventType: 'feedback',
      });
    }
  });

  it('fails when a required field is missing or has the wrong type, without values in the detail', () => {
    const { status: _s, ...noStatus } = sampleEvents().request;
    expect(parseTelemetryEvent({ ...noStatus, input_tokens: 1.5, attributes: { 'bob@example.com': 7 } })).toEqual({
      ok: false,
      reason: 'schema_violation',
      detail: 'attributes.*: expected string; status: required ("ok", "error", "timeout"); input_tokens: expected int',
      eventType: 'request',
    });
  });

  it('accepts ids of 128 characters and rejects 129', () => {
    expect(parseTelemetryEvent({ ...sampleEvents().span, span_id: 'a'.repeat(128) }).ok).toBe(true);
    expect(parseTelemetryEvent({ ...sampleEvents().span, span_id: 'a'.repeat(129) }).ok).toBe(false);
  });

  it('validates user_rating as -1, +1 or 1..5', () => {
    for (const v of [-1, 1, 5]) expect(parseTelemetryEvent({ ...sampleEvents().feedback, user_rating: v }).ok).toBe(true);
    for (const v of [0, 6, -2, 2.5]) expect(parseTelemetryEvent({ ...sampleEvents().feedback, user_rating: v }).ok).toBe(false);
  });

  it('parses a debug capture and a quarantine record', () => {
    const cap = {
      trace_id: 't1',
      request_id: 'r1',
      tenant_id: 'acme',
      timestamp: '2026-11-29T15:25:50Z',
      cohort: 'inc_42',
      reason: 'INC-42',
      prompt_text: 'hi',
    };
    expect(DebugCapture.safeParse(cap).success).toBe(true);
    const r = parseDebugCapture({ ...cap, extra: 1 });
    expect(r.ok && r.droppedFields).toEqual(['extra']);
    const q = {
      schema_version: 1,
      timestamp: '2026-11-29T15:25:50Z',
      quarantine_reason: 'oversized',
      quarantine_detail: 'x',
      raw_bytes: 10,
      raw_sha256: 'a'.repeat(64),
      raw_excerpt: '',
    };
    expect(QuarantineRecord.safeParse(q).success).toBe(true);
    expect(QuarantineRecord.safeParse({ ...q, quarantine_reason: 'other' }).success).toBe(false);
  });
});

describe('contract columns', () => {
  const cols = contractColumns();
  const byName = new Map(cols.map((c) => [c.name, c]));

  it('lists every field of the three event types and the quarantine record once', () => {
    expect(new Set(cols.map((c) => c.name)).size).toBe(cols.length);
    for (const name of ['event_id', 'span_id', 'user_rating', 'p0_category', 'quarantine_reason', 'raw_sha256', 'raw_excerpt'])
      expect(byName.has(name), name).toBe(true);
  });

  it('maps types from the schemas', () => {
    expect(byName.get('schema_version')?.type).toBe('int');
    expect(byName.get('input_tokens')?.type).toBe('int');
    expect(byName.get('latency_ms')?.type).toBe('double');
    expect(byName.get('cache_hit')?.type).toBe('boolean');
    expect(byName.get('sources')?.type).toBe('array<string>');
    expect(byName.get('attributes')?.type).toBe('map<string,string>');
    expect(byName.get('risk_level')?.type).toBe('string');
    expect(byName.get('raw_bytes')?.type).toBe('int');
  });

  it('marks exactly the free-text fields', () => {
    expect(
      cols
        .filter((c) => c.freeText)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['attributes', 'error_message', 'raw_excerpt']);
  });

  it('records which record types carry each field and whether it is optional', () => {
    const f = new Map(contractFields().map((x) => [x.name, x]));
    expect(f.get('span_id')?.recordTypes).toEqual(['span']);
    expect(f.get('trace_id')?.recordTypes).toEqual([...EVENT_TYPES, 'quarantine']);
    expect(f.get('user_id')?.optional).toBe(true);
    expect(f.get('event_id')?.optional).toBe(false);
  });
});
