/**
 * Cross-field rules and hard limits of the policy, checked over the structurally valid
 * value. Each rule reports a problem at a key path with the bad value and what is
 * allowed; the loader turns paths into file positions.
 */
import { BUCKETS, EVERY_BATCH_METRICS, findMetric, type MetricDefinition } from '../metrics/dictionary';
import { estimateSeries } from './series';
import { validateCustomPattern } from '../redaction/custom';
import { durationDays, durationHours, durationSeconds } from './durations';
import { INFREQUENT_ACCESS_MIN_DAYS as IA, LOG_RETENTION_DAYS, MAX_ENROLMENT_HOURS, RETENTION_LIMITS, retentionRange } from './limits';
import type { AlarmPolicy, Policy } from './schema';
import { resolveSwitches, tripScope, type ResolvedSwitch } from './switches';

export type PolicyPath = readonly (string | number)[];

export interface RuleFinding {
  readonly path: PolicyPath;
  readonly message: string;
  /** Errors stop the synth; warnings are printed. */
  readonly level: 'error' | 'warning';
}

export interface RuleOptions {
  /** The time enrolment expiries are judged against. */
  readonly now: Date;
}

const show = (v: unknown): string => JSON.stringify(v);

/**
 * Checks the rules over the sections that parsed. A section that failed its structural
 * check is absent and the rules that need it are skipped (its problems are reported
 * by the schema), so one bad section never hides the problems of another.
 */
export function checkPolicyRules(p: Partial<Policy>, opts: RuleOptions): RuleFinding[] {
  const out: RuleFinding[] = [];
  const error = (path: PolicyPath, message: string) => out.push({ path, message, level: 'error' });
  const warn = (path: PolicyPath, message: string) => out.push({ path, message, level: 'warning' });

  if (p.retention) checkRetention(p.retention, error);
  if (p.redaction) checkRedaction(p.redaction, error);
  if (p.capture) {
    const attributes = p.capture.attributes;
    duplicates(attributes).forEach((i) => error(['capture', 'attributes', i], `is ${show(attributes[i])}; attribute keys must be unique`));
  }
  const alarmIds = p.buckets ? checkAlarms(p.buckets, p.slices, error) : undefined;
  if (p.buckets?.quality) checkCitationIntents(p.buckets.quality.citation_required_intents, p.slices, error);
  if (p.debug_capture) checkDebugCapture(p.debug_capture, opts, error, warn);
  // alarm references are judged only when every bucket parsed (else a reference into a broken bucket looks unknown)
  const allAlarms = p.buckets && BUCKETS.every((b) => p.buckets?.[b]) ? alarmIds : undefined;
  if (p.sources) checkSources(p.sources, p.slices, error, warn);
  if (p.kill_switches) checkSwitches(p.kill_switches, p.debug_capture, p.sources, allAlarms, p.slices, error);
  if (p.alerting) checkAlerting(p.alerting, error, warn);
  if (p.slices) {
    for (const [field, d] of Object.entries(p.slices.dimensions)) {
      if (d?.values && d.values.length > d.max_values) {
        error(
          ['slices', 'dimensions', field, 'values'],
          `lists ${d.values.length} values; max_values is ${d.max_values}: raise max_values or list fewer`,
        );
      }
    }
    const est = estimateSeries(p.slices);
    if (est.series > p.slices.max_series || est.monthlyUsd > p.slices.max_monthly_usd) {
      error(
        ['slices'],
        `the slices create up to ${est.series} metric series costing about $${est.monthlyUsd.toFixed(2)} a month, over the budget of ${p.slices.max_series} series and $${p.slices.max_monthly_usd} a month; remove a slice or lower max_values`,
      );
    }
  }
  return out;
}

type Report = (path: PolicyPath, message: string) => void;

