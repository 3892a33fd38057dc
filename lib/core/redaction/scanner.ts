/**
 * The combined pass. One pattern made only of literals and single character classes (no
 * quantified groups, no backreferences, no lookarounds; `PREFILTER_PATTERN`) says where
 * the next place worth a look is; `prefilterAt` finds its leftmost-first matches by reading
 * characters (two table lookups reject almost every position, several times faster than
 * running the pattern as a regular expression): a digit, `@`, `://`, `::`, `-----BEGIN `, a token prefix, a
 * possible IBAN, or a key word such as `password`, `secret`, `token`, `key`, `auth`,
 * `bearer`. A handler then reads forward (and a bounded distance back) with plain loops,
 * confirms the candidate with its validator and context, and says where to resume.
 * Every handler resumes past what it read, so the whole scan is linear in the input.
 */
import { PII_DETECTOR_IDS, type DetectorId, type PiiDetectorId } from './catalog';
import {
  CREDENTIAL,
  EMAIL_DOMAIN,
  EMAIL_LOCAL,
  HEX,
  IDENT,
  IPV6_CHARS,
  PEM_BODY,
  SCHEME,
  TOKEN,
  WORD,
  codeAt,
  is,
  isDigit,
  isSpace,
  runEnd,
  runStart,
  table,
  wordAt,
} from './chars';
import { classifyKey, isNonValue, looksLikeCredential, looksLikePhrasePassword, type KeyKind } from './keys';
import { scanNumeric, type ContextReader } from './numeric';
import { classifyToken, matchPrefixedToken } from './tokens';
import { IBAN_LENGTH_BY_COUNTRY, ibanValid, ipv6Valid } from './validators';

/** What the scanner reports to: which PII detectors are on, and each finding in order. */
export interface ScanSink {
  /** Asked once per detector when the scanner is made: the answer holds for the scanner's life. */
  piiEnabled(d: PiiDetectorId): boolean;
  /** Findings arrive in increasing, non-overlapping order. */
  emit(start: number, end: number, detector: DetectorId): void;
  /** A decision of this scan depended on text that a finding after it may replace: scan the redacted output again. */
  recheck(): void;
}

/** Case-insensitive literal as a character-class sequence (`key` -> `[Kk][Ee][Yy]`). */
function ci(word: string): string {
  return [...word].map((c) => `[${c.toUpperCase()}${c.toLowerCase()}]`).join('');
}

const KEYWORDS = ['pass', 'pwd', 'secret', 'token', 'key', 'auth', 'bearer', 'cred'];
const ALTERNATIVES = [
  '\\[[A-Z]',
  '-----BEGIN ',
  '://',
  '@',
  '::',
  // A digit that starts a word (the character before it is matched too; start of text is handled apart).
  '[^A-Za-z0-9_][0-9]',
  // A colon before a hex letter: inside a letter-led full-form IPv6 address (`fe80:abcd:...`).
  ':[A-Fa-f]',
  '[A-Z][A-Z][0-9][0-9]',
  'AKIA',
  'ASIA',
  'gh[pousr]_',
  'github_pat_',
  'xox[abposre]-',
  'xapp-',
  '[rs]k_live_',
  '[rs]k_test_',
  'sk-',
  'AIza',
  'eyJ',
  ...KEYWORDS.map(ci),
];
const PREFILTER_SOURCE = ALTERNATIVES.join('|');

/** The prefilter pattern: the specification `prefilterAt` implements, exported for tests that check it stays free of risky constructs. */
export const PREFILTER_PATTERN = PREFILTER_SOURCE;

/**
 * Class of each ASCII character as the first character of a prefilter alternative:
 * 0 none (digits, `_`, letters that start no alternative), 1 a non-word character (the
 * digit alternative, and `[`, `-`, `:`, `@`), 2 a letter that starts a literal or a key word.
 * Every code above 127 is a non-word character.
 */
const FIRST = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const word = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    if (!word) t[c] = 1;
  }
  for (let c = 65; c <= 90; c++) t[c] = 2; // `[A-Z][A-Z][0-9][0-9]`
  for (const ch of 'gxrse') t[ch.charCodeAt(0)] = 2;
  for (const w of KEYWORDS) {
    t[w.charCodeAt(0)] = 2;
    t[w.toUpperCase().charCodeAt(0)] = 2;
  }
  return t;
})();

/**
 * The characters each position of an alternative can match, over ASCII (`[^...]` also
 * matches every code above 127, which the scan loop handles apart). Reads the subset of
 * regular-expression syntax the alternatives use: literals, `\\[`, and classes with ranges.
 */
function positions(alt: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < alt.length;) {
    const set = new Uint8Array(128);
    if (alt[i] === '\\') {
      set[alt.charCodeAt(i + 1)] = 1;
      i += 2;
    } else if (alt[i] === '[') {
      const close = alt.indexOf(']', i + 1);
      let body = alt.slice(i + 1, close);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          for (let c = body.charCodeAt(k); c <= body.charCodeAt(k + 2); c++) set[c] = 1;
          k += 2;
        } else set[body.charCodeAt(k)] = 1;
      }
      if (negate) for (let c = 0; c < 128; c++) set[c] = set[c] === 1 ? 0 : 1;
      i = close + 1;
    } else {
      set[alt.charCodeAt(i)] = 1;
      i++;
    }
    out.push(set);
  }
  return out;
}

/**
 * Which ASCII pairs (first, second character) can begin a prefilter match, and what may
 * follow them: `PAIR[c << 7 | c1]` is 0 (no alternative starts so), 1 (one of at most two
 * characters does: any third character), or k >= 2, when every alternative that starts
 * so is longer and its third character must be in `THIRD[k << 7 | c2]`. Derived from the
 * alternatives, so it is exactly as wide as the pattern: most letter pairs of a key word
 * (`se`, `to`, `pa` ...) are common in prose, and the third character rejects them.
 * A second character above 127 (or the end of the text) can only follow `@`.
 */
