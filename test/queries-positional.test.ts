/**
 * The positional form of the decision queries (what the catalog deploys and what the
 * rollup and the gate send to Athena with ExecutionParameters): each `:name` occurrence
 * becomes its own `?`, only inside a WHERE clause, as the Athena user guide allows
 * (https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html).
 * Checked three ways: DuckDB binds the `?` itself (a prepared statement) and returns the
 * rows of the named form; re-substituting the ordered literals with the local Athena
 * server's own scanner gives back bindParameters' text (property-based); and queries
 * that Athena could not run are refused with a message naming the query and parameter.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bindParameters,
  bindPositional,
  loadDecisionQueries,
  MAX_POSITIONAL_PARAMETERS,
  namedQueryDescription,
  parseQueryFile,
  QueryFileError,
  toPositional,
  type DecisionQuery,
  type ParameterValues,
} from '../lib/core/queries';
import { loadRollupQueries } from '../lib/core/rollup/plan';
import { substitutePositional } from './support/athena-server';
import { openSampleLake, type EventsDb, type SampleLake } from './support/duckdb-compat';
import { MODELS, WINDOW } from './support/sample-events';

const QUERIES = loadDecisionQueries();
const ALL = [...QUERIES, ...[...loadRollupQueries().values()].filter((q) => !QUERIES.some((d) => d.id === q.id))];
const DOC = 'https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html';

/** Parameter values per query for the DuckDB comparison: the sample window, and the canary arms in two tags. */
const CASES: { id: string; values: ParameterValues }[] = [
  ...ALL.filter((q) => q.id !== 'canary-vs-baseline').map((q) => ({ id: q.id, values: WINDOW })),
  { id: 'new-intents', values: { start_date: '2026-10-29', end_date: '2026-11-04' } },
  { id: 'canary-vs-baseline', values: { ...WINDOW, version_tag: 'prompt_version', baseline: 'pv-1', canary: 'pv-2' } },
  { id: 'canary-vs-baseline', values: { ...WINDOW, version_tag: 'model', baseline: MODELS.haiku, canary: MODELS.sonnet } },
  { id: 'canary-vs-baseline', values: { ...WINDOW, version_tag: 'prompt_version', baseline: 'pv-1', canary: 'pv-1' } },
];
const byId = (id: string) => ALL.find((q) => q.id === id) as DecisionQuery;

let lake: SampleLake | undefined;
let db: EventsDb;
beforeAll(async () => {
  lake = await openSampleLake('llmops-positional-');
  ({ db } = lake);
});
afterAll(() => lake?.close());

/** Runs the positional SQL as a DuckDB prepared statement, binding each `?` to its value in order. */
async function runPositional(sql: string, values: readonly string[]): Promise<Record<string, unknown>[]> {
  const prepared = await db.connection.prepare(sql);
  expect(prepared.parameterCount).toBe(values.length);
  values.forEach((v, i) => prepared.bindVarchar(i + 1, v));
  return (await prepared.runAndReadAll()).getRowObjectsJson() as Record<string, unknown>[];
}

describe('the positional form on DuckDB', () => {
  it.each(CASES.map((c) => [c.id, JSON.stringify(c.values), c] as const))(
    '%s %s: binding the ? in order returns the rows of the named form',
    async (_id, _values, { id, values }) => {
      const q = byId(id);
      const positional = toPositional(q);
      const ordered = positional.parameters.map((name) => String(values[name]));
      const named = await db.rows(bindParameters(q, values));
      expect(await runPositional(positional.sql, ordered)).toEqual(named);
      if (!(id === 'canary-vs-baseline' && values.baseline === values.canary)) expect(named.length).toBeGreaterThan(0);
    },
  );

  it('canary-vs-baseline with the canary value equal to the baseline counts every request as baseline, as the named form did', async () => {
    const q = byId('canary-vs-baseline');
    const values = { ...WINDOW, version_tag: 'prompt_version', baseline: 'pv-1', canary: 'pv-1' };
    const rows = await db.rows(bindParameters(q, values));
    expect(new Set(rows.map((r) => r.arm))).toEqual(new Set(['baseline']));
    expect(rows.find((r) => r.slice === '(all)')).toMatchObject({ version: 'pv-1', requests: '63' });
  });
});

