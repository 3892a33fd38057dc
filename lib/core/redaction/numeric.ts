/**
 * Digit-led candidates: payment cards, US SSNs, IPv4 addresses and phone numbers. A run
 * of digit groups joined by single separators is read once; each candidate span of
 * whole groups is then confirmed by its validator (Luhn and issuer prefix, SSN ranges,
 * octet ranges, numbering-plan shapes). No regular expression is involved.
 *
 * Reading a run allocates nothing (only a candidate that needs a context word reads the
 * context as a string): groups are index ranges into the scanned text,
 * separators are small integer codes, and the digits a validator needs are copied into a
 * scratch byte array.
 */
import { codeAt, isDigit, is, WORD, wordAt } from './chars';
import { cardNetworkValid, countryCodeValid, luhnValid, nanpValid, octetValid, ssnValid } from './validators';
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
const PHONE_CONTEXT = [
  'phone',
  'tel',
  'mobile',
  'mob',
  'cell',
  'call',
  'sms',
  'text me',
  'fax',
  'whatsapp',
  'contact',
  'dial',
  'reach',
  'my number',
  'number is',
  'ph:',
  'ph.',
];
const SSN_CONTEXT = ['ssn', 'social security', 'social sec'];

/**
 * A separator between two digit groups is held as a code: its characters read as base-7
 * digits (`SEP_DIGIT`: space 1, `-` 2, `.` 3, `/` 4, `(` 5, `)` 6), so a one-character
 * separator's code is its digit, two separators compare as numbers, and what a separator
 * is made of shows in its digits (`sepKind`, `sepOpens`, `sepCloses`).
 */
const SEP_DIGIT = new Uint8Array(128);
for (let x = 0; x < 6; x++) SEP_DIGIT[' -./()'.charCodeAt(x)] = x + 1;
const SPACE = 1;
const DASH = 2;
const DOT = 3;
const SLASH = 4;
const OPEN = 5;
const CLOSE = 6;
/** By code: 1 for the separators that may join two groups. */
const SEPARATOR = new Uint8Array(7 * 7 * 7);
for (const sep of [' ', '-', '.', '/', ') ', ')', ')-', ' (', '(', ' - ', ' / ', ' .']) {
  let code = 0;
  for (let k = 0; k < sep.length; k++) code = code * 7 + (SEP_DIGIT[sep.charCodeAt(k)] as number);
  SEPARATOR[code] = 1;
}

/**
 * What a separator is once trimmed (` - ` is a `-`), as the code of that character: its
 * largest digit, since a space is the smallest. OPEN or CLOSE when it holds a parenthesis.
 */
function sepKind(code: number): number {
  return Math.max(code % 7, ((code / 7) | 0) % 7, (code / 49) | 0);
}

/** The separator ends with `(` (`(`, ` (`): the group after it is parenthesized. */
function sepOpens(code: number): boolean {
  return code % 7 === OPEN;
}

/** The separator starts with `)` (`)`, `) `, `)-`): its first digit is CLOSE. */
function sepCloses(code: number): boolean {
  while (code >= 7) code = (code / 7) | 0;
  return code === CLOSE;
}

/** True when one of `words` occurs in `window` (the lower-cased context before a candidate). */
function hasContext(window: string, words: readonly string[]): boolean {
  for (const w of words) if (window.includes(w)) return true;
  return false;
}

function noop(): void {}

interface Run {
  /** The scanned text. */
  s: string;
  /** Groups in the run; the arrays hold stale entries past it. */
  G: number;
  /** Start and end of each digit group. */
  gs: Int32Array;
  ge: Int32Array;
  /** Code of the separator before group k (`seps[0]` is 0). */
  seps: Uint8Array;
  /** The last group runs into a letter or underscore (`12abc`): no candidate may end there. */
  attachedEnd: boolean;
  /** The run follows `word.` or `word-`: it continues a dotted/dashed token (`v1.2.3.4.5`, `pv-2025-12-18`). */
  attachedStart: boolean;
  plus: boolean;
  paren: boolean;
  /** `cum[k]`: digits in groups before k. */
  cum: Int32Array;
  /** The context before a position (see `ContextReader`). */
  context: ContextReader;
  /** Says that a decision depended on groups a later finding may replace, so the output must be scanned again. */
  recheck: () => void;
}

