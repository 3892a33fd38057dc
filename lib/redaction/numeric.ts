/**
 * Digit-led candidates: payment cards, US SSNs, IPv4 addresses and phone numbers. A run
 * of digit groups joined by single separators is read once; each candidate span of
 * whole groups is then confirmed by its validator (Luhn and issuer prefix, SSN ranges,
 * octet ranges, numbering-plan shapes). No regular expression is involved.
 */
import { codeAt, isDigit, is, WORD, wordAt } from './chars';
import { cardNetworkValid, countryCodeValid, ipv4Valid, luhnValid, nanpValid, ssnValid } from './validators';
import type { PiiDetectorId } from './catalog';

/**
 * The 40 characters before a position, lower-cased, leaving out findings of this scan and
 * placeholders: the same text whether a finding before it is still there or has been
 * replaced, so a context word is seen the same way in every pass.
 */
export type ContextReader = (at: number) => string;

/** Receives a confirmed finding; returns nothing. */
export type Emit = (start: number, end: number, detector: PiiDetectorId) => void;

const MAX_GROUPS = 24;
const SEPARATORS = new Set([' ', '-', '.', '/', ') ', ')', ')-', ' (', '(', ' - ', ' / ', ' .']);
const PHONE_CONTEXT = ['phone', 'tel', 'mobile', 'mob', 'cell', 'call', 'sms', 'text me', 'fax', 'whatsapp', 'contact', 'dial', 'reach', 'my number', 'number is', 'ph:', 'ph.'];
const SSN_CONTEXT = ['ssn', 'social security', 'social sec'];

/** The one-character separators by char code (every `isSepChar` code). */
const ONE_CHAR_SEPARATOR: string[] = [];
for (const c of ' -./()') ONE_CHAR_SEPARATOR[c.charCodeAt(0)] = c;

function isSepChar(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 47 || c === 40 || c === 41;
}

/** True when one of `words` occurs in `window` (the lower-cased context before a candidate). */
function hasContext(window: string, words: readonly string[]): boolean {
  for (const w of words) if (window.includes(w)) return true;
  return false;
}

function noop(): void {}

interface Run {
  /** Groups in the run; the arrays hold stale entries past it. */
  G: number;
  /** Start and end of each digit group. */
  gs: number[];
  ge: number[];
  /** Separator before group k (`seps[0]` is ''). */
  seps: string[];
  /** The last group runs into a letter or underscore (`12abc`): no candidate may end there. */
  attachedEnd: boolean;
  /** The run follows `word.` or `word-`: it continues a dotted/dashed token (`v1.2.3.4.5`, `pv-2025-12-18`). */
  attachedStart: boolean;
  plus: boolean;
  paren: boolean;
  /** `cum[k]`: digits in groups before k. */
  cum: number[];
  /** The context before a position (see `ContextReader`). */
  context: ContextReader;
  /** Says that a decision depended on groups a later finding may replace, so the output must be scanned again. */
  recheck: () => void;
}

/**
 * Cheap first look without allocation. A candidate needs at least seven digits (a phone)
 * or four groups (an IPv4 address), and cannot end on a group that runs into a letter
 * (`2026-11-29T...`); a lone group needs nine digits, or eight after a `+`. Returns the
 * run's end when nothing can match, else 0.
 */
function quickRun(s: string, p: number): number {
  const n = s.length;
  let i = p;
  let groups = 0;
  let digits = 0;
  let lastLen: number;
  for (;;) {
    const g = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    lastLen = i - g;
    digits += lastLen;
    groups++;
    if (groups > 4 || digits > 12) return 0;
    let j = i;
    while (j < n && j < i + 3 && isSepChar(s.charCodeAt(j))) j++;
    if (j === i || j >= n || !isDigit(s.charCodeAt(j)) || (j - i > 1 && !SEPARATORS.has(s.slice(i, j)))) break;
    i = j;
  }
  if (i < n && is(WORD, codeAt(s, i))) {
    groups--;
    digits -= lastLen;
  }
  if (groups >= 4) return 0;
  if (groups === 1 ? digits >= (codeAt(s, p - 1) === 43 ? 8 : 9) : digits >= 7) return 0;
  return i;
}

/**
 * The one `Run` every `scanNumeric` call fills (the scan is synchronous and never
 * reentrant), so reading a run allocates no arrays.
 */