const { PAIR, THIRD } = (() => {
  const pair = new Uint8Array(128 * 128);
  const thirds = new Map<number, Uint8Array>();
  for (const alt of ALTERNATIVES) {
    const [s0, s1, s2] = positions(alt) as [Uint8Array, Uint8Array?, Uint8Array?];
    for (let c = 0; c < 128; c++) {
      if (s0[c] !== 1) continue;
      for (let c1 = 0; c1 < 128; c1++) {
        if (s1 && s1[c1] !== 1) continue;
        const k = (c << 7) | c1;
        if (!s2) {
          pair[k] = 1;
          continue;
        }
        const t = thirds.get(k) ?? new Uint8Array(128);
        for (let c2 = 0; c2 < 128; c2++) if (s2[c2] === 1) t[c2] = 1;
        thirds.set(k, t);
      }
    }
  }
  // Distinct third-character sets, numbered from 2.
  const ids = new Map<string, number>();
  const sets: Uint8Array[] = [new Uint8Array(128), new Uint8Array(128)];
  for (const [k, t] of thirds) {
    if (pair[k] === 1) continue;
    const key = t.join('');
    let id = ids.get(key);
    if (id === undefined) {
      id = sets.length;
      ids.set(key, id);
      sets.push(t);
    }
    pair[k] = id;
  }
  if (sets.length > 255) throw new Error('prefilter: too many third-character sets');
  const third = new Uint8Array(sets.length * 128);
  sets.forEach((t, id) => third.set(t, id * 128));
  return { PAIR: pair, THIRD: third };
})();

/** False where no prefilter alternative can match at `i` (table lookups on up to three characters); `prefilterAt` decides the rest. */
export function mayStartAt(s: string, i: number): boolean {
  const c = codeAt(s, i);
  if (c < 128) {
    const c1 = codeAt(s, i + 1);
    if (c1 >= 128) return c === 64;
    const v = PAIR[(c << 7) | c1] as number;
    if (v <= 1) return v === 1;
    const c2 = codeAt(s, i + 2);
    return c2 < 128 && THIRD[(v << 7) | c2] === 1;
  }
  return isDigit(codeAt(s, i + 1));
}

const GH_KIND = table('pousr');
const XOX_KIND = table('abposre');

/** True when `s` at `i` reads `word` (lower case letters) in any ASCII case, like `ci(word)`. */
function ciAt(s: string, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if ((codeAt(s, i + k) | 32) !== word.charCodeAt(k)) return false;
  return true;
}

function upperAt(s: string, i: number): boolean {
  const c = codeAt(s, i);
  return c >= 65 && c <= 90;
}

/**
 * Length of the first alternative of the prefilter pattern (in its order) that matches
 * at `i`, or 0: what `new RegExp(PREFILTER_SOURCE, 'y')` would match there, by reading
 * characters. `(c | 32) === lower` holds exactly for the two cases of an ASCII letter.
 */
export function prefilterAt(s: string, i: number): number {
  const c = codeAt(s, i);
  const c1 = codeAt(s, i + 1);
  if (c >= 128) return isDigit(c1) ? 2 : 0;
  const f = FIRST[c] as number;
  if (f === 0) return 0;
  if (f === 1) {
    if (c === 91 /* [ */ && upperAt(s, i + 1)) return 2;
    if (c === 45 /* - */ && s.startsWith('-----BEGIN ', i)) return 11;
    if (c === 58 /* : */) {
      if (c1 === 47 && codeAt(s, i + 2) === 47) return 3;
      if (c1 === 58) return 2;
    }
    if (c === 64 /* @ */) return 1;
    if (isDigit(c1)) return 2;
    if (c === 58 && c1 < 128 && is(HEX, c1) && !isDigit(c1)) return 2;
    return 0;
  }
  if (c >= 65 && c <= 90) {
    if (upperAt(s, i + 1) && isDigit(codeAt(s, i + 2)) && isDigit(codeAt(s, i + 3))) return 4;
    if (c === 65 /* A */ && (s.startsWith('AKIA', i) || s.startsWith('ASIA', i) || s.startsWith('AIza', i))) return 4;
  } else {
    switch (c) {
      case 103 /* g */:
        if (c1 === 104 && is(GH_KIND, codeAt(s, i + 2)) && codeAt(s, i + 3) === 95) return 4;
        if (s.startsWith('github_pat_', i)) return 11;
        break;
      case 120 /* x */:
        if (c1 === 111 && codeAt(s, i + 2) === 120 && is(XOX_KIND, codeAt(s, i + 3)) && codeAt(s, i + 4) === 45) return 5;
        if (s.startsWith('xapp-', i)) return 5;
        break;
      case 114 /* r */:
      case 115 /* s */:
        if (c1 === 107) {
          if (s.startsWith('_live_', i + 2) || s.startsWith('_test_', i + 2)) return 8;
          if (c === 115 && codeAt(s, i + 2) === 45) return 3;
        }
        break;
      case 101 /* e */:
        if (c1 === 121 && codeAt(s, i + 2) === 74) return 3;
        break;
    }
  }
  // Key words, in the pattern's order: pass, pwd, secret, token, key, auth, bearer, cred.
  switch (c | 32) {
    case 112 /* p */:
      if (ciAt(s, i, 'pass')) return 4;
      return ciAt(s, i, 'pwd') ? 3 : 0;
    case 115 /* s */:
      return ciAt(s, i, 'secret') ? 6 : 0;
    case 116 /* t */:
      return ciAt(s, i, 'token') ? 5 : 0;
    case 107 /* k */:
      return ciAt(s, i, 'key') ? 3 : 0;
    case 97 /* a */:
      return ciAt(s, i, 'auth') ? 4 : 0;
    case 98 /* b */:
      return ciAt(s, i, 'bearer') ? 6 : 0;
    case 99 /* c */:
      return ciAt(s, i, 'cred') ? 4 : 0;
  }
  return 0;
}

