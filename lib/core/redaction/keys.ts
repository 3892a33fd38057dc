/**
 * Context from key names: which names hold passwords, secrets or Authorization values,
 * and whether a value assigned to such a name looks like a credential.
 */
import { CREDENTIAL, is } from './chars';
import { shannonEntropy } from './validators';

/** What a key name says about the value assigned to it. */
export type KeyKind = 'password' | 'secret' | 'auth' | 'bearer';

const PASSWORD_WORDS = new Set(['password', 'passwd', 'passphrase', 'pwd', 'pass', 'passcode', 'pw']);
const SECRET_WORDS = new Set([
  'key',
  'apikey',
  'secret',
  'secrets',
  'token',
  'credential',
  'credentials',
  'pat',
  'privatekey',
  'accesskey',
  'secretkey',
  'clientsecret',
  'accesstoken',
  'authtoken',
  'refreshtoken',
  'sessiontoken',
  'apitoken',
  'secretaccesskey',
]);
const AUTH_WORDS = new Set(['authorization', 'auth']);
/** Words that make a key-like name an identifier, a count or a setting, not a credential. */
const NOT_SECRET_WORDS = new Set([
  'public',
  'pub',
  'id',
  'ids',
  'name',
  'names',
  'type',
  'kind',
  'count',
  'length',
  'len',
  'size',
  'max',
  'min',
  'limit',
  'usage',
  'url',
  'uri',
  'path',
  'file',
  'format',
  'version',
  'prefix',
  'suffix',
  'expiry',
  'expires',
  'expiration',
  'ttl',
  'rotation',
  'policy',
  'header',
  'field',
  'cache',
  'partition',
  'sort',
  'primary',
  'foreign',
  'idempotency',
  'routing',
  'dedup',
  'dedupe',
  'object',
  'lookup',
  'shard',
  'sharding',
  'row',
  'unique',
  'metric',
  'metrics',
  'budget',
  'input',
  'output',
  'total',
  'page',
  'next',
  'arn',
  'alias',
  'region',
  'hint',
  'reset',
  'manager',
  'store',
  'vault',
  'ref',
  'location',
]);

/** True for the characters that separate the words of a key name. */
function isKeySeparator(c: number): boolean {
  return c === 95 /* _ */ || c === 45 /* - */ || c === 46 /* . */ || c === 32 || c === 36 /* $ */ || c === 47; /* / */
}

/** A camelCase word starts at `i`: a capital after a lower-case letter (`userPassword`). */
function camelStart(name: string, i: number): boolean {
  const c = name.charCodeAt(i);
  const prev = name.charCodeAt(i - 1);
  return c >= 65 && c <= 90 && prev >= 97 && prev <= 122;
}

/** Splits `userPassword`, `AWS_SECRET_ACCESS_KEY`, `x-api-key` into lower-case words. */
export function keyWords(name: string): string[] {
  const words: string[] = [];
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    // A word ends at a separator, at the end, and where a camelCase word starts.
    const camel = i > start && i < name.length && camelStart(name, i);
    if (i < name.length && !isKeySeparator(name.charCodeAt(i)) && !camel) continue;
    if (i > start) words.push(name.slice(start, i).toLowerCase());
    start = camel ? i : i + 1;
  }
  return words;
}

/** The last word of `keyWords(name)` ('' when there is none), without splitting the rest. */
function lastKeyWord(name: string): string {
  let end = name.length;
  while (end > 0 && isKeySeparator(name.charCodeAt(end - 1))) end--;
  let start = end;
  while (start > 0 && !isKeySeparator(name.charCodeAt(start - 1)) && !(start < end && camelStart(name, start))) start--;
  return name.slice(start, end).toLowerCase();
}

/** Classifies a key name by its last word (`db_password` -> password, `api_key` -> secret). */
export function classifyKey(name: string): KeyKind | null {
  if (name.length === 0 || name.length > 128) return null;
  // Most names end in no key word at all: read the last word first, and every word only when it matters.
  const last = lastKeyWord(name);
  if (last === '') return null;
  if (PASSWORD_WORDS.has(last)) return 'password';
  if (last === 'bearer' && keyWords(name).length === 1) return 'bearer';
  if (AUTH_WORDS.has(last)) return 'auth';
  if (!SECRET_WORDS.has(last)) return null;
  for (const w of keyWords(name)) if (NOT_SECRET_WORDS.has(w)) return null;
  return 'secret';
}

/**
 * True when a value assigned to a secret-like name looks like a credential: 12 to 1024
 * credential characters, at least two of lower/upper/digit and some entropy; or a long
 * high-entropy single-class string.
 */
export function looksLikeCredential(v: string): boolean {
  const n = v.length;
  if (n < 12 || n > 1024) return false;
  let lower = 0;
  let upper = 0;
  let digit = 0;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (!is(CREDENTIAL, c)) return false;
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
  }
  const h = shannonEntropy(v);
  if (lower + upper + digit >= 2 && h >= 3.0) return true;
  return n >= 24 && h >= 3.5;
}

/** Values that say "no password here" rather than being one. */
const NON_VALUES = new Set([
  'reset',
  'required',
  'expired',
  'incorrect',
  'invalid',
  'wrong',
  'changed',
  'updated',
  'policy',
  'policies',
  'manager',
  'strength',
  'null',
  'none',
  'nil',
  'undefined',
  'true',
  'false',
  'empty',
  'missing',
  'hidden',
  'redacted',
  'masked',
  'not',
  'the',
  'a',
  'an',
  'too',
  'being',
  'set',
  'correct',
  'valid',
  'weak',
  'strong',
  'short',
  'long',
  'case',
  'sensitive',
  'about',
  'going',
  'needed',
  'mandatory',
  'optional',
  'unchanged',
  'blank',
  'same',
  'different',
  'for',
  'and',
  'or',
  'of',
  'in',
  'on',
  'at',
  'to',
  'is',
  'was',
  'will',
  'must',
  'should',
  'can',
  'has',
  'have',
  'no',
  'yes',
  'ok',
  'rotation',
  'rotated',
  'locked',
  'stored',
  'saved',
  'sent',
  'shared',
  'protected',
  'encrypted',
  'hashed',
]);

/** True when a password assignment's value is a word like `reset`, a mask or a template reference. */
export function isNonValue(v: string): boolean {
  if (v.length === 0) return true;
  if (/^[*x•.#-]+$/i.test(v) && v.length <= 32) return true;
  const c = v[0];
  if (c === '$' || c === '%' || c === '<' || c === '{') return true;
  return NON_VALUES.has(v.toLowerCase());
}

/** In a plain phrase ("my password is ..."), the value must look like a password, not a word. */
export function looksLikePhrasePassword(v: string): boolean {
  if (isNonValue(v) || v.length < 4) return false;
  if (v.length >= 8) return true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const lowerLetter = c >= 97 && c <= 122;
    if (!lowerLetter && !(i === 0 && c >= 65 && c <= 90)) return true;
  }
  return false;
}
