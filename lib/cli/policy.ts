/**
 * `llmops policy check|explain|schema`.
 */
import { parseArgs } from 'node:util';
import { explainKillSwitches } from '../core/spec/kill-switches';
import { explainPolicy } from '../core/spec/policy';
import { policyJsonSchemaText } from '../core/policy/json-schema';
import { DEFAULT_POLICY_FILE as DEFAULT_FILE, type LoadedPolicy } from '../core/policy';
import { type CliCommand, type CliIO, loadCliPolicy, UserError } from './io';

const HELP = {
  check: `Usage: llmops policy check [FILE] [--now RFC3339]

Validates a telemetry policy (default: ${DEFAULT_FILE}). Prints every problem, one per
line, as <file>:<line>:<col> <key.path>: <message>, on stderr.

Options:
  --now TIME   judge enrolment expiries at TIME instead of now (RFC 3339)
  -h, --help   show this help

Exit codes: 0 valid, 1 problems found, 2 usage error.
`,
  explain: `Usage: llmops policy explain [FILE] [--now RFC3339]

Prints the one-page telemetry spec (Markdown) derived from the policy alone
(default: ${DEFAULT_FILE}): what is captured and never captured, redaction, retention
per tier and the stores it governs, access roles, debug capture, the metric dictionary,
alarms with their runbooks, kill switches and release gates.

Options:
  --kill-switches  print the kill-switch page instead (docs/kill-switches.md)
  --now TIME       judge enrolment expiries at TIME instead of now (RFC 3339)
  -h, --help       show this help
`,
  schema: `Usage: llmops policy schema

Prints the editor JSON Schema of the telemetry policy (telemetry-policy.schema.json).
`,
};

interface Parsed {
  readonly file: string;
  readonly now?: Date;
  readonly help: boolean;
  readonly killSwitches: boolean;
}

function parse(args: string[], allowFile: boolean): Parsed {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: allowFile,
    options: {
      help: { type: 'boolean', short: 'h' },
      ...(allowFile ? { now: { type: 'string' }, 'kill-switches': { type: 'boolean' } } : {}),
    },
  });
  if (positionals.length > 1) throw new UserError(`expected at most one policy file, got ${positionals.length}`, 2);
  const nowText = (values as { now?: string }).now;
  let now: Date | undefined;
  if (nowText !== undefined) {
    now = new Date(nowText);
    if (Number.isNaN(now.getTime()))
      throw new UserError(`--now is ${JSON.stringify(nowText)}; expected an RFC 3339 time such as 2026-11-29T12:00:00Z`, 2);
  }
  return {
    file: positionals[0] ?? DEFAULT_FILE,
    now,
    help: values.help === true,
    killSwitches: (values as { 'kill-switches'?: boolean })['kill-switches'] === true,
  };
}

/** Loads the policy; problems go to stderr and become exit code 1. */
function load(p: Parsed, io: CliIO): LoadedPolicy | number {
  const loaded = loadCliPolicy(p.file, io, { now: p.now });
  if ('problems' in loaded) return (io.stderr.write(`${loaded.problems}\n`), 1);
  return loaded;
}

export const policyCheck: CliCommand = async (args, io) => {
  const p = parse(args, true);
  if (p.help) return (io.stdout.write(HELP.check), 0);
  const loaded = load(p, io);
  if (typeof loaded === 'number') return loaded;
  io.stdout.write(`${p.file}: valid (${loaded.warnings.length} warning(s))\n`);
  return 0;
};

export const policyExplain: CliCommand = async (args, io) => {
  const p = parse(args, true);
  if (p.help) return (io.stdout.write(HELP.explain), 0);
  const loaded = load(p, io);
  if (typeof loaded === 'number') return loaded;
  io.stdout.write(p.killSwitches ? explainKillSwitches(loaded.policy) : explainPolicy(loaded.policy));
  return 0;
};

export const policySchema: CliCommand = async (args, io) => {
  const p = parse(args, false);
  if (p.help) return (io.stdout.write(HELP.schema), 0);
  io.stdout.write(policyJsonSchemaText());
  return 0;
};
