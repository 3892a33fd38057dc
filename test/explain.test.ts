import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { documentedMetricsOf, METRIC_DOCS } from '../lib/core/metrics/docs';
import { BUCKETS, METRICS } from '../lib/core/metrics/dictionary';
import { alarmCondition, alarmName, policyJsonSchemaText, resolveSwitches, type Policy } from '../lib/core/policy';
import { describeTiers } from '../lib/core/storage';
import { accessMatrix, assumeCellText, assumeMatrix, cell, explainPolicy, matrixCellText } from '../lib/core/spec';
import { PII_DETECTOR_IDS, PII_DETECTORS, SECRET_DETECTOR_IDS } from '../lib/core/redaction/catalog';
import { policyFrom, shippedPolicyText, TEST_NOW, variantPolicy } from './support/policy';
import { parsePolicy } from '../lib/core/policy';
import { loadDecisionQueries } from '../lib/core/queries';
import { explainGate } from '../lib/core/spec/gate';

const shipped = parsePolicy(shippedPolicyText(), 'telemetry-policy.yaml', { now: TEST_NOW }).policy;
const minimal = policyFrom(readFileSync('test/fixtures/minimal-policy.yaml', 'utf8'));

/** The table rows of a Markdown document, as arrays of cells. */
function rows(md: string): string[][] {
  return md
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('|---'))
    .map((l) => l.slice(2, -2).split(' | '));
}

/** Checks the spec says what the policy says, each expectation derived from the parsed policy. */
function expectSpecMatches(policy: Policy): void {
  const md = explainPolicy(policy);
  const r = rows(md);
  const hasRow = (...cells: string[]) => r.some((row) => cells.every((c) => row.includes(cell(c))));

  expect(md.startsWith(`# Telemetry spec: ${policy.name} (${policy.environment})\n`)).toBe(true);
  for (const [role, o] of Object.entries(policy.owners)) expect(hasRow(role, o.name, o.contact)).toBe(true);
  for (const a of policy.capture.attributes) expect(md).toContain(`\`${a}\``);
  for (const t of describeTiers(policy)) {
    for (const s of t.stores) expect(hasRow(t.tier, t.retention, s.store)).toBe(true);
  }
  for (const id of PII_DETECTOR_IDS) {
    const mode = policy.redaction.detectors[id] ?? 'plain';
    const ph = PII_DETECTORS[id].placeholder;
    expect(hasRow(id, mode === 'off' ? 'not redacted (off)' : mode === 'keyed' ? `[${ph}:<keyed hash>]` : `[${ph}]`)).toBe(true);
  }
  for (const id of SECRET_DETECTOR_IDS) expect(r.some((row) => row[0] === id && row[2]?.endsWith('(always)'))).toBe(true);
  for (const c of policy.redaction.custom_patterns) expect(hasRow(c.name, `[${c.placeholder}]`)).toBe(true);
  for (const role of ['metrics_readers', 'trace_analysts', 'incident_responders', 'kill_switch_operators'] as const) {
    for (const p of policy.access[role].principals) expect(md).toContain(p === 'this-account' ? 'the deploying account' : p);
  }
  for (const bucket of BUCKETS) {
    const b = policy.buckets[bucket];
    expect(md).toContain(
      `### ${bucket}\n\nOwner: ${policy.owners[b.owner].name} (${b.owner}, ${policy.owners[b.owner].contact}). Decision: ${b.decision}`,
    );
    for (const m of documentedMetricsOf(bucket)) expect(hasRow(m.name, m.definition, m.decision)).toBe(true);
    for (const a of b.alarms) {
      const name = alarmName(policy, bucket, a.id);
      expect(hasRow(name, alarmCondition(a), a.missing_data, a.severity)).toBe(true);
      expect(alarmCondition(a)).toContain(
        a.anomaly_band !== undefined ? `${a.anomaly_band} standard deviations` : `${a.comparison} ${a.threshold}`,
      );
      expect(md).toContain(
        `**${name}** (${a.severity})\n\n- Mitigation: ${a.runbook.mitigation}\n- Confirm impact: ${a.runbook.confirm}\n- Diagnose: ${a.runbook.diagnose}\n- Roll back: ${a.runbook.rollback}`,
      );
    }
  }
  for (const s of resolveSwitches(policy)) expect(hasRow(s.ref, s.meaning, s.initial, s.safeDefault)).toBe(true);
  for (const t of policy.kill_switches.auto_trips) {
    const [bucket, id] = t.alarm.split('.') as [string, string];
    expect(r.some((row) => row[0] === t.switch && row[4]?.includes(alarmName(policy, bucket, id)))).toBe(true);
  }
  const g = policy.gates;
  expect(md).toContain(explainGate(policy).trimEnd());
  expect(md).toContain(`npx llmops gate --baseline <current ${g.dimension}> --canary <new ${g.dimension}>`);
  expect(md).toContain(`at least ${g.min_requests} requests`);
  for (const [m, pr] of Object.entries(policy.pricing.models))
    expect(hasRow(m, String(pr.input_per_1k), String(pr.output_per_1k))).toBe(true);
  expect(md).toContain('up to about two days');
  for (const q of loadDecisionQueries()) expect(hasRow(q.id, q.bucket, q.decision)).toBe(true);
  expect(md).toContain(`each stopping at ${policy.queries.scan_limit_mb} MB scanned`);
}

