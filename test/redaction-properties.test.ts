import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor, type JsonValue } from '../lib/core/redaction';
import { mayStartAt, prefilterAt, PREFILTER_PATTERN } from '../lib/core/redaction/scanner';
import { generateCorpus } from './fixtures/redaction-corpus';

const r = createRedactor({});
const keyed = createRedactor({
  detectors: { email: 'keyed', phone: 'keyed', card: 'keyed', ipv4: 'keyed' },
  tokenKey: new Uint8Array(32).fill(3),
});

/** Text that mixes random characters with the pieces detectors look for. */
const fragments = fc.constantFrom(
  'a@b.co',
  '@',
  '://',
  '::',
  ':',
  '.',
  '-',
  ' ',
  '\n',
  '"',
  '\\"',
  '=',
  '[',
  ']',
  'password',
  'api_key',
  'Bearer ',
  'secret',
  'token',
  'AKIA',
  'ghp_',
  'sk-',
  'eyJ',
  '-----BEGIN RSA PRIVATE KEY-----',
  '+44 ',
  '(555) ',
  '4111',
  '1111',
  '192.168.',
  'DE89',
  '2001:db8',
  '[EMAIL]',
  '[PHONE:0123456789]',
  'is ',
  'was ',
);
const messyText = fc
  .array(fc.oneof(fc.string({ maxLength: 12 }), fragments, fc.stringMatching(/^[0-9 .+()-]{1,20}$/)), { maxLength: 40 })
  .map((xs) => xs.join(''));
const anyText = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 200 }), messyText);

/** Secrets with their exact format, each planted in random text. */
const secret = fc.oneof(
  fc.stringMatching(/^[A-Z2-7]{16}$/).map((b) => `AKIA${b}`),
  fc.stringMatching(/^[A-Za-z0-9]{36}$/).map((b) => `ghp_${b}`),
  fc.stringMatching(/^[A-Za-z0-9]{24}$/).map((b) => `sk_live_${b}`),
  fc.stringMatching(/^[A-Za-z0-9_-]{35}$/).map((b) => `AIza${b}`),
  fc.stringMatching(/^[A-Za-z0-9]{93}$/).map((b) => `sk-ant-api03-${b}`),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9]{20}$/), fc.stringMatching(/^[0-9]{4}$/)).map(([a, d]) => `sk-proj-${a}${d}`),
  fc.tuple(fc.stringMatching(/^[0-9]{12}$/), fc.stringMatching(/^[A-Za-z0-9]{24}$/)).map(([a, b]) => `xoxb-${a}-${a}1-${b}`),
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9_-]{20}$/), fc.stringMatching(/^[A-Za-z0-9_-]{30}$/))
    .map(([p, s]) => `eyJhbGciOiJIUzI1NiJ9.eyJ${p}.${s}`),
);
/** A separator that cannot glue itself onto a token. */
const gap = fc.constantFrom(' ', '\n', ', ', ' (', '; ', '"', "'", '\t');

