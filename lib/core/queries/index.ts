/**
 * The decision queries: one Athena engine v3 (Trino SQL) file per query under
 * `queries/`, each opening with a header comment that says which decision it supports.
 * This module loads them synchronously (so a CDK construct can deploy them as Athena
 * named queries and the docs can list them), parses and checks the header, and binds the
 * named parameters (`:start_date`) into a runnable statement, safely.
 *
 * Header format (one field per line, then free description lines):
 *
 *   -- name: latency-by-path
 *   -- decision: Which stage to tune or roll back when latency rises.
 *   -- bucket: reliability
 *   -- parameters: start_date (date), end_date (date)
 *   --
 *   -- What the rows mean, in a few lines.
 *
 * A parameter type is `date` (YYYY-MM-DD, bound as a string literal because the `dt`
 * partition column is a string), `string` (an id-like value, `[A-Za-z0-9._:-]{1,128}`,
 * bound as a quoted literal), `integer`, `identifier` (bound as a double-quoted
 * identifier) or a closed list of values `a|b|c` (bound as a quoted literal).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUCKETS, type BucketName } from '../metrics/dictionary';

/**
 * Every decision query, in the order the docs list them. The ids are a public contract:
 * they name the Athena named queries (and their construct ids), and the runbooks in the
 * policy refer to them. A test checks that this list and the files agree.
 */
/** A typed cell of a query result row (Athena's, or DuckDB's in the local plane). */
export type CellValue = string | number | boolean | null;
/** One row of a decision query's result, by column name. */
export type Row = Record<string, CellValue>;

export const DECISION_QUERY_IDS = [
  'latency-by-path',
  'errors-by-model-and-version',
  'cost-per-successful-task',
  'refusal-rate',
  'citation-presence',
  'tool-outcomes',
  'p0-events',
  'sources-seen-by-wrong-roles',
  'canary-vs-baseline',
  'regression-case-export',
  'new-intents',
  'active-users',
  'abandonment',
] as const;
export type DecisionQueryId = (typeof DECISION_QUERY_IDS)[number];

export type ParameterType = 'date' | 'string' | 'integer' | 'identifier' | { readonly oneOf: readonly string[] };

export interface QueryParameter {
  readonly name: string;
  readonly type: ParameterType;
}

export interface DecisionQuery {
  /** Kebab-case id, the file name without `.sql`. */
  readonly id: string;
  /** The decision the query supports (one sentence). */
  readonly decision: string;
  readonly bucket: BucketName;
  readonly parameters: readonly QueryParameter[];
  /** The description lines of the header, joined with spaces. */
  readonly description: string;
  /** The whole file, header included (it documents the query in the Athena console). */
  readonly sql: string;
}

/** A query file whose header or parameters are wrong; the message names the file and line. */
export class QueryFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryFileError';
  }
}

/** A parameter value that cannot be bound. */
export class QueryParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryParameterError';
  }
}

const ID_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const STRING_VALUE_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const REQUIRED_FIELDS = ['name', 'decision', 'bucket', 'parameters'] as const;

/**
 * The `queries/` folder of the repository. Resolved from this module's location (works
 * under vitest and tsx, which run the TypeScript sources in place), falling back to
 * `<cwd>/queries` when the module was bundled elsewhere.
 */
export function queriesDir(): string {
  const here = fileURLToPath(new URL('../../../queries/', import.meta.url));
  if (existsSync(here)) return here;
  const fromCwd = join(process.cwd(), 'queries');
  if (existsSync(fromCwd)) return fromCwd;
  throw new QueryFileError(`queries folder not found at ${here} or ${fromCwd}`);
}

/** Loads and checks every `.sql` file of `dir`, sorted by id. Throws QueryFileError on the first bad file. */
export function loadQueryFiles(dir: string = queriesDir()): DecisionQuery[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => {
      const q = parseQueryFile(readFileSync(join(dir, f), 'utf8'), f);
      if (`${q.id}.sql` !== f) throw new QueryFileError(`${f}:1: name is ${q.id}; the file must be named ${q.id}.sql`);
      return q;
    });
}

/**
 * The decision queries in DECISION_QUERY_IDS order. Fails when a listed query has no
 * file or a file is not listed, so the deployed named queries cannot drift from disk.
 */
