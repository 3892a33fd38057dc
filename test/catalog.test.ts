import { App, Duration, Stack, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CAPTURES_PREFIX, EVENTS_PREFIX, QUARANTINE_PREFIX, TelemetryCatalog } from '../lib/constructs/catalog/index';
import { contractColumns, debugCaptureColumns, EVENT_TYPES } from '../lib/core/contract';
import { EVENTS_DATA_PREFIX } from '../lib/constructs/ingest/index';
import { durationDays, durationDaysCeil, type Policy } from '../lib/core/policy';
import { loadDecisionQueries, namedQueryDescription, toPositional } from '../lib/core/queries';
import { variantPolicy } from './support/policy';

const GLUE: Record<string, string> = {
  string: 'string',
  int: 'bigint',
  double: 'double',
  boolean: 'boolean',
  'array<string>': 'array<string>',
  'map<string,string>': 'map<string,string>',
};

function build(policy: Policy) {
  const stack = new Stack(new App(), 'T', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bucket = (n: string) => s3.Bucket.fromBucketName(stack, n, `${n.toLowerCase()}-bucket`);
  const dataKey = new kms.Key(stack, 'DataKey');
  const debugKey = new kms.Key(stack, 'DebugKey');
  const catalog = TelemetryCatalog.fromPolicy(stack, 'Catalog', policy, {
    tracesBucket: bucket('Traces'),
    debugBucket: bucket('Debug'),
    resultsBucket: bucket('Results'),
    dataKey,
    debugKey,
  });
  const template = Template.fromStack(stack);
  const tables = Object.values(template.findResources('AWS::Glue::Table')).map((t) => t.Properties.TableInput);
  const table = (name: string) => tables.find((t) => t.Name === name);
  return { stack, catalog, template, table, dataKey, debugKey };
}

const shipped = variantPolicy(() => {});

describe('Glue tables', () => {
  it('derive their columns from the event contract, with event_type and dt as partitions', () => {
    const { table } = build(shipped);
    const expected = contractColumns()
      .filter((c) => c.name !== 'event_type')
      .map((c) => ({ Name: c.name, Type: GLUE[c.type] }));
    for (const name of ['events', 'quarantine']) {
      expect(table(name).StorageDescriptor.Columns).toEqual(expected);
      expect(table(name).PartitionKeys).toEqual([
        { Name: 'event_type', Type: 'string' },
        { Name: 'dt', Type: 'string' },
      ]);
    }
    expect(table('captures').StorageDescriptor.Columns).toEqual(debugCaptureColumns().map((c) => ({ Name: c.name, Type: GLUE[c.type] })));
  });

  it('use partition projection over the days each tier keeps, in the layout Firehose writes', () => {
    for (const policy of [
      shipped,
      variantPolicy((d) => {
        d.retention.traces = '7d';
        d.retention.debug = '24h';
      }),
    ]) {
      const { table } = build(policy);
      const events = table('events').Parameters;
      expect(events).toMatchObject({
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.range': `NOW-${durationDays(policy.retention.traces) + 2}DAYS,NOW`,
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.event_type.type': 'enum',
        'projection.event_type.values': EVENT_TYPES.join(','),
        'storage.location.template': `s3://traces-bucket/${EVENTS_PREFIX}event_type=\${event_type}/dt=\${dt}/`,
      });
      // the same layout as the delivery stream's prefix with area=events
      expect(
        EVENTS_DATA_PREFIX.replace('!{partitionKeyFromLambda:area}', 'events').replace(/!\{partitionKeyFromLambda:(\w+)\}/g, '${$1}'),
      ).toBe(`${EVENTS_PREFIX}event_type=\${event_type}/dt=\${dt}/`);
      expect(table('quarantine').Parameters).toMatchObject({
        'projection.dt.range': `NOW-${durationDaysCeil(policy.retention.debug) + 2}DAYS,NOW`,
        'projection.event_type.values': [...EVENT_TYPES, 'unknown'].join(','),
        'storage.location.template': `s3://traces-bucket/${QUARANTINE_PREFIX}event_type=\${event_type}/dt=\${dt}/`,
      });
      expect(table('captures').Parameters['storage.location.template']).toBe(`s3://debug-bucket/${CAPTURES_PREFIX}dt=\${dt}/`);
    }
  });
});

describe('Athena workgroups', () => {
  it('enforce their configuration, the scan cutoff from the policy and encrypted results per tier', () => {
    for (const mb of [10, 1024, 5000]) {
      const policy = variantPolicy((d) => {
        d.queries.scan_limit_mb = mb;
      });
      const { stack, template, dataKey, debugKey } = build(policy);
      for (const [name, prefix, key] of [
        ['analysts', 'analysts/', dataKey],
        ['incident', 'incident/', debugKey],
      ] as const) {
        template.hasResourceProperties('AWS::Athena::WorkGroup', {
          Name: `copilot-prod-${name}`,
          WorkGroupConfiguration: {
            EnforceWorkGroupConfiguration: true,
            BytesScannedCutoffPerQuery: mb * 1_000_000,
            EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
            ResultConfiguration: {
              OutputLocation: `s3://results-bucket/${prefix}`,
              EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: stack.resolve(key.keyArn) },
            },
          },
        });
      }
    }
  });

  it('are deleted with the database when a dev stack is deleted, and kept with it in prod', () => {
    const policies = { dev: variantPolicy((d) => (d.environment = 'dev')), prod: variantPolicy((d) => (d.environment = 'prod')) };
    for (const [environment, policy] of Object.entries(policies)) {
      const { template } = build(policy);
      const expected = environment === 'prod' ? 'Retain' : 'Delete';
      const policiesOf = (type: string) =>
        Object.values(template.findResources(type)).map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy]);
      expect(policiesOf('AWS::Glue::Database'), environment).toEqual([[expected, expected]]);
      expect(policiesOf('AWS::Athena::WorkGroup'), environment).toEqual([
        [expected, expected],
        [expected, expected],
      ]);
    }
  });

  it('holds every decision query as a named query of the analysts workgroup, in the positional form, its parameters in order in the description', () => {
    const { stack, catalog, template } = build(shipped);
    const queries = loadDecisionQueries();
    const named = Object.values(template.findResources('AWS::Athena::NamedQuery')).map((q) => q.Properties);
    expect(named).toHaveLength(queries.length);
    for (const q of queries) {
      expect(named).toContainEqual({
        Name: `copilot-prod-${q.id}`,
        Description: namedQueryDescription(q),
        QueryString: toPositional(q).sql,
        Database: stack.resolve(catalog.database.databaseName),
        WorkGroup: stack.resolve(catalog.analystsWorkGroup.ref),
      });
    }
    const description = (id: string) => named.find((n) => n.Name === `copilot-prod-${id}`)?.Description;
    const date = (n: string) => `${n} (date 'YYYY-MM-DD', quoted)`;
    expect(description('active-users')).toBe(
      `${queries.find((q) => q.id === 'active-users')?.decision} Parameters, in order: ${[date('start_date'), date('end_date'), date('start_date'), date('end_date')].join(', ')}.`,
    );
    expect(description('canary-vs-baseline')).toMatch(
      /Parameters, in order: start_date \(date 'YYYY-MM-DD', quoted\), end_date \(date 'YYYY-MM-DD', quoted\), version_tag \(one of 'prompt_version', 'app_version', .*, 'model', quoted\), baseline \(string 'value', quoted\), canary \(string 'value', quoted\), baseline \(string 'value', quoted\)\.$/,
    );
    for (const n of named) expect(n.Description.length, n.Name).toBeLessThanOrEqual(1024);
  });

  it('deploys query strings Athena runs as is: no :name parameter, at most 25 ?, each ? in a WHERE clause, one per listed parameter', () => {
    const { template } = build(shipped);
    const named = Object.values(template.findResources('AWS::Athena::NamedQuery')).map((q) => q.Properties);
    for (const n of named) {
      const code = blankCommentsAndStrings(n.QueryString);
      expect(code, n.Name).not.toMatch(/(?<![\w:]):[a-z]/);
      const clauses = markerClauses(n.QueryString);
      expect(clauses.length, n.Name).toBeGreaterThan(0);
      expect(clauses.length, n.Name).toBeLessThanOrEqual(25);
      expect(n.QueryString.split('?').length - 1, `${n.Name}: every ? is a parameter`).toBe(clauses.length);
      expect(
        clauses.filter((c) => c !== 'WHERE'),
        n.Name,
      ).toEqual([]);
      const listed = /Parameters, in order: (.*)\.$/
        .exec(n.Description)?.[1]
        ?.split(/ \([^)]*\)(?:, )?/)
        .filter(Boolean);
      expect(listed?.length, n.Name).toBe(clauses.length);
    }
  });

  it('the clause check of the deployed strings finds a ? outside WHERE (it can fail)', () => {
    expect(
      markerClauses(
        'SELECT ? AS a FROM t JOIN u ON u.x = ? WHERE a IS DISTINCT FROM ? AND b IN (SELECT c FROM v WHERE d = ?) AND CAST(? AS date) > e GROUP BY a HAVING count(*) > ? -- ?',
      ),
    ).toEqual(['SELECT', 'ON', 'WHERE', 'WHERE', 'WHERE', 'HAVING']);
    expect(markerClauses("SELECT count(*) FILTER (WHERE x = ?) FROM t WHERE '?' = y")).toEqual(['FILTER']);
  });
});

