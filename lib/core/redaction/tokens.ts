/**
 * Secrets recognised by a literal prefix (AWS key ids, GitHub, Slack, Stripe, OpenAI,
 * Anthropic and Google keys, JWTs). Each is confirmed by the exact length and alphabet
 * of its body and by word boundaries on both sides.
 */
import { ALNUM_T, codeAt, is, runEnd, TOKEN, UPPER_DIGIT, WORD, wordAt } from './chars';
import type { SecretDetectorId } from './catalog';

/** A confirmed token: where it ends and what it is. */
export interface TokenMatch {
  readonly end: number;
  readonly detector: SecretDetectorId;
}

function hasLetterAndDigit(s: string, from: number, to: number): boolean {
  let letter = false;
  let digit = false;
  for (let i = from; i < to && !(letter && digit); i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digit = true;
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letter = true;
  }
  return letter && digit;
}

/** Boundary after a token: not a word character and not a dash. */
function endsClean(s: string, i: number): boolean {
  return !wordAt(s, i) && codeAt(s, i) !== 45;
}

/**
 * Confirms the prefixed token that starts at `p`, or returns null. The caller has
 * checked that `p` starts a word.
 */
export function matchPrefixedToken(s: string, p: number): TokenMatch | null {
  const c0 = codeAt(s, p);
  if (s.startsWith('AKIA', p) || s.startsWith('ASIA', p)) {
    const end = runEnd(s, p + 4, UPPER_DIGIT, 17);
    return end - p === 20 && !wordAt(s, end) ? { end, detector: 'aws_access_key' } : null;
  }
  if (s.startsWith('github_pat_', p)) {
    const end = runEnd(s, p + 11, WORD);
    return end - p - 11 >= 22 ? { end, detector: 'github_token' } : null;
  }
  if (c0 === 103 /* g */ && codeAt(s, p + 1) === 104 && codeAt(s, p + 3) === 95 && 'pousr'.includes(s[p + 2] ?? '')) {
    const end = runEnd(s, p + 4, ALNUM_T);
    return end - p - 4 >= 30 && !wordAt(s, end) ? { end, detector: 'github_token' } : null;
  }
  if (s.startsWith('xox', p) || s.startsWith('xapp-', p)) {
    const end = runEnd(s, p + 5, TOKEN);
    return end - p - 5 >= 10 && !wordAt(s, end) && hasLetterAndDigit(s, p + 5, end) ? { end, detector: 'slack_token' } : null;
  }
  if ((c0 === 115 || c0 === 114) && codeAt(s, p + 1) === 107 && codeAt(s, p + 2) === 95) {
    // sk_live_ / rk_live_ / sk_test_ / rk_test_
    const end = runEnd(s, p + 8, ALNUM_T);
    return end - p - 8 >= 10 && !wordAt(s, end) ? { end, detector: 'stripe_key' } : null;
  }
  if (s.startsWith('sk-ant-', p)) {
    const end = runEnd(s, p + 7, TOKEN);
    return end - p - 7 >= 20 && endsClean(s, end) ? { end, detector: 'anthropic_key' } : null;
  }
  if (s.startsWith('sk-', p)) {
    const end = runEnd(s, p + 3, TOKEN);
    return end - p - 3 >= 20 && !wordAt(s, end) && hasLetterAndDigit(s, p + 3, end) ? { end, detector: 'openai_key' } : null;
  }
  if (s.startsWith('AIza', p)) {
    const end = runEnd(s, p + 4, TOKEN, 36);
    return end - p - 4 === 35 && endsClean(s, end) ? { end, detector: 'google_api_key' } : null;
  }
  if (s.startsWith('eyJ', p)) return matchJwt(s, p);
  return null;
}

/** `header.payload.signature`, base64url, the header starting `eyJ` (`{"`); the signature may be empty. */
function matchJwt(s: string, p: number): TokenMatch | null {
  const a = runEnd(s, p, TOKEN);
  if (a - p < 10 || codeAt(s, a) !== 46) return null;
  const b = runEnd(s, a + 1, TOKEN);
  if (b - a - 1 < 2) return null;
  if (codeAt(s, b) !== 46) return null;
  const c = runEnd(s, b + 1, TOKEN);
  if (is(WORD, codeAt(s, c))) return null;
  return { end: c, detector: 'jwt' };
}

/** The token alone (for a value read by key context): which prefixed secret it is, if it is one entirely. */
export function classifyToken(v: string): SecretDetectorId | null {
  const m = matchPrefixedToken(v, 0);
  return m && m.end === v.length ? m.detector : null;
}
