/**
 * The redaction engine: `createRedactor(config)` gives `redactText` (one string) and
 * `redactValue` (the decoded string values of a JSON value, with key names as context).
 * Pure TypeScript over node:crypto; no AWS imports.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { PII_DETECTOR_IDS, PII_DETECTORS, SECRET_DETECTORS, type DetectorId, type PiiDetectorId, type PiiMode } from './catalog';
import { validateCustomPattern } from './custom';
import { is, table } from './chars';
import { classifyKey, isNonValue, looksLikeCredential } from './keys';
import { createScanner, isPlaceholder } from './scanner';
import { classifyToken } from './tokens';

/** A policy custom pattern: `pattern` is checked by `validateCustomPattern`; matches become `[placeholder]`. */
export interface CustomPattern {
  readonly name: string;
  readonly pattern: string;
  readonly placeholder: string;
}

/** How to redact. Defaults: every PII detector `plain`; secrets are always on and always plain. */
export interface RedactorConfig {
  readonly detectors?: Partial<Record<PiiDetectorId, PiiMode>>;
  readonly customPatterns?: readonly CustomPattern[];
  /** Key for keyed tokens (`[EMAIL:<hash>]`). Required when any detector is `keyed`. */
  readonly tokenKey?: Uint8Array;
}

/** Redaction counts by detector id (custom patterns as `custom:<name>`). */
export type RedactionCounts = Record<string, number>;

/** A JSON value as `JSON.parse` returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface RedactedText {
  readonly text: string;
  readonly counts: RedactionCounts;
}

export interface RedactedValue {
  readonly value: JsonValue;
  readonly counts: RedactionCounts;
}

export interface Redactor {
  /**
   * Redacts one string. Returns the input string itself when nothing was found. Counts go
   * into `counts` when given (an accumulator for streams), else into a fresh object.
   */
  redactText(s: string, counts?: RedactionCounts): RedactedText;
  /**
   * Redacts every string (and key name) inside a JSON value without mutating it. `keyHint`
   * is the name the value is stored under: a password-like or secret-like name makes
   * the whole value a credential.
   */
  redactValue(value: JsonValue, keyHint?: string): RedactedValue;
}

/** Values nested deeper than this are replaced by `[TOO_DEEP]`, never passed through. */
export const MAX_VALUE_DEPTH = 64;
const TOO_DEEP = '[TOO_DEEP]';
const KEYED_HEX = 10;
/** Passes of the fixed-point loop in `redactText`. */
const MAX_PASSES = 4;

/** HMAC-SHA256 of `value` under `key`, as 64 lower-case hex characters. Stable for a given key. */
export function pseudonymize(value: string, key: Uint8Array): string {
  let k = KEYS.get(key);
  if (!k) {
    k = createSecretKey(key);
    KEYS.set(key, k);
  }
  return createHmac('sha256', k).update(value, 'utf8').digest('hex');
}

/** Imported keys, so each HMAC does not import its key again. Callers must not mutate a key after use. */
const KEYS = new WeakMap<Uint8Array, KeyObject>();