const RUN: Run = { G: 0, cum: [], gs: [], ge: [], seps: [], attachedEnd: false, attachedStart: false, plus: false, paren: false, context: () => '', recheck: noop };
const GROUPS: string[] = [];

function readRun(s: string, p: number, context: ContextReader): Run {
  const run = RUN;
  const { gs, ge, seps, cum } = run;
  // Written by index up to `G` (no `length` resets): entries past `G` are stale.
  let G = 0;
  seps[0] = '';
  let i = p;
  const n = s.length;
  for (;;) {
    gs[G] = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    ge[G] = i;
    G++;
    if (G >= MAX_GROUPS) break;
    let j = i;
    while (j < n && j < i + 3 && isSepChar(s.charCodeAt(j))) j++;
    if (j === i || j >= n || !isDigit(s.charCodeAt(j))) break;
    // One-character separators are the common case: a shared string, no slice to hash.
    const sep = j - i === 1 ? (ONE_CHAR_SEPARATOR[s.charCodeAt(i)] as string) : s.slice(i, j);
    if (!SEPARATORS.has(sep)) break;
    seps[G] = sep;
    i = j;
  }
  const before = codeAt(s, p - 1);
  const before2 = codeAt(s, p - 2);
  cum[0] = 0;
  for (let k = 0; k < G; k++) cum[k + 1] = (cum[k] as number) + (ge[k] as number) - (gs[k] as number);
  run.G = G;
  // `12abc` or `1234-abcd` (a UUID, a version tag): the run continues as a word.
  run.attachedEnd = i < n && (is(WORD, codeAt(s, i)) || ((codeAt(s, i) === 45 || codeAt(s, i) === 46) && is(WORD, codeAt(s, i + 1)) && !isDigit(codeAt(s, i + 1))));
  run.attachedStart = (before === 46 || before === 45) && wordAt(s, p - 2);
  run.plus = before === 43 /* + */ || (before === 40 /* ( */ && before2 === 43);
  run.paren = before === 40;
  run.context = context;
  run.recheck = noop;
  return run;
}

/**
 * Scans the digit run starting at `p` (a digit that starts a word) and emits what it
 * confirms. Returns the index after the run, where scanning resumes.
 */
export function scanNumeric(s: string, p: number, context: ContextReader, enabled: (d: PiiDetectorId) => boolean, emit: Emit, recheck: () => void): number {
  const quick = quickRun(s, p);
  if (quick > 0) return quick;
  const run = readRun(s, p, context);
  run.recheck = recheck;
  const G = run.G;
  const runEnd = run.ge[G - 1] as number;
  const groups = GROUPS;
  for (let k = 0; k < G; k++) groups[k] = s.slice(run.gs[k], run.ge[k]);
  // A full run may continue past MAX_GROUPS: stop before the tail so the next scan starts on a group boundary.
  const last = G >= MAX_GROUPS ? G - 8 : G;

  let i = 0;
  while (i < last) {
    const end = tryAt(run, groups, i, enabled, emit);
    i = end >= 0 ? end + 1 : i + 1;
  }
  if (G >= MAX_GROUPS) return run.gs[last] as number;
  // Scanning resumes after the digits, also where they run into a word (`3750aws_secret=...`):
  // a key word may follow, as after a digit-led word on its own.
  return runEnd;
}

