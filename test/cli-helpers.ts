/** Runs `llmops` in-process with captured streams. */
import { PassThrough, Readable } from 'node:stream';
import { main } from '../lib/cli/main';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function sink(): { stream: PassThrough; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export async function runCli(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const out = sink();
  const err = sink();
  const code = await main(args, {
    stdin: Readable.from([Buffer.from(opts.stdin ?? '')]),
    stdout: out.stream,
    stderr: err.stream,
    env: opts.env ?? {},
  });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out.text(), stderr: err.text() };
}
