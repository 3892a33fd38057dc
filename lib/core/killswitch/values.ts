/**
 * The kill-switch parameter: its name and its value document. Shared by the runtime
 * client, the trip Lambda, the CLI and the construct, so that every writer and reader
 * agrees on one format. No aws-cdk-lib here: applications import this.
 *
 * A parameter is named `/<name>/<environment>/kill-switches/<ref with dots as slashes>`
 * (`tools.create_ticket` -> `/copilot/prod/kill-switches/tools/create_ticket`) and holds
 * a small JSON document:
 *
 * ```json
 * { "state": "off", "reason": "INC-4711 wrong tickets", "changed_by": "alice",
 *   "changed_at": "2026-11-29T12:00:00.000Z", "expires_at": "2026-11-29T14:00:00.000Z" }
 * ```
 */
import * as z from 'zod';
import type { Policy } from '../policy/schema';
import type { ResolvedSwitch, SwitchState } from '../policy/switches';

/** Standard SSM parameters hold at most 4 KB. */
export const MAX_VALUE_BYTES = 4096;
/** Longest reason kept in a document (longer reasons are truncated by writers). */
export const MAX_REASON_CHARS = 500;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const time = (what: string) =>
  z
    .string()
    .regex(RFC3339, { error: `${what} must be an RFC 3339 timestamp, e.g. '2026-11-29T12:00:00Z'` })
    .refine((t) => !Number.isNaN(Date.parse(t)), { error: `${what} is not a real date` });

/**
 * The value document. Unknown keys are dropped, not rejected, so that a newer writer
 * adding a field never turns every older reader's switch into its safe default.
 */
export const SwitchValueSchema = z.object({
  state: z.enum(['on', 'off'], { error: "state must be 'on' or 'off'" }),
  reason: z
    .string()
    .trim()
    .min(1, { error: 'reason must not be empty' })
    .max(MAX_REASON_CHARS, { error: `reason must be at most ${MAX_REASON_CHARS} characters` }),
  changed_by: z
    .string()
    .trim()
    .min(1, { error: 'changed_by must not be empty' })
    .max(200, { error: 'changed_by must be at most 200 characters' }),
  /**
   * When the state was set. Absent only in the document written at deploy (`changed_by:
   * 'deploy'`): a synthesized template must not change on every synth, and the deploy
   * time is in CloudTrail and the audit log group.
   */
  changed_at: time('changed_at').optional(),
  /** After this time the document no longer counts and the switch is at its policy `initial` state. */
  expires_at: time('expires_at').optional(),
});

export type SwitchValue = z.output<typeof SwitchValueSchema>;

/** Result of parsing a parameter value. `problem` never quotes the value itself. */
export type ParsedValue = { readonly ok: true; readonly value: SwitchValue } | { readonly ok: false; readonly problem: string };

/** Parses a parameter value; never throws. */
export function parseSwitchValue(text: string): ParsedValue {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'value is not JSON' };
  }
  const r = SwitchValueSchema.safeParse(json);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, problem: r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') };
}

/** Serializes a document in a stable key order; throws when it is invalid or too large for a standard parameter. */
export function serializeSwitchValue(value: SwitchValue): string {
  const v = SwitchValueSchema.parse(value);
  const text = JSON.stringify({
    state: v.state,
    reason: v.reason,
    changed_by: v.changed_by,
    ...(v.changed_at === undefined ? {} : { changed_at: v.changed_at }),
    ...(v.expires_at === undefined ? {} : { expires_at: v.expires_at }),
  });
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_VALUE_BYTES) throw new Error(`switch value is ${bytes} bytes; a standard SSM parameter holds at most ${MAX_VALUE_BYTES}`);
  return text;
}

/** The document written at deploy: the policy's initial state. */
export function initialValue(sw: Pick<ResolvedSwitch, 'initial'>): SwitchValue {
  return { state: sw.initial, reason: 'initial state from the telemetry policy', changed_by: 'deploy' };
}

/** Shortens free text to `max` characters (with an ellipsis) and folds control characters to spaces. */
export function truncate(text: string, max = MAX_REASON_CHARS): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------- names

/** The path every switch of a policy lives under: `/<name>/<environment>/kill-switches` (no trailing slash). */
export function switchPrefix(policy: Pick<Policy, 'name' | 'environment'>): string {
  return `/${policy.name}/${policy.environment}/kill-switches`;
}

/** The parameter name of a switch: `tools.create_ticket` -> `<prefix>/tools/create_ticket`. */
export function parameterName(prefix: string, ref: string): string {
  return `${trimSlash(prefix)}/${ref.split('.').join('/')}`;
}

/** The switch ref of a parameter name under `prefix`; undefined for a name outside it. */
export function refOf(prefix: string, name: string): string | undefined {
  const base = `${trimSlash(prefix)}/`;
  if (!name.startsWith(base)) return undefined;
  const rest = name.slice(base.length);
  return rest && !rest.includes('.') && !rest.split('/').includes('') ? rest.split('/').join('.') : undefined;
}

const trimSlash = (p: string): string => p.replace(/\/+$/, '');

// ---------------------------------------------------------------- evaluation

/** What a read found for one switch. */
export type SwitchReading =
  | { readonly kind: 'value'; readonly value: SwitchValue }
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed'; readonly problem: string };

/** Why a switch is in its effective state. */
export type StateSource =
  /** the document's state */
  | 'set'
  /** the document expired: the policy's initial state */
  | 'expired'
  /** no parameter: the safe default */
  | 'missing'
  /** the parameter holds no valid document: the safe default */
  | 'malformed'
  /** never read (SSM unreachable since start): the safe default */
  | 'unread';

export interface Evaluation {
  readonly state: SwitchState;
  readonly source: StateSource;
}

/** Whether a document has expired at `nowMs`. */
export function isExpired(value: SwitchValue, nowMs: number): boolean {
  return value.expires_at !== undefined && Date.parse(value.expires_at) <= nowMs;
}

/**
 * The state a switch is in, given what was read: the document's state; its policy
 * `initial` state once the document expired; the safe default when there is nothing
 * valid to go by.
 */
export function evaluateSwitch(
  sw: Pick<ResolvedSwitch, 'initial' | 'safeDefault'>,
  reading: SwitchReading | undefined,
  nowMs: number,
): Evaluation {
  if (reading === undefined) return { state: sw.safeDefault, source: 'unread' };
  if (reading.kind !== 'value') return { state: sw.safeDefault, source: reading.kind };
  if (isExpired(reading.value, nowMs)) return { state: sw.initial, source: 'expired' };
  return { state: reading.value.state, source: 'set' };
}

/** Reads a raw parameter value into a reading. */
export function readingOf(text: string | undefined): SwitchReading {
  if (text === undefined) return { kind: 'missing' };
  const parsed = parseSwitchValue(text);
  return parsed.ok ? { kind: 'value', value: parsed.value } : { kind: 'malformed', problem: parsed.problem };
}