/** The SQL with comments and string or quoted-identifier contents turned into spaces (offsets kept). */
function blankCommentsAndStrings(sql: string): string {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"/g, (m) => ' '.repeat(m.length));
}

/**
 * The clause of each `?` of a statement, read backwards from the `?` (written apart from
 * lib/core/queries, to check its output): the nearest clause word in the same or an
 * enclosing parenthesis, `IS DISTINCT FROM` not counting as FROM, `FILTER (WHERE` as FILTER.
 */
function markerClauses(sql: string): string[] {
  const CLAUSES = new Set([
    'SELECT',
    'FROM',
    'WHERE',
    'GROUP',
    'HAVING',
    'ORDER',
    'LIMIT',
    'OFFSET',
    'JOIN',
    'ON',
    'USING',
    'VALUES',
    'WITH',
    'UNION',
    'WINDOW',
    'UNNEST',
    'PARTITION',
  ]);
  const code = blankCommentsAndStrings(sql);
  const out: string[] = [];
  for (let at = code.indexOf('?'); at !== -1; at = code.indexOf('?', at + 1)) {
    const tokens = code.slice(0, at).match(/[A-Za-z_]\w*|[()]/g) ?? [];
    let depth = 0;
    let clause = 'NONE';
    for (let i = tokens.length - 1; i >= 0; i--) {
      const t = (tokens[i] as string).toUpperCase();
      if (t === ')') depth++;
      else if (t === '(') depth = Math.max(0, depth - 1);
      else if (depth === 0 && CLAUSES.has(t) && !(t === 'FROM' && tokens[i - 1]?.toUpperCase() === 'DISTINCT')) {
        clause = t === 'WHERE' && tokens[i - 1] === '(' && tokens[i - 2]?.toUpperCase() === 'FILTER' ? 'FILTER' : t;
        break;
      }
    }
    out.push(clause);
  }
  return out;
}

