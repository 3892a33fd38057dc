/**
 * Long fuzzing of the redaction engine's one-pass rule, beyond what the test suite runs:
 * texts made of real planted values and harmless ids (from the labeled corpus generator)
 * glued to each other, to key words, token prefixes, PEM markers and separators. For each,
 * redacting the output again must change nothing, for a plain and a keyed redactor, and a
 * planted token whose format identifies it must not survive between spaces. Prints one line per seed and exits 1 on the first
 * counterexample (shrunk by fast-check), with the input and both outputs.
 *
 *   npm run fuzz:redaction -- [first seed] [seeds] [texts per seed]
 *
 * Not part of `npm test`: a run of 10 seeds x 100,000 texts takes about a minute.
 */
import fc from 'fast-check';
import { createRedactor } from '../lib/core/redaction';
import type { DetectorId } from '../lib/core/redaction/catalog';
import { generateCorpus } from '../test/fixtures/redaction-corpus';

const [first = 1, seeds = 10, runs = 100_000] = process.argv.slice(2).map(Number);

const FRAGMENTS = [
  'a@b.co',
  '@',
  '://',
  '::',
  ':',
  '.',
  '-',
  '--',
  ' ',
  '\n',
  '\t',
  '"',
  '\\"',
  "'",
  '=',
  ':=',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  ',',
  '/',
  '+',
  '_',
  '#',
  '%',
  '&',
  '?',
  'password',
  'Password',
  'pwd',
  'passwd',
  'api_key',
  'apiKey',
  'x-api-key',
  'Bearer ',
  'Authorization: ',
  'secret',
  'token',
  'auth',
  'cred',
  'key',
  'AKIA',
  'ASIA',
  'ghp_',
  'github_pat_',
  'xoxb-',
  'sk-',
  'sk_live_',
  'rk_test_',
  'AIza',
  'eyJ',
  '-----BEGIN RSA PRIVATE KEY-----',
  '-----END RSA PRIVATE KEY-----',
  '-----BEGIN ',
  '-----END ',
  '+44 ',
  '+1 ',
  '(555) ',
  '4111',
  '1111',
  '192.168.',
  '10.0.0.1',
  'DE89',
  'GB',
  '2001:db8',
  'fe80::',
  '::1',
  'https://',
  'postgres://',
  'user:pass@',
  'user:',
  '@host.com',
  '[EMAIL]',
  '[PHONE:0123456789]',
  '[PASSWORD]',
  '[PRIVATE_KEY]',
  '[CARD]',
  'is ',
  'was ',
  'my password is ',
  'SSN ',
  'ssn: ',
  'card ',
  'iban ',
  'aws_secret_access_key=',
  'xn--',
];
const SEPARATORS = [' ', '"', "'", ',', ';', '=', '(', ')', '+(', '+', '{', '}', '<', '>', '|', '`', '\n', ' = ', '": "', '="'];

const SELF_EVIDENT = new Set<DetectorId>([
  'aws_access_key',
  'github_token',
  'slack_token',
  'stripe_key',
  'openai_key',
  'anthropic_key',
  'google_api_key',
  'jwt',
]);

const plain = createRedactor({});
const keyed = createRedactor({
  detectors: { email: 'keyed', phone: 'keyed', card: 'keyed', ipv4: 'keyed', iban: 'keyed', ipv6: 'keyed', ssn: 'keyed' },
  tokenKey: new Uint8Array(32).fill(3),
});

let failed = false;
for (let seed = first; seed < first + seeds && !failed; seed++) {
  const samples = generateCorpus({ seed, perPii: 20, perSecret: 10, perHarmless: 10 });
  const values = samples.flatMap((x) => [...x.planted.map((p) => p.value), ...x.harmless.map((h) => h.value)]);
  // Secrets whose format says what they are (passwords and generic secrets need a key name).
  const secrets = new Set(samples.flatMap((x) => x.planted.filter((p) => SELF_EVIDENT.has(p.detector)).map((p) => p.value)));
  const piece = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...FRAGMENTS) },
    { weight: 3, arbitrary: fc.constantFrom(...values) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9 .+()\-:]{1,24}$/) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9+/=_.~-]{1,40}$/) },
  );
  const text = fc
    .array(fc.oneof({ weight: 2, arbitrary: piece }, { weight: 1, arbitrary: fc.constantFrom(...SEPARATORS) }), { maxLength: 24 })
    .map((xs) => xs.join(''));
  const result = fc.check(
    fc.property(text, fc.boolean(), (s, k) => {
      const red = k ? keyed : plain;
      const once = red.redactText(s).text;
      if (red.redactText(once).text !== once) return false;
      // A planted token standing alone between spaces must be gone.
      for (const v of secrets) if (s.includes(` ${v} `) && once.includes(v)) return false;
      return true;
    }),
    { numRuns: runs, seed },
  );
  if (result.failed) {
    failed = true;
    const [s, k] = result.counterexample as [string, boolean];
    const red = k ? keyed : plain;
    const once = red.redactText(s).text;
    console.log(
      `seed ${seed}: counterexample (${k ? 'keyed' : 'plain'})\n  in    ${JSON.stringify(s)}\n  once  ${JSON.stringify(once)}\n  twice ${JSON.stringify(red.redactText(once).text)}`,
    );
  } else {
    console.log(`seed ${seed}: ${runs} texts, idempotent, no standalone token kept`);
  }
}
process.exitCode = failed ? 1 : 0;