/** Tries every detector on candidates starting at group `i`; returns the last group of the finding, or -1. */
function tryAt(run: Run, groups: string[], i: number, enabled: (d: PiiDetectorId) => boolean, emit: Emit): number {
  const G = run.G;
  const startsRun = i === 0;
  const plusHere = startsRun && run.plus;

  if (!plusHere && enabled('card')) {
    const j = matchCard(run, groups, i);
    if (j >= 0) {
      emit(run.gs[i] as number, run.ge[j] as number, 'card');
      return j;
    }
  }
  if (!plusHere && enabled('ssn')) {
    const j = matchSsn(run, groups, i);
    if (j >= 0) {
      emit(run.gs[i] as number, run.ge[j] as number, 'ssn');
      return j;
    }
  }
  if (!plusHere && enabled('ipv4') && i + 3 < G && endOk(run, i + 3)) {
    const dotted = run.seps[i + 1] === '.' && run.seps[i + 2] === '.' && run.seps[i + 3] === '.';
    const continues = (i > 0 && run.seps[i] === '.') || (i + 4 < G && run.seps[i + 4] === '.') || (startsRun && run.attachedStart);
    if (dotted && !continues && ipv4Valid(groups.slice(i, i + 4).join('.'))) {
      emit(run.gs[i] as number, run.ge[i + 3] as number, 'ipv4');
      return i + 3;
    }
  }
  if (enabled('phone')) {
    // Past the second group, a one-digit group ends every phone format (FR "+33 1 ..." has its only at index 1).
    let maxJ = Math.min(G - 1, i + 7);
    for (let k = i + 2; k <= maxJ; k++) {
      if ((run.ge[k] as number) - (run.gs[k] as number) < 2) {
        maxJ = k - 1;
        break;
      }
    }
    for (let j = maxJ; j >= i; j--) {
      if (!endOk(run, j)) continue;
      const digits = (run.cum[j + 1] as number) - (run.cum[i] as number);
      if (digits < 7 || digits > 16) continue;
      if (phoneValid(run, groups, i, j)) {
        let start = run.gs[i] as number;
        if (startsRun) start -= run.plus && run.paren ? 2 : run.plus || run.paren ? 1 : 0;
        else if ((run.seps[i] as string).endsWith('(')) start -= 1;
        emit(start, run.ge[j] as number, 'phone');
        return j;
      }
    }
  }
  return -1;
}

/** A candidate may end on group j unless j is the last group and runs into a word. */
function endOk(run: Run, j: number): boolean {
  return j < run.G - 1 || !run.attachedEnd;
}

function matchCard(run: Run, groups: string[], i: number): number {
  const G = run.G;
  let digits = '';
  let sep: string | undefined;
  let best = -1;
  for (let j = i; j < G; j++) {
    const g = groups[j] as string;
    if (j > i) {
      const sj = run.seps[j] as string;
      if (sj !== ' ' && sj !== '-') break;
      if (sep === undefined) sep = sj;
      else if (sep !== sj) break;
      if (g.length < 2) break;
    }
    digits += g;
    if (digits.length > 19) break;
    if (j > i && !cardGrouping(groups, i, j)) continue;
    if (digits.length >= 13 && endOk(run, j) && cardNetworkValid(digits) && luhnValid(digits)) best = j;
  }
  return best;
}

/** Printed card groupings: 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4; the last group may be shorter. */
function cardGrouping(groups: string[], i: number, j: number): boolean {
  const lens: number[] = [];
  for (let k = i; k <= j; k++) lens.push((groups[k] as string).length);
  if (lens.length === 3 && lens[0] === 4 && lens[1] === 6 && (lens[2] === 5 || lens[2] === 4)) return true;
  for (let k = 0; k < lens.length - 1; k++) if (lens[k] !== 4) return false;
  return (lens[lens.length - 1] as number) <= 4;
}

function matchSsn(run: Run, groups: string[], i: number): number {
  const G = run.G;
  const g0 = groups[i] as string;
  if (g0.length === 9 && endOk(run, i) && hasContext(run.context(run.gs[i] as number), SSN_CONTEXT)) {
    return ssnValid(g0.slice(0, 3), g0.slice(3, 5), g0.slice(5)) ? i : -1;
  }
  if (i + 2 >= G || !endOk(run, i + 2)) return -1;
  const [a, b, c] = [g0, groups[i + 1] as string, groups[i + 2] as string];
  const s1 = run.seps[i + 1];
  if (a.length !== 3 || b.length !== 2 || c.length !== 4 || s1 !== run.seps[i + 2] || (s1 !== '-' && s1 !== ' ')) return -1;
  // Followed by another group the same way (a longer number), unless that group starts
  // something else (`123 45 6789 8.76.53.210`). Whether it does may only show once that
  // group has been read as a finding of its own (a card, an IPv6 address), so the output
  // is scanned again.
  if (i + 3 < G && run.seps[i + 3] === s1 && !(i + 4 < G && run.seps[i + 4] !== s1) && !ssnTriple(run, groups, i + 3, s1)) {
    if (ssnValid(a, b, c)) run.recheck();
    return -1;
  }
  return ssnValid(a, b, c) ? i + 2 : -1;
}