export function loadDecisionQueries(dir: string = queriesDir()): DecisionQuery[] {
  const byId = new Map(loadQueryFiles(dir).map((q) => [q.id, q]));
  const listed = new Set<string>(DECISION_QUERY_IDS);
  const unlisted = [...byId.keys()].filter((id) => !listed.has(id));
  const missing = DECISION_QUERY_IDS.filter((id) => !byId.has(id));
  if (unlisted.length || missing.length) {
    const parts = [];
    if (missing.length) parts.push(`no file for ${missing.join(', ')}`);
    if (unlisted.length) parts.push(`${unlisted.map((id) => `${id}.sql`).join(', ')} not in DECISION_QUERY_IDS`);
    throw new QueryFileError(`decision queries and files disagree: ${parts.join('; ')}`);
  }
  return DECISION_QUERY_IDS.map((id) => byId.get(id) as DecisionQuery);
}

/** Parses one query file: header fields, description, and a check that the parameters used are the ones declared. */
export function parseQueryFile(text: string, file = '<inline>'): DecisionQuery {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const fields = new Map<string, { value: string; line: number }>();
  const description: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.startsWith('--')) break;
    const content = line.slice(2).trim();
    const m = /^([a-z]+):\s*(.*)$/.exec(content);
    if (m && (REQUIRED_FIELDS as readonly string[]).includes(m[1] as string) && description.length === 0) {
      const key = m[1] as string;
      if (fields.has(key)) throw new QueryFileError(`${file}:${i + 1}: ${key} is given twice`);
      fields.set(key, { value: (m[2] as string).trim(), line: i + 1 });
    } else if (fields.size > 0 && content) {
      description.push(content);
    }
  }
  const missing = REQUIRED_FIELDS.filter((k) => !fields.get(k)?.value && !(k === 'parameters' && fields.has(k)));
  if (missing.length)
    throw new QueryFileError(
      `${file}:1: header must start with -- name:, -- decision:, -- bucket:, -- parameters: (missing ${missing.join(', ')})`,
    );
  const name = fields.get('name') as { value: string; line: number };
  if (!ID_RE.test(name.value)) throw new QueryFileError(`${file}:${name.line}: name ${JSON.stringify(name.value)} must be kebab-case`);
  const bucket = fields.get('bucket') as { value: string; line: number };
  if (!(BUCKETS as readonly string[]).includes(bucket.value)) {
    throw new QueryFileError(`${file}:${bucket.line}: bucket ${JSON.stringify(bucket.value)} must be one of ${BUCKETS.join(', ')}`);
  }
  const paramsField = fields.get('parameters') as { value: string; line: number };
  const parameters = parseParameterList(paramsField.value, `${file}:${paramsField.line}`);
  if (!lines.slice(i).some((l) => l.trim() !== '')) throw new QueryFileError(`${file}: no SQL after the header`);

  const declared = new Set(parameters.map((p) => p.name));
  const used = new Set(scanSql(text).params);
  const undeclared = [...used].filter((p) => !declared.has(p));
  const unused = [...declared].filter((p) => !used.has(p));
  if (undeclared.length) throw new QueryFileError(`${file}: uses :${undeclared.join(', :')} but -- parameters: does not declare it`);
  if (unused.length) throw new QueryFileError(`${file}: declares ${unused.join(', ')} in -- parameters: but never uses it`);

  return {
    id: name.value,
    decision: (fields.get('decision') as { value: string }).value,
    bucket: bucket.value as BucketName,
    parameters,
    description: description.join(' '),
    sql: text.trim(),
  };
}

/** `start_date (date), version_tag (a|b|c)` -> parameters. An empty list is allowed. */
function parseParameterList(value: string, where: string): QueryParameter[] {
  if (value === '' || value === 'none') return [];
  return value.split(',').map((part) => {
    const m = /^\s*:?([a-z][a-z0-9_]*)\s*\(([^)]+)\)\s*$/.exec(part);
    if (!m) throw new QueryFileError(`${where}: parameter ${JSON.stringify(part.trim())} must be written as name (type)`);
    const [, pname, rawType] = m as unknown as [string, string, string];
    const t = rawType.trim();
    if (t === 'date' || t === 'string' || t === 'integer' || t === 'identifier') return { name: pname, type: t };
    const values = t.split('|').map((v) => v.trim());
    if (values.length > 1 && values.every((v) => STRING_VALUE_RE.test(v))) return { name: pname, type: { oneOf: values } };
    throw new QueryFileError(`${where}: parameter ${pname} has type ${JSON.stringify(t)}; use date, string, integer, identifier or a|b|c`);
  });
}