describe('TelemetryCatalog with its own props (no policy)', () => {
  it('defaults: database named from the prefix, 1 GiB scan limit, workgroups kept with their results; projection spans the retentions', () => {
    const stack = new Stack(new App(), 'Own', { env: { account: '123456789012', region: 'eu-west-1' } });
    const bucket = (n: string) => s3.Bucket.fromBucketName(stack, n, `${n.toLowerCase()}-bucket`);
    new TelemetryCatalog(stack, 'Catalog', {
      prefix: 'refunds-dev',
      tracesRetention: Duration.days(10),
      debugRetention: Duration.hours(30),
      tracesBucket: bucket('Traces'),
      debugBucket: bucket('Debug'),
      resultsBucket: bucket('Results'),
      dataKey: new kms.Key(stack, 'DataKey'),
      debugKey: new kms.Key(stack, 'DebugKey'),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: 'refunds_dev_telemetry' }) });
    const groups = Object.values(template.findResources('AWS::Athena::WorkGroup'));
    expect(
      groups.map((g) => [g.Properties.Name, g.Properties.WorkGroupConfiguration.BytesScannedCutoffPerQuery, g.DeletionPolicy]),
    ).toEqual([
      ['refunds-dev-analysts', 1024 ** 3, 'Retain'],
      ['refunds-dev-incident', 1024 ** 3, 'Retain'],
    ]);
    expect(groups.map((g) => g.Properties.RecursiveDeleteOption)).toEqual([false, false]);
    const projection = Object.fromEntries(
      Object.values(template.findResources('AWS::Glue::Table')).map((t) => [
        t.Properties.TableInput.Name,
        t.Properties.TableInput.Parameters['projection.dt.range'],
      ]),
    );
    // 10 days + 2; 30 hours are 2 days (rounded up) + 2
    expect(projection).toEqual({ events: 'NOW-12DAYS,NOW', quarantine: 'NOW-4DAYS,NOW', captures: 'NOW-4DAYS,NOW' });
  });
});