function checkRetention(r: Policy['retention'], error: Report): void {
  for (const tier of ['traces', 'metrics'] as const) {
    const lim = RETENTION_LIMITS[tier];
    const days = durationDays(r[tier]);
    if (days < lim.min || days > lim.max) {
      error(['retention', tier], `is ${show(r[tier])}; the ${tier} tier keeps data for ${retentionRange(tier)}`);
    }
  }
  const debugHours = durationHours(r.debug);
  if (debugHours < RETENTION_LIMITS.debug.min || debugHours > RETENTION_LIMITS.debug.max) {
    error(['retention', 'debug'], `is ${show(r.debug)}; the debug tier keeps raw captures for ${retentionRange('debug')}`);
  }
  const logDays = durationDays(r.logs);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logDays)) {
    error(['retention', 'logs'], `is ${show(r.logs)}; CloudWatch Logs allows ${LOG_RETENTION_DAYS.map((d) => `${d}d`).join(', ')}`);
  }
  const others = { traces: durationDays(r.traces), metrics: durationDays(r.metrics), debug: debugHours / 24, logs: logDays };
  const [longestTier, longestDays] = Object.entries(others).reduce((a, b) => (b[1] > a[1] ? b : a));
  if (durationDays(r.audit) < longestDays) {
    error(
      ['retention', 'audit'],
      `is ${show(r.audit)}; audit must be kept at least as long as the longest other tier (${longestTier}: ${longestDays}d)`,
    );
  }
  for (const [tier, t] of Object.entries(r.transitions)) {
    if (!t) continue;
    const after = durationDays(t.infrequent_access_after);
    const expiry = durationDays(r[tier as 'traces' | 'metrics' | 'audit']);
    const path = ['retention', 'transitions', tier, 'infrequent_access_after'];
    if (after < IA) error(path, `is ${show(t.infrequent_access_after)}; S3 Standard-IA needs objects at least ${IA}d old`);
    else if (expiry - after < IA) {
      error(
        path,
        `is ${show(t.infrequent_access_after)}; ${tier} expires at ${expiry}d and Standard-IA bills ${IA} days minimum, so the transition must be at most ${expiry - IA}d (or removed)`,
      );
    }
  }
}

function checkRedaction(red: Policy['redaction'], error: Report): void {
  if (!red.pseudonymize.includes('user_id')) {
    error(['redaction', 'pseudonymize'], `is ${show(red.pseudonymize)}; user_id is always pseudonymized and must be listed`);
  }
  red.custom_patterns.forEach((cp, i) => {
    // The engine must stay linear on any input: no backreferences, lookarounds, nested or unbounded repetition.
    const problem = validateCustomPattern(cp.pattern);
    if (problem) error(['redaction', 'custom_patterns', i, 'pattern'], `is ${show(cp.pattern)}; ${problem}`);
  });
  duplicates(red.custom_patterns.map((c) => c.name)).forEach((i) =>
    error(['redaction', 'custom_patterns', i, 'name'], `is ${show(red.custom_patterns[i]?.name)}; custom pattern names must be unique`),
  );
}

