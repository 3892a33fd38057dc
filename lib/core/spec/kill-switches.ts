/**
 * The kill-switch page (`docs/kill-switches.md`), derived from the policy alone: each
 * switch, what flipping it does, who may flip it, which alarm trips it, which runbooks
 * name it, and the worst-case time for a flip to take effect. No aws-cdk-lib here, so
 * the spec generator and the CLI can include it.
 */
import { alarmName } from '../policy/names';
import { cell } from './markdown';
import { durationSeconds } from '../policy/durations';
import { auditLogRetentionDays } from '../storage/lifecycle';
import type { AlarmPolicy, Policy } from '../policy/schema';
import { resolveSwitches, type ResolvedSwitch } from '../policy/switches';
import { switchPrefix } from '../killswitch/values';

type ExplainedPolicy = Pick<
  Policy,
  'name' | 'environment' | 'kill_switches' | 'debug_capture' | 'sources' | 'buckets' | 'access' | 'retention'
>;

function table(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join(
    '\n',
  );
}

/** Which alarm may trip which switch (the rule of `tripScope`, checked in rules.ts), for the spec and the kill-switch page. */
export const AUTO_TRIP_SCOPE =
  'An automatic trip acts on what its alarm saw, so `llmops policy check` accepts it only on a page alarm scoped to the switch: `connectors.<name>` needs an alarm with `dimensions: { source: <name> }` and `human_review.<intent>` one with `dimensions: { intent: <intent> }`, on a metric sliced by that dimension and with the value listed in the slice\'s `values` (an unlisted value can fold into "other"). `read_only_mode` and `debug_capture` govern everything, so any page alarm may trip them. No metric is cut by tool name, so `tools.<name>` is never tripped automatically (`read_only_mode` covers every write tool).';

/** What setting the switch to its tripped state does, in words. */
function containment(sw: ResolvedSwitch, writeTools: string[]): string {
  switch (sw.kind) {
    case 'read_only_mode':
      return `disables every write tool${writeTools.length ? ` (${writeTools.join(', ')})` : ''}; read tools keep working`;
    case 'debug_capture':
      return 'stops every debug capture, enrolled or not';
    case 'tool':
      return `disables the ${sw.writes ? 'write' : 'read'} tool ${sw.target}`;
    case 'connector':
      return `stops retrieval from ${sw.target}`;
    case 'human_review':
      return `sends every ${sw.target} request to a human before any action`;
  }
}

/** The words a runbook uses for a switch: its ref, and its target name for tools, connectors and intents. */
function mentions(sw: ResolvedSwitch, text: string): boolean {
  const words = [sw.ref, ...(sw.target ? [sw.target] : []), ...(sw.kind === 'debug_capture' ? ['debug capture'] : [])];
  return words.some((w) => new RegExp(`(^|[^a-z0-9_])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9_])`, 'i').test(text));
}

/** The series an alarm watches, e.g. `AccessViolations {source=hr_policies}`. */
function watched(a: AlarmPolicy): string {
  const dims = Object.entries(a.dimensions ?? {}).map(([k, v]) => `${k}=${v}`);
  return `${a.metric}${dims.length ? ` {${dims.join(', ')}}` : ''}`;
}

/** How long after the condition starts an alarm fires, at the earliest: M periods. */
function alarmDelay(a: AlarmPolicy): string {
  const m = a.datapoints_to_alarm ?? a.evaluation_periods;
  return m === 1 ? a.period : `${m} x ${a.period}`;
}

/** The audit log group's retention: the policy's audit retention rounded up to a CloudWatch Logs value. */
function auditDays(p: Pick<Policy, 'retention'>): string {
  try {
    return `${auditLogRetentionDays(p)} days`;
  } catch {
    return p.retention.audit; // longer than CloudWatch Logs keeps anything: the policy rules report it
  }
}