describe('llmops policy explain', () => {
  it('says what the shipped policy says', () => expectSpecMatches(shipped));
  it('says what a second policy says', () => expectSpecMatches(minimal));

  it('follows a change of threshold, severity and retention', () => {
    const changed = variantPolicy((d) => {
      d.buckets.reliability.alarms[0].threshold = 6500;
      d.buckets.reliability.alarms[0].severity = 'page';
      d.retention.traces = '14d';
    });
    expectSpecMatches(changed);
    const md = explainPolicy(changed);
    expect(rows(md)).toContainEqual([
      'copilot-prod-reliability-p95-latency',
      'Latency p95 above 6500, 3 of 3 x 5m',
      'not_breaching',
      'page',
    ]);
    expect(rows(md)).toContainEqual(expect.arrayContaining(['traces', '14d', 'traces bucket, events/']));
    expect(md).not.toContain('Latency p95 above 8000');
  });

  it('names federated incident responders and says their MFA is enforced at sign-in; without them, says why SSO sessions are locked out', () => {
    const responderRow = (md: string) => rows(md).find((row) => row[0] === 'incident responder')!;
    expect(responderRow(explainPolicy(shipped))[2]).toBe('the deploying account');
    expect(explainPolicy(shipped)).toContain('IAM Identity Center and SAML sessions never carry it');
    const federated = variantPolicy((d) => {
      d.access.incident_responders.federated = { sso_permission_sets: ['IncidentResponse'], principal_tags: { team: 'ir' } };
    });
    const md = explainPolicy(federated);
    expect(responderRow(md)[2]).toBe(
      'the deploying account, IAM Identity Center permission set `IncidentResponse`, sessions tagged `team=ir`',
    );
    expect(responderRow(md)[3]).toMatch(/^MFA required \(IAM sessions; federated sessions: MFA at their sign-in\)/);
    expect(md).toContain('Their MFA is enforced by Identity Center or the identity provider at sign-in');
  });

  it('docs/telemetry-policy.md is the output for the shipped policy (regenerate with npm run docs)', () => {
    expect(readFileSync('docs/telemetry-policy.md', 'utf8')).toBe(
      explainPolicy(parsePolicy(shippedPolicyText(), 'telemetry-policy.yaml').policy),
    );
  });
});