/** Checks every alarm; returns the declared alarms by `<bucket>.<id>`. */
function checkAlarms(buckets: Partial<Policy['buckets']>, slices: Policy['slices'] | undefined, error: Report): Map<string, AlarmPolicy> {
  const alarmIds = new Map<string, AlarmPolicy>();
  const sliceNames = slices ? Object.keys(slices.dimensions) : undefined;
  for (const bucket of BUCKETS) {
    // a bucket that failed its structural check is absent here (its problems are reported)
    const alarms = buckets[bucket]?.alarms ?? [];
    duplicates(alarms.map((a) => a.id)).forEach((i) =>
      error(['buckets', bucket, 'alarms', i, 'id'], `is ${show(alarms[i]?.id)}; alarm ids must be unique within a bucket`),
    );
    alarms.forEach((a, i) => {
      const path = ['buckets', bucket, 'alarms', i];
      alarmIds.set(`${bucket}.${a.id}`, a);
      const metric = findMetric(a.metric);
      if (metric && metric.bucket !== bucket) {
        error([...path, 'metric'], `is ${show(a.metric)}, a ${metric.bucket} metric; an alarm belongs to the bucket of its metric`);
      }
      if ((a.threshold === undefined) === (a.anomaly_band === undefined)) {
        error(path, 'an alarm needs exactly one of threshold (fixed) or anomaly_band (learned baseline)');
      }
      if (a.datapoints_to_alarm !== undefined && a.datapoints_to_alarm > a.evaluation_periods) {
        error(
          [...path, 'datapoints_to_alarm'],
          `is ${a.datapoints_to_alarm}; it cannot exceed evaluation_periods (${a.evaluation_periods})`,
        );
      }
      // PutMetricAlarm: at most 1 day of evaluation for periods under an hour, 7 days otherwise.
      const periodS = durationSeconds(a.period);
      const maxRange = periodS < 3600 ? 86_400 : 604_800;
      if (periodS * a.evaluation_periods > maxRange) {
        error(
          [...path, 'evaluation_periods'],
          `is ${a.evaluation_periods}; ${a.evaluation_periods} x ${a.period} exceeds the ${maxRange === 86_400 ? '1 day' : '7 days'} CloudWatch evaluates for a period ${periodS < 3600 ? 'under' : 'of'} an hour${periodS < 3600 ? '' : ' or more'}`,
        );
      }
      if (periodS > 86_400) error([...path, 'period'], `is ${show(a.period)}; CloudWatch alarm periods are at most 1 day`);
      for (const [dim, value] of Object.entries(a.dimensions ?? {})) {
        const dpath = [...path, 'dimensions', dim];
        if (metric?.kind === 'emitted' && metric.fixed?.dimension === dim) {
          if (!metric.fixed.values.includes(value)) {
            error(dpath, `is ${show(value)}; ${a.metric} ${dim} is one of ${metric.fixed.values.join(', ')}`);
          }
        } else if (metric?.kind === 'emitted' && metric.sliced && (!sliceNames || sliceNames.includes(dim))) {
          // a slice value: any string (values beyond max_values are folded into "other")
        } else {
          const allowed = [
            ...(metric?.kind === 'emitted' && metric.fixed ? [metric.fixed.dimension] : []),
            ...(metric?.kind === 'emitted' && metric.sliced ? (sliceNames ?? []) : []),
          ];
          error(
            dpath,
            `${show(dim)} is not a dimension of ${a.metric}; allowed: ${allowed.length ? allowed.join(', ') : 'none (this metric is not sliced)'}`,
          );
        }
      }
      if (Object.keys(a.dimensions ?? {}).length > 1) {
        error([...path, 'dimensions'], 'an alarm may restrict one dimension: metrics are emitted per slice, never per combination');
      }
      const silent = breachingOnSilence(a, metric);
      if (silent) error([...path, 'missing_data'], silent);
      if (a.metric === 'P0Events') {
        if (a.threshold !== 0 || a.comparison !== 'above' || a.anomaly_band !== undefined) {
          error(
            [...path, 'threshold'],
            `is ${show(a.threshold ?? null)}; a P0 alarm fires on any P0 event: threshold 0, comparison above, and it cannot be raised`,
          );
        }
        if (a.severity !== 'page') error([...path, 'severity'], `is ${show(a.severity)}; any P0 event pages`);
      }
    });
  }
  if (buckets.safety && !buckets.safety.alarms.some((a) => a.metric === 'P0Events' && a.severity === 'page')) {
    error(['buckets', 'safety', 'alarms'], 'the safety bucket must have a page alarm on P0Events with threshold 0 (any P0 event pages)');
  }
  return alarmIds;
}

/**
 * Why `missing_data: breaching` misleads on this alarm, or undefined when it fits.
 * CloudWatch treats missing data points as "bad" and breaching the threshold under
 * `breaching` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data),
 * so it is honest only where a missing datapoint means the pipeline is silent: the
 * totals written in every batch (`everyBatch` in the dictionary). Anywhere else a
 * missing datapoint means "nothing counted" (or "not computed yet"), and every quiet
 * period would raise the alarm. Even on those totals, breaching makes an "ingest is
 * silent" alarm, which a night without any traffic also trips: choose it knowingly.
 */
function breachingOnSilence(a: AlarmPolicy, metric: MetricDefinition | undefined): string | undefined {
  if (a.missing_data !== 'breaching' || !metric) return undefined;
  const dims = Object.entries(a.dimensions ?? {});
  let why: string;
  let quiet = 'every quiet period would breach';
  if (metric.kind === 'ratio') {
    why = `${a.metric} is a ratio of ${metric.numerator} and ${metric.denominator}, which the ingest writes only in batches where they count something`;
  } else if (metric.source === 'rollup') {
    why = `${a.metric} is written by the scheduled rollup, not per batch (active users only for days with requests; a stopped rollup raises the rollup-failures alarm)`;
    quiet = 'every period it has not written yet would breach';
  } else if (!metric.everyBatch) {
    why = `the ingest writes ${a.metric} only in batches where it counts something (no 0 otherwise)`;
  } else if (dims.length > 0) {
    why = `the ingest writes ${a.metric} {${dims.map(([k, v]) => `${k}=${v}`).join(', ')}} only in batches where it counts something; only the total is written in every batch`;
  } else {
    return undefined;
  }
  return `is "breaching"; ${why}, so ${quiet}. Use not_breaching or ignore: breaching fits only the totals written in every batch, 0 included (${EVERY_BATCH_METRICS.join(', ')}), where missing data means no batch arrived`;
}