/**
 * The one `Run` every `scanNumeric` call fills (the scan is synchronous and never
 * reentrant), so reading a run allocates nothing.
 */
const RUN: Run = {
  s: '',
  G: 0,
  cum: new Int32Array(MAX_GROUPS + 1),
  gs: new Int32Array(MAX_GROUPS),
  ge: new Int32Array(MAX_GROUPS),
  seps: new Uint8Array(MAX_GROUPS),
  attachedEnd: false,
  attachedStart: false,
  plus: false,
  paren: false,
  context: () => '',
  recheck: noop,
};

/** Scratch for the digits of one candidate (at most 19, a card), as values 0-9. */
const DIGITS = new Uint8Array(20);

/**
 * Reads the run of digit groups starting at `p` into `RUN`: up to MAX_GROUPS groups, each
 * joined to the next by one separator.
 */
function readRun(s: string, p: number): Run {
  const run = RUN;
  const { gs, ge, seps, cum } = run;
  // Written by index up to `G`: entries past `G` are stale.
  let G = 0;
  seps[0] = 0;
  cum[0] = 0;
  let i = p;
  const n = s.length;
  for (;;) {
    gs[G] = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    ge[G] = i;
    cum[G + 1] = (cum[G] as number) + i - (gs[G] as number);
    G++;
    if (G >= MAX_GROUPS) break;
    // The separator: up to three separator characters, all taken, then a digit.
    let code = 0;
    let j = i;
    while (j < n && j < i + 3) {
      const c = s.charCodeAt(j);
      const digit = c < 128 ? (SEP_DIGIT[c] as number) : 0;
      if (digit === 0) break;
      code = code * 7 + digit;
      j++;
    }
    if (j === i || j >= n || !isDigit(s.charCodeAt(j)) || SEPARATOR[code] !== 1) break;
    seps[G] = code;
    i = j;
  }
  run.s = s;
  run.G = G;
  return run;
}

/** Reads what surrounds the run starting at `p` (its `attached*`, `plus` and `paren`), once it is worth a closer look. */
function readEdges(run: Run, p: number): void {
  const { s } = run;
  const n = s.length;
  const i = run.ge[run.G - 1] as number;
  const before = codeAt(s, p - 1);
  const before2 = codeAt(s, p - 2);
  // `12abc` or `1234-abcd` (a UUID, a version tag): the run continues as a word.
  run.attachedEnd =
    i < n &&
    (is(WORD, codeAt(s, i)) || ((codeAt(s, i) === 45 || codeAt(s, i) === 46) && is(WORD, codeAt(s, i + 1)) && !isDigit(codeAt(s, i + 1))));
  run.attachedStart = (before === 46 || before === 45) && wordAt(s, p - 2);
  run.plus = before === 43 /* + */ || (before === 40 /* ( */ && before2 === 43);
  run.paren = before === 40;
}

/**
 * Cheap first look at a run just read. A candidate needs at least seven digits (a phone)
 * or four groups (an IPv4 address), and cannot end on a group that runs into a letter
 * (`2026-11-29T...`); a lone group needs nine digits, or eight after a `+`. True when
 * nothing in the run can match.
 */
function nothingToFind(run: Run, p: number): boolean {
  const { s, G } = run;
  let groups = G;
  let digits = run.cum[G] as number;
  if (groups > 4 || digits > 12) return false;
  if (is(WORD, codeAt(s, run.ge[G - 1] as number))) {
    groups--;
    digits -= groupLen(run, G - 1);
  }
  if (groups >= 4) return false;
  return groups === 1 ? digits < (codeAt(s, p - 1) === 43 ? 8 : 9) : digits < 7;
}

/** Digits in group `k`. */
function groupLen(run: Run, k: number): number {
  return (run.ge[k] as number) - (run.gs[k] as number);
}