describe('redaction properties', () => {
  it('never throws on any string, and always returns a string', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(typeof r.redactText(s).text).toBe('string');
        expect(typeof keyed.redactText(s).text).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent: redacting the output changes nothing', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        for (const red of [r, keyed]) {
          const once = red.redactText(s).text;
          const twice = red.redactText(once);
          expect(twice.text).toBe(once);
          expect(twice.counts).toEqual({});
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent on real values glued to each other, to key words and to separators', () => {
    const values = generateCorpus({ seed: 11, perPii: 10, perSecret: 5, perHarmless: 5 }).flatMap((x) => [
      ...x.planted.map((p) => p.value),
      ...x.harmless.map((h) => h.value),
    ]);
    const separator = fc.constantFrom(
      ' ',
      '"',
      "'",
      ',',
      ';',
      '=',
      '(',
      ')',
      '{',
      '}',
      '<',
      '>',
      '|',
      '\n',
      '": "',
      ':',
      '-',
      '.',
      '@',
      '/',
      '::',
      '://',
    );
    const glued = fc
      .array(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...values) },
          { weight: 2, arbitrary: fragments },
          { weight: 2, arbitrary: separator },
          { weight: 1, arbitrary: fc.stringMatching(/^[0-9 .+()-]{1,20}$/) },
        ),
        { maxLength: 16 },
      )
      .map((xs) => xs.join(''));
    fc.assert(
      fc.property(glued, (s) => {
        for (const red of [r, keyed]) {
          const once = red.redactText(s).text;
          expect(red.redactText(once).text).toBe(once);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a planted secret never survives, whatever surrounds it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), gap, secret, gap, fc.string({ maxLength: 60 }), (before, g1, value, g2, after) => {
        expect(r.redactText(`${before}${g1}${value}${g2}${after}`).text).not.toContain(value);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws and never mutates any JSON value, and is idempotent on it', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.option(fc.constantFrom('password', 'api_key', 'authorization', 'note')), (v, key) => {
        const snapshot = JSON.stringify(v);
        const once = r.redactValue(v as JsonValue, key ?? undefined).value;
        expect(JSON.stringify(v)).toBe(snapshot);
        expect(r.redactValue(once).value).toEqual(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('prototype keys are safe in any position', () => {
    fc.assert(
      fc.property(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue({ maxDepth: 3 }), (k, v) => {
        const input = JSON.parse(`{${JSON.stringify(k)}: ${JSON.stringify(v) ?? 'null'}}`) as JsonValue;
        const out = r.redactValue(input).value as Record<string, unknown>;
        expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
        expect(Object.keys(out)).toEqual([k]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
    );
  });
});

describe('prefilter', () => {
  const pieces = fc.constantFrom(
    '[A',
    '[a',
    '-----BEGIN ',
    '-----BEGIN',
    '://',
    ':/',
    '@',
    '::',
    ':a',
    ':F',
    ':g',
    ' 7',
    '_7',
    'é7',
    'AB12',
    'AB1',
    'AKIA',
    'ASIA',
    'AIza',
    'AK',
    'ghp_',
    'ghx_',
    'github_pat_',
    'xoxb-',
    'xox',
    'xapp-',
    'sk_live_',
    'rk_test_',
    'sk-',
    'sk',
    'eyJ',
    'ey',
    'pass',
    'PASS',
    'pAs',
    'pwd',
    'PWD',
    'secret',
    'SeCrEt',
    'sec',
    'token',
    'tok',
    'key',
    'KEY',
    'ke',
    'auth',
    'Auth',
    'au',
    'bearer',
    'bea',
    'cred',
    'CRED',
    'cr',
    'se',
    'to',
    'pa',
    'the ',
    'pause',
    'seven',
    'total',
    'keep',
    'audio',
    'best',
    'crisp',
  );
  const text = fc
    .array(fc.oneof(pieces, fc.string({ maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 30 })
    .map((xs) => xs.join(''));

  it('prefilterAt matches exactly what the pattern matches, and the table test never rejects a match', () => {
    const re = new RegExp(PREFILTER_PATTERN, 'y');
    fc.assert(
      fc.property(text, (s) => {
        for (let i = 0; i < s.length; i++) {
          re.lastIndex = i;
          const m = re.exec(s);
          const expected = m ? m[0].length : 0;
          expect(prefilterAt(s, i)).toBe(expected);
          if (expected > 0) expect(mayStartAt(s, i)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('the table test rejects the key-word letter pairs of plain prose', () => {
    for (const w of ['the', 'pause', 'seven', 'total', 'keep', 'audio', 'best', 'crisp']) expect(mayStartAt(w, 0)).toBe(false);
    for (const w of ['password', 'secret', 'token', 'key', 'auth', 'bearer', 'cred', 'pwd']) expect(mayStartAt(w, 0)).toBe(true);
  });
});

describe('adversarial inputs finish (bounded by the test timeout, no timing assertion)', () => {
  const MB2 = 2 * 1024 * 1024;
  const cases: [string, string][] = [
    ['a@a@a@...', 'a@'.repeat(MB2 / 2)],
    ['a long digit run', '7'.repeat(MB2)],
    ['digits and spaces', '1 '.repeat(MB2 / 2)],
    ['dotted digits', '1.'.repeat(MB2 / 2)],
    ['AKIA repeated', 'AKIA'.repeat(MB2 / 4)],
    ['deep whitespace', ' \t\n'.repeat(MB2 / 3)],
    ['key=key=...', 'key='.repeat(MB2 / 4)],
    ['password is password is ...', 'password is '.repeat(MB2 / 12)],
    ['colons', ':'.repeat(MB2)],
    ['hex and colons', '1:a:'.repeat(MB2 / 4)],
    ['BEGIN without END', '-----BEGIN RSA PRIVATE KEY-----'.repeat(MB2 / 31)],
    ['eyJ. repeated', 'eyJ.'.repeat(MB2 / 4)],
    ['unclosed quotes after a key', 'api_key="'.repeat(MB2 / 9)],
    ['scheme:// repeated', 'a://b:'.repeat(MB2 / 6)],
    // Found by review: each of these was quadratic for a while.
    ['failed token prefixes with hyphens', 'sk---'.repeat(MB2 / 5)],
    ['failed JWT prefixes', 'eyJ--'.repeat(MB2 / 5)],
    ['numbers after a chain of placeholders (context reading)', `ssn ${'123456789[X]'.repeat(MB2 / 12)}`],
    ['key words repeated in long names', `${'keykey'.repeat(15)}=reset `.repeat(MB2 / 97)],
  ];
  for (const [name, s] of cases) {
    it(`${name} (${(s.length / 1024 / 1024).toFixed(1)} MB)`, { timeout: 20_000 }, () => {
      const out = r.redactText(s);
      expect(typeof out.text).toBe('string');
      expect(r.redactText(out.text).text).toBe(out.text);
    });
  }

  it('scans a large string whole: a secret at the very end of 4 MB is found', () => {
    const s = `${'lorem ipsum '.repeat(350_000)}AKIAIOSFODNN7EXAMPLE`;
    expect(r.redactText(s).text.endsWith('[AWS_ACCESS_KEY]')).toBe(true);
  });
});
