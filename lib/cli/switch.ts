/**
 * `llmops switch list|set`: read and flip kill switches in Parameter Store.
 *
 * The operator's identity is recorded as `changed_by`: `--operator`, else the
 * environment's LLMOPS_OPERATOR, else USER. (The AWS caller identity of the write is in
 * CloudTrail's PutParameter event; STS is not a dependency of this CLI.)
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { parseArgs } from 'node:util';
import { readAllSwitches, readSwitch, writeSwitch } from '../aws/switch-store';
import {
  evaluateSwitch,
  MAX_REASON_CHARS,
  switchPrefix,
  type Evaluation,
  type SwitchReading,
  type SwitchValue,
} from '../core/killswitch/values';
import { DEFAULT_POLICY_FILE as DEFAULT_FILE, durationSeconds, parseDuration, resolveSwitches, type LoadedPolicy } from '../core/policy';
import { type CliCommand, type CliIO, loadCliPolicy, UserError } from './io';

const CONNECTION_OPTIONS = `  --policy FILE    the telemetry policy (default: ${DEFAULT_FILE}): names the switches and the path
  --region REGION  AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the AWS config)
  --endpoint URL   SSM endpoint override (local endpoints and tests)
  -h, --help       show this help`;

/** One-line summaries, for the command table of `llmops --help`. */
export const SWITCH_SUMMARIES = {
  list: 'list the kill switches: stored and effective state, reason, who changed them and when',
  set: 'flip a kill switch (on|off) with a required reason; takes effect within the cache TTL',
} as const;

/** Help texts of `llmops switch list` and `llmops switch set`. */
export const SWITCH_HELP = {
  list: `Usage: llmops switch list [--policy FILE] [--json] [--region REGION] [--endpoint URL]

Lists every kill switch of the policy as stored in SSM Parameter Store under
/<name>/<environment>/kill-switches/: its stored state, the state applications act on
(an expired document returns to the policy's initial state; a missing or malformed one
means the safe default), the reason, who changed it, when, and when it expires.

Options:
  --json           print the rows as JSON
${CONNECTION_OPTIONS}

Exit codes: 0 listed, 1 policy or SSM problem, 2 usage error.
`,
  set: `Usage: llmops switch set <switch> on|off --reason TEXT [--expires-in DURATION] [--operator NAME]
                        [--policy FILE] [--region REGION] [--endpoint URL]

Writes a kill switch (e.g. tools.create_ticket, connectors.hr_policies, read_only_mode,
human_review.hr_request, debug_capture). No deploy is needed: applications pick the
change up within the policy's kill_switches.cache_ttl. The switch must exist (deployed
by the stack); every change is recorded in the audit log and notified to the ticket topic.

Options:
  --reason TEXT          required: why (an incident id, a ticket); recorded with the switch
  --expires-in DURATION  the override lapses after this long (e.g. 30m, 2h, 3d) and the
                         switch returns to the policy's initial state
  --operator NAME        who is flipping it (default: LLMOPS_OPERATOR, else USER)
${CONNECTION_OPTIONS}

Exit codes: 0 written, 1 policy or SSM problem, 2 usage error.
`,
} as const;