/** A placeholder (`[EMAIL]`, `[EMAIL:0a1b2c3d4e]`): one pattern, anchored or searched as each use needs. */
const PLACEHOLDER_SOURCE = '\\[[A-Z][A-Z0-9_]{0,31}(?::[0-9a-f]{10})?\\]';
/** The longest placeholder: `[`, 32 name characters, `:` and 10 hex digits, `]`. */
const PLACEHOLDER_MAX = 45;
const PLACEHOLDER_AT = new RegExp(`^${PLACEHOLDER_SOURCE}`);
const PLACEHOLDER_IN = new RegExp(PLACEHOLDER_SOURCE);
const PLACEHOLDER_ALL = new RegExp(PLACEHOLDER_SOURCE, 'g');
const PLACEHOLDER_FULL = new RegExp(`^${PLACEHOLDER_SOURCE}$`);
const AUTH_SCHEMES = new Set(['bearer', 'basic', 'token', 'bot', 'apikey', 'api-key', 'sso-key', 'negotiate']);
const PEM_LABEL = (() => {
  const t = new Uint8Array(128);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ') t[c.charCodeAt(0)] = 1;
  return t;
})();
const PEM_TAIL = (() => {
  const t = Uint8Array.from(PEM_BODY);
  for (const c of ' :,-') t[c.charCodeAt(0)] = 1;
  return t;
})();

/** Characters of context read before a number (see `ContextReader`), and findings or placeholders stepped over. */
const CONTEXT_CHARS = 40;
const CONTEXT_JUMPS = 4;

/** Start of the placeholder whose `]` is at `j`, or -1. */
function placeholderEndingAt(s: string, j: number): number {
  for (let open = j - 2; open >= 0 && j - open < PLACEHOLDER_MAX; open--) {
    if (s.charCodeAt(open) === 91) return PLACEHOLDER_FULL.test(s.slice(open, j + 1)) ? open : -1;
  }
  return -1;
}

/** The first `.` or `-` in [from, end), or `end`. */
function nextDotOrHyphen(s: string, from: number, end: number): number {
  for (let k = from; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c === 46 || c === 45) return k;
  }
  return end;
}

/** The first place in [from, end) where `marker` (which starts with `-`) starts, or `end`; reads at most the marker's length past `end`. */
function untilMarker(s: string, from: number, end: number, marker: string): number {
  for (let k = from; k < end; k++) if (s.charCodeAt(k) === 45 && s.startsWith(marker, k)) return k;
  return end;
}

/** True when `v` contains one of this engine's placeholders. */
function hasPlaceholder(v: string): boolean {
  return v.includes('[') && PLACEHOLDER_IN.test(v);
}

/** True when `v` is one of this engine's placeholders (`[EMAIL]`, `[EMAIL:0a1b2c3d4e]`). */
export function isPlaceholder(v: string): boolean {
  return v.length <= PLACEHOLDER_MAX && PLACEHOLDER_FULL.test(v);
}

/** Runs the combined pass over `s`, reporting findings to `sink`. */
export function scanText(s: string, sink: ScanSink): void {
  new Scan(sink).run(s);
}

/** A scanner bound to one sink, reusable across strings (no allocation per call). Not reentrant. */
export function createScanner(sink: ScanSink): (s: string) => void {
  const scan = new Scan(sink);
  return (s) => scan.run(s);
}

class Scan {
  /** End of the last finding: nothing before it may be read as part of a new one. */
  private floor = 0;
  /** Where the last URL authority without credentials stopped reading (-1: none). */
  private urlStop = -1;
  /** Findings of this scan, in order (for `context`). */
  private readonly fStart: number[] = [];
  private readonly fEnd: number[] = [];
  private found = 0;
  /** Cache for the next `-----END ` at or after `pemFrom` (-1: none). */
  private pemFrom = -1;
  private pemEnd = -1;
  /** End of the run of token characters after the last token prefix that was not a token (-1: none). */
  private tokenFailTo = -1;
  /** A run of IPv6 characters already found not to be an address: [ipv6FailFrom, ipv6FailTo). */
  private ipv6FailFrom = -1;
  private ipv6FailTo = -1;

  private s = '';

  /** Which PII detectors are on (asked once: the handlers test it on every candidate). */
  private readonly pii: Readonly<Record<PiiDetectorId, boolean>>;

  constructor(private readonly sink: ScanSink) {
    this.pii = Object.fromEntries(PII_DETECTOR_IDS.map((d) => [d, sink.piiEnabled(d)])) as Record<PiiDetectorId, boolean>;
  }

  run(text: string): void {
    this.s = text;
    this.floor = this.found = 0;
    this.urlStop = -1;
    this.pemFrom = this.pemEnd = this.ipv6FailFrom = this.ipv6FailTo = this.tokenFailTo = -1;
    const { s } = this;
    const n = s.length;
    // The prefilter pattern's leftmost-first matches, found by `prefilterAt` rather than by
    // the regular expression: most characters are rejected by one table lookup.
    let i = isDigit(codeAt(s, 0)) ? Math.max(this.digit(0) - 1, 1) : 0;
    for (;;) {
      if (i >= n) return;
      let len = 0;
      // One pair-table lookup per position (the same test as `mayStartAt`, inlined), reading
      // each character once and never past the end (an out-of-range read is a NaN, which
      // would make this loop work on doubles); a third character only where the pair needs
      // one. At the last character only `@` can match.
      const last = n - 1;
      let c = s.charCodeAt(i);
      for (; i < last; i++) {
        const c1 = s.charCodeAt(i + 1);
        if ((c | c1) < 128) {
          const v = PAIR[(c << 7) | c1] as number;
          if (v === 0) {
            c = c1;
            continue;
          }
          if (v > 1) {
            const c2 = i + 2 < n ? s.charCodeAt(i + 2) : 128;
            if (c2 >= 128 || THIRD[(v << 7) | c2] === 0) {
              c = c1;
              continue;
            }
          }
        } else if (c < 128 ? c !== 64 : c1 < 48 || c1 > 57) {
          c = c1;
          continue;
        }
        // A digit after a non-word ASCII character other than `@` (the commonest hit): the
        // digit alternative, which is what `prefilterAt` would find first.
        if (c1 >= 48 && c1 <= 57 && c < 128 && c !== 64 && FIRST[c] === 1) {
          len = 2;
          break;
        }
        len = prefilterAt(s, i);
        if (len > 0) break;
        c = c1;
      }
      if (len === 0) {
        if (i !== last || c !== 64) return;
        len = 1;
      }
      const next = this.dispatch(i, i + len);
      // Resume one character early: the digit alternative needs to see the character before the digit.
      i = Math.max(next - 1, i + 1);
    }
  }

