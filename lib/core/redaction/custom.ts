/**
 * Policy custom patterns: checked before use so that none can make the scan
 * super-linear or break idempotence. Allowed: literals, classes, alternation, groups and
 * bounded repetition `{m,n}` (n at most 256) of anything that holds no other quantifier.
 */
import { PII_DETECTORS, SECRET_DETECTORS } from './catalog';

/** Largest bound a custom pattern may repeat to. */
export const MAX_REPEAT = 256;

/** Every built-in placeholder, as written in redacted text. */
export const BUILTIN_PLACEHOLDERS: readonly string[] = [
  ...new Set([...Object.values(PII_DETECTORS), ...Object.values(SECRET_DETECTORS)].map((d) => `[${d.placeholder}]`)),
];

/**
 * Checks a custom pattern. Returns null when it may be used, else a one-line message
 * saying what is not allowed and why.
 */
export function validateCustomPattern(pattern: string): string | null {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u');
  } catch (e) {
    return `is not a valid regular expression (${(e as Error).message})`;
  }
  const structural = checkStructure(pattern);
  if (structural) return structural;
  if (new RegExp(`^(?:${pattern})$`, 'u').test('')) return 'matches the empty string; a custom pattern must match at least one character';
  const hit = BUILTIN_PLACEHOLDERS.find((p) => re.test(p));
  if (hit) return `matches the placeholder ${hit}; a custom pattern must not match placeholders, or redacting twice would change the text`;
  return null;
}

interface Group {
  /** A quantifier appears somewhere inside this group. */
  quantified: boolean;
}

function checkStructure(p: string): string | null {
  const stack: Group[] = [];
  /** What the next quantifier would apply to. */
  let atom: 'none' | 'char' | 'group' = 'none';
  let lastGroup: Group | null = null;
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === '\\') {
      const n = p[i + 1] ?? '';
      if (/[1-9]/.test(n)) return `has a backreference (\\${n}); backreferences are not allowed (they can take exponential time)`;
      if (n === 'k' && p[i + 2] === '<')
        return 'has a named backreference (\\k<...>); backreferences are not allowed (they can take exponential time)';
      i++;
      if ((n === 'u' || n === 'p' || n === 'P') && p[i + 1] === '{') i = Math.max(i, p.indexOf('}', i));
      atom = 'char';
      continue;
    }
    if (c === '[') {
      i = classEnd(p, i);
      atom = 'char';
      continue;
    }
    if (c === '(') {
      if (p.startsWith('(?=', i) || p.startsWith('(?!', i) || p.startsWith('(?<=', i) || p.startsWith('(?<!', i)) {
        return 'has a lookaround ((?=, (?!, (?<= or (?<!); lookarounds are not allowed';
      }
      stack.push({ quantified: false });
      if (p.startsWith('(?:', i)) i += 2;
      else if (p.startsWith('(?<', i)) i = p.indexOf('>', i);
      atom = 'none';
      continue;
    }
    if (c === ')') {
      lastGroup = stack.pop() ?? null;
      atom = 'group';
      continue;
    }
    if (c === '|') {
      atom = 'none';
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      let max = 1;
      if (c === '*' || c === '+') max = Infinity;
      if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
        if (!m) continue;
        max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
        i += m[0].length - 1;
      }
      if (p[i + 1] === '?') i++;
      if (atom === 'none') continue;
      if (max === Infinity) {
        return `has unbounded repetition (${c === '{' ? '{n,}' : c}); use a bounded {m,n} with n at most ${MAX_REPEAT}`;
      }
      if (max > MAX_REPEAT) return `repeats up to ${max} times; the bound is at most ${MAX_REPEAT}`;
      if (atom === 'group' && lastGroup?.quantified && max > 1) {
        return 'has nested quantifiers (a repeated group that contains a quantifier, like (a{1,3}){2}); they can take exponential time';
      }
      // `(...)?` around a quantifier is still one pass, so it is allowed.
      for (const g of stack) g.quantified = true;
      atom = 'none';
      continue;
    }
    atom = 'char';
  }
  return null;
}

/** Index of the `]` closing the class that opens at `i`. */
function classEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++;
  for (; j < p.length; j++) {
    if (p[j] === '\\') j++;
    else if (p[j] === ']') return j;
  }
  return p.length;
}
