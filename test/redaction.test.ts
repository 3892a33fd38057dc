import { describe, expect, it } from 'vitest';
import { createRedactor, createLineRedactor, pseudonymize, validateCustomPattern, type DetectorId } from '../lib/core/redaction';
import { PREFILTER_PATTERN } from '../lib/core/redaction/scanner';
import { iban, withLuhn } from './fixtures/redaction-corpus';

const r = createRedactor({});
const red = (s: string) => r.redactText(s).text;

/** Each positive: the text, the value that must go, and the detector that must count it. */
const POSITIVES: [DetectorId, string, string][] = [
  ['email', 'mail john.doe@example.com now', 'john.doe@example.com'],
  ['email', 'to: A.B+tag@Mail.Example.CO.UK.', 'A.B+tag@Mail.Example.CO.UK'],
  ['email', 'idn JANE@XN--MNCHEN-3YA.DE and jane@xn--mnchen-3ya.de', 'XN--MNCHEN-3YA.DE'],
  ['phone', 'call (415) 555-2671 today', '(415) 555-2671'],
  ['phone', 'call 415-555-2671', '415-555-2671'],
  ['phone', 'call 415.555.2671', '415.555.2671'],
  ['phone', 'call 415 555 2671', '415 555 2671'],
  ['phone', 'call 415 555-2671', '415 555-2671'],
  ['phone', 'call +1 415 555 2671', '+1 415 555 2671'],
  ['phone', 'call +1-415-555-2671', '+1-415-555-2671'],
  ['phone', 'call +1 (415) 555-2671', '+1 (415) 555-2671'],
  ['phone', 'call 1-415-555-2671', '1-415-555-2671'],
  ['phone', 'tel +14155552671', '+14155552671'],
  ['phone', 'UK +44 20 7946 0958', '+44 20 7946 0958'],
  ['phone', 'UK +44 (0)20 7946 0958', '+44 (0)20 7946 0958'],
  ['phone', 'UK 020 7946 0958', '020 7946 0958'],
  ['phone', 'UK 07700 900123', '07700 900123'],
  ['phone', 'DE +49 30 12345678', '+49 30 12345678'],
  ['phone', 'DE 030/12345678', '030/12345678'],
  ['phone', 'DE 0151-1234567', '0151-1234567'],
  ['phone', 'DE 0049 30 12345678', '0049 30 12345678'],
  ['phone', 'FR +33 1 23 45 67 89', '+33 1 23 45 67 89'],
  ['phone', 'FR 06.12.34.56.78', '06.12.34.56.78'],
  ['phone', 'IN +91 98765 43210', '+91 98765 43210'],
  ['phone', 'IN 98765 43210', '98765 43210'],
  ['phone', 'AU (02) 9876 5432', '(02) 9876 5432'],
  ['phone', 'AU +61 412 345 678', '+61 412 345 678'],
  ['phone', 'JP +81 3-1234-5678', '+81 3-1234-5678'],
  ['phone', 'my number is 4155552671', '4155552671'],
  ['card', 'visa 4111 1111 1111 1111', '4111 1111 1111 1111'],
  ['card', 'visa 4111-1111-1111-1111', '4111-1111-1111-1111'],
  ['card', 'visa 4111111111111111', '4111111111111111'],
  ['card', 'mc 5555555555554444', '5555555555554444'],
  ['card', 'mc2 2223 0031 2200 3222', '2223 0031 2200 3222'],
  ['card', 'amex 3782 822463 10005', '3782 822463 10005'],
  ['card', 'discover 6011111111111117', '6011111111111117'],
  ['iban', 'iban DE89 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 00'],
  ['iban', 'iban DE89370400440532013000', 'DE89370400440532013000'],
  ['iban', 'iban GB82 WEST 1234 5698 7654 32.', 'GB82 WEST 1234 5698 7654 32'],
  ['iban', 'iban GB82-WEST-1234-5698-7654-32', 'GB82-WEST-1234-5698-7654-32'],
  ['ssn', 'ssn 078-05-1120', '078-05-1120'],
  ['ssn', 'ssn 078 05 1120', '078 05 1120'],
  ['ssn', 'SSN: 078051120', '078051120'],
  ['ipv4', 'from 192.168.1.10:8443', '192.168.1.10'],
  ['ipv4', 'cidr 10.0.0.0/8', '10.0.0.0'],
  ['ipv6', 'v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok', '2001:0db8:85a3:0000:0000:8a2e:0370:7334'],
  ['ipv6', 'v6 2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334'],
  ['ipv6', 'v6 fe80::1ff:fe23:4567:890a.', 'fe80::1ff:fe23:4567:890a'],
  ['ipv6', 'v6 ::ffff:192.0.2.128', '::ffff:192.0.2.128'],
  ['ipv6', 'v6 fe80:abcd:ef01:2345:6789:abcd:ef01:2345 ok', 'fe80:abcd:ef01:2345:6789:abcd:ef01:2345'],
  ['ipv6', 'v6 dead:beef:cafe:babe:dead:beef:cafe:babe', 'dead:beef:cafe:babe:dead:beef:cafe:babe'],
  ['aws_access_key', 'key AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
  ['aws_access_key', 'key ASIAY34FZKBOKMUTVV7A', 'ASIAY34FZKBOKMUTVV7A'],
  ['aws_secret_key', 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['aws_secret_key', 'the AWS secret access key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['github_token', 'gh ghp_0123456789abcdefghijABCDEFGHIJ012345', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'],
  [
    'github_token',
    'gh github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh',
  ],
  [
    'slack_token',
    'slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  ],
  [
    'slack_token',
    'hook https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
  ],
  ['stripe_key', 'stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
  ['stripe_key', 'stripe rk_test_4eC39HqLyjWDarjtT1zdp7dc', 'rk_test_4eC39HqLyjWDarjtT1zdp7dc'],
  ['openai_key', 'openai sk-proj-abcDEF123456ghiJKL789012mnoPQR', 'sk-proj-abcDEF123456ghiJKL789012mnoPQR'],
  [
    'anthropic_key',
    'claude sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCD-_xyz',
    'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCD-_xyz',
  ],
  ['google_api_key', 'maps AIzaSyA1234567890abcdefghijklmnopqrstuv', 'AIzaSyA1234567890abcdefghijklmnopqrstuv'],
  [
    'jwt',
    'jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    'eyJzdWIiOiIxMjM0NTY3ODkwIn0',
  ],
  ['private_key', 'k -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY----- end', 'MIIEowIBAAKCAQEA7'],
  ['private_key', 'k -----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA\\n (truncated', 'b3BlbnNzaC1rZXktdjEAAAAA'],
  ['bearer_token', 'Authorization: Bearer abcDEF123456ghiJKL789', 'abcDEF123456ghiJKL789'],
  ['bearer_token', 'authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
  ['bearer_token', '{"Authorization": "Bearer abcDEF123456ghiJKL789"}', 'abcDEF123456ghiJKL789'],
  ['password', 'password=hunter2&user=x', 'hunter2'],
  ['password', 'PASSWORD: Tr0ub4dor', 'Tr0ub4dor'],
  ['password', '{"db_password": "s3cr3t!"}', 's3cr3t!'],
  ['password', '{\\"password\\":\\"s3cr3t!\\"}', 's3cr3t!'],
  ['password', 'my password is hunter22, thanks', 'hunter22'],
  ['password', 'the password for the vpn is Tr0ub4dor&3 ok', 'Tr0ub4dor&3'],
  ['password', 'mysql --password Xk9!secret', 'Xk9!secret'],
  ['url_credentials', 'db postgres://admin:pa55w0rd@db.internal:5432/app', 'admin:pa55w0rd'],
  ['generic_secret', 'api_key = 8f14e45fceea167a5a36dedd4bea2543', '8f14e45fceea167a5a36dedd4bea2543'],
  ['generic_secret', '{"client_secret": "Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0"}', 'Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0'],
  ['generic_secret', 'X-Api-Key: Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0', 'Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0'],
  ['generic_secret', 'the api key is Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0.', 'Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0'],
];

describe('detectors: positives', () => {
  for (const [detector, text, value] of POSITIVES) {
    it(`${detector}: ${text.slice(0, 60)}`, () => {
      const out = r.redactText(text);
      expect(out.text).not.toContain(value);
      expect(out.counts[detector], JSON.stringify(out)).toBeGreaterThanOrEqual(1);
    });
  }

  it('writes typed placeholders and keeps the surrounding text', () => {
    expect(red('mail john@example.com or call +44 20 7946 0958')).toBe('mail [EMAIL] or call [PHONE]');
    expect(red('Authorization: Bearer abcDEF123456ghiJKL789')).toBe('Authorization: Bearer [BEARER_TOKEN]');
    expect(red('postgres://admin:pa55w0rd@db.internal/app')).toBe('postgres://[URL_CREDENTIALS]@db.internal/app');
    expect(red('v6 fe80::1ff:fe23:4567:890a and 10.1.2.3')).toBe('v6 [IP] and [IP]');
  });

  it('finds values glued to timestamps and UUIDs', () => {
    expect(red('2026-11-29T15:25:50.123Z+44 20 7946 0958')).toBe('2026-11-29T15:25:50.123Z[PHONE]');
    expect(red('2026-11-29T15:25:50+01:00 10.0.0.1')).toBe('2026-11-29T15:25:50+01:00 [IP]');
    expect(red('123e4567-e89b-12d3-a456-426614174000 bob@example.com')).toBe('123e4567-e89b-12d3-a456-426614174000 [EMAIL]');
  });

  it('generated checksums: every Luhn card and mod-97 IBAN is found', () => {
    for (let i = 0; i < 200; i++) {
      const card = withLuhn(`4${String(i * 7919).padStart(14, '0')}`);
      const ib = iban('DE', String(i * 104729).padStart(18, '0'));
      expect(red(`c ${card} i ${ib}`)).toBe('c [CARD] i [IBAN]');
    }
  });
});

const NEGATIVES: [string, string][] = [
  ['uuid', 'id 123e4567-e89b-12d3-a456-426614174000 and 55510234-1448-4406-bf8e-94d7ed7b7823'],
  ['hex trace id', 'trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7'],
  ['git sha', 'commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (9fceb02)'],
  ['timestamp', 'at 2026-11-29T15:25:50.123Z and 2026-11-29 15:25:50 and 15:25:50.123'],
  ['version tags', 'pv-2025-12-18 rc-v7 1.2.3.4.5 v2.14.1 release-2024.11.3'],
  ['model ids', 'anthropic.claude-3-5-sonnet-20240620-v1:0 gpt-4o-2024-08-06 amazon.titan-embed-text-v2:0'],
  ['luhn failure', 'order 4111111111111112 and 4111 1111 1111 1112'],
  ['iban failure', 'ref DE89370400440532013001'],
  ['unenrolled bare numbers', 'ts 1732894550 account 123456789012 id 987654321'],
  ['prices', '$1,234.56 and 12.50 USD and €99.99'],
  ['token counts', '1532 tokens, input_tokens=2048, max_tokens: 4096'],
  ['isbn', 'ISBN 978-3-16-148410-0, 0-306-40615-2, 9783161484100'],
  ['phrases', 'password reset, api key rotation policy, token count, secret santa, bearer of good news'],
  ['password non-values', 'password: reset required; password=${DB_PASSWORD}; "password": null; my password is expired'],
  ['low-entropy key values', 'api_key: not-set, token: expired, key=value, secret_name=payments-prod'],
  ['dates and times', 'on 01-02-2025 10:30 and 29.11.2026 and 2025/12/18'],
  ['mac address', 'mac 00:1A:2B:3C:4D:5E'],
  ['loopback and code paths', 'std::vector ::1 a::b'],
  ['ids near key words', 'kms_key_id=1234abcd-12ab-34cd-56ef-1234567890ab cache_key: 8f14e45fceea167a5a36dedd4bea2543'],
  ['word-internal look-alikes', 'task-sk-abcdefghijklmnopqrstu1 xAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX'],
  ['npm and decorators', '@aws-sdk/client-s3 package@1.2.3 @Injectable()'],
];

describe('detectors: negatives', () => {
  for (const [name, text] of NEGATIVES) {
    it(`leaves ${name} alone`, () => {
      expect(r.redactText(text)).toEqual({ text, counts: {} });
    });
  }
});

describe('modes and keys', () => {
  const key = new Uint8Array(32).fill(7);

  it('keyed mode writes a stable short token per normalized value', () => {
    const k = createRedactor({ detectors: { email: 'keyed', phone: 'keyed' }, tokenKey: key });
    const a = k.redactText('Bob@Example.com and bob@example.com and eve@example.com').text;
    const m = /^\[EMAIL:([0-9a-f]{10})\] and \[EMAIL:([0-9a-f]{10})\] and \[EMAIL:([0-9a-f]{10})\]$/.exec(a);
    expect(m?.[1]).toBe(m?.[2]);
    expect(m?.[1]).not.toBe(m?.[3]);
    expect(k.redactText('call +44 20 7946 0958').text).toMatch(/^call \[PHONE:[0-9a-f]{10}\]$/);
    expect(k.redactText(a).text).toBe(a);
  });

  it('secrets are always plain, even with every PII detector keyed', () => {
    const k = createRedactor({ detectors: { email: 'keyed' }, tokenKey: key });
    expect(k.redactText('AKIAIOSFODNN7EXAMPLE').text).toBe('[AWS_ACCESS_KEY]');
  });

  it('off disables a PII detector but never a secret detector', () => {
    const k = createRedactor({ detectors: { email: 'off', ipv4: 'off' } });
    expect(k.redactText('a@example.com 10.0.0.1 AKIAIOSFODNN7EXAMPLE').text).toBe('a@example.com 10.0.0.1 [AWS_ACCESS_KEY]');
  });

  it('fails when keyed mode has no token key', () => {
    expect(() => createRedactor({ detectors: { email: 'keyed' } })).toThrow('redaction detector email is keyed but no token key was given');
  });

  it('fails when a detector id is unknown', () => {
    expect(() => createRedactor({ detectors: { aws_access_key: 'off' } as never })).toThrow(
      'redaction detector "aws_access_key" is unknown; PII detectors: email, phone, card, iban, ssn, ipv4, ipv6',
    );
  });

  it('pseudonymize is a stable HMAC-SHA256 in hex', () => {
    expect(pseudonymize('user-1', key)).toBe(pseudonymize('user-1', key));
    expect(pseudonymize('user-1', key)).toMatch(/^[0-9a-f]{64}$/);
    expect(pseudonymize('user-1', key)).not.toBe(pseudonymize('user-2', key));
    expect(pseudonymize('user-1', key)).not.toBe(pseudonymize('user-1', new Uint8Array(32).fill(8)));
    // RFC 4231 test case 2.
    expect(pseudonymize('what do ya want for nothing?', Buffer.from('Jefe'))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('custom patterns', () => {
  it('redacts matches with their placeholder and counts them by name', () => {
    const c = createRedactor({ customPatterns: [{ name: 'employee_id', pattern: 'EMP-[0-9]{6}', placeholder: 'EMPLOYEE_ID' }] });
    expect(c.redactText('ticket for EMP-123456 from a@example.com')).toEqual({
      text: 'ticket for [EMPLOYEE_ID] from [EMAIL]',
      counts: { email: 1, 'custom:employee_id': 1 },
    });
  });

  it('accepts bounded, non-nested patterns', () => {
    for (const p of ['EMP-[0-9]{6}', '(?:INC|CHG)-[0-9]{4,8}', 'ab?c', '[A-Z]{2}[0-9]{1,256}', '(ab){2}', '(a{1,3})?x'])
      expect(validateCustomPattern(p), p).toBeNull();
  });

  it('fails when a pattern has a backreference', () => {
    expect(validateCustomPattern('(a)\\1')).toBe(
      'has a backreference (\\1); backreferences are not allowed (they can take exponential time)',
    );
    expect(validateCustomPattern('(?<x>a)\\k<x>')).toBe(
      'has a named backreference (\\k<...>); backreferences are not allowed (they can take exponential time)',
    );
  });

  it('fails when a pattern has a lookaround', () => {
    for (const p of ['a(?=b)', 'a(?!b)', '(?<=a)b', '(?<!a)b'])
      expect(validateCustomPattern(p)).toBe('has a lookaround ((?=, (?!, (?<= or (?<!); lookarounds are not allowed');
  });

  it('fails when a pattern has nested quantifiers', () => {
    expect(validateCustomPattern('(a{1,3}){2}')).toBe(
      'has nested quantifiers (a repeated group that contains a quantifier, like (a{1,3}){2}); they can take exponential time',
    );
  });

  it('fails when a pattern repeats without a bound', () => {
    expect(validateCustomPattern('EMP-[0-9]+')).toBe('has unbounded repetition (+); use a bounded {m,n} with n at most 256');
    expect(validateCustomPattern('(ab)*')).toBe('has unbounded repetition (*); use a bounded {m,n} with n at most 256');
    expect(validateCustomPattern('a{2,}')).toBe('has unbounded repetition ({n,}); use a bounded {m,n} with n at most 256');
    expect(validateCustomPattern('a{1,1000}')).toBe('repeats up to 1000 times; the bound is at most 256');
  });

  it('fails when a pattern is invalid, matches the empty string or a placeholder', () => {
    expect(validateCustomPattern('(a')).toMatch(/^is not a valid regular expression \(/);
    expect(validateCustomPattern('a?')).toBe('matches the empty string; a custom pattern must match at least one character');
    expect(validateCustomPattern('[A-Z]{4,8}')).toBe(
      'matches the placeholder [EMAIL]; a custom pattern must not match placeholders, or redacting twice would change the text',
    );
  });

  it('fails when createRedactor gets a pattern the validator rejects', () => {
    expect(() => createRedactor({ customPatterns: [{ name: 'bad', pattern: '(a+)+', placeholder: 'BAD' }] })).toThrow(
      'custom pattern bad: pattern has unbounded repetition (+); use a bounded {m,n} with n at most 256',
    );
  });
});

describe('redactValue', () => {
  it('scans decoded strings, uses key names as context and never mutates the input', () => {
    const input = {
      note: 'mail bob@example.com',
      api_key: 'Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0',
      password: 'hunter2',
      nested: [{ AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, 'call +44 20 7946 0958'],
      escaped: '{"api_key": "Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0"}',
      count: 3,
      'carol@example.com': true,
    };
    const snapshot = JSON.stringify(input);
    const out = r.redactValue(input);
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(out.value).toEqual({
      note: 'mail [EMAIL]',
      api_key: '[SECRET]',
      password: '[PASSWORD]',
      nested: [{ AWS_SECRET_ACCESS_KEY: '[AWS_SECRET_KEY]' }, 'call [PHONE]'],
      escaped: '{"api_key": "[SECRET]"}',
      count: 3,
      '[EMAIL]': true,
    });
    expect(out.counts).toEqual({ email: 2, generic_secret: 2, password: 1, aws_secret_key: 1, phone: 1 });
  });

  it('keeps __proto__ and constructor as plain keys', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "a@example.com"}, "constructor": {"prototype": "x"}}') as Record<string, unknown>;
    const out = r.redactValue(input as never).value as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor']);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":"[EMAIL]"},"constructor":{"prototype":"x"}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('replaces values nested deeper than the limit instead of passing them through', () => {
    let v: unknown = 'a@example.com';
    for (let i = 0; i < 100; i++) v = [v];
    expect(JSON.stringify(r.redactValue(v as never).value)).not.toContain('example.com');
  });
});

describe('one pass is final (found by fuzzing; the output is scanned again only where a finding touches a non-separator)', () => {
  const pem =
    '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0wPDAbBgkqhkiG9w0BBQwwDgQI\n-----END ENCRYPTED PRIVATE KEY-----';
  const cases: [string, string, string][] = [
    ['a token prefix inside a word never hides a PEM marker after it', `0389 7015 2888 9787ASIA${pem}`, '[PHONE] 9787ASIA[PRIVATE_KEY]'],
    [
      'a number run ending in a word resumes after its digits, as a digit-led word on its own does',
      'IT33 E501 0425 1116 2461 4568 55987154msPassword = =',
      'IT33 E501 [PHONE] 4568 55987154msPassword = [PASSWORD]',
    ],
    [
      'a key word after the digits of a word is read (`7770aws_secret_access_key=`)',
      'x 7770aws_secret_access_key=8b06e2fa6cebd8bc48ca3cc2ccc9babf',
      'x 7770aws_secret_access_key=[SECRET]',
    ],
    ['a key name never swallows a PEM marker', 'x auth-----BEGIN RSA PRIVATE KEY-----', 'x auth[PRIVATE_KEY]'],
    ['a double hyphen in a key name is still a key name', 'passwd--_=hunter22', 'passwd--_=[PASSWORD]'],
    [
      'scanning resumes inside a rejected key name (a token after a dot)',
      '0pwd.xoxa-103310234624-9867431911612-7qiXT29TntNYpiYmjiD6zQ2M',
      '0pwd.[SLACK_TOKEN]',
    ],
    [
      'context is read around an earlier finding, the same as around its placeholder',
      'ssn: aws_secret_access_key=o.brien@example.de 051158211',
      'ssn: aws_secret_access_key=[EMAIL] [SSN]',
    ],
    ['context is read around a placeholder', 'SSN my password is [PASSWORD] 189699721', 'SSN my password is [PASSWORD] [SSN]'],
    ['context before an email still counts', 'SSN wei.zhang@sub.domain.org 674013855', 'SSN [EMAIL] [SSN]'],
    ['a placeholder is not context (`[SSN]` does not say ssn)', '[SSN] 674013855', '[SSN] 674013855'],
    [
      'a bare value stops at a PEM marker, so the key after it is found whole',
      'password reset-----BEGIN OPENSSH PRIVATE KEY-----\\n9Dq6vYwvnGt4YbsB2co+2Nerr\\n-----END OPENSSH PRIVATE KEY-----',
      'password reset[PRIVATE_KEY]',
    ],
    [
      'a long name is skipped by word, so a JWT after a dot in it is found',
      '0PasswordeyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4NjA0NjUyOSIsIm5hbWUiOiJqLmdhcmNpYSIsImlhdCI6MTY2NDM3ODUxMX0.F8QV5YJcTARTIoEBMeM_SagY5N38j67hAT3Serd1r7m.a',
      '0PasswordeyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.[JWT]',
    ],
    ['a group that starts another value does not extend an SSN', '280 25 9557 8.76.53.210', '[SSN] [IP]'],
    ['an SSN followed by a card: the output is checked again', '200 48 0246 2326407060653284', '[SSN] [CARD]'],
    [
      'a finding before `(` is checked again (a phone reads the `+(` before it)',
      '-----BEGIN RSA PRIVATE KEY-----+(091 68 9702',
      '[PRIVATE_KEY]([SSN]',
    ],
    ['a value holding a placeholder is not a password again', 'my password is :=[EMAIL]', 'my password is :=[EMAIL]'],
    ['a bare value holding a placeholder is not redacted again', 'Password = :=[EMAIL]', 'Password = :=[EMAIL]'],
    [
      'a value read does not change once a finding inside it is replaced',
      'aws_secret_access_key=2bc3f0b1ed1514fbeb8185d17d055f8a192.168.pwd=+(',
      'aws_secret_access_key=2bc3f0b1ed1514fbeb8185d17d055f8a192.168.pwd=[PASSWORD]',
    ],
    [
      'a finding over the space that ended a URL authority: the output is checked again',
      'postgres://:=+49 152 33027274`a@b.co910.971.3821',
      'postgres://[URL_CREDENTIALS]@b.co910.971.3821',
    ],
    [
      'a placeholder inside URL credentials does not hide the password',
      'redis://[EMAIL]:Pa55w0rd@cache:6379',
      'redis://[URL_CREDENTIALS]@cache:6379',
    ],
    [
      'a key value holding a placeholder is still scanned inside',
      '{"credentials": "user [EMAIL] card 4111 1111 1111 1111 ssn 123-45-6789"}',
      '{"credentials": "user [EMAIL] card [CARD] ssn [SSN]"}',
    ],
    ['a token after a placeholder in a key value', 'auth="[USER] AKIAIOSFODNN7EXAMPLE"', 'auth="[USER] [AWS_ACCESS_KEY]"'],
    [
      'a token prefix inside a word skips only the word (numbers after its hyphens are read)',
      'req-79fad7daxoxp-532252265590-2952666446418-pXfg89OH7BLdYn5aQKqL01vu1-616-498-5856',
      'req-79fad7daxoxp-532252265590-2952666446418-pXfg89OH7BLdYn5aQKqL01vu1-[PHONE]',
    ],
    ['an IBAN after a token prefix inside a word', 'req-1a869993sk-ES66 7979 0621 0144 3242 1148', 'req-1a869993sk-[IBAN]'],
    [
      'a list of SSNs before an address is redacted in one call',
      `${'123 45 6789 '.repeat(5)}2001:db8::1`,
      '[SSN] [SSN] [SSN] [SSN] [SSN] [IP]',
    ],
    ['a placeholder after an unterminated quote stays as it is', 'password="[PASSWORD]', 'password="[PASSWORD]'],
    ['an email glued to an IPv6 address', 'a@b.co::ffff:21.163.88.202', '[EMAIL][IP]'],
    ['an IBAN glued to an AWS key id', 'DE60-8233-1838-2567-0714-99-AKIAOAAHIVBMIE4OSVBW', '[IBAN]-[AWS_ACCESS_KEY]'],
    [
      'a failed token prefix does not hide the key word after it',
      'ghp_password=hunter22 and sk-secret: wJalrXUtnFEMI/K7MDENG',
      'ghp_password=[PASSWORD] and sk-secret: [SECRET]',
    ],
    ['a number after a failed token prefix is read', 'ghp_tel-555-234-5678', 'ghp_tel-[PHONE]'],
    [
      'a scheme starts at its first letter, after a finding or a digit',
      'sk-555-234-5678+ftp://admin:S3cretPw@10.0.0.5/ 1http://admin:S3cretPw@host/',
      'sk-[PHONE]+ftp://[URL_CREDENTIALS]@10.0.0.5/ 1http://[URL_CREDENTIALS]@host/',
    ],
    [
      'digits that run into `@` are an email, not a number',
      'john.555-234-5678@gmail.com, sk-123-45-6789@example.com, x 4111111111111111@example.com',
      '[EMAIL], [EMAIL], x [EMAIL]',
    ],
    ['tokens joined by hyphens are all found in one call', `${'ghp_' + 'a1B2'.repeat(9)}-`.repeat(7), '[GITHUB_TOKEN]-'.repeat(7)],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      expect(red(input)).toBe(expected);
      expect(red(expected)).toBe(expected);
    });
  }
});

describe('line redactor', () => {
  it('keeps one output line per input line and blanks a PEM body across lines', () => {
    const lr = createLineRedactor(r);
    const lines = [
      'key:',
      '-----BEGIN PRIVATE KEY-----',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      'BKcwggSjAgEAAoIBAQC7',
      '-----END PRIVATE KEY----- after a@example.com',
      'next',
    ];
    expect(lines.map((l) => lr(l))).toEqual([
      'key:',
      '[PRIVATE_KEY]',
      '[PRIVATE_KEY]',
      '[PRIVATE_KEY]',
      '[PRIVATE_KEY] after [EMAIL]',
      'next',
    ]);
    expect(lr.counts).toEqual({ private_key: 1, email: 1 });
  });
});

describe('prefilter', () => {
  it('has no backreferences, lookarounds or quantified groups', () => {
    expect(PREFILTER_PATTERN).not.toMatch(/\\[1-9]|\(\?[=!<]|\)[*+?{]/);
    expect(PREFILTER_PATTERN).not.toMatch(/[*+]/);
  });
});
