import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { domainsOf, parsePolicy, PolicyError, resolveSwitches, sourceRules, violatedSources, type PolicyProblem } from '../lib/core/policy';
import { shippedPolicyData, shippedPolicyText, TEST_NOW } from './support/policy';

const FILE = 'telemetry-policy.yaml';

/** The problems of a policy text, formatted, or [] when it is valid. */
function problems(text: string, now = TEST_NOW): string[] {
  try {
    parsePolicy(text, FILE, { now });
    return [];
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    return e.message.split('\n');
  }
}

/** The shipped policy text with one literal replacement (which must exist). */
function edited(from: string, to: string): string {
  const text = shippedPolicyText();
  expect(text.includes(from), `the shipped policy contains ${JSON.stringify(from)}`).toBe(true);
  return text.replace(from, to);
}

/** 1-based line and column where `needle` starts in `text`. */
function pos(text: string, needle: string, offsetInNeedle = 0): string {
  const at = text.indexOf(needle) + offsetInNeedle;
  const before = text.slice(0, at).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

describe('the shipped policy', () => {
  it('is valid and has no warnings', () => {
    const loaded = parsePolicy(shippedPolicyText(), FILE, { now: TEST_NOW });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.policy.name).toBe('copilot');
    expect(loaded.policy.retention).toMatchObject({ traces: '30d', metrics: '365d', debug: '72h', audit: '400d', logs: '30d' });
  });

  it('references the editor JSON Schema', () => {
    expect(shippedPolicyText().split('\n')[0]).toBe('# yaml-language-server: $schema=./telemetry-policy.schema.json');
  });
});