describe('the "Who can do what" section', () => {
  /** The spec between the section's heading and the next level-2 heading. */
  const section = (md: string) => {
    const start = md.indexOf('### Who can do what\n');
    expect(start).toBeGreaterThan(md.indexOf('## Access\n'));
    return md.slice(start, md.indexOf('\n## ', start));
  };

  it.each([
    ['the shipped policy', shipped],
    ['the minimal policy', minimal],
  ])('prints the expected access matrix of %s, cell for cell, and who may assume each role', (_name, policy) => {
    const md = section(explainPolicy(policy));
    const r = rows(md);
    const m = accessMatrix(policy);
    expect(r[0]).toEqual(['capability', ...m.principals.map((p) => p.title)]);
    for (const row of m.rows)
      expect(r).toContainEqual([cell(row.label), ...m.principals.map((p) => cell(matrixCellText(row.cells[p.id])))]);
    for (const p of m.principals) expect(md).toContain(`- **${p.title}**: ${p.who}.`);
    const a = assumeMatrix(policy);
    expect(md).toContain('### Who can assume each role\n');
    expect(r).toContainEqual(['who', ...a.rows.map((x) => x.label)]);
    for (const x of a.assumers) expect(r).toContainEqual([cell(x.title), ...a.rows.map((row) => assumeCellText(row.cells[x.id]!))]);
    // Header rows, the matrix rows, the assumers.
    expect(r).toHaveLength(1 + m.rows.length + 1 + a.assumers.length);
  });

  it('has a column per principal, the trip Lambda only when auto_trips maps an alarm, and a row per switch and store prefix', () => {
    const m = accessMatrix(shipped);
    expect(m.principals.map((p) => p.id)).toContain('trip_function');
    expect(m.rows.filter((x) => x.capability.kind === 'flip').map((x) => x.id)).toEqual(
      resolveSwitches(shipped).map((x) => `flip ${x.ref}`),
    );
    expect(m.rows.filter((x) => x.capability.kind === 'read')).toHaveLength(
      describeTiers(shipped)
        .flatMap((t) => t.stores)
        .filter((x) => x.store.includes('bucket, ')).length,
    );
    const noTrips = variantPolicy((d) => {
      d.kill_switches.auto_trips = [];
    });
    expect(accessMatrix(noTrips).principals.map((p) => p.id)).not.toContain('trip_function');
    expect(accessMatrix(noTrips).principals).toHaveLength(m.principals.length - 1);
  });

  it('says what each principal is meant to do: tier readers read their tier, the trip Lambda flips what auto_trips maps', () => {
    const m = accessMatrix(shipped);
    const v = (row: string, p: string) => m.rows.find((x) => x.id === row)?.cells[p as 'producer']?.verdict;
    expect(v('read traces events/', 'trace_analyst')).toBe('allowed');
    expect(v('read traces quarantine/', 'trace_analyst')).toBe('denied');
    expect(v('read debug captures/', 'incident_responder')).toBe('allowed');
    expect(v('read metrics rollups/', 'rollup_function')).toBe('not granted');
    expect(v('decrypt debug', 'account_admin')).toBe('denied');
    expect(v('decrypt data', 'account_admin')).toBe('allowed');
    expect(v('decrypt data', 'producer')).toBe('not granted');
    expect(v('query analysts', 'trace_analyst')).toBe('allowed');
    expect(v('query incident', 'trace_analyst')).toBe('denied');
    for (const t of shipped.kill_switches.auto_trips) expect(v(`flip ${t.switch}`, 'trip_function')).toBe('allowed');
    expect(v('flip read_only_mode', 'trip_function')).toBe('not granted');
    expect(m.rows.find((x) => x.id === 'read debug captures/')?.cells.incident_responder.note).toBe('MFA session');
  });
});

describe('the editor JSON Schema', () => {
  it('telemetry-policy.schema.json is current (regenerate with npm run docs)', () => {
    expect(readFileSync('telemetry-policy.schema.json', 'utf8')).toBe(policyJsonSchemaText());
  });

  it('describes every section as strict, with the severities closed', () => {
    const schema = JSON.parse(policyJsonSchemaText());
    expect(Object.keys(schema.properties)).toEqual([
      'name',
      'environment',
      'owners',
      'capture',
      'redaction',
      'retention',
      'access',
      'debug_capture',
      'buckets',
      'slices',
      'alerting',
      'sources',
      'kill_switches',
      'gates',
      'pricing',
      'queries',
    ]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.retention.additionalProperties).toBe(false);
    const alarm = schema.properties.buckets.properties.safety.properties.alarms.items;
    expect(alarm.properties.severity.enum).toEqual(['page', 'ticket']);
  });
});

describe('the metric dictionary', () => {
  it('documents every metric, and nothing else', () => {
    expect(Object.keys(METRIC_DOCS).sort()).toEqual(METRICS.map((m) => m.name).sort());
    for (const d of Object.values(METRIC_DOCS)) {
      expect(d.definition.length).toBeGreaterThan(10);
      expect(d.decision.length).toBeGreaterThan(5);
    }
  });
});
