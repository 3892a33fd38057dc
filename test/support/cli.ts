/**
 * Runs the `llmops` command line in process through `main`, as `bin/llmops.mjs` does (so a
 * UserError prints `llmops <command>: <message>` and exits with its code), capturing
 * stdout and stderr.
 */
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../lib/cli/main';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runLlmops(
  argv: string[],
  env: Record<string, string | undefined> = {},
  stdin: Readable = Readable.from([]),
): Promise<CliRun> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdin, stdout, stderr, env });
  // Let the streams deliver what was written.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
