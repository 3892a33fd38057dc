import { describe, expect, it } from 'vitest';
import { createRedactor } from '../lib/core/redaction';
import { cardNetworkValid, countryCodeValid, luhnValid, nanpValid, octetValid, ssnValid } from '../lib/core/redaction/validators';

const r = createRedactor({});
const red = (s: string) => r.redactText(s).text;

/** Digits of a number as values 0-9, as the numeric scanner hands them to the validators. */
const digits = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) - 48);

describe('digit runs: separators and group shapes (the scanner reads groups as index ranges and separators as codes)', () => {
  const cases: [string, string, string][] = [
    ['a parenthesized trunk 0 after a country code', 'call +44 (0)20 7946 0958 today', 'call [PHONE] today'],
    ['a trunk 0 without its `)` is dialled', 'call +44 (0 20 7946 0958 today', 'call [PHONE] today'],
    ['`)-` closes the trunk 0', 'call +44 (0)-20-7946-0958', 'call [PHONE]'],
    ['the 00 international prefix', 'tel 0044 20 7946 0958', 'tel [PHONE]'],
    ['00 as a group of its own', 'tel 00 44 20 7946 0958', 'tel [PHONE]'],
    ['North American numbers mix separators', 'phone 555 234-5678', 'phone [PHONE]'],
    ['but not slashes', 'phone 555/234/5678', 'phone 555/234/5678'],
    ['parentheses around the area code', 'phone 1 (555) 234-5678', 'phone [PHONE]'],
    ['spaced dashes are dashes', 'phone 555 - 234 - 5678', 'phone [PHONE]'],
    ['spaced slashes are slashes', 'phone 020 / 7946 / 0958', 'phone [PHONE]'],
    ['a space before a dot', 'phone 020 .7946 .0958', 'phone [PHONE]'],
    ['a date and a time are not a number', 'meeting 01-02-2025 10:30', 'meeting 01-02-2025 10:30'],
    ['a dotted version is not an address', 'version v1.2.3.4.5', 'version v1.2.3.4.5'],
    ['octets are 0-255', 'host 10.0.0.12 and 10.0.0.256', 'host [IP] and 10.0.0.256'],
    [
      'a card has one separator throughout',
      'card 4111 1111 1111 1111 and 4111-1111-1111-1111 and 4111 1111-1111 1111',
      'card [CARD] and [CARD] and 4111 1111-1111 1111',
    ],
    ['Amex 4-6-5', 'amex 3782 822463 10005', 'amex [CARD]'],
    ['a 9xx area is no SSN', 'ssn 123-45-6789 987-65-4321', 'ssn [SSN] 987-65-4321'],
    ['a longer number is no SSN', 'ids 123-45-6789-1234', 'ids 123-45-6789-1234'],
    ['an SSN followed by an address', 'ssn 123 45 6789 8.76.53.210', 'ssn [SSN] [IP]'],
    ['a run into a letter ends no candidate', '+15552345678x', '+15552345678x'],
    [
      'a run past the group limit',
      'a 1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28 b',
      'a 1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28 b',
    ],
  ];
  for (const [name, input, output] of cases) it(name, () => expect(red(input)).toBe(output));
});

describe('digit validators over index ranges and digit buffers', () => {
  it('Luhn and issuer prefixes', () => {
    expect(luhnValid(digits('4111111111111111'), 16)).toBe(true);
    expect(luhnValid(digits('4111111111111112'), 16)).toBe(false);
    expect(cardNetworkValid(digits('4111111111111111'), 16)).toBe(true);
    expect(cardNetworkValid(digits('2720991111111111'), 16)).toBe(true);
    expect(cardNetworkValid(digits('2721001111111111'), 16)).toBe(false);
    expect(cardNetworkValid(digits('378282246310005'), 15)).toBe(true);
  });
  it('SSN ranges read from the text', () => {
    const s = 'x 078-05-1120 666-12-3456 123-00-4567 123-45-0000';
    expect(ssnValid(s, 2, 6, 9)).toBe(true);
    expect(ssnValid(s, 14, 18, 21)).toBe(false);
    expect(ssnValid(s, 26, 30, 33)).toBe(false);
    expect(ssnValid(s, 38, 42, 45)).toBe(false);
  });
  it('octets, NANP and country codes', () => {
    expect(octetValid('a255b', 1, 4)).toBe(true);
    expect(octetValid('a256b', 1, 4)).toBe(false);
    expect(octetValid('a0255b', 1, 5)).toBe(false);
    expect(nanpValid(digits('15552345678'), 1)).toBe(true);
    expect(nanpValid(digits('5551234567'), 0)).toBe(false);
    expect(countryCodeValid(digits('4420794609'), 0, 10)).toBe(true);
    expect(countryCodeValid(digits('2123456789'), 0, 10)).toBe(true);
    expect(countryCodeValid(digits('21'), 0, 2)).toBe(false);
    expect(countryCodeValid(digits('2812345678'), 0, 10)).toBe(false);
  });
});
