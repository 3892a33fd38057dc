/**
 * Checksums and structural validators that confirm a candidate: Luhn, IBAN mod-97,
 * IPv4/IPv6 grammar, NANP and E.164 numbering, SSN ranges, Shannon entropy.
 */
import { HEX, is, isDigit } from './chars';

/** Luhn checksum over the first `n` digits of `d` (digit values 0-9). */
export function luhnValid(d: Uint8Array, n: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = n - 1; i >= 0; i--) {
    let v = d[i] as number;
    if (double) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Payment card networks by issuer prefix and length, over the first `n` digits of `d`
 * (digit values, `n` >= 6): Visa, Mastercard (51-55 and 2221-2720), Amex, Discover, JCB, Diners.
 */
export function cardNetworkValid(d: Uint8Array, n: number): boolean {
  let p6 = 0;
  for (let k = 0; k < 6; k++) p6 = p6 * 10 + (d[k] as number);
  const p4 = (p6 / 100) | 0;
  const p3 = (p6 / 1000) | 0;
  const p2 = (p6 / 10000) | 0;
  if (d[0] === 4) return n === 13 || n === 16 || n === 19;
  if (p2 >= 51 && p2 <= 55) return n === 16;
  if (p4 >= 2221 && p4 <= 2720) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return n >= 16 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19;
  return false;
}

/** IBAN length per country (ISO 13616 registry): a country code and its length, four characters an entry. */
const IBAN_REGISTRY =
  'AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28EE20EG29ES24FI18' +
  'FK18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20LU20' +
  'LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31' +
  'SD18SE24SI19SK24SM27SO23ST25SV28TL23TN24TR26UA29VA22VG24XK20YE30';

/** IBAN length by country code (`(first - 65) * 26 + second - 65` for two capitals), 0 where there is none. */
export const IBAN_LENGTH_BY_COUNTRY = (() => {
  const t = new Uint8Array(26 * 26);
  for (let i = 0; i < IBAN_REGISTRY.length; i += 4) {
    t[(IBAN_REGISTRY.charCodeAt(i) - 65) * 26 + IBAN_REGISTRY.charCodeAt(i + 1) - 65] = Number(IBAN_REGISTRY.slice(i + 2, i + 4));
  }
  return t;
})();

/**
 * ISO 13616 mod-97 check over the IBAN printed in s[from, to): letters of either case and
 * digits, with the spaces or hyphens between its groups skipped. Reads in place. The
 * caller has checked the country's length.
 */
export function ibanValid(s: string, from: number, to: number): boolean {
  // The country code and check digits (the first four characters) count last.
  let head = from;
  for (let n = 0; n < 4 && head < to; head++) if (s.charCodeAt(head) !== 32 && s.charCodeAt(head) !== 45) n++;
  const rem = mod97(s, head, to, 0);
  return rem >= 0 && mod97(s, from, head, rem) === 1;
}

/** Continues `rem` over s[from, to) (a letter counts as 10-35, spaces and hyphens are skipped); -1 on any other character. */
function mod97(s: string, from: number, to: number, rem: number): number {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const lower = c | 32;
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (lower >= 97 && lower <= 122) rem = (rem * 100 + (lower - 87)) % 97;
    else if (c !== 32 && c !== 45) return -1;
  }
  return rem;
}

/** The value of the decimal digits `s[from..to)`. */
function decimal(s: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + s.charCodeAt(i) - 48;
  return value;
}

/** One IPv4 octet: the digits `s[from..to)` are at most three and at most 255. */
export function octetValid(s: string, from: number, to: number): boolean {
  return to - from <= 3 && decimal(s, from, to) <= 255;
}

/** Dotted-quad IPv4 in `s[from..to)`, without a prefix length: four octets joined by dots. */
export function ipv4Valid(s: string, from: number, to: number): boolean {
  for (let parts = 1, k = from; ; parts++) {
    let e = k;
    while (e < to && isDigit(s.charCodeAt(e))) e++;
    if (e === k || parts > 4 || !octetValid(s, k, e)) return false;
    if (e === to) return parts === 4;
    if (s.charCodeAt(e) !== 46) return false;
    k = e + 1;
  }
}

