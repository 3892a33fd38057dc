/**
 * Line-by-line redaction for text streams (`llmops redact --text`): each input line
 * gives exactly one output line. A PEM private key spans lines, so the line redactor
 * remembers an open `-----BEGIN ... PRIVATE KEY-----` and blanks every line of its body
 * until the END line.
 */
import type { RedactionCounts, Redactor } from './engine';

const BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;

/** A stateful per-line redactor: call it with each line (without its newline). */
export interface LineRedactor {
  (line: string): string;
  /** Counts over all lines so far. */
  readonly counts: RedactionCounts;
}

export function createLineRedactor(redactor: Redactor): LineRedactor {
  const counts: RedactionCounts = {};
  let inKey = false;
  const fn = (line: string): string => {
    if (inKey) {
      const end = line.indexOf('-----END ');
      if (end === -1) return '[PRIVATE_KEY]';
      inKey = false;
      const close = line.indexOf('-----', end + 9);
      const rest = close === -1 ? '' : line.slice(close + 5);
      return `[PRIVATE_KEY]${redactor.redactText(rest, counts).text}`;
    }
    const r = redactor.redactText(line, counts);
    const begin = line.indexOf('-----BEGIN ');
    if (begin !== -1) {
      const m = BEGIN.exec(line.slice(begin));
      if (m && line.indexOf('-----END ', begin + m.index) === -1) inKey = true;
    }
    return r.text;
  };
  return Object.assign(fn, { counts });
}