/** Citation-required intents: unique, and among the intent slice's values when it lists them (else they would count as "other"). */
function checkCitationIntents(intents: readonly string[], slices: Policy['slices'] | undefined, error: Report): void {
  const path = ['buckets', 'quality', 'citation_required_intents'];
  duplicates(intents).forEach((i) => error([...path, i], `is ${show(intents[i])}; citation-required intents must be unique`));
  const values = slices?.dimensions.intent?.values;
  if (!values) return;
  intents.forEach((intent, i) => {
    if (!values.includes(intent)) {
      error(
        [...path, i],
        `is ${show(intent)}; not one of the intents the policy declares (slices.dimensions.intent.values: ${values.join(', ')}): add it there or fix the name`,
      );
    }
  });
}

function checkDebugCapture(dc: Policy['debug_capture'], opts: RuleOptions, error: Report, warn: Report): void {
  const cohorts = dc.enrolments.map((e) => e.cohort);
  duplicates(cohorts).forEach((i) =>
    error(['debug_capture', 'enrolments', i, 'cohort'], `is ${show(cohorts[i])}; cohort names must be unique`),
  );
  dc.enrolments.forEach((e, i) => {
    const path = ['debug_capture', 'enrolments', i];
    if (!e.tenant_id && !e.user_role) error(path, 'an enrolment names its cohort by tenant_id, user_role or both');
    const expires = Date.parse(e.expires_at);
    const hoursAhead = (expires - opts.now.getTime()) / 3_600_000;
    if (hoursAhead > MAX_ENROLMENT_HOURS) {
      error(
        [...path, 'expires_at'],
        `is ${show(e.expires_at)}, ${Math.round(hoursAhead)}h ahead; an enrolment expires at most ${MAX_ENROLMENT_HOURS}h ahead (before ${new Date(opts.now.getTime() + MAX_ENROLMENT_HOURS * 3_600_000).toISOString()})`,
      );
    } else if (hoursAhead <= 0) {
      warn([...path, 'expires_at'], `is ${show(e.expires_at)}, in the past: this enrolment captures nothing; remove it`);
    }
  });
  if (!dc.enabled && dc.enrolments.length > 0) {
    warn(['debug_capture', 'enabled'], 'is false: the enrolments below capture nothing until debug capture is enabled');
  }
}

/**
 * Sources: every role an `allowed_roles` names is a declared user_role (the slice's
 * values), and the source slice lists declared sources only: one list of connectors.
 */
function checkSources(sources: Policy['sources'], slices: Policy['slices'] | undefined, error: Report, warn: Report): void {
  const roles = slices?.dimensions.user_role?.values;
  for (const [name, src] of Object.entries(sources)) {
    if (src.allowed_roles === 'all') continue;
    if (slices && !roles) {
      warn(
        ['sources', name, 'allowed_roles'],
        'names roles that cannot be checked: slices.dimensions.user_role.values is not declared, so a misspelt role would silently deny that role; list the user_role values the application sends',
      );
      continue;
    }
    src.allowed_roles.forEach((role, i) => {
      if (!roles) return; // the slices section has its own problems
      if (!roles.includes(role)) {
        error(
          ['sources', name, 'allowed_roles', i],
          `is ${show(role)}; not a declared role. Declared (slices.dimensions.user_role.values): ${roles.join(', ')}`,
        );
      }
    });
  }
  const listed = slices?.dimensions.source?.values ?? [];
  listed.forEach((v, i) => {
    if (!(v in sources)) {
      error(
        ['slices', 'dimensions', 'source', 'values', i],
        `is ${show(v)}; not a declared source. Declared (sources): ${Object.keys(sources).join(', ') || 'none'}`,
      );
    }
  });
}

