/**
 * Loads a telemetry policy: parse the YAML (keeping source positions), validate it
 * against the schema and the rules, and report every problem at once as
 * `<file>:<line>:<col> <key.path>: <message>`.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { checkPolicyRules, type PolicyPath } from './rules';
import { PolicySchema, type Policy } from './schema';

export interface PolicyProblem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Dotted key path, with sequence indexes in brackets: `buckets.safety.alarms[0].threshold`. */
  readonly path: string;
  readonly message: string;
}

/** A policy that cannot be used. `message` is the list of problems, one per line. */
export class PolicyError extends Error {
  constructor(readonly problems: readonly PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PolicyError';
  }
}

export interface LoadedPolicy {
  readonly policy: Policy;
  readonly file: string;
  /** Problems that do not stop the synth (an expired enrolment, a page route with no subscriber). */
  readonly warnings: readonly PolicyProblem[];
}

export interface LoadOptions {
  /** Time that enrolment expiries are judged against. Default: now. */
  readonly now?: Date;
}

/** The policy file every command and the CDK app read when none is named. */
export const DEFAULT_POLICY_FILE = 'telemetry-policy.yaml';

/** A warning as one line: `file:line:col path: warning: message`. */
export function formatWarning(w: PolicyProblem): string {
  return `${w.file}:${w.line}:${w.col} ${w.path}: warning: ${w.message}`;
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}:${p.line}:${p.col} ${p.path || '(root)'}: ${p.message}`;
}

export function formatPath(path: PolicyPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

/** Reads and validates a policy file. Throws PolicyError listing every problem. */
export function loadPolicy(file: string, opts: LoadOptions = {}): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PolicyError([
      { file, line: 1, col: 1, path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(e)})` },
    ]);
  }
  return parsePolicy(text, file, opts);
}

