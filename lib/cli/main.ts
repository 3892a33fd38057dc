/**
 * The `llmops` command line: dispatches `llmops <group> <command>` to the commands.
 * User errors print one line and exit non-zero; no stack traces.
 */
import { type CliCommand, type CliIO, UserError } from './io';
import { GATE_SUMMARY, gateCommand } from './gate';
import { policyCheck, policyExplain, policySchema } from './policy';
import { redactCommand, transformCommand } from './redact';
import { SWITCH_SUMMARIES, switchList, switchSet } from './switch';

interface Entry {
  readonly summary: string;
  readonly run: CliCommand;
}

/** Command table: `group command` (or a single word) to its implementation. */
const COMMANDS: Record<string, Entry> = {
  'policy check': { summary: 'validate a telemetry policy (exit 0 valid, 1 problems, 2 usage)', run: policyCheck },
  'policy explain': { summary: 'print the one-page telemetry spec (Markdown) derived from a policy', run: policyExplain },
  'policy schema': { summary: 'print the editor JSON Schema of the policy', run: policySchema },
  redact: { summary: 'redact text lines (--text) or JSON Lines events (--events) from stdin', run: redactCommand },
  transform: { summary: 'run a Firehose transformation event (stdin) through the redaction Lambda core', run: transformCommand },
  'switch list': { summary: SWITCH_SUMMARIES.list, run: switchList },
  'switch set': { summary: SWITCH_SUMMARIES.set, run: switchSet },
  gate: { summary: GATE_SUMMARY, run: gateCommand },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, e]) => `  llmops ${k.padEnd(width)}  ${e.summary}`);
  return `Usage: llmops <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'llmops <command> --help' for a command's options.\n`;
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    (argv.length === 0 ? io.stderr : io.stdout).write(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const two = argv.slice(0, 2).join(' ');
  const [words, rest] = COMMANDS[two] ? [two, argv.slice(2)] : [argv[0] ?? '', argv.slice(1)];
  const entry = COMMANDS[words];
  if (!entry) {
    io.stderr.write(`llmops: unknown command '${argv.slice(0, 2).join(' ')}'\n${usage()}`);
    return 2;
  }
  try {
    return await entry.run(rest, io);
  } catch (e) {
    if (e instanceof UserError) {
      io.stderr.write(`llmops ${words}: ${e.message}\n`);
      return e.exitCode;
    }
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`llmops ${words}: ${(e as Error).message}\nRun 'llmops ${words} --help'.\n`);
      return 2;
    }
    throw e;
  }
}