  private emit(start: number, end: number, detector: DetectorId): void {
    const from = Math.max(start, this.floor);
    if (end <= from) return;
    this.sink.emit(from, end, detector);
    if (this.urlStop >= from && this.urlStop < end) this.sink.recheck();
    this.fStart[this.found] = from;
    this.fEnd[this.found] = end;
    this.found++;
    this.floor = end;
  }

  /** Routes the prefilter hit `[p, end)` to its handler, reading characters rather than allocating the hit. */
  private dispatch(p: number, end: number): number {
    const { s } = this;
    const n = end - p;
    if (n === 2 && isDigit(codeAt(s, p + 1))) return this.digit(p + 1);
    const c = codeAt(s, p);
    switch (c) {
      case 91 /* [ */:
        return this.placeholder(p);
      case 64 /* @ */:
        return this.email(p);
      case 58 /* : */: {
        const c1 = codeAt(s, p + 1);
        if (c1 === 47) return this.urlCredentials(p);
        return c1 === 58 ? this.ipv6At(p) : this.hexColon(p + 1);
      }
      case 45 /* - */:
        if (n === 11) return this.pem(p);
        break;
    }
    const last = codeAt(s, end - 1);
    if (n === 4 && isDigit(codeAt(s, p + 2))) {
      const e = this.pii.iban ? this.iban(p) : -1;
      return e > 0 ? e : p + 1;
    }
    // Token prefixes end in `_` or `-`, or are one of four exact literals; the rest are key words.
    if (
      last === 95 ||
      last === 45 ||
      (n === 4 && (s.startsWith('AKIA', p) || s.startsWith('ASIA', p) || s.startsWith('AIza', p))) ||
      (n === 3 && s.startsWith('eyJ', p))
    ) {
      return this.prefixed(p, end);
    }
    return this.keyword(p);
  }

  private placeholder(p: number): number {
    const ph = runPlaceholder(this.s, p);
    return ph ? p + ph.length : p + 1;
  }

  // ----- PII ---------------------------------------------------------------------------

  private email(a: number): number {
    const { s } = this;
    if (!this.pii.email) return a + 1;
    let start = runStart(s, a, EMAIL_LOCAL, 64, this.floor);
    while (start < a && s.charCodeAt(start) === 46) start++;
    if (start === a || (start > 0 && is(EMAIL_LOCAL, s.charCodeAt(start - 1)) && start - 1 >= this.floor)) return a + 1;
    let end = runEnd(s, a + 1, EMAIL_DOMAIN, 254);
    // A double hyphen ends the domain except in an IDN label (`xn--`): `a@b.co-----BEGIN ...`
    // must not read differently once the PEM marker after it has been replaced.
    for (let i = a + 1; i < end - 1; i++) {
      const idn = (codeAt(s, i - 2) | 32) === 120 && (codeAt(s, i - 1) | 32) === 110 && (i - 2 === a + 1 || codeAt(s, i - 3) === 46);
      if (codeAt(s, i) === 45 && codeAt(s, i + 1) === 45 && !idn) {
        end = i;
        break;
      }
    }
    while (end > a + 1 && (s.charCodeAt(end - 1) === 46 || s.charCodeAt(end - 1) === 45)) end--;
    const tldStart = domainLabelsValid(s, a + 1, end);
    if (tldStart < 0 || !tldValid(s, tldStart, end)) return a + 1;
    this.emit(start, end, 'email');
    return end;
  }

  private digit(p: number): number {
    const { s } = this;
    // Telemetry is full of timestamps and UUIDs; neither is ever personal data, and
    // skipping them whole saves a handful of digit hits each.
    const skip = skipTimestampOrUuid(s, p, this.floor);
    if (skip > 0) return skip;
    const digitsEnd = runEnd(s, p, DIGITS_ONLY);
    const wordEnd = runEnd(s, digitsEnd, WORD);
    if (wordAt(s, p - 1)) {
      // Inside a word (`user42`, `4bf92f...`): only an IPv6 address can start earlier in it.
      if (codeAt(s, wordEnd) === 58 || codeAt(s, runStart(s, p, WORD, 64, this.floor) - 1) === 58) {
        const end = this.ipv6Around(p);
        if (end > 0) return end;
      }
      return wordEnd;
    }
    if (codeAt(s, wordEnd) === 58 || codeAt(s, p - 1) === 58) {
      const end = this.ipv6Around(p);
      if (end > 0) return end;
    }
    // A digit-led word (`4bf92f...`, `7770aws_secret_key`): resume after its digits, where a
    // key word may start; nothing else can start inside a word.
    if (digitsEnd < wordEnd) return digitsEnd;
    // Digits that run into `@` are an email's local part (`555-234-5678@example.com`), not a number.
    const at = is(EMAIL_LOCAL, codeAt(s, digitsEnd)) ? runEnd(s, digitsEnd, EMAIL_LOCAL, 64) : digitsEnd;
    if (codeAt(s, at) === 64 && this.pii.email) {
      const end = this.email(at);
      if (end > at + 1) return end;
    }
    return scanNumeric(s, p, this.context, this.piiOn, this.emitPii, this.recheck);
  }

  // Bound once: no closure is created per call on the hot path.
  private readonly piiOn = (d: PiiDetectorId): boolean => this.pii[d];
  private readonly emitPii = (a: number, b: number, d: PiiDetectorId): void => this.emit(a, b, d);
  private readonly recheck = (): void => this.sink.recheck();