/** The kill-switch page, in Markdown. */
export function explainKillSwitches(p: ExplainedPolicy): string {
  const switches = resolveSwitches(p);
  const prefix = switchPrefix(p);
  const ttl = durationSeconds(p.kill_switches.cache_ttl);
  const writeTools = switches.filter((s) => s.kind === 'tool' && s.writes).map((s) => s.target ?? '');
  const alarms = Object.entries(p.buckets).flatMap(([bucket, b]) => b.alarms.map((a) => ({ bucket, alarm: a, key: `${bucket}.${a.id}` })));
  const byKey = new Map(alarms.map((a) => [a.key, a]));
  const operators = p.access.kill_switch_operators.principals.join(', ');

  const rows = switches.map((sw) => {
    const trips = p.kill_switches.auto_trips.filter((t) => t.switch === sw.ref);
    const tripped = trips.map((t) => {
      const a = byKey.get(t.alarm);
      const [bucket = '', id = ''] = t.alarm.split('.');
      const on = a ? ` on ${watched(a.alarm)}` : '';
      return `${alarmName(p, bucket, id)} (${a?.alarm.severity ?? 'page'}${on}; fires after ${a ? alarmDelay(a.alarm) : '?'} of breach)`;
    });
    const named = alarms.filter((a) => mentions(sw, Object.values(a.alarm.runbook).join(' '))).map((a) => a.key);
    const who = ['kill-switch operators', ...(trips.length ? ['the trip Lambda'] : [])].join(', ');
    const effect = trips.length ? `${ttl} s after the flip; automatically: the alarm delay, then ${ttl} s` : `${ttl} s after the flip`;
    return [
      `\`${sw.ref}\``,
      `${sw.tripped}: ${containment(sw, writeTools)}`,
      sw.initial,
      sw.safeDefault,
      who,
      tripped.join(', ') || '-',
      named.join(', ') || '-',
      effect,
    ];
  });

  const out: string[] = [
    `# Kill switches: ${p.name} (${p.environment})`,
    '',
    'Generated from the telemetry policy (`kill_switches`); do not edit by hand.',
    '',
    `Each switch is an SSM String parameter under \`${prefix}/\` (the ref with dots as slashes, e.g. \`${prefix}/tools/create_ticket\`) holding a small JSON document: \`state\` (on/off), \`reason\`, \`changed_by\`, \`changed_at\` and an optional \`expires_at\`. Applications read all switches with one \`GetParametersByPath\` and cache them for ${ttl} s (\`kill_switches.cache_ttl\`): **a flip takes effect within ${ttl} seconds, without a deploy**.`,
    '',
    '## Switches',
    '',
    table(
      [
        'switch',
        'contain with (what it disables)',
        'initial',
        'safe default',
        'who may flip it',
        'tripped automatically by',
        'runbooks that name it',
        'worst-case time to take effect',
      ],
      rows,
    ),
    '',
    `Kill-switch operators are whoever may assume the kill-switch operator role (${operators}); they may flip every switch. The trip Lambda may flip only the switches in \`auto_trips\`, and only to their tripped state.`,
    '',
    AUTO_TRIP_SCOPE,
    '',
    '## How to flip one',
    '',
    '```sh',
    'llmops switch list',
    'llmops switch set connectors.hr_policies off --reason "INC-4711: HR documents seen by the wrong roles" --expires-in 4h',
    '```',
    '',
    `\`--reason\` is required; the operator (\`--operator\`, else \`LLMOPS_OPERATOR\`, else \`USER\`) is recorded as \`changed_by\`. With \`--expires-in\` the override lapses and the switch returns to its policy \`initial\` state; without it, it stays until someone flips it back. An automatic trip never expires and is never undone automatically: a human re-enables the switch once the runbook says so.`,
    '',
    '## How applications fail safe',
    '',
    "- SSM cannot be read: the last state read stays in force; an application that has never read the switches uses each switch's **safe default** (the table above; a write tool's is always off).",
    '- A parameter is missing or does not hold a valid document: that switch is at its safe default.',
    '- A document whose `expires_at` has passed: the switch is at its policy `initial` state.',
    '- A tool or connector the policy does not declare is never allowed: it could not be switched off in an incident.',
    `- While SSM is unreachable a flip cannot reach an application; the ${ttl} s bound holds from the moment it can read again.`,
    '',
    '## Audit',
    '',
    `Every change of a parameter under \`${prefix}/\` (a flip, a trip, a deploy) is an EventBridge "Parameter Store Change" event, written to the kill-switch audit log group (kept ${auditDays(p)}, from \`retention.audit\`) and notified to the ticket topic. The event names the parameter and the operation; the document says who and why; CloudTrail's \`PutParameter\` event holds the AWS caller identity, and Parameter Store keeps the last 100 versions of each parameter.`,
    '',
    "A deploy writes a switch only when its `initial` state in the policy changes: `cdk diff` shows it as `InitialValue` of that switch's `Custom::KillSwitch`, and that write replaces the current state, including an operator's or a trip's. Run `llmops switch list` before such a deploy. Any other change (the description, the tags, the stack) leaves the live state alone; a switch that already exists when its resource is created (one kept from a deleted stack) is adopted as it is. In prod the parameters stay when the stack is deleted; elsewhere they are deleted with it.",
  ];
  return `${out.join('\n')}\n`;
}
