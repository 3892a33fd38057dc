/**
 * Character classes as lookup tables over char codes, and linear scanners over them.
 * Every scanner takes an explicit bound so no caller can loop past what it meant to read.
 */

/** A lookup table over ASCII codes: 1 for each character of `chars`. */
export function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = DIGITS + UPPER + LOWER;

/** `[A-Za-z0-9_]`: the inside of a word. */
export const WORD = table(`${ALNUM}_`);
/** `[A-Za-z0-9]` */
export const ALNUM_T = table(ALNUM);
/** `[0-9A-Fa-f]` */
export const HEX = table(`${DIGITS}ABCDEFabcdef`);
/** `[0-9A-Fa-f:.]`: what an IPv6 address (with an embedded IPv4 tail) is made of. */
export const IPV6_CHARS = table(`${DIGITS}ABCDEFabcdef:.`);
/** Email local part. */
export const EMAIL_LOCAL = table(`${ALNUM}._%+-`);
/** Email domain. */
export const EMAIL_DOMAIN = table(`${ALNUM}.-`);
/** URL scheme. */
export const SCHEME = table(`${ALNUM}+.-`);
/** Identifier (key name) characters: `api_key`, `x-api-key`, `spring.datasource.password`. */
export const IDENT = table(`${ALNUM}_-.`);
/** Token bodies: base64url and friends. */
export const TOKEN = table(`${ALNUM}_-`);
/** `[A-Za-z0-9]` upper case and digits (AWS key ids). */
export const UPPER_DIGIT = table(UPPER + DIGITS);
/** A credential value: base64, base64url, hex and the usual separators. */
export const CREDENTIAL = table(`${ALNUM}+/=_.~-`);
/** Base64 text of a PEM body, including escaped line breaks (`\n` as two characters). */
export const PEM_BODY = table(`${ALNUM}+/=\r\n\\`);

/**
 * The char code at `i`, or 0x10000 (no UTF-16 code unit; above 127, so in no table) when
 * `i` is outside the string. Reading past either end with `charCodeAt` gives NaN and makes
 * V8 deoptimize the optimized caller ("out of bounds"); this never reads out of range.
 */
export function codeAt(s: string, i: number): number {
  return i >= 0 && i < s.length ? s.charCodeAt(i) : 0x10000;
}

/** True when the char code is in the table (codes above 127 never are). */
export function is(t: Uint8Array, code: number): boolean {
  return code < 128 && t[code] === 1;
}

/** True when `code` is an ASCII digit. */
export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** True for space, tab, CR, LF, VT, FF. */
export function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** Index after the run of `t` characters starting at `from`, reading at most `max` characters (all when `max` is left out). */
export function runEnd(s: string, from: number, t: Uint8Array, max = -1): number {
  // No `Infinity` default: `from + Infinity` would make the bound, and the loop, floating point.
  const limit = max < 0 || max >= s.length - from ? s.length : from + max;
  let i = from;
  while (i < limit && is(t, s.charCodeAt(i))) i++;
  return i;
}

/** Index of the first character of the run of `t` characters ending just before `from`, going back at most `max` and never before `floor`. */
export function runStart(s: string, from: number, t: Uint8Array, max: number, floor: number): number {
  const limit = Math.max(floor, from - max);
  let i = from;
  while (i > limit && is(t, s.charCodeAt(i - 1))) i--;
  return i;
}

/** True when the character at `i` exists and is a word character. */
export function wordAt(s: string, i: number): boolean {
  return i >= 0 && i < s.length && is(WORD, s.charCodeAt(i));
}
