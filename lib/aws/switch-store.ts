/**
 * Parameter Store I/O for kill switches: read them all under the prefix, read some by
 * name, write one. Used by the runtime client, the trip Lambda and the CLI. No
 * aws-cdk-lib here.
 */
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { ResolvedSwitch } from '../core/policy/switches';
import { parameterName, readingOf, refOf, serializeSwitchValue, type SwitchReading, type SwitchValue } from '../core/killswitch/values';

/** GetParametersByPath returns at most 10 parameters a page. */
const PAGE_SIZE = 10;
/** GetParameters accepts at most 10 names a call. */
const NAMES_PER_CALL = 10;

export interface ReadOptions {
  /** Aborts the read (e.g. `AbortSignal.timeout(ms)`). */
  readonly signal?: AbortSignal;
}

export interface ReadAllResult {
  /** One reading per switch of the list: a value, malformed, or missing. */
  readonly readings: Map<string, SwitchReading>;
  /** Parameter names under the prefix that belong to no switch (ignored). */
  readonly strays: string[];
  /** Calls made (pages). */
  readonly calls: number;
}

/**
 * Reads every switch with one paginated `GetParametersByPath` (Recursive, no
 * decryption) on the prefix. A switch with no parameter reads as `missing`. Throws
 * what the SDK throws when a page cannot be read: a partial read is never returned.
 */
export async function readAllSwitches(
  ssm: SSMClient,
  prefix: string,
  switches: readonly Pick<ResolvedSwitch, 'ref'>[],
  opts: ReadOptions = {},
): Promise<ReadAllResult> {
  const known = new Set(switches.map((s) => s.ref));
  const found = new Map<string, string | undefined>();
  const strays: string[] = [];
  let token: string | undefined;
  let calls = 0;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({ Path: prefix, Recursive: true, WithDecryption: false, MaxResults: PAGE_SIZE, NextToken: token }),
      { abortSignal: opts.signal },
    );
    calls++;
    for (const p of page.Parameters ?? []) {
      const ref = p.Name === undefined ? undefined : refOf(prefix, p.Name);
      if (ref !== undefined && known.has(ref)) found.set(ref, p.Value);
      else if (p.Name !== undefined) strays.push(p.Name);
    }
    token = page.NextToken || undefined;
  } while (token);
  const readings = new Map<string, SwitchReading>();
  for (const ref of known) readings.set(ref, readingOf(found.get(ref)));
  return { readings, strays, calls };
}

/** Reads the given switches by name (`GetParameters`, 10 names a call); a name not found reads as `missing`. */
export async function readSwitches(
  ssm: SSMClient,
  prefix: string,
  refs: readonly string[],
  opts: ReadOptions = {},
): Promise<Map<string, SwitchReading>> {
  const out = new Map<string, SwitchReading>();
  for (let i = 0; i < refs.length; i += NAMES_PER_CALL) {
    const chunk = refs.slice(i, i + NAMES_PER_CALL);
    const res = await ssm.send(new GetParametersCommand({ Names: chunk.map((r) => parameterName(prefix, r)), WithDecryption: false }), {
      abortSignal: opts.signal,
    });
    const byName = new Map((res.Parameters ?? []).map((p) => [p.Name, p.Value]));
    for (const ref of chunk) out.set(ref, readingOf(byName.get(parameterName(prefix, ref))));
  }
  return out;
}

/** Reads one switch (`GetParameter`); `missing` when the parameter does not exist. */
export async function readSwitch(ssm: SSMClient, prefix: string, ref: string, opts: ReadOptions = {}): Promise<SwitchReading> {
  try {
    const res = await ssm.send(new GetParameterCommand({ Name: parameterName(prefix, ref), WithDecryption: false }), {
      abortSignal: opts.signal,
    });
    return readingOf(res.Parameter?.Value);
  } catch (e) {
    if ((e as { name?: string }).name === 'ParameterNotFound') return { kind: 'missing' };
    throw e;
  }
}

/** Writes a switch's document (`PutParameter`, String, overwrite); returns the new parameter version. */
export async function writeSwitch(
  ssm: SSMClient,
  prefix: string,
  ref: string,
  value: SwitchValue,
  opts: ReadOptions = {},
): Promise<number | undefined> {
  const res = await ssm.send(
    new PutParameterCommand({ Name: parameterName(prefix, ref), Value: serializeSwitchValue(value), Type: 'String', Overwrite: true }),
    { abortSignal: opts.signal },
  );
  return res.Version;
}
