/**
 * Typed Lambda environments: one contract per function, written by the construct
 * (`encode`) and read by the handler (`decode`), so that a variable added on one side
 * and not the other fails `tsc` or a unit test instead of a cold start.
 *
 * A contract lists its variables, each either JSON (a zod schema of the parsed value) or
 * a plain string. Decoding checks every variable and reports every problem at once, each
 * naming the variable, what is wrong and what is allowed. No variable holds secret
 * material (secrets are referenced by ARN and read at run time); JSON problems never
 * quote the value (zod's messages say what was expected, not what was found), and a
 * string variable declared `hideValue` is never quoted either.
 */
import * as z from 'zod';

/** An environment as Lambda gives it (`process.env`) or a test injects it. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** A configuration problem: the handler refuses to start rather than run misconfigured. */
export class ConfigError extends Error {
  /** One line per problem; `message` joins them. */
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('\n'));
    this.name = 'ConfigError';
    this.problems = list;
  }
}

/** A variable holding JSON: `encode` serializes the value as given, `decode` parses it with the schema. */
export interface JsonVariable<S extends z.ZodType = z.ZodType> {
  readonly kind: 'json';
  readonly schema: S;
  /** What the variable must hold, as errors say it after "expected". */
  readonly allowed: string;
}

/** A variable holding a plain string. */
export interface StringVariable<S extends z.ZodType<string> = z.ZodType<string>> {
  readonly kind: 'string';
  readonly schema: S;
  readonly allowed: string;
  /**
   * The value is a reference to another resource (a bucket name, a secret ARN), which is
   * a deploy-time token when the construct encodes it: `encode` checks only that it is a
   * non-empty string, `decode` checks it in full.
   */
  readonly deployTime: boolean;
  /** Errors never quote the value (a misconfigured variable may hold what should have stayed in a secret). */
  readonly hideValue: boolean;
}

export type Variable = JsonVariable | StringVariable;

/** A JSON variable. */
export function json<S extends z.ZodType>(schema: S, allowed: string): JsonVariable<S> {
  return { kind: 'json', schema, allowed };
}

/**
 * A plain-string variable; `deployTime` when the construct passes a reference to another
 * resource, `hideValue` when errors must not quote it.
 */
export function text<S extends z.ZodType<string>>(
  schema: S,
  allowed: string,
  opts: { deployTime?: boolean; hideValue?: boolean } = {},
): StringVariable<S> {
  return { kind: 'string', schema, allowed, deployTime: opts.deployTime ?? false, hideValue: opts.hideValue ?? false };
}

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** What `encode` takes: the JSON variables' values (read-only values accepted), the strings as strings. */
export type EnvValues<V extends Record<string, Variable>> = {
  readonly [K in keyof V]: V[K] extends JsonVariable<infer S> ? DeepReadonly<z.input<S>> : string;
};

/** What `decode` returns: each variable parsed with its schema. */
export type DecodedEnv<V extends Record<string, Variable>> = {
  readonly [K in keyof V]: z.output<V[K]['schema']>;
};

export interface EnvContract<V extends Record<string, Variable>> {
  readonly variables: V;
  /** The variable names, in the order `encode` writes them. */
  readonly names: readonly (keyof V & string)[];
  /** The environment for these values; throws ConfigError when a value would not decode. */
  encode(values: EnvValues<V>): Record<keyof V & string, string>;
  /** The values of an environment; throws one ConfigError listing every problem. */
  decode(env: EnvSource): DecodedEnv<V>;
}

/** One line per zod issue: where in the value, and what was expected there. */
function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** A plain value as errors show it: quoted, at most 80 characters; or only its length. */
function show(raw: string, v: StringVariable): string {
  if (v.hideValue) return `malformed (${raw.length} characters, not shown)`;
  return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
}

function decodeOne(name: string, v: Variable, raw: string | undefined): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (raw === undefined || raw === '') return { ok: false, problem: `${name} is not set; expected ${v.allowed}` };
  if (v.kind === 'string') {
    const r = v.schema.safeParse(raw);
    return r.success ? { ok: true, value: r.data } : { ok: false, problem: `${name} is ${show(raw, v)}; expected ${v.allowed}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, problem: `${name} is not valid JSON; expected ${v.allowed}` };
  }
  const r = v.schema.safeParse(parsed);
  return r.success ? { ok: true, value: r.data } : { ok: false, problem: `${name} is invalid: ${issues(r.error)}; expected ${v.allowed}` };
}

/** A contract over `variables` (their order is the order `encode` writes them in). */
export function defineEnv<V extends Record<string, Variable>>(variables: V): EnvContract<V> {
  const names = Object.keys(variables) as (keyof V & string)[];
  return {
    variables,
    names,
    encode(values) {
      const out = {} as Record<keyof V & string, string>;
      const problems: string[] = [];
      for (const name of names) {
        const v = variables[name] as Variable;
        const value: unknown = values[name];
        if (v.kind === 'json') {
          const r = v.schema.safeParse(value);
          // Serialized as given (not as parsed), so the environment keeps the caller's key order.
          if (r.success) out[name] = JSON.stringify(value);
          else problems.push(`${name} would be invalid: ${issues(r.error)}; expected ${v.allowed}`);
        } else if (typeof value !== 'string' || value === '') {
          problems.push(`${name} would be empty; expected ${v.allowed}`);
        } else if (!v.deployTime && !v.schema.safeParse(value).success) {
          problems.push(`${name} would be ${show(value, v)}; expected ${v.allowed}`);
        } else {
          out[name] = value;
        }
      }
      if (problems.length) throw new ConfigError(problems);
      return out;
    },
    decode(env) {
      const out: Record<string, unknown> = {};
      const problems: string[] = [];
      for (const name of names) {
        const r = decodeOne(name, variables[name] as Variable, env[name]);
        if (r.ok) out[name] = r.value;
        else problems.push(r.problem);
      }
      if (problems.length) throw new ConfigError(problems);
      return out as DecodedEnv<V>;
    },
  };
}

/** Bytes of the given variables (name and value), as Lambda counts them against its 4 KB. */
export function envBytes(env: Readonly<Record<string, string>>, names: readonly string[] = Object.keys(env)): number {
  let n = 0;
  for (const k of names) n += utf8Length(k) + utf8Length(env[k] ?? '');
  return n;
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}