/** Validates policy text. `file` names it in messages. Throws PolicyError listing every problem. */
export function parsePolicy(text: string, file: string, opts: LoadOptions = {}): LoadedPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const at = (offset: number) => lineCounter.linePos(offset);

  const syntax = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'DUPLICATE_KEY')];
  if (syntax.length > 0) {
    throw new PolicyError(
      syntax.map((e) => {
        const pos = at(e.pos[0]);
        return { file, line: pos.line, col: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    // unresolved aliases, alias bombs
    throw new PolicyError([{ file, line: 1, col: 1, path: '', message: `YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  const position = (path: PolicyPath, key = false) => {
    const node = locate(doc, path, key);
    const pos = at(node?.range?.[0] ?? 0);
    return { line: pos.line, col: pos.col };
  };
  const problem = (path: PolicyPath, message: string, key = false): PolicyProblem => ({
    file,
    ...position(path, key),
    path: formatPath(path),
    message,
  });

  // Each top-level section is validated on its own, so that a structural problem in one
  // section does not hide the rule problems of the others: every problem is reported at once.
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PolicyError([
      problem([], `is ${showValue(raw)}; a policy is a mapping of sections (${Object.keys(PolicySchema.shape).join(', ')})`),
    ]);
  }
  const problems: PolicyProblem[] = [];
  const sections: Record<string, unknown> = {};
  const shape = PolicySchema.shape as Record<string, z.ZodType>;
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(shape, key))
      problems.push(
        ...describeIssue({ code: 'unrecognized_keys', keys: [key], path: [], message: '', input: raw } as z.core.$ZodIssue, raw, problem),
      );
  }
  for (const [key, schema] of Object.entries(shape)) {
    const parsed = schema.safeParse((raw as Record<string, unknown>)[key]);
    if (parsed.success) sections[key] = parsed.data;
    else
      problems.push(
        ...parsed.error.issues.flatMap((i) => describeIssue({ ...i, path: [key, ...i.path] } as z.core.$ZodIssue, raw, problem)),
      );
  }
  // Alarms are checked per bucket: one broken bucket does not hide the others' problems.
  const rawBuckets = (raw as Record<string, unknown>).buckets;
  if (!sections.buckets && rawBuckets && typeof rawBuckets === 'object') {
    const bucketShape = PolicySchema.shape.buckets.shape as Record<string, z.ZodType>;
    sections.buckets = Object.fromEntries(
      Object.entries(bucketShape).flatMap(([b, schema]) => {
        const parsed = schema.safeParse((rawBuckets as Record<string, unknown>)[b]);
        return parsed.success ? [[b, parsed.data]] : [];
      }),
    );
  }
  const findings = checkPolicyRules(sections as Partial<Policy>, { now: opts.now ?? new Date() });
  problems.push(...findings.filter((f) => f.level === 'error').map((f) => problem(f.path, f.message)));
  if (problems.length > 0) throw new PolicyError(sortProblems(problems));
  const warnings = findings.filter((f) => f.level === 'warning').map((f) => problem(f.path, f.message));
  // every section parsed and no unknown key exists: together they are the policy
  return { policy: sections as Policy, file, warnings };
}

function sortProblems(ps: PolicyProblem[]): PolicyProblem[] {
  return ps.sort((a, b) => a.line - b.line || a.col - b.col);
}

type Make = (path: PolicyPath, message: string, key?: boolean) => PolicyProblem;

/** Turns a zod issue into problems whose message names the bad value and what is allowed. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown, make: Make): PolicyProblem[] {
  const path = issue.path as PolicyPath;
  const value = valueAt(raw, path);
  const shown = showValue(value);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) =>
        make([...path, k], `unknown key ${JSON.stringify(k)}; allowed keys here: ${allowedKeys(path).join(', ') || 'none'}`, true),
      );
    case 'invalid_type':
      if (value === undefined) return [make(path, `is required (${expected(issue.expected)})`)];
      return [make(path, `is ${shown}; expected ${expected(issue.expected)}`)];
    case 'invalid_value':
      // Long closed lists (the metric dictionary) are named by the schema's own message.
      if (issue.values.length > 12) return [make(path, `is ${shown}; ${issue.message}`)];
      return [make(path, `is ${shown}; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`)];
    case 'invalid_union': {
      // A branch that matched the value's shape and failed deeper (a bad list element) says
      // more than "no branch matched": report its issues at their own paths.
      const deeper = (issue.errors ?? []).filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
      if (deeper.length === 1)
        return deeper[0]!.flatMap((i) => describeIssue({ ...i, path: [...path, ...i.path] } as z.core.$ZodIssue, raw, make));
      return [make(path, `is ${shown}; ${issue.message}`)];
    }
    case 'invalid_key':
      return [make(path, `key is not allowed: ${issue.issues.map((i) => i.message).join('; ')}`, true)];
    case 'invalid_element':
      return [make(path, `is ${shown}; ${issue.message}`)];
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'not_multiple_of':
    case 'custom':
      return [make(path, `is ${shown}; ${issue.message}`)];
    default:
      return [make(path, (issue as { message: string }).message)];
  }
}

function expected(t: string): string {
  return (
    { object: 'a mapping of keys', array: 'a list', number: 'a number', int: 'a whole number', string: 'text', boolean: 'true or false' }[
      t
    ] ?? t
  );
}

function showValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'empty (null)';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function valueAt(raw: unknown, path: PolicyPath): unknown {
  let cur = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Object.prototype.hasOwnProperty.call(cur, seg) ? (cur as Record<string | number, unknown>)[seg] : undefined;
  }
  return cur;
}

/** The keys the schema allows at a path (for "unknown key" messages). */
function allowedKeys(path: PolicyPath): string[] {
  let s: z.core.$ZodType | undefined = PolicySchema;
  const unwrap = (t: z.core.$ZodType | undefined): z.core.$ZodType | undefined => {
    let cur = t;
    for (let i = 0; cur && i < 10; i++) {
      const def = cur._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
      if (def.innerType) cur = def.innerType;
      else if (def.type === 'pipe' && def.in) cur = def.in;
      else break;
    }
    return cur;
  };
  for (const seg of path) {
    s = unwrap(s);
    const def = s?._zod.def as unknown as
      { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType; valueType?: z.core.$ZodType } | undefined;
    if (!def) return [];
    if (def.type === 'object' && def.shape) s = Object.hasOwn(def.shape, seg) ? def.shape[String(seg)] : undefined;
    else if (def.type === 'array') s = def.element;
    else if (def.type === 'record') s = def.valueType;
    else return [];
  }
  s = unwrap(s);
  const def = s?._zod.def as unknown as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** The deepest YAML node on the path (the key node when `key` and the path ends at a key). */
function locate(doc: Document, path: PolicyPath, key: boolean): Node | undefined {
  let node: unknown = doc.contents;
  let last: Node | undefined = (doc.contents as Node | null) ?? undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return last;
      if (key && i === path.length - 1 && isScalar(pair.key)) return pair.key;
      node = pair.value;
      last = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (!node) return last;
      last = node as Node;
    } else {
      return last;
    }
  }
  return last;
}
