/**
 * The decision queries: one Athena engine v3 (Trino SQL) file per query under
 * `queries/`, each opening with a header comment that says which decision it supports.
 * This module loads them synchronously (so a CDK construct can deploy them as Athena
 * named queries and the docs can list them), parses and checks the header, and binds the
 * named parameters (`:start_date`) into a runnable statement, safely. `toPositional` turns
 * a query into the form Athena runs as is (`?` execution parameters, in order): what the
 * catalog deploys as named queries and what the rollup and the gate send with
 * `ExecutionParameters`. The `:name` files stay the single source.
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
  const literals = literalsFor(q, values);
  return scanSql(q.sql, (name) => literals.get(name) as string).text;
}

/** Each declared parameter's value as a checked SQL literal; throws QueryParameterError listing every problem. */
function literalsFor(q: DecisionQuery, values: ParameterValues): Map<string, string> {
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
  return literals;
}

/**
 * The Athena user guide, "Use parameterized queries"
 * (https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html):
 * "parameters are positional and are denoted by `?` ... Named parameters are not
 * supported"; "Currently, `?` parameters can be placed only in the `WHERE` clause. Syntax
 * like `SELECT ? FROM table` is not supported"; "Question mark parameters cannot be
 * placed in double or single quotes"; "To treat SQL execution parameters as strings, they
 * must be enclosed in single quotes"; "Queries with execution parameters in the Athena
 * console are limited to a maximum of 25 question marks".
 */
export const ATHENA_PARAMETERIZED_QUERIES_DOC = 'https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html';
/** Most `?` a query with execution parameters may hold in the Athena console (the user guide above). */
export const MAX_POSITIONAL_PARAMETERS = 25;

/** A decision query in the form Athena runs: `?` markers, and the parameter of each marker in order. */
export interface PositionalQuery {
  /** The query text (header comments included) with every `:name` marker replaced by `?`. */
  readonly sql: string;
  /** The parameter of each `?`, in order of occurrence: a parameter used twice appears twice. */
  readonly parameters: readonly string[];
}

/** A positional query with its values: what StartQueryExecution takes as QueryString and ExecutionParameters. */
export interface PositionalStatement {
  readonly sql: string;
  /** One SQL literal per `?`, in order (strings and dates single-quoted, as Athena requires). */
  readonly executionParameters: readonly string[];
}

/**
 * The positional form of a query: each `:name` occurrence becomes its own `?` and
 * `parameters` lists the names in order, so the Athena console (which asks for the values
 * in the order the question marks occur) and StartQueryExecution (`ExecutionParameters`)
 * run it as is. Pure; comments, string literals and quoted identifiers are left alone.
 *
 * What is accepted, following the user guide (ATHENA_PARAMETERIZED_QUERIES_DOC): a
 * parameter only inside a WHERE clause (of the statement, a CTE or a subquery, nested in
 * any expression there), nowhere else: not in the SELECT list, ON, HAVING, GROUP BY,
 * ORDER BY, LIMIT, VALUES, UNNEST or an aggregate's FILTER (WHERE ...), which are not
 * WHERE clauses. At most MAX_POSITIONAL_PARAMETERS markers. The query text must hold no
 * other `?` (not even in a comment or a string), so every `?` of the result is a marker.
 * An identifier parameter cannot be a value and is refused. Throws QueryFileError naming
 * the query and every offending parameter.
 */
export function toPositional(query: DecisionQuery | string): PositionalQuery {
  const q = typeof query === 'string' ? parseQueryFile(query) : query;
  const problems: string[] = [];
  const literalMarks = [...q.sql.matchAll(/\?/g)].map((m) => lineOf(q.sql, m.index));
  if (literalMarks.length)
    problems.push(
      `the text has a ? of its own (line ${[...new Set(literalMarks)].join(', ')}); the positional form marks each parameter with ?, so remove it (even from comments and strings)`,
    );
  for (const p of q.parameters)
    if (p.type === 'identifier')
      problems.push(`:${p.name} is an identifier; a ? stands for a value, never a column name (use a|b|c and a CASE)`);
  const scanned = scanSql(q.sql, () => '?');
  for (const m of scanned.markers)
    if (m.clause !== 'WHERE')
      problems.push(
        `:${m.name} (line ${m.line}) is in ${m.clause === 'START' ? 'no clause' : `a ${m.clause} clause`}; Athena takes ? parameters only in a WHERE clause, so move the comparison into a WHERE`,
      );
  if (scanned.markers.length > MAX_POSITIONAL_PARAMETERS)
    problems.push(
      `it has ${scanned.markers.length} parameter occurrences; the Athena console takes at most ${MAX_POSITIONAL_PARAMETERS} ?`,
    );
  if (problems.length)
    throw new QueryFileError(`cannot make ${q.id} positional for Athena (${ATHENA_PARAMETERIZED_QUERIES_DOC}): ${problems.join('; ')}`);
  return { sql: scanned.text, parameters: scanned.markers.map((m) => m.name) };
}

/**
 * A query's positional form with checked values (the same checks as bindParameters):
 * `executionParameters` holds one literal per `?`, in order. Substituting them into the `?`
 * gives exactly `bindParameters(query, values)`.
 */
export function bindPositional(query: DecisionQuery | string, values: ParameterValues): PositionalStatement {
  const q = typeof query === 'string' ? parseQueryFile(query) : query;
  const positional = toPositional(q);
  const literals = literalsFor(q, values);
  return { sql: positional.sql, executionParameters: positional.parameters.map((name) => literals.get(name) as string) };
}