function checkSwitches(
  ks: Policy['kill_switches'],
  dc: Policy['debug_capture'] | undefined,
  sources: Policy['sources'] | undefined,
  alarmIds: Map<string, AlarmPolicy> | undefined,
  slices: Policy['slices'] | undefined,
  error: Report,
): void {
  const switches = new Map(
    resolveSwitches({ kill_switches: ks, sources: sources ?? {}, debug_capture: dc ?? { enabled: false, enrolments: [] } }).map((s) => [
      s.ref,
      s,
    ]),
  );
  for (const [name, t] of Object.entries(ks.tools)) {
    if (t.kind === 'write' && t.safe_default === 'on') {
      error(['kill_switches', 'tools', name, 'safe_default'], 'is "on"; a write tool must fail safe: safe_default off');
    }
  }
  ks.auto_trips.forEach((t, i) => {
    const path = ['kill_switches', 'auto_trips', i];
    const alarm = alarmIds?.get(t.alarm);
    if (!alarmIds) {
      // the buckets section has its own problems; the reference is checked once it parses
    } else if (!alarm)
      error([...path, 'alarm'], `is ${show(t.alarm)}; no such alarm. Declared: ${[...alarmIds.keys()].join(', ') || 'none'}`);
    else if (alarm.severity !== 'page') error([...path, 'alarm'], `is ${show(t.alarm)}, a ticket alarm; only page alarms trip switches`);
    const sw = switches.get(t.switch);
    // connector switches are judged once the sources section parses (its own problems are reported)
    if (!sw && !sources && t.switch.startsWith('connectors.')) return;
    if (!sw) error([...path, 'switch'], `is ${show(t.switch)}; no such switch. Declared: ${[...switches.keys()].join(', ')}`);
    else if (t.set !== sw.tripped) {
      error([...path, 'set'], `is ${show(t.set)}; a trip contains an incident, so ${t.switch} can only be set ${show(sw.tripped)}`);
    }
    // the scope is judged only for a page alarm and a declared switch (else the problems above say what to fix)
    if (sw && alarm?.severity === 'page') {
      const scope = outOfScope(t.alarm, alarm, sw, slices);
      if (scope) error([...path, scope.key], scope.message);
    }
  });
}

/**
 * Why an alarm may not trip this switch (see `tripScope`), or undefined when it may: a
 * connector or intent switch needs an alarm restricted to that connector or intent, on a
 * metric sliced by it, with the value listed in the slice; a tool switch has no such alarm.
 */
function outOfScope(
  ref: string,
  a: AlarmPolicy,
  sw: ResolvedSwitch,
  slices: Policy['slices'] | undefined,
): { key: 'alarm' | 'switch'; message: string } | undefined {
  const scope = tripScope(sw.kind);
  if (scope.kind === 'global') return undefined;
  if (scope.kind === 'none') {
    return {
      key: 'switch',
      message: `is ${show(sw.ref)}; no metric is cut by tool name (tool_path is only none, read or write), so no alarm is scoped to one tool and a tool switch cannot be tripped automatically: remove this trip and name the switch in the alarm's runbook${sw.writes ? ', or trip read_only_mode (every write tool)' : ''}`,
    };
  }
  const dim = scope.dimension;
  const target = sw.target ?? '';
  const noun = dim === 'source' ? 'connector' : 'intent';
  const metric = findMetric(a.metric);
  const dims = Object.entries(a.dimensions ?? {});
  const subject = `${a.metric}${dims.length ? ` {${dims.map(([k, v]) => `${k}=${v}`).join(', ')}}` : ''}`;
  const value = a.dimensions?.[dim];
  // judged once the slices section parses (its own problems are reported)
  const listed = slices?.dimensions[dim]?.values?.includes(target) ?? false;
  let watches: string;
  if (value === undefined) watches = `${subject} for every ${noun}`;
  else if (value !== target) watches = `${subject}, another ${noun}`;
  else if (metric?.kind !== 'emitted' || !metric.sliced) watches = `${subject}, but ${a.metric} is not cut by ${dim}`;
  else if (slices && !listed)
    watches = `${subject}, but slices.dimensions.${dim}.values does not list ${target}, so its series can fold into "other"`;
  else return undefined;
  return {
    key: 'alarm',
    message: `is ${show(ref)}, which watches ${watches}; an auto-trip of ${sw.ref} needs an alarm restricted to that ${noun}: dimensions { ${dim}: ${target} } on a metric sliced by ${dim}, with ${target} listed in slices.dimensions.${dim}.values`,
  };
}

function checkAlerting(alerting: Policy['alerting'], error: Report, warn: Report): void {
  for (const route of ['page', 'ticket'] as const) {
    alerting[route].subscriptions.forEach((s, i) => {
      const path = ['alerting', route, 'subscriptions', i, 'endpoint'];
      if (s.protocol === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s.endpoint))
        error(path, `is ${show(s.endpoint)}; not an email address`);
      if (s.protocol === 'https' && !/^https:\/\/[^\s]+$/.test(s.endpoint))
        error(path, `is ${show(s.endpoint)}; an https subscription needs an https:// URL`);
    });
  }
  if (alerting.page.subscriptions.length === 0) {
    warn(['alerting', 'page', 'subscriptions'], 'is empty: page alarms reach no one until a subscription is added');
  }
}

/** Indexes of the second and later occurrences of a value. */
function duplicates(values: readonly (string | undefined)[]): number[] {
  const seen = new Set<string | undefined>();
  const out: number[] = [];
  values.forEach((v, i) => (seen.has(v) ? out.push(i) : seen.add(v)));
  return out;
}