export type ParameterValues = Readonly<Record<string, string | number>>;

/**
 * Substitutes the named parameters of a query (or of a query file's text) with
 * literals. Every declared parameter must be given and nothing else; each value is
 * checked against its type: dates must be real YYYY-MM-DD dates, strings and identifiers
 * may only use `[A-Za-z0-9._:-]`, so a value can never close a literal or inject SQL.
 * Text inside comments, string literals and quoted identifiers is left alone.
 */
export function bindParameters(query: DecisionQuery | string, values: ParameterValues): string {
  const q = typeof query === 'string' ? parseQueryFile(query) : query;
  const types = new Map(q.parameters.map((p) => [p.name, p.type]));
  const problems: string[] = [];
  for (const p of q.parameters)
    if (!Object.prototype.hasOwnProperty.call(values, p.name)) problems.push(`${p.name}: required (${describeType(p.type)})`);
  for (const k of Object.keys(values))
    if (!types.has(k)) problems.push(`${k}: not a parameter of ${q.id} (it takes ${q.parameters.map((p) => p.name).join(', ') || 'none'})`);
  const literals = new Map<string, string>();
  for (const [name, type] of types) {
    if (!Object.prototype.hasOwnProperty.call(values, name)) continue;
    const r = literal(type, values[name] as string | number);
    if (typeof r === 'string') literals.set(name, r);
    else problems.push(`${name}: ${r.error}`);
  }
  if (problems.length) throw new QueryParameterError(`cannot bind ${q.id}: ${problems.join('; ')}`);
  return scanSql(q.sql, (name) => literals.get(name) as string).text;
}

function describeType(t: ParameterType): string {
  return typeof t === 'string' ? t : `one of ${t.oneOf.join(', ')}`;
}

function literal(type: ParameterType, value: string | number): string | { error: string } {
  const shown = JSON.stringify(value).slice(0, 40);
  if (type === 'integer') {
    const n = typeof value === 'number' ? value : /^-?\d{1,15}$/.test(value) ? Number(value) : NaN;
    return Number.isSafeInteger(n) ? String(n) : { error: `${shown} is not an integer` };
  }
  if (typeof value !== 'string') return { error: `${shown} must be a string (${describeType(type)})` };
  if (type === 'date') {
    const m = DATE_RE.exec(value);
    const d = m ? new Date(`${value}T00:00:00Z`) : undefined;
    if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) return { error: `${shown} is not a YYYY-MM-DD date` };
    return `'${value}'`;
  }
  if (type === 'identifier')
    return IDENTIFIER_RE.test(value) ? `"${value}"` : { error: `${shown} is not an identifier ([A-Za-z_][A-Za-z0-9_]*)` };
  if (type === 'string')
    return STRING_VALUE_RE.test(value) ? `'${value}'` : { error: `${shown} may only use [A-Za-z0-9._:-] (1 to 128 characters)` };
  return type.oneOf.includes(value) ? `'${value}'` : { error: `${shown} is not one of ${type.oneOf.join(', ')}` };
}

/**
 * Walks SQL text, skipping comments, string literals and quoted identifiers, and finds
 * `:name` parameter markers; with `replace`, rewrites each marker.
 */
function scanSql(sql: string, replace?: (name: string) => string): { params: string[]; text: string } {
  const params: string[] = [];
  let out = '';
  let i = 0;
  const n = sql.length;
  const copyUntil = (end: number) => {
    out += sql.slice(i, end);
    i = end;
  };
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      copyUntil(end === -1 ? n : end);
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      copyUntil(end === -1 ? n : end + 2);
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      copyUntil(Math.min(j + 1, n));
    } else if (c === ':' && /[a-z]/.test(next ?? '') && !/[A-Za-z0-9_:]/.test(sql[i - 1] ?? '')) {
      const m = /^[a-z][a-z0-9_]*/.exec(sql.slice(i + 1)) as RegExpExecArray;
      const pname = m[0];
      params.push(pname);
      out += replace ? replace(pname) : `:${pname}`;
      i += 1 + pname.length;
    } else {
      out += c;
      i++;
    }
  }
  return { params, text: out };
}