  /** See `ContextReader`: walks back from `at`, jumping over findings and placeholders. */
  private readonly context: ContextReader = (at) => {
    const { s, fStart, fEnd } = this;
    const codes: number[] = [];
    let j = at - 1;
    let k = this.found - 1;
    // At most CONTEXT_JUMPS findings or placeholders are stepped over (the same number in
    // every pass), so each call reads a bounded stretch.
    let jumps = 0;
    while (j >= 0 && codes.length < CONTEXT_CHARS) {
      while (k >= 0 && (fStart[k] as number) > j) k--;
      if (k >= 0 && j < (fEnd[k] as number)) {
        if (++jumps > CONTEXT_JUMPS) break;
        j = (fStart[k] as number) - 1;
        continue;
      }
      const c = s.charCodeAt(j);
      if (c === 93 /* ] */) {
        const open = placeholderEndingAt(s, j);
        if (open >= 0) {
          if (++jumps > CONTEXT_JUMPS) break;
          j = open - 1;
          continue;
        }
      }
      codes.push(c);
      j--;
    }
    return String.fromCharCode(...codes.reverse()).toLowerCase();
  };

  /** Tries the IPv6 address whose run of hex digits and colons contains `p`. */
  private ipv6Around(p: number): number {
    if (p >= this.ipv6FailFrom && p < this.ipv6FailTo) return -1;
    return this.ipv6From(runStart(this.s, p, IPV6_CHARS, 45, this.floor));
  }

  /** `:a` inside what may be a letter-led IPv6 address (`fe80:abcd:...`). */
  private hexColon(p: number): number {
    const end = this.ipv6Around(p);
    return end > 0 ? end : p;
  }

  private ipv6At(p: number): number {
    const end = this.ipv6Around(p);
    return end > 0 ? end : Math.max(p + 2, this.ipv6FailTo);
  }

  /** Reads an IPv6 address starting at `start`; returns its end if it was emitted, else -1 (and remembers the failed run). */
  private ipv6From(start: number): number {
    const { s } = this;
    if (!this.pii.ipv6) return -1;
    const fullEnd = runEnd(s, start, IPV6_CHARS);
    const end = this.ipv6End(start, fullEnd);
    if (end < 0) {
      this.ipv6FailFrom = start;
      this.ipv6FailTo = fullEnd;
      return -1;
    }
    this.emit(start, end, 'ipv6');
    return end;
  }

  /** The end of the IPv6 address in the run [start, fullEnd), or -1. */
  private ipv6End(start: number, fullEnd: number): number {
    const { s } = this;
    const before = codeAt(s, start - 1);
    if (start > 0 && (is(WORD, before) || before === 58 || before === 46)) return -1;
    if (fullEnd - start > 46) return -1;
    let end = fullEnd;
    while (end > start && s.charCodeAt(end - 1) === 46) end--;
    if (end > start + 1 && codeAt(s, end - 1) === 58 && codeAt(s, end - 2) !== 58) end--;
    if (wordAt(s, end) || !ipv6Valid(s.slice(start, end))) return -1;
    return end;
  }

  private iban(p: number): number {
    const { s } = this;
    if (wordAt(s, p - 1)) return -1;
    // The prefilter matched `[A-Z][A-Z][0-9][0-9]` here, so the country code is two capitals.
    const len = IBAN_LENGTH_BY_COUNTRY[(s.charCodeAt(p) - 65) * 26 + s.charCodeAt(p + 1) - 65] as number;
    if (len === 0) return -1;
    // Count the IBAN's characters (groups of four may be split by one space or hyphen) before building anything.
    let k = 0;
    let i = p;
    while (k < len && i < s.length) {
      const c = s.charCodeAt(i);
      if (is(WORD, c) && c !== 95) {
        k++;
        i++;
      } else if ((c === 32 || c === 45) && k % 4 === 0 && k > 0 && is(WORD, codeAt(s, i + 1))) {
        i++;
      } else break;
    }
    if (k !== len || wordAt(s, i)) return -1;
    if (!ibanValid(s, p, i)) return -1;
    this.emit(p, i, 'iban');
    return i;
  }

  // ----- secrets -----------------------------------------------------------------------

  /**
   * A word character at `i` outside this scan's findings: a finding's last character reads
   * as its placeholder's `]` (`[GITHUB_TOKEN]-ghp_...` starts a word after the hyphen).
   */
  private wordCharAt(i: number): boolean {
    return i >= this.floor && wordAt(this.s, i);
  }

  /** A token prefix `[p, end)` at the start of a word. */
  private prefixed(p: number, end: number): number {
    const { s } = this;
    // Inside a word (or a finding): not a token; skip the word only (a number or a PEM marker
    // may follow a hyphen).
    if (p < this.floor || this.wordCharAt(p - 1) || (codeAt(s, p - 1) === 45 && this.wordCharAt(p - 2))) return runEnd(s, p, WORD);
    // A prefix inside a run already found not to hold a token (`sk---sk---...`): reading
    // its body again would be quadratic, and the old run's end is known.
    if (p < this.tokenFailTo) return end;
    const m = matchPrefixedToken(s, p);
    if (!m) {
      // Not a token: resume after the prefix, where a key word may start (`ghp_password=...`);
      // no prefix later in the run (up to a PEM marker) is read as a token again.
      this.tokenFailTo = untilMarker(s, p, runEnd(s, p, TOKEN), '-----BEGIN ');
      return end;
    }
    this.emit(p, m.end, m.detector);
    return m.end;
  }

  private pem(p: number): number {
    const { s } = this;
    const labelStart = p + 11;
    const labelEnd = runEnd(s, labelStart, PEM_LABEL, 48);
    if (!s.startsWith('-----', labelEnd)) return labelStart;
    const label = s.slice(labelStart, labelEnd);
    if (!/PRIVATE KEY(?: BLOCK)?$/.test(label)) return labelEnd;
    const bodyStart = labelEnd + 5;
    const endMarker = this.nextPemEnd(bodyStart);
    let end: number;
    if (endMarker >= 0) {
      const close = s.indexOf('-----', endMarker + 9);
      end = close !== -1 && close - endMarker <= 64 ? close + 5 : endMarker + 9;
    } else {
      // No END marker (truncated text): everything that can still be key material goes.
      end = runEnd(s, bodyStart, PEM_TAIL);
    }
    this.emit(p, end, 'private_key');
    return end;
  }

  private nextPemEnd(from: number): number {
    if (this.pemFrom !== -1 && from >= this.pemFrom && (this.pemEnd === -1 || this.pemEnd >= from)) return this.pemEnd;
    this.pemFrom = from;
    this.pemEnd = this.s.indexOf('-----END ', from);
    return this.pemEnd;
  }