describe('toPositional', () => {
  it('replaces each occurrence with its own ? and lists the parameters in order of occurrence', () => {
    expect(toPositional(byId('active-users')).parameters).toEqual(['start_date', 'end_date', 'start_date', 'end_date']);
    expect(toPositional(byId('new-intents')).parameters).toEqual(['start_date', 'end_date', 'start_date']);
    expect(toPositional(byId('canary-vs-baseline')).parameters).toEqual([
      'start_date',
      'end_date',
      'version_tag',
      'baseline',
      'canary',
      'baseline',
    ]);
    for (const q of ALL) {
      const p = toPositional(q);
      expect(p.sql.split('?').length - 1, q.id).toBe(p.parameters.length);
      expect(p.parameters.length, q.id).toBeLessThanOrEqual(MAX_POSITIONAL_PARAMETERS);
      expect(p.sql.split('\n').slice(0, 4), q.id).toEqual(q.sql.split('\n').slice(0, 4)); // the header documents it in the console
    }
  });

  it('bindPositional gives one quoted literal per ?, in order (Athena treats a parameter as a string only when single-quoted)', () => {
    expect(
      bindPositional(byId('canary-vs-baseline'), { ...WINDOW, version_tag: 'model', baseline: 'm-1', canary: 'm-2' }).executionParameters,
    ).toEqual(["'2026-11-02'", "'2026-11-04'", "'model'", "'m-1'", "'m-2'", "'m-1'"]);
  });

  /** Arbitrary valid values of a query's parameters. */
  const valuesOf = (q: DecisionQuery): fc.Arbitrary<ParameterValues> => {
    const day = fc.integer({ min: 0, max: 3650 }).map((n) => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().slice(0, 10));
    const str = fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/);
    return fc.record(
      Object.fromEntries(
        q.parameters.map((p) => [
          p.name,
          p.type === 'date'
            ? day
            : p.type === 'string'
              ? str
              : p.type === 'integer'
                ? fc.integer({ min: -1e6, max: 1e6 })
                : typeof p.type === 'object'
                  ? fc.constantFrom(...p.type.oneOf)
                  : str,
        ]),
      ) as Record<string, fc.Arbitrary<string | number>>,
    );
  };

  it('property: the ordered literals substituted into the ? give back bindParameters, for every query and any valid values', () => {
    for (const q of ALL) {
      fc.assert(
        fc.property(valuesOf(q), (values) => {
          const s = bindPositional(q, values);
          expect(substitutePositional(s.sql, s.executionParameters)).toEqual({ sql: bindParameters(q, values) });
        }),
        { numRuns: 50 },
      );
    }
  });

  /** A query whose WHERE uses the given parameters in that order, with comments and literals that look like parameters. */
  const generated = (uses: readonly string[], noise: readonly string[]): string => {
    const names = [...new Set(uses)];
    const conditions = uses.map((u, i) => `${['a', 'b', 'dt'][i % 3]} ${['=', '<>', '>='][i % 3]} :${u}${noise[i] ?? ''}`);
    return `-- name: generated
-- decision: A generated query for the property test.
-- bucket: cost
-- parameters: ${names.map((n) => `${n} (string)`).join(', ')}
--
-- Mentions :${names[0]} in a comment.
SELECT ':${names[0]}' AS quoted, "x:y" FROM events
WHERE ${conditions.join('\n  AND ')}`;
  };

  it('property: in any query, the parameter list is the sequence of uses and re-substitutes to bindParameters', () => {
    const name = fc.constantFrom('p', 'start_date', 'x1', 'tag_b');
    const noiseItem = fc.constantFrom('', ' /* :p */', " -- ':x'\n", " AND c = ':tag_b'", ' AND (d IS DISTINCT FROM e)');
    fc.assert(
      fc.property(
        fc.array(name, { minLength: 1, maxLength: MAX_POSITIONAL_PARAMETERS }),
        fc.array(noiseItem, { maxLength: MAX_POSITIONAL_PARAMETERS }),
        fc.string({ unit: fc.constantFrom('a', 'Z', '0', '.', '-', ':'), minLength: 1, maxLength: 12 }),
        (uses, noise, value) => {
          const text = generated(uses, noise);
          const q = parseQueryFile(text);
          const p = toPositional(q);
          expect(p.parameters).toEqual(uses);
          const values = Object.fromEntries(q.parameters.map((x) => [x.name, value]));
          expect(substitutePositional(p.sql, bindPositional(q, values).executionParameters)).toEqual({ sql: bindParameters(q, values) });
        },
      ),
      { numRuns: 200 },
    );
  });

  const header = (params: string) => `-- name: planted
-- decision: A planted query Athena could not run.
-- bucket: cost
-- parameters: ${params}
--
`;

  it('fails when a parameter is in the SELECT list', () => {
    const planted = `${header('start_date (date), baseline (string)')}SELECT CASE WHEN version = :baseline THEN 'baseline' ELSE 'canary' END AS arm
FROM events
WHERE dt >= :start_date`;
    expect(() => toPositional(planted)).toThrow(
      new QueryFileError(
        `cannot make planted positional for Athena (${DOC}): :baseline (line 6) is in a SELECT clause; Athena takes ? parameters only in a WHERE clause, so move the comparison into a WHERE`,
      ),
    );
  });

  it('fails when a parameter is in HAVING, ON, GROUP BY, LIMIT or an aggregate FILTER, listing every one', () => {
    const planted = `${header('start_date (date), tag (string), n (integer)')}SELECT count(*) FILTER (WHERE a = :tag) AS c
FROM events e JOIN other o ON o.id = e.id AND o.tag = :tag
WHERE e.dt >= :start_date
GROUP BY e.dt, :n
HAVING min(e.dt) >= :start_date
LIMIT :n`;
    const problem = (name: string, line: number, clause: string) =>
      `:${name} (line ${line}) is in a ${clause} clause; Athena takes ? parameters only in a WHERE clause, so move the comparison into a WHERE`;
    expect(() => toPositional(planted)).toThrow(
      `cannot make planted positional for Athena (${DOC}): ${[
        problem('tag', 6, 'FILTER (WHERE)'),
        problem('tag', 7, 'ON'),
        problem('n', 9, 'GROUP BY'),
        problem('start_date', 10, 'HAVING'),
        problem('n', 11, 'LIMIT'),
      ].join('; ')}`,
    );
  });

  it('fails when the text has a ? of its own, even in a comment or a string', () => {
    const planted = `${header('start_date (date)')}-- is this right?\nSELECT '?' AS q FROM events WHERE dt >= :start_date`;
    expect(() => toPositional(planted)).toThrow(
      `cannot make planted positional for Athena (${DOC}): the text has a ? of its own (line 6, 7); the positional form marks each parameter with ?, so remove it (even from comments and strings)`,
    );
  });

  it('fails when a query has more than 25 parameter occurrences (the Athena console limit)', () => {
    const planted = `${header('start_date (date)')}SELECT 1 FROM events WHERE ${Array.from({ length: 26 }, () => 'dt >= :start_date').join(' AND ')}`;
    expect(() => toPositional(planted)).toThrow(
      `cannot make planted positional for Athena (${DOC}): it has 26 parameter occurrences; the Athena console takes at most 25 ?`,
    );
  });

  it('fails when a parameter is an identifier (a ? is a value, never a column)', () => {
    const planted = `${header('col (identifier)')}SELECT 1 FROM events WHERE :col IS NOT NULL`;
    expect(() => toPositional(planted)).toThrow(
      `cannot make planted positional for Athena (${DOC}): :col is an identifier; a ? stands for a value, never a column name (use a|b|c and a CASE)`,
    );
  });

  it('accepts a parameter anywhere inside a WHERE: in an expression, a subquery or a CTE, after IS DISTINCT FROM', () => {
    const ok = `${header('start_date (date), tag (string)')}WITH w AS (SELECT a FROM events WHERE tag = :tag)
SELECT a FROM w
WHERE b IS DISTINCT FROM :tag
  AND dt BETWEEN CAST(date_add('day', -1, CAST(:start_date AS date)) AS varchar) AND :start_date
  AND a IN (SELECT a FROM events WHERE dt = :start_date)`;
    expect(toPositional(ok).parameters).toEqual(['tag', 'tag', 'start_date', 'start_date', 'start_date']);
  });
});

describe('named query descriptions', () => {
  it('list the parameters in the order of the ?, within 1024 characters', () => {
    for (const q of ALL) {
      const d = namedQueryDescription(q);
      expect(d.length, q.id).toBeLessThanOrEqual(1024);
      expect(d.startsWith(q.decision), q.id).toBe(true);
      const listed = [...d.slice(q.decision.length).matchAll(/(?:: |, )([a-z_]+) \(/g)].map((m) => m[1]);
      expect(listed, q.id).toEqual(toPositional(q).parameters);
    }
  });

  it('shorten a long decision but never the parameter list', () => {
    const long = parseQueryFile(`-- name: long
-- decision: ${'Decide this carefully. '.repeat(60).trim()}
-- bucket: cost
-- parameters: start_date (date)
--
SELECT 1 FROM events WHERE dt = :start_date`);
    const d = namedQueryDescription(long);
    expect(d).toHaveLength(1024);
    expect(d.endsWith("... Parameters, in order: start_date (date 'YYYY-MM-DD', quoted).")).toBe(true);
  });
});
