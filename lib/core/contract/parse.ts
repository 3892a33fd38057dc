/**
 * Parsing against the contract with allowlist semantics: unknown fields are dropped and
 * reported (by name and count, never by value); a record that fails validation gets a
 * short detail naming key paths and the kind of problem, never the values.
 */
import type * as z from 'zod';
import { DebugCapture, EVENT_SCHEMAS, EVENT_TYPES, type EventType, type TelemetryEvent } from './schema';

/** A record that parsed. `droppedFields` are the unknown top-level keys that were removed. */
export interface ParseOk<T> {
  readonly ok: true;
  readonly value: T;
  readonly droppedFields: readonly string[];
}

/** A record that did not parse. `detail` names key paths and problems, never values. */
export interface ParseFailure {
  readonly ok: false;
  readonly reason: 'not_an_object' | 'schema_violation';
  readonly detail: string;
  /** The record's event_type when it was one of the three. */
  readonly eventType?: EventType;
}

export type ParseResult<T> = ParseOk<T> | ParseFailure;

const MAX_ISSUES = 5;
const MAX_DETAIL = 512;

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads `event_type` when it is one of the three known types. */
export function readEventType(v: unknown): EventType | undefined {
  if (!isJsonObject(v)) return undefined;
  const t = Object.prototype.hasOwnProperty.call(v, 'event_type') ? v.event_type : undefined;
  return typeof t === 'string' && (EVENT_TYPES as readonly string[]).includes(t) ? (t as EventType) : undefined;
}

/** Validates a decoded JSON value as a request, span or feedback event. */
export function parseTelemetryEvent(input: unknown): ParseResult<TelemetryEvent> {
  if (!isJsonObject(input)) return { ok: false, reason: 'not_an_object', detail: `record is ${kindOf(input)}; expected a JSON object` };
  const eventType = readEventType(input);
  if (!eventType) {
    const present = Object.prototype.hasOwnProperty.call(input, 'event_type');
    return {
      ok: false,
      reason: 'schema_violation',
      detail: `event_type: ${present ? 'not one of request, span, feedback' : 'required (one of request, span, feedback)'}`,
    };
  }
  const r = parseObject(EVENT_SCHEMAS[eventType], input);
  return r.ok ? (r as ParseOk<TelemetryEvent>) : { ...r, eventType };
}

/** Validates a decoded JSON value as a debug capture. */
export function parseDebugCapture(input: unknown): ParseResult<DebugCapture> {
  if (!isJsonObject(input)) return { ok: false, reason: 'not_an_object', detail: `record is ${kindOf(input)}; expected a JSON object` };
  return parseObject(DebugCapture, input);
}

/** Each schema's field names, read once: every key of every record is looked up. */
const FIELD_NAMES = new WeakMap<z.ZodObject, ReadonlySet<string>>();

function fieldNames(schema: z.ZodObject): ReadonlySet<string> {
  let names = FIELD_NAMES.get(schema);
  if (!names) {
    names = new Set(Object.keys(schema.shape));
    FIELD_NAMES.set(schema, names);
  }
  return names;
}

/** Strips unknown keys (reporting them) and validates the rest against `schema`. */
function parseObject<S extends z.ZodObject>(schema: S, input: Record<string, unknown>): ParseResult<z.infer<S>> {
  const known = schema.shape as Record<string, unknown>;
  const names = fieldNames(schema);
  const droppedFields: string[] = [];
  for (const k of Object.keys(input)) if (!names.has(k)) droppedFields.push(k);
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data, droppedFields };
  return { ok: false, reason: 'schema_violation', detail: formatIssues(r.error.issues, input, known) };
}

/** `path: problem; path: problem` with at most five issues; paths outside the schema become `*`. */
function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown, known: Record<string, unknown>): string {
  const parts = issues.slice(0, MAX_ISSUES).map((i) => `${formatPath(i.path, known)}: ${describe(i, input)}`);
  if (issues.length > MAX_ISSUES) parts.push(`and ${issues.length - MAX_ISSUES} more`);
  const s = parts.join('; ');
  return s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL - 3)}...` : s;
}

function formatPath(path: readonly PropertyKey[], known: Record<string, unknown>): string {
  let out = '';
  path.forEach((seg, depth) => {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      // Only schema field names are printed: any other key (e.g. an attributes key) is
      // producer-controlled text and could itself carry personal data.
      const name = depth === 0 && typeof seg === 'string' && Object.prototype.hasOwnProperty.call(known, seg) ? seg : '*';
      out += out ? `.${name}` : name;
    }
  });
  return out || '(record)';
}

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return valueAt(input, issue.path) === undefined ? `required (${issue.expected})` : `expected ${issue.expected}`;
    case 'invalid_value':
      if (valueAt(input, issue.path) === undefined) return `required (${issue.values.map((v) => JSON.stringify(v)).join(', ')})`;
      return `not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
    case 'custom':
      // Messages authored in schema.ts; they describe the rule, not the value.
      return issue.message;
    case 'too_big':
      return `too ${issue.origin === 'string' || issue.origin === 'array' ? 'long' : 'large'} (at most ${String(issue.maximum)})`;
    case 'too_small':
      return `too ${issue.origin === 'string' || issue.origin === 'array' ? 'short' : 'small'} (at least ${String(issue.minimum)})`;
    case 'invalid_key':
      return 'invalid key';
    default:
      return issue.code.replace(/_/g, ' ');
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}