  private urlCredentials(c: number): number {
    const { s } = this;
    // A scheme starts with a letter: in `1http://` or `x-[PHONE]+ftp://` it is `http`, `ftp`.
    let schemeStart = runStart(s, c, SCHEME, 32, this.floor);
    while (schemeStart < c && !is(LETTERS, s.charCodeAt(schemeStart))) schemeStart++;
    if (schemeStart === c) return c + 3;
    let authEnd = c + 3;
    let at = -1;
    const limit = Math.min(s.length, c + 3 + 512);
    while (authEnd < limit) {
      const ch = s.charCodeAt(authEnd);
      if (isSpace(ch) || ch === 47 || ch === 63 || ch === 35 || ch === 34 || ch === 39 || ch === 60 || ch === 62 || ch === 92) break;
      if (ch === 64) at = authEnd;
      authEnd++;
    }
    if (at === -1) {
      // A finding that later covers the character that ended this authority (a phone
      // number's space) leaves a placeholder the next pass reads through: ask for that pass.
      if (authEnd < s.length) this.urlStop = authEnd;
      if (s.startsWith('hooks.slack.com/services/', c + 3)) {
        // Slack incoming webhook: the path is the credential.
        const start = c + 3 + 25;
        const end = runEnd(s, start, SLACK_PATH, 256);
        if (end - start >= 20) {
          this.emit(start, end, 'slack_token');
          return end;
        }
      }
      return c + 3;
    }
    // A keyed placeholder (`[EMAIL:0a1b2c3d4e]`) has a colon of its own: it never makes a password.
    const userinfo = s.slice(c + 3, at).replace(PLACEHOLDER_ALL, '');
    const colon = userinfo.indexOf(':');
    if (colon === -1 || colon === userinfo.length - 1 || isPlaceholder(userinfo)) return c + 3;
    this.emit(c + 3, at, 'url_credentials');
    return at + 1;
  }

  /** A key word (`password`, `api_key`, `Authorization`, `Bearer`...) and the value assigned to it. */
  private keyword(p: number): number {
    const { s } = this;
    // A key name never holds a PEM marker's five hyphens: `auth-----BEGIN ...` is a word and a marker.
    let idStart = runStart(s, p, IDENT, 96, this.floor);
    for (let k = p - 5; k >= idStart; k--) {
      if (s.startsWith('-----', k)) {
        idStart = k + 5;
        break;
      }
    }
    let idEnd = untilMarker(s, p, runEnd(s, p, IDENT, 128), '-----');
    // Too long for a key name: resume after the word (a token may follow a dot in it).
    if (idEnd - idStart >= 96 || is(IDENT, codeAt(s, idEnd))) return Math.max(p + 1, runEnd(s, p, WORD));
    while (idEnd > p && (s.charCodeAt(idEnd - 1) === 46 || s.charCodeAt(idEnd - 1) === 45)) idEnd--;
    let dashFlag = false;
    while (idStart < p && (s.charCodeAt(idStart) === 45 || s.charCodeAt(idStart) === 46)) {
      dashFlag ||= s.charCodeAt(idStart) === 45;
      idStart++;
    }
    // Where no value is taken, scanning resumes inside the name at its next dot or hyphen:
    // a token may follow a dot (`pwd.xoxb-...`), a number a hyphen (`password1-253-920-8057`).
    const resume = nextDotOrHyphen(s, p + 1, idEnd);
    const kind = classifyKey(s.slice(idStart, idEnd));
    if (kind === null) return resume;
    const assigned = this.readAssignment(idEnd, kind, dashFlag);
    if (!assigned) return resume;
    const { valueStart, valueEnd, phrase } = assigned;
    const value = s.slice(valueStart, valueEnd);
    // A value that holds a placeholder is not taken as a credential again (an email after
    // `password is`); what else it holds is scanned as any text.
    if (value.length === 0 || hasPlaceholder(value)) return resume;

    switch (kind) {
      case 'password':
        if (phrase ? !looksLikePhrasePassword(value) : isNonValue(value)) return resume;
        this.emit(valueStart, valueEnd, 'password');
        return valueEnd;
      case 'bearer':
        if (!looksLikeToken(value)) return resume;
        this.emit(valueStart, valueEnd, 'bearer_token');
        return valueEnd;
      case 'auth':
        return this.authValue(idEnd, valueStart, valueEnd, value);
      case 'secret': {
        const d = this.secretKind(value, idStart);
        if (d === null) return resume;
        this.emit(valueStart, valueEnd, d);
        return valueEnd;
      }
    }
  }

  /** `Authorization: Bearer <token>` keeps the scheme; a bare credential goes entirely. */
  private authValue(idEnd: number, valueStart: number, valueEnd: number, value: string): number {
    const { s } = this;
    if (AUTH_SCHEMES.has(value.toLowerCase())) {
      let t = valueEnd;
      while (t < valueEnd + 4 && (codeAt(s, t) === 32 || codeAt(s, t) === 9)) t++;
      if (t === valueEnd) return idEnd;
      const tokenEnd = runEnd(s, t, CREDENTIAL, 8192);
      const token = s.slice(t, tokenEnd);
      if (token.length === 0 || isPlaceholder(runPlaceholder(s, t))) return Math.max(tokenEnd, valueEnd);
      if (!looksLikeToken(token)) return valueEnd;
      this.emit(t, tokenEnd, 'bearer_token');
      return tokenEnd;
    }
    const sp = value.indexOf(' ');
    if (sp > 0 && AUTH_SCHEMES.has(value.slice(0, sp).toLowerCase())) {
      // Quoted "Bearer <token>".
      const token = value.slice(sp + 1).trim();
      if (!looksLikeToken(token) || isPlaceholder(token)) return valueEnd;
      this.emit(valueStart + sp + 1, valueEnd, 'bearer_token');
      return valueEnd;
    }
    if (!looksLikeToken(value)) return idEnd;
    this.emit(valueStart, valueEnd, classifyToken(value) ?? 'bearer_token');
    return valueEnd;
  }

