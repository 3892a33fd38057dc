import { formatWarning, loadPolicy, PolicyError, type LoadedPolicy, type LoadOptions } from '../core/policy';

/**
 * What a CLI command talks to. Commands take this instead of `process` so tests run
 * them in-process with captured streams.
 */
export interface CliIO {
  /** Standard input, read as a stream (commands that read stdin consume it fully or line by line). */
  readonly stdin: NodeJS.ReadableStream;
  /** Standard output. */
  readonly stdout: NodeJS.WritableStream;
  /** Standard error: diagnostics and warnings, never record content. */
  readonly stderr: NodeJS.WritableStream;
  /** Environment variables (e.g. LLMOPS_HASH_KEY). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A command: receives its arguments (after the command words) and returns the exit code. */
export type CliCommand = (args: string[], io: CliIO) => Promise<number>;

/** A user error: printed as its message alone (no stack trace), with the given exit code. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * Loads a command's policy: its warnings go to stderr, one line each; its problems come
 * back as the text to print (every problem, then the count), for the command to turn into
 * its own exit code.
 */
export function loadCliPolicy(file: string, io: CliIO, opts: LoadOptions = {}): LoadedPolicy | { readonly problems: string } {
  try {
    const loaded = loadPolicy(file, opts);
    for (const w of loaded.warnings) io.stderr.write(`${formatWarning(w)}\n`);
    return loaded;
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    return { problems: `${e.message}\n${e.problems.length} problem(s) in ${file}` };
  }
}