/** Copies the digits of group `k` into `DIGITS` from `at`; returns the index after them. */
function copyGroup(run: Run, k: number, at: number): number {
  const { s } = run;
  for (let c = run.gs[k] as number, e = run.ge[k] as number; c < e; c++) DIGITS[at++] = s.charCodeAt(c) - 48;
  return at;
}

/**
 * Scans the digit run starting at `p` (a digit that starts a word) and emits what it
 * confirms. Returns the index after the run, where scanning resumes.
 */
export function scanNumeric(
  s: string,
  p: number,
  context: ContextReader,
  enabled: (d: PiiDetectorId) => boolean,
  emit: Emit,
  recheck: () => void,
): number {
  const run = readRun(s, p);
  const G = run.G;
  const runEnd = run.ge[G - 1] as number;
  if (nothingToFind(run, p)) return runEnd;
  readEdges(run, p);
  run.context = context;
  run.recheck = recheck;
  // A full run may continue past MAX_GROUPS: stop before the tail so the next scan starts on a group boundary.
  const last = G >= MAX_GROUPS ? G - 8 : G;

  let i = 0;
  while (i < last) {
    const end = tryAt(run, i, enabled, emit);
    i = end >= 0 ? end + 1 : i + 1;
  }
  if (G >= MAX_GROUPS) return run.gs[last] as number;
  // Scanning resumes after the digits, also where they run into a word (`3750aws_secret=...`):
  // a key word may follow, as after a digit-led word on its own.
  return runEnd;
}