  /** Which secret a value under a secret-like name is, if it looks like one. */
  private secretKind(value: string, idStart: number): DetectorId | null {
    const specific = classifyToken(value);
    if (specific) return specific;
    if (!looksLikeCredential(value)) return null;
    if (value.length === 40 && /^[A-Za-z0-9/+]{40}$/.test(value)) {
      const ctx = this.s.slice(Math.max(0, idStart - 48), idStart + 48).toLowerCase();
      if (ctx.includes('secret') && (ctx.includes('aws') || ctx.includes('access'))) return 'aws_secret_key';
    }
    return 'generic_secret';
  }

  /**
   * After a key name: an optional closing quote, then `=`, `:`, `:=`, `=>`, or (plain
   * phrases) `is` / `was`, or a space after a `--flag`; then the value, quoted or bare.
   */
  private readAssignment(
    idEnd: number,
    kind: KeyKind,
    dashFlag: boolean,
  ): { valueStart: number; valueEnd: number; phrase: boolean } | null {
    const { s } = this;
    let q = idEnd;
    if (codeAt(s, q) === 92 && codeAt(s, q + 1) === 34) q += 2;
    else if (codeAt(s, q) === 34 || codeAt(s, q) === 39) q++;
    const afterKey = q;
    q = skipBlanks(s, q, 8);
    let phrase = false;
    const c = codeAt(s, q);
    if (kind === 'bearer') {
      if (q === afterKey) return null;
    } else if (c === 61 /* = */ || c === 58 /* : */) {
      q++;
      const c2 = codeAt(s, q);
      if ((c === 58 && c2 === 61) || (c === 61 && c2 === 62)) q++;
      else if (c === 58 && c2 === 58) return null;
    } else if (dashFlag && q > afterKey && kind === 'password') {
      // `--password hunter2`
    } else if (q > afterKey && kind === 'password' && !isConnector(s, q)) {
      // "the password for the vpn is ...": up to three short words before the connector.
      let r = q;
      for (let w = 0; w < 3 && !isConnector(s, r); w++) {
        const we = runEnd(s, r, LETTERS, 13);
        if (we === r || we - r > 12 || codeAt(s, we) !== 32) return null;
        r = we + 1;
      }
      if (!isConnector(s, r)) return null;
      return this.readAssignmentAt(r);
    } else if (q > afterKey && isConnector(s, q) && (kind === 'password' || kind === 'secret')) {
      q += s.startsWith('is', q) ? 2 : 3;
      if (codeAt(s, q) === 58) q++;
      phrase = true;
    } else {
      return null;
    }
    q = skipBlanks(s, q, 8);
    return readValue(s, q, phrase);
  }

  /** After filler words: `is`/`was` (phrase) or `=`/`:` (assignment), then the value. */
  private readAssignmentAt(r: number): { valueStart: number; valueEnd: number; phrase: boolean } | null {
    const { s } = this;
    const c = codeAt(s, r);
    if (c === 61 || c === 58) return readValue(s, skipBlanks(s, r + 1, 8), false);
    let q = r + (s.startsWith('is', r) ? 2 : 3);
    if (codeAt(s, q) === 58) q++;
    return readValue(s, skipBlanks(s, q, 8), true);
  }
}

const SLACK_PATH = (() => {
  const t = Uint8Array.from(TOKEN);
  t[47] = 1;
  return t;
})();

/**
 * The domain [from, to) (characters of EMAIL_DOMAIN) split at dots: at least two labels,
 * each 1 to 63 characters, none starting or ending with `-`. Returns where the last label
 * starts, or -1. Reads characters rather than splitting.
 */
function domainLabelsValid(s: string, from: number, to: number): number {
  let labelStart = from;
  let labels = 0;
  for (let i = from; i <= to; i++) {
    if (i < to && s.charCodeAt(i) !== 46) continue;
    const n = i - labelStart;
    if (n === 0 || n > 63 || codeAt(s, labelStart) === 45 || codeAt(s, i - 1) === 45) return -1;
    labels++;
    if (i < to) labelStart = i + 1;
  }
  return labels >= 2 ? labelStart : -1;
}

/** `[A-Za-z]{2,24}` or `xn--[A-Za-z0-9-]{1,59}` exactly, over [from, to). */
function tldValid(s: string, from: number, to: number): boolean {
  const n = to - from;
  if (n >= 5 && n <= 63 && s.startsWith('xn--', from)) {
    for (let i = from + 4; i < to; i++) if (!is(EMAIL_DOMAIN, s.charCodeAt(i)) || s.charCodeAt(i) === 46) return false;
    return true;
  }
  if (n < 2 || n > 24) return false;
  for (let i = from; i < to; i++) if (!is(LETTERS, s.charCodeAt(i))) return false;
  return true;
}

const HEX_DASH = (() => {
  const t = new Uint8Array(128);
  for (const c of '0123456789abcdefABCDEF-') t[c.charCodeAt(0)] = 1;
  return t;
})();

/** `T` or a space between the date and the time (a table: both are tested on the first call, so no branch is compiled unseen). */
const TIMESTAMP_SEPARATOR = table('T ');
/** Offsets of the digits of `YYYY-MM-DD[T ]hh:mm`. */
const TIMESTAMP_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15];

/** `YYYY-MM-DD[T ]hh:mm` at p. */
function isTimestampAt(s: string, p: number): boolean {
  // The punctuation first: it rejects most digit runs (phone numbers, prices) at once.
  if (codeAt(s, p + 4) !== 45 || codeAt(s, p + 7) !== 45 || !is(TIMESTAMP_SEPARATOR, codeAt(s, p + 10)) || codeAt(s, p + 13) !== 58)
    return false;
  // A loop rather than twelve tests: less for the optimizing compiler to compile.
  for (let k = 0; k < TIMESTAMP_DIGITS.length; k++) if (!isDigit(codeAt(s, p + (TIMESTAMP_DIGITS[k] as number)))) return false;
  return true;
}

function digitAt(s: string, i: number): boolean {
  return isDigit(codeAt(s, i));
}