describe('policy problems name file, line, column, key path, the bad value and what is allowed', () => {
  it('fails when a key is unknown (a typo is never ignored)', () => {
    const text = edited('retention:\n', 'retension:\n');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(shippedPolicyText(), 'name: copilot')} retention: is required (a mapping of keys)`,
      `${FILE}:${pos(text, 'retension:')} retension: unknown key "retension"; allowed keys here: name, environment, owners, capture, redaction, retention, access, debug_capture, buckets, slices, alerting, sources, kill_switches, gates, pricing, queries`,
    ]);
  });

  it('fails when a nested key is unknown, naming the keys allowed there', () => {
    const text = edited('  traces: 30d ', '  trace: 30d ');
    const out = problems(text);
    expect(out).toContain(
      `${FILE}:${pos(text, 'trace: 30d')} retention.trace: unknown key "trace"; allowed keys here: traces, metrics, debug, audit, logs, transitions`,
    );
  });

  it('fails when a tier retention is outside its hard limits', () => {
    const text = edited('traces: 30d', 'traces: 120d');
    expect(problems(text)).toEqual([`${FILE}:${pos(text, '120d')} retention.traces: is "120d"; the traces tier keeps data for 1d to 90d`]);
  });

  it('fails when the debug tier keeps raw captures longer than 72h', () => {
    const text = edited('debug: 72h', 'debug: 96h');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, '96h')} retention.debug: is "96h"; the debug tier keeps raw captures for 24h to 72h`,
    ]);
  });

  it('fails when a duration has no unit', () => {
    const text = edited('metrics: 365d', 'metrics: 365');
    expect(problems(text)).toEqual([`${FILE}:${pos(text, '365 ')} retention.metrics: is 365; expected text`]);
  });

  it('fails when audit is kept shorter than the longest other tier', () => {
    const text = edited('audit: 400d', 'audit: 200d');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, '200d')} retention.audit: is "200d"; audit must be kept at least as long as the longest other tier (metrics: 365d)`,
    ]);
  });

  it("fails when log retention is not one of CloudWatch Logs' values", () => {
    const text = edited('logs: 30d ', 'logs: 31d ');
    expect(problems(text)[0]).toBe(
      `${FILE}:${pos(text, '31d')} retention.logs: is "31d"; CloudWatch Logs allows 1d, 3d, 5d, 7d, 14d, 30d, 60d, 90d, 120d, 150d, 180d, 365d, 400d, 545d, 731d, 1096d, 1827d, 2192d, 2557d, 2922d, 3288d, 3653d`,
    );
  });

  it('fails when the P0 threshold is raised', () => {
    const text = edited('threshold: 0             # any P0', 'threshold: 2             # any P0');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, '2             # any P0')} buckets.safety.alarms[0].threshold: is 2; a P0 alarm fires on any P0 event: threshold 0, comparison above, and it cannot be raised`,
    ]);
  });

  it('fails when the P0 alarm is downgraded to a ticket', () => {
    const text = shippedPolicyText().replace(/(id: p0-events[\s\S]*?severity: )page/, '$1ticket');
    // p0-events is the shipped policy's only P0Events alarm, so the bucket loses its P0 page too
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^telemetry-policy\.yaml:\d+:\d+ buckets\.safety\.alarms: the safety bucket must have a page alarm on P0Events with threshold 0 \(any P0 event pages\)$/,
      ),
      `${FILE}:${pos(text, 'ticket', text.indexOf('id: p0-events') - text.indexOf('ticket') + text.slice(text.indexOf('id: p0-events')).indexOf('ticket'))} buckets.safety.alarms[0].severity: is "ticket"; any P0 event pages`,
    ]);
  });

  it('fails when the safety bucket has no P0 alarm', () => {
    const data = shippedPolicyData() as any;
    data.buckets.safety.alarms = data.buckets.safety.alarms.filter((a: { metric: string }) => a.metric !== 'P0Events');
    data.kill_switches.auto_trips = [];
    expect(problems(stringify(data))).toEqual([
      expect.stringMatching(
        /^telemetry-policy\.yaml:\d+:\d+ buckets\.safety\.alarms: the safety bucket must have a page alarm on P0Events with threshold 0 \(any P0 event pages\)$/,
      ),
    ]);
  });

  it('fails when a severity is neither page nor ticket', () => {
    const text = edited('severity: ticket\n', 'severity: pager\n');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, 'pager')} buckets.reliability.alarms[0].severity: is "pager"; allowed: "page", "ticket"`,
    ]);
  });

  it('accepts federated incident responders by permission set or session tag, and names a bad set, tag or an empty federated block', () => {
    const line = 'incident_responders: { principals: [this-account], require_mfa: true }';
    const fed = (federated: string) =>
      edited(line, `incident_responders: { principals: [this-account], require_mfa: true, federated: ${federated} }`);
    expect(problems(fed('{ sso_permission_sets: [IncidentResponse], principal_tags: { team: incident-response } }'))).toEqual([]);
    const badSet = fed('{ sso_permission_sets: ["Incident Response"] }');
    expect(problems(badSet)).toEqual([
      `${FILE}:${pos(badSet, '"Incident Response"')} access.incident_responders.federated.sso_permission_sets[0]: is "Incident Response"; a permission set name is 1 to 32 letters, digits and + = , . @ _ - (as IAM Identity Center allows)`,
    ]);
    const badTag = fed('{ principal_tags: { team: "a b" } }');
    expect(problems(badTag)).toEqual([
      `${FILE}:${pos(badTag, '"a b"')} access.incident_responders.federated.principal_tags.team: is "a b"; a principal tag value is at most 256 letters, digits and _ . : / = + @ -`,
    ]);
    const empty = fed('{}');
    expect(problems(empty)).toEqual([
      `${FILE}:${pos(empty, '{}')} access.incident_responders.federated: is a mapping; federated needs sso_permission_sets or principal_tags (or remove it)`,
    ]);
  });

  it('names an unknown role in a source rule, an undeclared source in the source slice, and a connector switch left in kill_switches', () => {
    const badRole = edited('allowed_roles: [hr_specialist, admin]', 'allowed_roles: [hr_specialist, hr_admin]');
    expect(problems(badRole)).toEqual([
      `${FILE}:${pos(badRole, 'hr_admin')} sources.hr_policies.allowed_roles[1]: is "hr_admin"; not a declared role. Declared (slices.dimensions.user_role.values): employee, hr_specialist, it_agent, admin`,
    ]);
    const badSlice = edited('values: [hr_policies, it_kb, service_desk]', 'values: [hr_policies, it_kb, wiki]');
    expect(problems(badSlice)).toEqual([
      `${FILE}:${pos(badSlice, 'wiki]')} slices.dimensions.source.values[2]: is "wiki"; not a declared source. Declared (sources): hr_policies, it_kb, service_desk`,
    ]);
    const old = edited('  human_review:\n', '  connectors:\n    wiki: {}\n  human_review:\n');
    expect(problems(old)).toEqual([
      `${FILE}:${pos(old, 'wiki: {}')} kill_switches.connectors: is a mapping; kill_switches.connectors moved to sources: every declared source is a connector switch (connectors.<source>)`,
    ]);
  });

  it('makes every source a connector switch, and reads its access rule once for the ingest, the queries and the gate', () => {
    const policy = parsePolicy(shippedPolicyText(), FILE, { now: TEST_NOW }).policy;
    expect(
      resolveSwitches(policy)
        .filter((s) => s.kind === 'connector')
        .map((s) => s.ref),
    ).toEqual(Object.keys(policy.sources).map((s) => `connectors.${s}`));
    const rules = sourceRules(policy);
    expect(violatedSources(rules, 'employee', ['it_kb', 'hr_policies', 'hr_policies'])).toEqual(['hr_policies']);
    expect(violatedSources(rules, 'hr_specialist', ['it_kb', 'hr_policies'])).toEqual([]);
    expect(violatedSources(rules, undefined, ['hr_policies', 'service_desk'])).toEqual(['hr_policies']);
    expect(violatedSources(rules, 'employee', ['wiki'])).toEqual([]); // no rule for an undeclared source
    expect([...domainsOf(rules, 'employee')]).toEqual(['it']);
    expect([...domainsOf(rules, 'admin')].sort()).toEqual(['hr', 'it']);
  });

  it('fails when the name is not a valid resource prefix', () => {
    const text = edited('name: copilot ', 'name: Copilot_1 ');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, 'Copilot_1')} name: is "Copilot_1"; name must be 2 to 24 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen`,
    ]);
  });

  it('fails when a debug enrolment has no reason or expiry, or expires more than 72h ahead', () => {
    const text = edited(
      '  enrolments: []',
      [
        '  enrolments:',
        '    - { cohort: inc_1, tenant_id: emea }',
        '    - { cohort: inc_2, user_role: admin, reason: INC-2, expires_at: "2026-12-09T00:00:00Z" }',
      ].join('\n'),
    );
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, '{ cohort: inc_1')} debug_capture.enrolments[0].reason: is required (text)`,
      `${FILE}:${pos(text, '{ cohort: inc_1')} debug_capture.enrolments[0].expires_at: is required (text)`,
    ]);
    const onlyFar = text.replace('    - { cohort: inc_1, tenant_id: emea }\n', '');
    expect(problems(onlyFar)).toEqual([
      `${FILE}:${pos(onlyFar, '"2026-12-09')} debug_capture.enrolments[0].expires_at: is "2026-12-09T00:00:00Z", 228h ahead; an enrolment expires at most 72h ahead (before 2026-12-02T12:00:00.000Z)`,
    ]);
  });

  it('warns, without failing, about an expired enrolment', () => {
    const text = edited(
      '  enabled: false\n  enrolments: []',
      '  enabled: true\n  enrolments:\n    - { cohort: inc_3, tenant_id: emea, reason: INC-3, expires_at: "2026-11-28T00:00:00Z" }',
    );
    const loaded = parsePolicy(text, FILE, { now: TEST_NOW });
    expect(loaded.warnings.map((w: PolicyProblem) => `${w.path}: ${w.message}`)).toEqual([
      'debug_capture.enrolments[0].expires_at: is "2026-11-28T00:00:00Z", in the past: this enrolment captures nothing; remove it',
    ]);
  });

  it('fails when a write tool does not fail safe', () => {
    const text = edited('create_ticket: { kind: write }', 'create_ticket: { kind: write, safe_default: "on" }');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, '"on" }')} kill_switches.tools.create_ticket.safe_default: is "on"; a write tool must fail safe: safe_default off`,
    ]);
  });

  it('fails when an auto trip names a ticket alarm, an unknown switch or the wrong state', () => {
    const text = edited(
      "    - { alarm: safety.access-violation-hr, switch: connectors.hr_policies, set: 'off' }",
      [
        "    - { alarm: reliability.p95-latency, switch: connectors.hr_policies, set: 'off' }",
        "    - { alarm: safety.p0-events, switch: connectors.hr_policy, set: 'off' }",
        "    - { alarm: safety.p0-events, switch: read_only_mode, set: 'off' }",
      ].join('\n'),
    );
    const out = problems(text);
    expect(out).toEqual([
      `${FILE}:${pos(text, 'reliability.p95-latency')} kill_switches.auto_trips[0].alarm: is "reliability.p95-latency", a ticket alarm; only page alarms trip switches`,
      expect.stringContaining(
        `kill_switches.auto_trips[1].switch: is "connectors.hr_policy"; no such switch. Declared: read_only_mode, debug_capture, tools.search_kb,`,
      ),
      `${FILE}:${pos(text, "'off' }", text.indexOf("switch: read_only_mode, set: 'off'") - text.indexOf("'off' }") + 'switch: read_only_mode, set: '.length)} kill_switches.auto_trips[2].set: is "off"; a trip contains an incident, so read_only_mode can only be set "on"`,
    ]);
  });

  const NEEDS_HR =
    'an auto-trip of connectors.hr_policies needs an alarm restricted to that connector: dimensions { source: hr_policies } on a metric sliced by source, with hr_policies listed in slices.dimensions.source.values';

  it('fails when a connector is tripped by an alarm that watches every connector', () => {
    // the shipped policy before issue 15: a violation in it_kb switched off hr_policies
    const text = edited(
      'metric: AccessViolations\n        dimensions: { source: hr_policies }',
      'metric: P0Events\n        dimensions: { Category: access_violation }',
    );
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, 'safety.access-violation-hr, switch')} kill_switches.auto_trips[0].alarm: is "safety.access-violation-hr", which watches P0Events {Category=access_violation} for every connector; ${NEEDS_HR}`,
    ]);
  });

  it('fails when a connector is tripped by an alarm on another connector, or on one whose series can fold into "other"', () => {
    const other = edited('dimensions: { source: hr_policies }', 'dimensions: { source: it_kb }');
    expect(problems(other)).toEqual([
      `${FILE}:${pos(other, 'safety.access-violation-hr, switch')} kill_switches.auto_trips[0].alarm: is "safety.access-violation-hr", which watches AccessViolations {source=it_kb}, another connector; ${NEEDS_HR}`,
    ]);
    const unlisted = edited('values: [hr_policies, it_kb, service_desk]', 'values: [it_kb, service_desk]');
    expect(problems(unlisted)).toEqual([
      `${FILE}:${pos(unlisted, 'safety.access-violation-hr, switch')} kill_switches.auto_trips[0].alarm: is "safety.access-violation-hr", which watches AccessViolations {source=hr_policies}, but slices.dimensions.source.values does not list hr_policies, so its series can fold into "other"; ${NEEDS_HR}`,
    ]);
  });

  it('fails when an auto-trip names a tool switch: no metric is cut by tool name', () => {
    const text = edited(
      "    - { alarm: safety.access-violation-hr, switch: connectors.hr_policies, set: 'off' }",
      "    - { alarm: safety.p0-events, switch: tools.create_ticket, set: 'off' }\n    - { alarm: safety.p0-events, switch: tools.search_kb, set: 'off' }",
    );
    const tool =
      "no metric is cut by tool name (tool_path is only none, read or write), so no alarm is scoped to one tool and a tool switch cannot be tripped automatically: remove this trip and name the switch in the alarm's runbook";
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, 'tools.create_ticket')} kill_switches.auto_trips[0].switch: is "tools.create_ticket"; ${tool}, or trip read_only_mode (every write tool)`,
      `${FILE}:${pos(text, 'tools.search_kb')} kill_switches.auto_trips[1].switch: is "tools.search_kb"; ${tool}`,
    ]);
  });

  it('fails when forced human review of an intent is tripped by an alarm not restricted to that intent, and accepts one that is', () => {
    const data = shippedPolicyData() as any;
    const alarm = (dimensions: Record<string, string>) => ({
      id: 'uncited-answers',
      metric: 'Refusals',
      dimensions,
      threshold: 50,
      severity: 'page',
      runbook: { mitigation: 'm', confirm: 'c', diagnose: 'd', rollback: 'r' },
    });
    data.buckets.quality.alarms.push(alarm({ tenant_id: 'emea' }));
    data.kill_switches.auto_trips.push({ alarm: 'quality.uncited-answers', switch: 'human_review.policy_qna', set: 'on' });
    expect(problems(stringify(data)).map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'kill_switches.auto_trips[1].alarm: is "quality.uncited-answers", which watches Refusals {tenant_id=emea} for every intent; an auto-trip of human_review.policy_qna needs an alarm restricted to that intent: dimensions { intent: policy_qna } on a metric sliced by intent, with policy_qna listed in slices.dimensions.intent.values',
    ]);
    data.buckets.quality.alarms[2] = alarm({ intent: 'policy_qna' });
    expect(problems(stringify(data))).toEqual([]);
  });

  it('accepts any page alarm tripping a global switch (read_only_mode, debug_capture)', () => {
    const text = edited(
      "    - { alarm: safety.access-violation-hr, switch: connectors.hr_policies, set: 'off' }",
      "    - { alarm: safety.p0-events, switch: read_only_mode, set: 'on' }\n    - { alarm: reliability.provider-timeouts, switch: debug_capture, set: 'off' }",
    );
    expect(problems(text)).toEqual([]);
  });

  /** `line:column` of the `missing_data` value of alarm `id`. */
  const missingDataAt = (text: string, id: string) => {
    const at = text.indexOf('missing_data: ', text.indexOf(`id: ${id}\n`)) + 'missing_data: '.length;
    const before = text.slice(0, at).split('\n');
    return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
  };
  const EVERY_BATCH =
    'Use not_breaching or ignore: breaching fits only the totals written in every batch, 0 included (Redactions, RecordsQuarantined, FieldsDropped, AttributesDropped, RecordsIn, RecordsOk, RecordsValid, RecordsSampledOut, OutcomeSignalsDropped), where missing data means no batch arrived';

  it('fails when missing data counts as breaching on a metric the ingest writes only when it counts something', () => {
    // the shipped policy before issue 15: every quiet night raised a ticket
    const text = edited(
      'missing_data: ignore     # no denial in an hour writes no datapoint: a quiet hour is no evidence either way',
      'missing_data: breaching',
    );
    expect(problems(text)).toEqual([
      `${FILE}:${missingDataAt(text, 'access-denials-dropped')} buckets.safety.alarms[2].missing_data: is "breaching"; the ingest writes AccessDenials only in batches where it counts something (no 0 otherwise), so every quiet period would breach. ${EVERY_BATCH}`,
    ]);
  });

  it('fails when missing data counts as breaching on a rollup metric or a ratio', () => {
    const text = edited(
      'missing_data: ignore     # the rollup writes active users only for days with requests',
      'missing_data: breaching',
    ).replace(/(id: provider-timeouts[\s\S]*?missing_data: )not_breaching/, '$1breaching');
    expect(problems(text)).toEqual([
      `${FILE}:${missingDataAt(text, 'provider-timeouts')} buckets.reliability.alarms[1].missing_data: is "breaching"; ProviderTimeoutRate is a ratio of ProviderTimeouts and Requests, which the ingest writes only in batches where they count something, so every quiet period would breach. ${EVERY_BATCH}`,
      `${FILE}:${missingDataAt(text, 'weekly-active-users-down')} buckets.adoption.alarms[0].missing_data: is "breaching"; ActiveUsersWeekly is written by the scheduled rollup, not per batch (active users only for days with requests; a stopped rollup raises the rollup-failures alarm), so every period it has not written yet would breach. ${EVERY_BATCH}`,
    ]);
  });

  it('fails when missing data counts as breaching on one dimension value of a total written in every batch, and accepts the total', () => {
    const alarm = (dimensions?: Record<string, string>) => ({
      id: 'ingest-silent',
      metric: 'RecordsQuarantined',
      ...(dimensions ? { dimensions } : {}),
      threshold: 0,
      missing_data: 'breaching',
      severity: 'ticket',
      runbook: { mitigation: 'm', confirm: 'c', diagnose: 'd', rollback: 'r' },
    });
    const data = shippedPolicyData() as any;
    data.buckets.safety.alarms.push(alarm({ Reason: 'schema_violation' }));
    expect(problems(stringify(data))).toEqual([
      expect.stringMatching(/^telemetry-policy\.yaml:\d+:\d+ buckets\.safety\.alarms\[3\]\.missing_data: /),
    ]);
    expect(problems(stringify(data))[0]!.replace(/^\S+ /, '')).toBe(
      `buckets.safety.alarms[3].missing_data: is "breaching"; the ingest writes RecordsQuarantined {Reason=schema_violation} only in batches where it counts something; only the total is written in every batch, so every quiet period would breach. ${EVERY_BATCH}`,
    );
    // the totals: a missing datapoint means no batch arrived (an "ingest is silent" alarm, chosen knowingly)
    data.buckets.safety.alarms[3] = alarm();
    data.buckets.reliability.alarms.push({ ...alarm(), metric: 'RecordsIn', comparison: 'below', threshold: 1 });
    expect(problems(stringify(data))).toEqual([]);
  });

  it('fails when an alarm has both or neither of threshold and anomaly_band', () => {
    const text = edited('        threshold: 8000          # ms\n', '');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, 'id: p95-latency')} buckets.reliability.alarms[0]: an alarm needs exactly one of threshold (fixed) or anomaly_band (learned baseline)`,
    ]);
  });

  it("fails when an alarm's metric is unknown or belongs to another bucket", () => {
    const text = edited('metric: CitationPresence', 'metric: CitationRate').replace('metric: ErrorRate', 'metric: RefusalRate');
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, 'RefusalRate')} buckets.reliability.alarms[2].metric: is "RefusalRate", a quality metric; an alarm belongs to the bucket of its metric`,
      `${FILE}:${pos(text, 'CitationRate')} buckets.quality.alarms[0].metric: is "CitationRate"; metric must be one of the metric dictionary (llmops policy explain lists them)`,
    ]);
  });

  it('fails when a custom pattern could backtrack or is not a regular expression', () => {
    const text = edited("pattern: '\\bEMP-[0-9]{6}\\b'", "pattern: '(a+)+b'");
    expect(problems(text)).toEqual([
      `${FILE}:${pos(text, "'(a+)+b'")} redaction.custom_patterns[0].pattern: is "(a+)+b"; has unbounded repetition (+); use a bounded {m,n} with n at most 256`,
    ]);
    const broken = edited("pattern: '\\bEMP-[0-9]{6}\\b'", "pattern: 'EMP-[0-9'");
    expect(problems(broken)).toHaveLength(1);
    expect(problems(broken)[0]).toMatch(/ redaction\.custom_patterns\[0\]\.pattern: is "EMP-\[0-9"; /);
  });

  it('fails when a YAML key is duplicated', () => {
    const text = edited('environment: prod', 'environment: prod\nenvironment: dev');
    expect(problems(text)).toEqual([`${FILE}:${pos(text, 'environment: dev')} (root): YAML: Map keys must be unique`]);
  });

  it('fails when the text is not YAML at all', () => {
    expect(problems('name: [unclosed\n')).toHaveLength(1);
    expect(problems('name: [unclosed\n')[0]).toMatch(/^telemetry-policy\.yaml:\d+:\d+ \(root\): YAML: /);
  });

  it('fails when the document is not a mapping', () => {
    expect(problems('- a\n- b\n')).toEqual([
      `${FILE}:1:1 (root): is a list of 2; a policy is a mapping of sections (name, environment, owners, capture, redaction, retention, access, debug_capture, buckets, slices, alerting, sources, kill_switches, gates, pricing, queries)`,
    ]);
  });

  it('reports every problem at once, across sections, sorted by line', () => {
    const text = edited('traces: 30d', 'traces: 0d')
      .replace('severity: ticket\n', 'severity: sometimes\n')
      .replace('scan_limit_mb: 1024', 'scan_limit_mb: 5')
      .replace('rating_scale: thumbs', 'rating_scale: stars');
    const out = problems(text);
    expect(out.map((l) => l.split(' ')[1])).toEqual([
      'capture.rating_scale:',
      'retention.traces:',
      'buckets.reliability.alarms[0].severity:',
      'queries.scan_limit_mb:',
    ]);
    const lines = out.map((l) => Number(l.split(':')[1]));
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  });
});