/** Builds a redactor. Throws when the config is unusable (bad custom pattern, keyed mode without a key). */
export function createRedactor(config: RedactorConfig = {}): Redactor {
  const modes = new Map<PiiDetectorId, PiiMode>();
  for (const id of PII_DETECTOR_IDS) modes.set(id, config.detectors?.[id] ?? 'plain');
  for (const [id, mode] of Object.entries(config.detectors ?? {})) {
    if (!modes.has(id as PiiDetectorId))
      throw new Error(`redaction detector ${JSON.stringify(id)} is unknown; PII detectors: ${PII_DETECTOR_IDS.join(', ')}`);
    if (mode !== 'plain' && mode !== 'keyed' && mode !== 'off')
      throw new Error(`redaction detector ${id} is ${JSON.stringify(mode)}; allowed: plain, keyed, off`);
    if (mode === 'keyed' && !config.tokenKey) throw new Error(`redaction detector ${id} is keyed but no token key was given`);
  }
  const customs = (config.customPatterns ?? []).map((cp) => {
    const problem = validateCustomPattern(cp.pattern);
    if (problem) throw new Error(`custom pattern ${cp.name}: pattern ${problem}`);
    if (!/^[A-Z][A-Z0-9_]{1,31}$/.test(cp.placeholder))
      throw new Error(
        `custom pattern ${cp.name}: placeholder ${JSON.stringify(cp.placeholder)} must be UPPER_SNAKE_CASE, 2 to 32 characters`,
      );
    const re = new RegExp(cp.pattern, 'gu');
    if (new RegExp(cp.pattern, 'u').test(`[${cp.placeholder}]`))
      throw new Error(`custom pattern ${cp.name}: pattern matches its own placeholder [${cp.placeholder}]`);
    return { re, placeholder: `[${cp.placeholder}]`, counter: `custom:${cp.name}` };
  });
  const tokenKey = config.tokenKey;

  // Plain placeholders built once per detector (null: keyed, hashed per value).
  const plain = new Map<DetectorId, string | null>();
  for (const [id, d] of Object.entries(PII_DETECTORS))
    plain.set(id as PiiDetectorId, modes.get(id as PiiDetectorId) === 'keyed' && tokenKey ? null : `[${d.placeholder}]`);
  for (const [id, d] of Object.entries(SECRET_DETECTORS)) plain.set(id as DetectorId, `[${d.placeholder}]`);
  const placeholderFor = (detector: DetectorId, raw: string): string => {
    const p = plain.get(detector);
    if (p) return p;
    const pii = PII_DETECTORS[detector as PiiDetectorId];
    return `[${pii.placeholder}:${pseudonymize(normalize(detector as PiiDetectorId, raw), tokenKey as Uint8Array).slice(0, KEYED_HEX)}]`;
  };
  const enabled = new Set(PII_DETECTOR_IDS.filter((d) => modes.get(d) !== 'off'));
  const piiEnabled = (d: PiiDetectorId) => enabled.has(d);

  // Findings of the current scan, reused across calls (the scan is synchronous and not reentrant).
  const starts: number[] = [];
  const ends: number[] = [];
  const dets: DetectorId[] = [];
  let found = 0;
  /** Whether the last pass must be checked by another (a finding touches a non-separator, or the scanner asked; see `redactText`). */
  let glued = false;
  const scan = createScanner({
    piiEnabled,
    emit(start, end, detector) {
      starts[found] = start;
      ends[found] = end;
      dets[found] = detector;
      found++;
    },
    recheck() {
      glued = true;
    },
  });

  /**
   * Redacts to a fixed point: a replacement can change what its neighbours look like (a
   * PEM header replaced inside what then reads as a URL's user:password, an email glued
   * to an IPv6 address), so the output is scanned again until nothing changes. That is
   * needed where a finding touches a character a detector could read as part of a value.
   * A finding between separators (space, quotes, braces, angle brackets, `|,;=`, the ends
   * of the text) reads the same as its placeholder for the detectors next to it, and the
   * scanner reads context words the same around a finding as around its placeholder, so
   * when every finding of a pass sits between separators the output is final without
   * another scan, unless the scanner asks for one: a decision that depended on text a
   * later finding replaced (an SSN followed by a group that became a card; a URL authority
   * that ended at a space inside a later finding). This is held by fuzzing and the
   * idempotence properties, not proven. The passes are bounded; each
   * only ever turns more text into placeholders.
   */
  const redactText = (s: string, counts: RedactionCounts = {}): RedactedText => {
    let text = redactOnce(s, counts);
    for (let pass = 1; text !== s && glued && pass < MAX_PASSES; pass++) {
      s = text;
      text = redactOnce(s, counts);
    }
    return { text, counts };
  };

  const redactOnce = (s: string, counts: RedactionCounts): string => {
    glued = customs.length > 0;
    if (s.length === 0) return s;
    found = 0;
    scan(s);
    if (found === 0 && customs.length === 0) return s;
    let out = '';
    let at = 0;
    const n = found;
    for (let k = 0; k < n; k++) {
      const start = starts[k] as number;
      const end = ends[k] as number;
      const d = dets[k] as DetectorId;
      if (!glued && (!separatorAt(s, start - 1) || !separatorAt(s, end))) glued = true;
      const gap = customs.length === 0 ? s.slice(at, start) : applyCustom(s.slice(at, start), counts);
      const p = plain.get(d);
      out += gap + (p ? p : placeholderFor(d, s.slice(start, end)));
      counts[d] = (counts[d] ?? 0) + 1;
      at = end;
    }
    if (at < s.length || customs.length > 0) out += applyCustom(at === 0 ? s : s.slice(at), counts);
    return out;
  };

  /** Custom patterns run on the text between built-in findings, so they never touch a placeholder. */
  const applyCustom = (gap: string, counts: RedactionCounts): string => {
    if (customs.length === 0 || gap.length === 0) return gap;
    let t = gap;
    for (const c of customs) {
      c.re.lastIndex = 0;
      t = t.replace(c.re, (m: string) => {
        if (m.length === 0 || isPlaceholder(m)) return m;
        counts[c.counter] = (counts[c.counter] ?? 0) + 1;
        return c.placeholder;
      });
    }
    return t;
  };

  const redactString = (s: string, keyHint: string | undefined, counts: RedactionCounts): string => {
    if (keyHint !== undefined && s.length > 0 && !isPlaceholder(s)) {
      const kind = classifyKey(keyHint);
      const v = s.trim();
      if (kind === 'password' && !isNonValue(v)) return credential('password', counts);
      if (kind === 'secret' || kind === 'auth') {
        const specific = classifyToken(v);
        if (specific) return credential(specific, counts);
        if (kind === 'secret' && looksLikeCredential(v)) {
          const aws = v.length === 40 && /^[A-Za-z0-9/+]{40}$/.test(v) && /secret/i.test(keyHint) && /aws|access/i.test(keyHint);
          return credential(aws ? 'aws_secret_key' : 'generic_secret', counts);
        }
        if (kind === 'auth' && looksLikeCredential(v)) return credential('bearer_token', counts);
      }
    }
    return redactText(s, counts).text;
  };

  const credential = (d: DetectorId, counts: RedactionCounts): string => {
    counts[d] = (counts[d] ?? 0) + 1;
    return placeholderFor(d, '');
  };

  const walk = (v: JsonValue, keyHint: string | undefined, depth: number, counts: RedactionCounts): JsonValue => {
    if (typeof v === 'string') return redactString(v, keyHint, counts);
    if (typeof v === 'number') {
      if (keyHint !== undefined && classifyKey(keyHint) === 'password') return credential('password', counts);
      return v;
    }
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_VALUE_DEPTH) return TOO_DEEP;
    if (Array.isArray(v)) return v.map((x) => walk(x, keyHint, depth + 1, counts));
    const entries: [string, JsonValue][] = [];
    const seen = new Set<string>();
    for (const k of Object.keys(v)) {
      let key = redactText(k, counts).text;
      for (let n = 2; seen.has(key); n++) key = `${redactText(k, counts).text}#${n}`;
      seen.add(key);
      entries.push([key, walk(v[k] as JsonValue, k, depth + 1, counts)]);
    }
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    return Object.fromEntries(entries);
  };

  return {
    redactText: (s, counts) => redactText(s, counts ?? {}),
    redactValue: (value, keyHint) => {
      const counts: RedactionCounts = {};
      return { value: walk(value, keyHint, 0, counts), counts };
    },
  };
}

/**
 * Characters that end every value a detector reads and that no context check reads
 * differently next to a placeholder: whitespace, quotes, braces, angle brackets, `|,;=`
 * and the ends of the text.
 */
// Not `(` or `)`: a phone number reads the `+(` or `(` before it.
const SEPARATOR = table(' \t\n\r\f\v"\'`,;={}<>|');

function separatorAt(s: string, i: number): boolean {
  return i < 0 || i >= s.length || is(SEPARATOR, s.charCodeAt(i));
}

/** The form a keyed token hashes, so that `Bob@Example.com` and `bob@example.com` correlate. */
function normalize(d: PiiDetectorId, raw: string): string {
  switch (d) {
    case 'email':
    case 'ipv4':
    case 'ipv6':
      return raw.toLowerCase();
    case 'phone':
    case 'card':
    case 'ssn':
      return raw.replace(/[^0-9]/g, '');
    case 'iban':
      return raw.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
  }
}

/** Adds `b` into `a`. */
export function mergeCounts(a: RedactionCounts, b: RedactionCounts): RedactionCounts {
  for (const [k, n] of Object.entries(b)) a[k] = (a[k] ?? 0) + n;
  return a;
}