/** 8-4-4-4-12 hex at p, not glued to more word characters. */
function isUuidAt(s: string, p: number): boolean {
  // The four hyphens first: they reject every other run of hex digits at once.
  if (codeAt(s, p + 8) !== 45 || codeAt(s, p + 13) !== 45 || codeAt(s, p + 18) !== 45 || codeAt(s, p + 23) !== 45) return false;
  for (let i = 0; i < 36; i++) {
    if (i !== 8 && i !== 13 && i !== 18 && i !== 23 && !is(HEX, codeAt(s, p + i))) return false;
  }
  return !wordAt(s, p + 36) && !wordAt(s, p - 1);
}

/** After `YYYY-MM-DDThh:mm`: optional `:ss`, `.fraction`, then `Z` or `+hh:mm` / `-hh:mm`. */
function timestampEnd(s: string, q: number): number {
  if (codeAt(s, q) === 58 && digitAt(s, q + 1) && digitAt(s, q + 2)) q += 3;
  if (codeAt(s, q) === 46 && digitAt(s, q + 1)) q = runEnd(s, q + 1, DIGITS_ONLY, 9);
  const z = codeAt(s, q);
  if (z === 90) return q + 1;
  if (
    (z === 43 || z === 45) &&
    digitAt(s, q + 1) &&
    digitAt(s, q + 2) &&
    codeAt(s, q + 3) === 58 &&
    digitAt(s, q + 4) &&
    digitAt(s, q + 5) &&
    !digitAt(s, q + 6)
  )
    return q + 6;
  return q;
}

/**
 * When the digit at p starts an ISO timestamp or lies in a UUID, returns the index after
 * it; else 0.
 */
function skipTimestampOrUuid(s: string, p: number, floor: number): number {
  if (isTimestampAt(s, p)) return timestampEnd(s, p + 16);
  const t = runStart(s, p, HEX_DASH, 36, floor);
  if (p - t <= 35 && isUuidAt(s, t)) return t + 36;
  return 0;
}

const LETTERS = (() => {
  const t = new Uint8Array(128);
  for (let c = 65; c <= 90; c++) t[c] = t[c + 32] = 1;
  return t;
})();

/** `is ` / `was ` / `is:` or `=` / `:` at `q`. */
function isConnector(s: string, q: number): boolean {
  const c = codeAt(s, q);
  if (c === 61 || c === 58) return true;
  const w = s.startsWith('is', q) ? 2 : s.startsWith('was', q) ? 3 : 0;
  if (w === 0) return false;
  const after = codeAt(s, q + w);
  return after === 32 || after === 58 || after === 9;
}

const DIGITS_ONLY = (() => {
  const t = new Uint8Array(128);
  for (let c = 48; c <= 57; c++) t[c] = 1;
  return t;
})();

function skipBlanks(s: string, q: number, max: number): number {
  const limit = q + max;
  while (q < limit && (codeAt(s, q) === 32 || codeAt(s, q) === 9)) q++;
  return q;
}

/** The placeholder starting at `t`, or ''. */
function runPlaceholder(s: string, t: number): string {
  const m = PLACEHOLDER_AT.exec(s.slice(t, t + PLACEHOLDER_MAX));
  return m ? m[0] : '';
}

/** Characters that end a bare assigned value: quotes, `,;&)]}<>` and a backslash. */
const VALUE_STOP = table('"\'`,;&)]}><\\');

/** Reads a value at `q`: quoted (`"..."`, `'...'`, `\"...\"`, backticks) up to 512 characters on one line, or bare up to a delimiter. */
function readValue(s: string, q: number, phrase: boolean): { valueStart: number; valueEnd: number; phrase: boolean } | null {
  const c = codeAt(s, q);
  if (c === 91 /* [ */) {
    const ph = runPlaceholder(s, q);
    if (ph) return { valueStart: q, valueEnd: q + ph.length, phrase };
  }
  let quote = '';
  if (c === 92 && codeAt(s, q + 1) === 34) quote = '\\"';
  else if (c === 34 || c === 39 || c === 96) quote = s[q] as string;
  if (quote) {
    const start = q + quote.length;
    const limit = Math.min(s.length, start + 512);
    for (let i = start; i < limit; i++) {
      const ch = s.charCodeAt(i);
      if (ch === 10 || ch === 13) break;
      if (quote === '\\"' ? ch === 92 && codeAt(s, i + 1) === 34 : s[i] === quote && codeAt(s, i - 1) !== 92) {
        return { valueStart: start, valueEnd: i, phrase };
      }
    }
    // An unterminated quote: the value is what follows it, which may be a placeholder.
    q = start;
    if (codeAt(s, q) === 91 /* [ */) {
      const ph = runPlaceholder(s, q);
      if (ph) return { valueStart: q, valueEnd: q + ph.length, phrase };
    }
  }
  const limit = Math.min(s.length, q + 512);
  let e = q;
  while (e < limit) {
    const ch = s.charCodeAt(e);
    if (isSpace(ch) || (phrase ? ch === 34 || ch === 39 || ch === 96 || ch === 92 : is(VALUE_STOP, ch))) break;
    // A PEM marker ends a bare value, so the key after it is found whole.
    if (ch === 45 && s.startsWith('-----BEGIN ', e)) break;
    // A placeholder inside a bare value is taken whole, so the value is seen to hold one.
    if (ch === 91 && upperAt(s, e + 1)) {
      const ph = runPlaceholder(s, e);
      if (ph) {
        e += ph.length;
        continue;
      }
    }
    // `a=b=c`: a second `=` followed by a word starts another assignment (base64 padding does not).
    if (ch === 61 && e > q && wordAt(s, e + 1)) break;
    e++;
  }
  while (e > q && '.!?:,;)'.includes(s[e - 1] as string)) e--;
  return { valueStart: q, valueEnd: e, phrase };
}

/** A bearer/basic token: at least 8 credential characters, mixed classes or long. */
function looksLikeToken(v: string): boolean {
  if (v.length < 8 || v.length > 8192) return false;
  let lower = 0;
  let upper = 0;
  let digit = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!is(CREDENTIAL, c)) return false;
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
  }
  return lower + upper + digit >= 2 || v.length >= 20;
}