const CONNECTION = {
  policy: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Loads the policy; its problems go to stderr and become exit code 1. */
function load(file: string, io: CliIO): LoadedPolicy | number {
  const loaded = loadCliPolicy(file, io);
  if ('problems' in loaded) return (io.stderr.write(`${loaded.problems}\n`), 1);
  return loaded;
}

/** An SSM client from the options and the command's environment (credentials from it when given, else the SDK's chain). */
function client(values: { region?: string; endpoint?: string }, io: CliIO): SSMClient {
  const env = io.env;
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : undefined;
  if (values.endpoint !== undefined && !/^https?:\/\/\S+$/.test(values.endpoint)) {
    throw new UserError(`--endpoint is ${JSON.stringify(values.endpoint)}; expected an http(s) URL such as http://127.0.0.1:4583`, 2);
  }
  return new SSMClient({
    region: values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    endpoint: values.endpoint,
    credentials,
    maxAttempts: 3,
  });
}

function ssmFailure(what: string, e: unknown): UserError {
  const err = e as { name?: string; message?: string };
  return new UserError(`${what}: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`, 1);
}

/** One row of `switch list`. */
export interface SwitchRow {
  readonly switch: string;
  /** Stored state; `-` when missing, `?` when malformed. */
  readonly state: string;
  /** The state applications act on, and why. */
  readonly effective: Evaluation;
  readonly reason: string;
  readonly changed_by: string;
  readonly changed_at: string;
  readonly expires: string;
}

function rowOf(ref: string, sw: Parameters<typeof evaluateSwitch>[0], reading: SwitchReading, now: number): SwitchRow {
  const effective = evaluateSwitch(sw, reading, now);
  if (reading.kind !== 'value') {
    return {
      switch: ref,
      state: reading.kind === 'missing' ? '-' : '?',
      effective,
      reason: reading.kind === 'missing' ? 'parameter not found' : `malformed: ${reading.problem}`,
      changed_by: '-',
      changed_at: '-',
      expires: '-',
    };
  }
  const v = reading.value;
  return {
    switch: ref,
    state: v.state,
    effective,
    reason: v.reason,
    changed_by: v.changed_by,
    changed_at: v.changed_at ?? '-',
    expires: v.expires_at ?? '-',
  };
}

const EFFECTIVE_NOTE: Record<Evaluation['source'], string> = {
  set: '',
  expired: ' (expired: policy initial)',
  missing: ' (missing: safe default)',
  malformed: ' (malformed: safe default)',
  unread: ' (unread: safe default)',
};

function table(rows: SwitchRow[]): string {
  const head = ['SWITCH', 'STATE', 'EFFECTIVE', 'REASON', 'CHANGED_BY', 'CHANGED_AT', 'EXPIRES'];
  const cells = rows.map((r) => [
    r.switch,
    r.state,
    `${r.effective.state}${EFFECTIVE_NOTE[r.effective.source]}`,
    short(r.reason, 60),
    r.changed_by,
    r.changed_at,
    r.expires,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells].map((c) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  ')).join('\n');
}

const short = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

export const switchList: CliCommand = async (args, io) => {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CONNECTION, json: { type: 'boolean' } } });
  if (values.help) return (io.stdout.write(SWITCH_HELP.list), 0);
  if (positionals.length) throw new UserError(`unexpected argument ${JSON.stringify(positionals[0])}; see 'llmops switch list --help'`, 2);
  const file = values.policy ?? DEFAULT_FILE;
  const loaded = load(file, io);
  if (typeof loaded === 'number') return loaded;
  const policy = loaded.policy;
  const prefix = switchPrefix(policy);
  const switches = resolveSwitches(policy);
  const ssm = client(values, io);
  try {
    const { readings, strays } = await readAllSwitches(ssm, prefix, switches).catch((e: unknown) => {
      throw ssmFailure(`cannot read the kill switches under ${prefix}`, e);
    });
    const now = Date.now();
    const rows = switches.map((sw) => rowOf(sw.ref, sw, readings.get(sw.ref) ?? { kind: 'missing' }, now));
    if (values.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else {
      io.stdout.write(`${table(rows)}\n`);
      io.stdout.write(
        `\nParameters under ${prefix}/; applications see a change within ${durationSeconds(policy.kill_switches.cache_ttl)} s (kill_switches.cache_ttl).\n`,
      );
    }
    for (const name of strays)
      io.stderr.write(`warning: ${name} is under the kill-switch path but is no switch of ${file}; applications ignore it\n`);
    return 0;
  } finally {
    ssm.destroy();
  }
};

export const switchSet: CliCommand = async (args, io) => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION, reason: { type: 'string' }, 'expires-in': { type: 'string' }, operator: { type: 'string' } },
  });
  if (values.help) return (io.stdout.write(SWITCH_HELP.set), 0);
  if (positionals.length !== 2) {
    throw new UserError(
      `expected <switch> and on|off, got ${positionals.length} argument(s); e.g. llmops switch set connectors.hr_policies off --reason "INC-4711"`,
      2,
    );
  }
  const [ref, state] = positionals as [string, string];
  if (state !== 'on' && state !== 'off') throw new UserError(`state is ${JSON.stringify(state)}; expected on or off`, 2);
  const reason = values.reason?.trim();
  if (!reason)
    throw new UserError('--reason is required: say why (an incident id, a ticket); it is recorded with the switch and in the audit log', 2);
  if (reason.length > MAX_REASON_CHARS)
    throw new UserError(`--reason is ${reason.length} characters; at most ${MAX_REASON_CHARS} are kept`, 2);
  const operator = (values.operator ?? io.env.LLMOPS_OPERATOR ?? io.env.USER)?.trim();
  if (!operator) throw new UserError('cannot tell who is flipping the switch: pass --operator NAME or set LLMOPS_OPERATOR', 2);
  let expiresInMs: number | undefined;
  if (values['expires-in'] !== undefined) {
    const d = parseDuration(values['expires-in']);
    if (!d)
      throw new UserError(
        `--expires-in is ${JSON.stringify(values['expires-in'])}; expected a whole number followed by s, m, h or d, e.g. 2h`,
        2,
      );
    expiresInMs = d.seconds * 1000;
  }

  const file = values.policy ?? DEFAULT_FILE;
  const loaded = load(file, io);
  if (typeof loaded === 'number') return loaded;
  const policy = loaded.policy;
  const switches = resolveSwitches(policy);
  const sw = switches.find((s) => s.ref === ref);
  if (!sw)
    throw new UserError(`${JSON.stringify(ref)} is no kill switch of ${file}; declared: ${switches.map((s) => s.ref).join(', ')}`, 2);

  const prefix = switchPrefix(policy);
  const ssm = client(values, io);
  try {
    const current = await readSwitch(ssm, prefix, ref).catch((e: unknown) => {
      throw ssmFailure(`cannot read ${ref}`, e);
    });
    if (current.kind === 'missing') {
      throw new UserError(
        `${ref} has no parameter under ${prefix}/ in this account and region; deploy the stack first (the CLI does not create switches)`,
        1,
      );
    }
    const now = Date.now();
    const before = evaluateSwitch(sw, current, now);
    const value: SwitchValue = {
      state,
      reason,
      changed_by: operator,
      changed_at: new Date(now).toISOString(),
      ...(expiresInMs === undefined ? {} : { expires_at: new Date(now + expiresInMs).toISOString() }),
    };
    await writeSwitch(ssm, prefix, ref, value).catch((e: unknown) => {
      throw ssmFailure(`cannot write ${ref}`, e);
    });
    const ttl = durationSeconds(policy.kill_switches.cache_ttl);
    const expiry = value.expires_at ? `; expires ${value.expires_at}, then ${sw.initial} (policy initial)` : '';
    io.stdout.write(`${ref}: ${before.state} -> ${state} (by ${operator}${expiry}). Applications see it within ${ttl} s.\n`);
    return 0;
  } finally {
    ssm.destroy();
  }
};