/**
 * IPv6 in full or compressed form, optionally with an embedded IPv4 tail. A compressed
 * address needs two written groups and four hex digits, so the loopback `::1` and words
 * such as `a::b` in code are not taken for addresses of people.
 */
export function ipv6Valid(s: string): boolean {
  const n = s.length;
  if (n < 3 || n > 45) return false;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return false;
  if (s.includes(':::')) return false;
  // The halves around `::` (or the whole), read part by part without splitting; only the
  // last part of the last half may be an embedded IPv4 address.
  let groups = 0;
  for (let h = dbl === -1 ? 1 : 0; h < 2; h++) {
    const from = h === 0 ? 0 : dbl === -1 ? 0 : dbl + 2;
    const to = h === 0 ? dbl : n;
    if (from === to) continue;
    for (let k = from; ;) {
      let e = k;
      let dot = false;
      let hexOnly = true;
      for (; e < to && s.charCodeAt(e) !== 58; e++) {
        const c = s.charCodeAt(e);
        if (c === 46) dot = true;
        if (!is(HEX, c)) hexOnly = false;
      }
      if (h === 1 && e === to && dot) {
        if (!ipv4Valid(s, k, e)) return false;
        groups += 2;
      } else {
        if (e - k < 1 || e - k > 4 || !hexOnly) return false;
        groups++;
      }
      if (e === to) break;
      k = e + 1;
    }
  }
  if (dbl === -1) return groups === 8;
  // Compressed: at least two written groups and four hex digits (`fe80::1`, not `a::b`).
  if (groups > 7 || groups < 2) return false;
  let hexDigits = 0;
  for (let i = 0; i < n && hexDigits < 4; i++) {
    const c = s.charCodeAt(i);
    if (is(HEX, c)) hexDigits++;
  }
  return s.includes('.') || hexDigits >= 4;
}

/**
 * US SSN ranges over the digits of `s` at `area` (three), `group` (two) and `serial` (four):
 * area not 000, 666 or 9xx; group not 00; serial not 0000.
 */
export function ssnValid(s: string, area: number, group: number, serial: number): boolean {
  const a = decimal(s, area, area + 3);
  return a !== 0 && a !== 666 && a < 900 && decimal(s, group, group + 2) !== 0 && decimal(s, serial, serial + 4) !== 0;
}

/** North American Numbering Plan over the ten digits of `d` from `at`: area and exchange codes start with 2-9. */
export function nanpValid(d: Uint8Array, at: number): boolean {
  return (d[at] as number) > 1 && (d[at + 3] as number) > 1;
}

/**
 * ITU-T E.164 country calling codes by their first two digits: 2 where those digits start
 * an assigned code of one or two digits, 1 where they start three-digit codes.
 */
const COUNTRY_PREFIX = new Uint8Array(100);
for (const p of '21 22 23 24 25 26 29 35 37 38 42 50 59 67 68 69 80 85 87 88 96 97 99'.split(' ')) COUNTRY_PREFIX[Number(p)] = 1;
for (const p of '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'.split(
  ' ',
))
  COUNTRY_PREFIX[Number(p)] = 2;
for (let k = 0; k < 10; k++) COUNTRY_PREFIX[10 + k] = COUNTRY_PREFIX[70 + k] = 2;

/** True when the `n` digits of `d` from `at` (`n` >= 2) start with an assigned E.164 country calling code. */
export function countryCodeValid(d: Uint8Array, at: number, n: number): boolean {
  const c = COUNTRY_PREFIX[(d[at] as number) * 10 + (d[at + 1] as number)];
  return c === 2 || (c === 1 && n >= 3);
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  // Counts in scratch tables, summed in order of first occurrence (as a Map would iterate),
  // so the value is the same to the last bit without allocating per call.
  let distinct = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (COUNTS[c] === 0) ORDER[distinct++] = c;
    COUNTS[c] = (COUNTS[c] as number) + 1;
  }
  let h = 0;
  for (let k = 0; k < distinct; k++) {
    const c = ORDER[k] as number;
    const p = (COUNTS[c] as number) / s.length;
    COUNTS[c] = 0;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Scratch for `shannonEntropy`: a count per UTF-16 code unit (always zero between calls) and the order seen. */
const COUNTS = new Uint32Array(65536);
const ORDER = new Uint16Array(65536);