/** How to enter a value of a type in the Athena console's parameter dialog. */
function positionalHint(t: ParameterType): string {
  if (t === 'date') return "date 'YYYY-MM-DD', quoted";
  if (t === 'string') return "string 'value', quoted";
  if (t === 'integer') return 'integer, unquoted';
  if (t === 'identifier') return 'identifier';
  return `one of ${t.oneOf.map((v) => `'${v}'`).join(', ')}, quoted`;
}

/** Longest description of an Athena named query (AWS::Athena::NamedQuery Description). */
export const NAMED_QUERY_DESCRIPTION_MAX = 1024;

/**
 * The description of a query's named query: its decision, then its parameters in the
 * order the console asks for them, e.g. `... Parameters, in order: start_date (date
 * 'YYYY-MM-DD', quoted), end_date (date 'YYYY-MM-DD', quoted).` Within 1024 characters:
 * the decision is shortened (with an ellipsis) before the parameter list, which is never
 * cut; a list that alone does not fit throws.
 */
export function namedQueryDescription(query: DecisionQuery): string {
  const { parameters } = toPositional(query);
  const types = new Map(query.parameters.map((p) => [p.name, p.type]));
  const list = parameters.length
    ? ` Parameters, in order: ${parameters.map((n) => `${n} (${positionalHint(types.get(n) as ParameterType)})`).join(', ')}.`
    : ' No parameters.';
  const room = NAMED_QUERY_DESCRIPTION_MAX - list.length;
  if (room < 40)
    throw new QueryFileError(
      `${query.id}: its parameter list is ${list.length} characters; a named query description holds ${NAMED_QUERY_DESCRIPTION_MAX}, so use fewer parameters`,
    );
  const decision = query.decision.length <= room ? query.decision : `${query.decision.slice(0, room - 3).trimEnd()}...`;
  return decision + list;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

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

/** A `:name` marker found by scanSql: its name, line, and the clause it sits in. */
interface Marker {
  readonly name: string;
  readonly line: number;
  /** The innermost clause: WHERE, SELECT, FROM, JOIN, ON, GROUP BY, HAVING, ..., or START before any. */
  readonly clause: string;
}

/**
 * Words that start a clause. `FROM` after `DISTINCT` (`IS DISTINCT FROM`) is an operator,
 * not a clause; `WHERE` right inside `FILTER (` is an aggregate filter, not a WHERE clause.
 * A parenthesis opens a frame that inherits its clause (an expression of the WHERE stays
 * in the WHERE) until a clause word inside it (a subquery's SELECT) changes it; `)` returns
 * to the enclosing frame. Words the list lacks can only leave a marker in the clause
 * before them, never move one into a WHERE by mistake, except in a WHERE itself
 * (hence the list has every clause that may follow a WHERE).
 */
const CLAUSE_WORDS: Readonly<Record<string, string>> = {
  WITH: 'WITH',
  SELECT: 'SELECT',
  FROM: 'FROM',
  JOIN: 'JOIN',
  ON: 'ON',
  USING: 'USING',
  WHERE: 'WHERE',
  GROUP: 'GROUP BY',
  HAVING: 'HAVING',
  WINDOW: 'WINDOW',
  QUALIFY: 'QUALIFY',
  ORDER: 'ORDER BY',
  LIMIT: 'LIMIT',
  OFFSET: 'OFFSET',
  FETCH: 'FETCH',
  VALUES: 'VALUES',
  UNION: 'UNION',
  INTERSECT: 'INTERSECT',
  EXCEPT: 'EXCEPT',
  TABLESAMPLE: 'TABLESAMPLE',
  UNNEST: 'UNNEST',
  PARTITION: 'PARTITION BY',
};

/**
 * Walks SQL text, skipping comments, string literals and quoted identifiers, and finds
 * `:name` parameter markers and the clause each sits in; with `replace`, rewrites each marker.
 */
function scanSql(sql: string, replace?: (name: string) => string): { params: string[]; markers: Marker[]; text: string } {
  const markers: Marker[] = [];
  let out = '';
  let i = 0;
  let line = 1;
  const n = sql.length;
  const frames: { clause: string; filter: boolean }[] = [{ clause: 'START', filter: false }];
  const top = () => frames[frames.length - 1] as { clause: string; filter: boolean };
  let prev = '';
  const copyUntil = (end: number) => {
    const part = sql.slice(i, end);
    for (const ch of part) if (ch === '\n') line++;
    out += part;
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
      prev = c;
    } else if (c === ':' && /[a-z]/.test(next ?? '') && !/[A-Za-z0-9_:]/.test(sql[i - 1] ?? '')) {
      const m = /^[a-z][a-z0-9_]*/.exec(sql.slice(i + 1)) as RegExpExecArray;
      const pname = m[0];
      markers.push({ name: pname, line, clause: top().clause });
      out += replace ? replace(pname) : `:${pname}`;
      i += 1 + pname.length;
      prev = ':';
    } else if (/[A-Za-z_]/.test(c) && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      const word = (/^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i)) as RegExpExecArray)[0];
      const upper = word.toUpperCase();
      const clause = CLAUSE_WORDS[upper];
      if (clause && !(upper === 'FROM' && prev === 'DISTINCT'))
        top().clause = upper === 'WHERE' && top().filter ? 'FILTER (WHERE)' : clause;
      prev = upper;
      copyUntil(i + word.length);
    } else {
      if (c === '(') frames.push({ clause: top().clause, filter: prev === 'FILTER' });
      else if (c === ')' && frames.length > 1) frames.pop();
      if (!/\s/.test(c)) prev = c;
      else if (c === '\n') line++;
      out += c;
      i++;
    }
  }
  return { params: markers.map((m) => m.name), markers, text: out };
}