/** Tries every detector on candidates starting at group `i`; returns the last group of the finding, or -1. */
function tryAt(run: Run, i: number, enabled: (d: PiiDetectorId) => boolean, emit: Emit): number {
  const { G, gs, ge, seps } = run;
  const startsRun = i === 0;
  const plusHere = startsRun && run.plus;

  if (!plusHere && enabled('card')) {
    const j = matchCard(run, i);
    if (j >= 0) {
      emit(gs[i] as number, ge[j] as number, 'card');
      return j;
    }
  }
  if (!plusHere && enabled('ssn')) {
    const j = matchSsn(run, i);
    if (j >= 0) {
      emit(gs[i] as number, ge[j] as number, 'ssn');
      return j;
    }
  }
  if (!plusHere && enabled('ipv4') && i + 3 < G && endOk(run, i + 3)) {
    const dotted = seps[i + 1] === DOT && seps[i + 2] === DOT && seps[i + 3] === DOT;
    const continues = (i > 0 && seps[i] === DOT) || (i + 4 < G && seps[i + 4] === DOT) || (startsRun && run.attachedStart);
    if (dotted && !continues && octets(run, i)) {
      emit(gs[i] as number, ge[i + 3] as number, 'ipv4');
      return i + 3;
    }
  }
  if (enabled('phone')) {
    // Past the second group, a one-digit group ends every phone format (FR "+33 1 ..." has its only at index 1).
    let maxJ = Math.min(G - 1, i + 7);
    for (let k = i + 2; k <= maxJ; k++) {
      if (groupLen(run, k) < 2) {
        maxJ = k - 1;
        break;
      }
    }
    for (let j = maxJ; j >= i; j--) {
      if (!endOk(run, j)) continue;
      const digits = (run.cum[j + 1] as number) - (run.cum[i] as number);
      if (digits < 7 || digits > 16) continue;
      if (phoneValid(run, i, j)) {
        let start = gs[i] as number;
        if (startsRun) start -= run.plus && run.paren ? 2 : run.plus || run.paren ? 1 : 0;
        else if (sepOpens(seps[i] as number)) start -= 1;
        emit(start, ge[j] as number, 'phone');
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

/** Groups `i` to `i + 3` are the octets of an IPv4 address (0-255, at most three digits each). */
function octets(run: Run, i: number): boolean {
  for (let k = i; k < i + 4; k++) if (!octetValid(run.s, run.gs[k] as number, run.ge[k] as number)) return false;
  return true;
}

/** The last group of the longest card number starting at group `i` (one separator, space or dash, throughout), or -1. */
function matchCard(run: Run, i: number): number {
  const { G, seps } = run;
  // Fewer than 13 digits left in the run: no card number.
  if ((run.cum[G] as number) - (run.cum[i] as number) < 13) return -1;
  let n = 0;
  let sep = 0;
  let best = -1;
  for (let j = i; j < G; j++) {
    const len = groupLen(run, j);
    if (j > i) {
      const sj = seps[j] as number;
      if (sj !== SPACE && sj !== DASH) break;
      if (sep === 0) sep = sj;
      else if (sep !== sj) break;
      if (len < 2) break;
    }
    if (n + len > 19) break;
    n = copyGroup(run, j, n);
    if (j > i && !cardGrouping(run, i, j)) continue;
    if (n >= 13 && endOk(run, j) && cardNetworkValid(DIGITS, n) && luhnValid(DIGITS, n)) best = j;
  }
  return best;
}

/** Printed card groupings of groups `i` to `j`: 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4; the last group may be shorter. */
function cardGrouping(run: Run, i: number, j: number): boolean {
  const last = groupLen(run, j);
  if (j === i + 2 && groupLen(run, i) === 4 && groupLen(run, i + 1) === 6 && (last === 5 || last === 4)) return true;
  for (let k = i; k < j; k++) if (groupLen(run, k) !== 4) return false;
  return last <= 4;
}

/** The last group of an SSN starting at group `i` (nine digits after a context word, or 3-2-4 with one separator), or -1. */
function matchSsn(run: Run, i: number): number {
  const { G, seps } = run;
  const a = run.gs[i] as number;
  if (groupLen(run, i) === 9 && endOk(run, i) && hasContext(run.context(a), SSN_CONTEXT)) {
    return ssnValid(run.s, a, a + 3, a + 5) ? i : -1;
  }
  if (i + 2 >= G || !endOk(run, i + 2)) return -1;
  const s1 = seps[i + 1] as number;
  if ((s1 !== DASH && s1 !== SPACE) || !ssnShape(run, i, s1)) return -1;
  const valid = ssnInRange(run, i);
  // Followed by another group the same way (a longer number), unless that group starts
  // something else (`123 45 6789 8.76.53.210`) or another SSN (a list of SSNs is not one
  // longer number). Whether it does may only show once that group has been read as a
  // finding of its own (a card, an IPv6 address), so the output is scanned again.
  if (i + 3 < G && seps[i + 3] === s1 && !(i + 4 < G && seps[i + 4] !== s1) && !(ssnShape(run, i + 3, s1) && ssnInRange(run, i + 3))) {
    if (valid) run.recheck();
    return -1;
  }
  return valid ? i + 2 : -1;
}

/** Groups `i` to `i + 2` have 3, 2 and 4 digits and are joined by separator `sep` twice. */
function ssnShape(run: Run, i: number, sep: number): boolean {
  const { seps } = run;
  return (
    i + 2 < run.G &&
    seps[i + 1] === sep &&
    seps[i + 2] === sep &&
    groupLen(run, i) === 3 &&
    groupLen(run, i + 1) === 2 &&
    groupLen(run, i + 2) === 4
  );
}

/** The 3-2-4 SSN in groups `i` to `i + 2` is in the assigned ranges. */
function ssnInRange(run: Run, i: number): boolean {
  const { gs } = run;
  return ssnValid(run.s, gs[i] as number, gs[i + 1] as number, gs[i + 2] as number);
}

/**
 * Phone numbers over groups `i` to `j`: E.164 with `+` or `00`, North American, and
 * national formats with a trunk 0 (UK, DE, FR, AU, IN ...). Decided from group lengths and
 * separator codes; the digits are copied into `DIGITS` only for the numbering-plan checks.
 */
function phoneValid(run: Run, i: number, j: number): boolean {
  const { gs, seps, cum } = run;
  const plus = i === 0 && run.plus;
  // "+44 (0)20 7946 0958": the parenthesized trunk 0 is not dialled from abroad. It is left
  // out with the `)` after it: the number is group i, then groups `second` to j.
  const trunk =
    plus &&
    j > i + 1 &&
    groupLen(run, i + 1) === 1 &&
    run.s.charCodeAt(gs[i + 1] as number) === 48 &&
    sepOpens(seps[i + 1] as number) &&
    sepCloses(seps[i + 2] as number);
  const second = trunk ? i + 2 : i + 1;
  const L = j - second + 2; // groups in the number
  const n = (cum[j + 1] as number) - (cum[i] as number) - (trunk ? 1 : 0);
  if (n < 7 || n > 15) return false;
  // Separators: one kind throughout, except parentheses around the first or second group.
  // After a `+` country code, the first separator may differ ("+81 3-1234-5678"); North
  // American 3-3-4 numbers mix freely ("555 234-5678"). Elsewhere one kind throughout,
  // so a date and a time ("01-02-2025 10:30") never read as a number.
  const nanpShape = L >= 3 && L <= 4 && groupLen(run, j) === 4 && groupLen(run, j - 1) === 3;
  let kind = 0;
  let mixed = false;
  // Separator k of the number comes before its group k + 1, group `second + k` of the run
  // (the first separator after a trunk 0, the `(` before it, is never read: it follows a `+`).
  for (let k = plus ? 1 : 0; k < L - 1; k++) {
    const t = sepKind(seps[second + k] as number);
    if (t >= OPEN) {
      if (k > 1) return false;
      continue;
    }
    if (t === SLASH && nanpShape) return false;
    if (kind === 0) kind = t;
    else if (kind !== t) mixed = true;
  }
  if (mixed && !plus && !nanpShape) return false;
  if (L > 7) return false;

  const D = DIGITS;
  copyGroup(run, i, 0);
  for (let k = second, at = groupLen(run, i); k <= j; k++) at = copyGroup(run, k, at);
  if (L === 1) {
    if (plus) return e164Valid(D, 0, n);
    if (i === 0 && run.attachedStart) return false;
    if (!hasContext(run.context(gs[i] as number), PHONE_CONTEXT)) return false;
    return bareNationalValid(D, n);
  }
  const intl00 = D[0] === 0 && D[1] === 0;
  for (let k = second; k <= j; k++) if (groupLen(run, k) < 2 && !(k === second && (plus || intl00))) return false;
  if (plus) return e164Valid(D, 0, n);
  // No `+`, so no trunk 0 was left out: the number is groups i to j.
  const g0 = groupLen(run, i);
  if (intl00 && g0 >= 2 && g0 <= 5) return e164Valid(D, 2, n - 2);
  const g1 = groupLen(run, i + 1);
  if (L === 3 && g0 === 3 && g1 === 3 && groupLen(run, i + 2) === 4) return nanpValid(D, 0);
  if (L === 4 && g0 === 1 && g1 === 3 && groupLen(run, i + 2) === 3 && groupLen(run, i + 3) === 4) return D[0] === 1 && nanpValid(D, 1);
  if (L === 2 && g0 === 5 && g1 === 5) return (D[0] as number) >= 6;
  if (D[0] === 0 && D[1] !== 0) return n >= 9 && n <= 12 && g0 >= 2 && g0 <= 6 && L <= 6;
  return false;
}

/** E.164 over the `n` digits of `d` from `at`: 8-15 digits after an assigned country code; +1 numbers are NANP. */
function e164Valid(d: Uint8Array, at: number, n: number): boolean {
  if (n < 8 || n > 15 || d[at] === 0 || !countryCodeValid(d, at, n)) return false;
  if (d[at] === 1) return n === 11 && nanpValid(d, at + 1);
  return true;
}

/** A number without country code, seen after a phone context word: NANP with or without the 1, a trunk-0 national number, or 10 digits from 6-9. */
function bareNationalValid(d: Uint8Array, n: number): boolean {
  if (n === 10 && nanpValid(d, 0)) return true;
  if (n === 11 && d[0] === 1 && nanpValid(d, 1)) return true;
  if (d[0] === 0 && d[1] !== 0 && n >= 10 && n <= 11) return true;
  return n === 10 && (d[0] as number) >= 6;
}