/** A valid 3-2-4 SSN at group `i` with separator `sep` (a list of SSNs is not one longer number). */
function ssnTriple(run: Run, groups: string[], i: number, sep: string): boolean {
  if (i + 2 >= run.G || run.seps[i + 1] !== sep || run.seps[i + 2] !== sep) return false;
  const [a, b, c] = [groups[i] as string, groups[i + 1] as string, groups[i + 2] as string];
  return a.length === 3 && b.length === 2 && c.length === 4 && ssnValid(a, b, c);
}

/** Phone numbers: E.164 with `+` or `00`, North American, and national formats with a trunk 0 (UK, DE, FR, AU, IN ...). */
function phoneValid(run: Run, groups: string[], i: number, j: number): boolean {
  let gs = groups.slice(i, j + 1);
  let seps = run.seps.slice(i + 1, j + 1);
  const plus = i === 0 && run.plus;
  // "+44 (0)20 7946 0958": the parenthesized trunk 0 is not dialled from abroad.
  if (plus && gs.length > 2 && gs[1] === '0' && (seps[0] as string).endsWith('(') && (seps[1] as string).startsWith(')')) {
    gs = [gs[0] as string, ...gs.slice(2)];
    seps = [seps[0] as string, ...seps.slice(2)];
  }
  const D = gs.join('');
  const n = D.length;
  if (n < 7 || n > 15) return false;
  // Separators: one kind throughout, except parentheses around the first or second group.
  let kind: string | undefined;
  // After a `+` country code, the first separator may differ ("+81 3-1234-5678"); North
  // American 3-3-4 numbers mix freely ("555 234-5678"). Elsewhere one kind throughout,
  // so a date and a time ("01-02-2025 10:30") never read as a number.
  const nanpShape = gs.length >= 3 && gs.length <= 4 && (gs[gs.length - 1] as string).length === 4 && (gs[gs.length - 2] as string).length === 3;
  let mixed = false;
  for (let k = plus ? 1 : 0; k < seps.length; k++) {
    const sp = seps[k] as string;
    if (sp.includes('(') || sp.includes(')')) {
      if (k > 1) return false;
      continue;
    }
    const t = sp.trim() || ' ';
    if (t === '/' && nanpShape) return false;
    if (kind === undefined) kind = t;
    else if (kind !== t) mixed = true;
  }
  if (mixed && !plus && !nanpShape) return false;
  if (gs.length > 7) return false;

  if (gs.length === 1) {
    if (plus) return e164Valid(D);
    if (i === 0 && run.attachedStart) return false;
    if (!hasContext(run.context(run.gs[i] as number), PHONE_CONTEXT)) return false;
    return bareNationalValid(D);
  }
  for (let k = 1; k < gs.length; k++) if ((gs[k] as string).length < 2 && !(k === 1 && (plus || D.startsWith('00')))) return false;
  if (plus) return e164Valid(D);
  const g0 = gs[0] as string;
  if (g0.startsWith('00') && g0.length <= 5) return e164Valid(D.slice(2));
  let lens = '';
  for (let k = 0; k < gs.length; k++) lens += k === 0 ? `${(gs[k] as string).length}` : `,${(gs[k] as string).length}`;
  if (lens === '3,3,4') return nanpValid(D);
  if (lens === '1,3,3,4') return g0 === '1' && nanpValid(D.slice(1));
  if (lens === '5,5') return D[0] === '6' || D[0] === '7' || D[0] === '8' || D[0] === '9';
  if (D[0] === '0' && D[1] !== '0') return n >= 9 && n <= 12 && g0.length >= 2 && g0.length <= 6 && gs.length <= 6;
  return false;
}

function e164Valid(D: string): boolean {
  if (D.length < 8 || D.length > 15 || D[0] === '0' || !countryCodeValid(D)) return false;
  if (D[0] === '1') return D.length === 11 && nanpValid(D.slice(1));
  return true;
}

function bareNationalValid(D: string): boolean {
  if (D.length === 10 && nanpValid(D)) return true;
  if (D.length === 11 && D[0] === '1' && nanpValid(D.slice(1))) return true;
  if (D[0] === '0' && D[1] !== '0' && D.length >= 10 && D.length <= 11) return true;
  return D.length === 10 && '6789'.includes(D[0] as string);
}
