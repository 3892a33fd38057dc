/**
 * The Lambdas' environment contracts: what the constructs write (`...EnvFromPolicy`)
 * decodes to what the policy says, for the shipped and the minimal policy; decoding
 * fails naming the variable, what is wrong and what is allowed; and the environment the
 * synthesized template gives each function decodes.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { hashKeyFromSecret } from '../lambdas/shared/hash-key';
import { ConfigError, defineEnv, json, text } from '../lib/core/env/contract';
import { SERVICE_NAMES } from '../lib/core/env/services';
import { decodeTripEnv, tripEnvFromPolicy, TRIP_ENV } from '../lib/core/killswitch/env';
import { tripMap } from '../lib/core/killswitch/trip';
import { switchPrefix } from '../lib/core/killswitch/values';
import { metricsNamespace } from '../lib/core/metrics/dictionary';
import { loadPolicy, type Policy } from '../lib/core/policy';
import { decodeRollupEnv, rollupEnvFromPolicy, ROLLUP_ENV } from '../lib/core/rollup/env';
import { analystsWorkGroupName, catalogDatabaseName } from '../lib/core/rollup/names';
import { decodeTransformEnv, transformConfigFromPolicy, transformEnvFromPolicy, TRANSFORM_ENV } from '../lib/core/transform/env';
import { buildStack, SHIPPED_POLICY_FILE, variantPolicy } from './helpers';

const POLICIES: readonly [string, Policy][] = [
  ['the shipped policy', loadPolicy(SHIPPED_POLICY_FILE).policy],
  ['the minimal policy', loadPolicy('test/fixtures/minimal-policy.yaml').policy],
];
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:copilot-prod-hash-key-AbCdEf';
const ROLLUP_REFS = {
  workGroup: 'copilot-prod-analysts',
  database: 'copilot_prod_telemetry',
  metricsBucket: 'copilot-prod-metrics-1a2b3c',
};

const REDACTION_ALLOWED =
  'JSON {"detectors":{<PII detector>:"plain|keyed|off"},"customPatterns":[{"name","pattern","placeholder"}],"allowedAttributes":[...]}';
const METRICS_ALLOWED =
  'JSON {"slices":{...},"pricing":{"<provider:model>":{...}},"rating_scale":"thumbs|five_star","citation_required_intents":[...]}';
const CAPTURE_ALLOWED = 'JSON {"samplingRate":<(0,1]>,"outcomeSignals":[...]}';
const ARN_ALLOWED = 'the ARN of the hash key secret (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)';
const ENROLMENTS_ALLOWED = 'a JSON array of {"cohort","tenant_id"?,"user_role"?,"reason","expires_at"} ([] when none is live)';
const TRIP_MAP_ALLOWED = 'JSON such as {"copilot-prod-safety-p0-events":[{"ref":"read_only_mode","set":"on"}]}';

/** What `f` throws, which must be a ConfigError. */
function thrown(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
const configError = (f: () => unknown): string => thrown(f).message;

describe('defineEnv (the helper)', () => {
  const contract = defineEnv({
    NAME: text(z.string().regex(/^[a-z]+$/), 'lowercase letters'),
    BUCKET: text(z.string().regex(/^[a-z0-9-]{3,63}$/), 'a bucket name', { deployTime: true }),
    LIMITS: json(z.strictObject({ max: z.int().min(1) }), 'JSON {"max":<positive integer>}'),
  });

  it('encodes in the declared order, JSON as given, and decodes to typed values', () => {
    const env = contract.encode({ LIMITS: { max: 3 }, BUCKET: 'b-1', NAME: 'abc' });
    expect(Object.entries(env)).toEqual([
      ['NAME', 'abc'],
      ['BUCKET', 'b-1'],
      ['LIMITS', '{"max":3}'],
    ]);
    expect(contract.decode({ ...env, AWS_REGION: 'eu-west-1' })).toEqual({ NAME: 'abc', BUCKET: 'b-1', LIMITS: { max: 3 } });
  });

  it('encodes a deploy-time reference unchecked (a CDK token), and checks it when decoding', () => {
    const env = contract.encode({ NAME: 'abc', BUCKET: '${Token[TOKEN.123]}', LIMITS: { max: 1 } });
    expect(env.BUCKET).toBe('${Token[TOKEN.123]}');
    expect(configError(() => contract.decode(env))).toBe('BUCKET is "${Token[TOKEN.123]}"; expected a bucket name');
  });

  it('fails when variables are missing, not JSON, or invalid, listing every problem in one error', () => {
    const e = thrown(() => contract.decode({ BUCKET: '', LIMITS: '{"max":0,"min":1}' }));
    expect(e.problems).toEqual([
      'NAME is not set; expected lowercase letters',
      'BUCKET is not set; expected a bucket name',
      'LIMITS is invalid: max: Too small: expected number to be >=1; (root): Unrecognized key: "min"; expected JSON {"max":<positive integer>}',
    ]);
    expect(e.message).toBe(e.problems.join('\n'));
    expect(configError(() => contract.decode({ NAME: 'ABC', BUCKET: 'b-1', LIMITS: '{max:1}' }))).toBe(
      ['NAME is "ABC"; expected lowercase letters', 'LIMITS is not valid JSON; expected JSON {"max":<positive integer>}'].join('\n'),
    );
  });

  it('fails when a value to encode would not decode (a construct-side bug stops the synth, not a cold start)', () => {
    expect(configError(() => contract.encode({ NAME: 'x y', BUCKET: 'b-1', LIMITS: { max: 1, extra: true } as never }))).toBe(
      [
        'NAME would be "x y"; expected lowercase letters',
        'LIMITS would be invalid: (root): Unrecognized key: "extra"; expected JSON {"max":<positive integer>}',
      ].join('\n'),
    );
    expect(configError(() => contract.encode({ NAME: 'abc', BUCKET: '', LIMITS: { max: 1 } }))).toBe(
      'BUCKET would be empty; expected a bucket name',
    );
  });

  it('quotes a long value shortened to 80 characters', () => {
    expect(configError(() => contract.decode({ NAME: 'X'.repeat(100), BUCKET: 'b-1', LIMITS: '{"max":1}' }))).toBe(
      `NAME is "${'X'.repeat(77)}..."; expected lowercase letters`,
    );
  });
});

describe.each(POLICIES)('round trip: what the construct writes decodes to what %s says', (_label, policy) => {
  const config = transformConfigFromPolicy(policy);

  it('events transform: REDACTION_CONFIG, METRICS_CONFIG, HASH_KEY_SECRET_ARN, CAPTURE_CONFIG', () => {
    const env = transformEnvFromPolicy(policy, 'events', { hashKeySecretArn: SECRET_ARN });
    expect(Object.keys(env)).toEqual(['REDACTION_CONFIG', 'METRICS_CONFIG', 'HASH_KEY_SECRET_ARN', 'CAPTURE_CONFIG']);
    expect(decodeTransformEnv('events', env)).toEqual({ ...config, enrolments: [], hashKeySecretArn: SECRET_ARN });
    expect(config.redaction).toEqual({
      detectors: policy.redaction.detectors,
      customPatterns: policy.redaction.custom_patterns.map(({ name, pattern, placeholder }) => ({ name, pattern, placeholder })),
      allowedAttributes: policy.capture.attributes,
    });
    expect(config.metrics).toEqual({
      slices: policy.slices.dimensions,
      pricing: policy.pricing.models,
      rating_scale: policy.capture.rating_scale,
      citation_required_intents: policy.buckets.quality.citation_required_intents,
    });
    expect(config.capture).toEqual({ samplingRate: policy.capture.sampling_rate, outcomeSignals: policy.capture.user_outcome_signals });
  });

  it('debug-capture transform: REDACTION_CONFIG, HASH_KEY_SECRET_ARN, ENROLMENTS (none: capture is off)', () => {
    const env = transformEnvFromPolicy(policy, 'captures', { hashKeySecretArn: SECRET_ARN });
    expect(Object.keys(env)).toEqual(['REDACTION_CONFIG', 'HASH_KEY_SECRET_ARN', 'ENROLMENTS']);
    expect(policy.debug_capture.enabled).toBe(false);
    expect(env.ENROLMENTS).toBe('[]');
    expect(decodeTransformEnv('captures', env)).toEqual({
      redaction: config.redaction,
      metrics: { slices: {}, pricing: {}, rating_scale: 'thumbs', citation_required_intents: ['policy_qna'] },
      enrolments: [],
      capture: { samplingRate: 1, outcomeSignals: ['user_rating', 'escalated_to_human', 'follow_up_within_5m', 'abandoned'] },
      hashKeySecretArn: SECRET_ARN,
    });
  });

  it('rollup: NAMESPACE, WORKGROUP, DATABASE, METRICS_BUCKET, SLICES', () => {
    const env = rollupEnvFromPolicy(policy, ROLLUP_REFS);
    expect(Object.keys(env)).toEqual(['NAMESPACE', 'WORKGROUP', 'DATABASE', 'METRICS_BUCKET', 'SLICES']);
    expect(decodeRollupEnv(env)).toEqual({
      namespace: metricsNamespace(policy),
      workGroup: ROLLUP_REFS.workGroup,
      database: ROLLUP_REFS.database,
      bucket: ROLLUP_REFS.metricsBucket,
      slices: policy.slices.dimensions,
    });
  });

  it('trip: SWITCH_PREFIX, TRIP_MAP', () => {
    const env = tripEnvFromPolicy(policy);
    expect(Object.keys(env)).toEqual(['SWITCH_PREFIX', 'TRIP_MAP']);
    expect(Object.keys(tripMap(policy)).length).toBeGreaterThan(0);
    expect(decodeTripEnv(env)).toEqual({ prefix: switchPrefix(policy), map: tripMap(policy) });
  });
});

describe('round trip: live enrolments', () => {
  const enrolments = [
    { cohort: 'inc_4711', tenant_id: 'emea', reason: 'INC-4711', expires_at: '2026-11-30T18:00:00Z' },
    // An offset is RFC 3339 too: the policy accepts it, so ENROLMENTS must.
    { cohort: 'inc_4712', user_role: 'hr_specialist', reason: 'INC-4712', expires_at: '2026-11-30T09:00:00.5+02:00' },
  ];
  const on = variantPolicy((d) => {
    d.debug_capture = { enabled: true, enrolments };
  });

  it('passes every field of every enrolment of an enabled debug capture, and none of a disabled one', () => {
    const env = transformEnvFromPolicy(on, 'captures', { hashKeySecretArn: SECRET_ARN });
    expect(decodeTransformEnv('captures', env).enrolments).toEqual(enrolments);
    const off = variantPolicy((d) => {
      d.debug_capture = { enabled: false, enrolments };
    });
    expect(off.debug_capture.enrolments).toHaveLength(2);
    expect(decodeTransformEnv('captures', transformEnvFromPolicy(off, 'captures', { hashKeySecretArn: SECRET_ARN })).enrolments).toEqual(
      [],
    );
  });
});

describe('decode errors name the variable, what is wrong and what is allowed', () => {
  const events = TRANSFORM_ENV.events.encode({
    REDACTION_CONFIG: { detectors: {}, customPatterns: [], allowedAttributes: [] },
    METRICS_CONFIG: { slices: {}, pricing: {}, rating_scale: 'thumbs', citation_required_intents: ['policy_qna'] },
    HASH_KEY_SECRET_ARN: SECRET_ARN,
    CAPTURE_CONFIG: { samplingRate: 1, outcomeSignals: ['user_rating'] },
  });

  it('fails when the transform environment names an unknown detector, an unknown rating scale and no secret ARN', () => {
    expect(
      configError(() =>
        decodeTransformEnv('events', {
          REDACTION_CONFIG: '{"detectors":{"fax":"plain"},"customPatterns":[],"allowedAttributes":[]}',
          METRICS_CONFIG: '{"slices":{},"pricing":{},"rating_scale":"stars","citation_required_intents":["policy_qna"]}',
        }),
      ),
    ).toBe(
      [
        `REDACTION_CONFIG is invalid: detectors: Unrecognized key: "fax"; expected ${REDACTION_ALLOWED}`,
        `METRICS_CONFIG is invalid: rating_scale: Invalid option: expected one of "thumbs"|"five_star"; expected ${METRICS_ALLOWED}`,
        `HASH_KEY_SECRET_ARN is not set; expected ${ARN_ALLOWED}`,
        `CAPTURE_CONFIG is not set; expected ${CAPTURE_ALLOWED}`,
      ].join('\n'),
    );
  });

  it('fails when REDACTION_CONFIG holds a field the handler does not know (a construct ahead of its handler)', () => {
    expect(
      configError(() =>
        decodeTransformEnv('events', {
          ...events,
          REDACTION_CONFIG: '{"detectors":{},"customPatterns":[],"allowedAttributes":[],"pseudonymize":["user_id"]}',
        }),
      ),
    ).toBe(`REDACTION_CONFIG is invalid: (root): Unrecognized key: "pseudonymize"; expected ${REDACTION_ALLOWED}`);
  });

  it('fails when HASH_KEY_SECRET_ARN is not an ARN, without quoting it (it might be the key itself)', () => {
    const planted = 'Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0';
    const message = configError(() => decodeTransformEnv('events', { ...events, HASH_KEY_SECRET_ARN: planted }));
    expect(message).toBe(`HASH_KEY_SECRET_ARN is malformed (28 characters, not shown); expected ${ARN_ALLOWED}`);
    expect(message).not.toContain(planted);
  });

  it('fails when the hash key secret is too short, without quoting it', () => {
    expect(() => hashKeyFromSecret('hunter2', 'the hash key secret')).toThrow(
      'the hash key secret is 7 bytes; the hash key must be at least 16',
    );
  });

  it('fails when an enrolment expiry is not an RFC 3339 time', () => {
    const env = {
      ...TRANSFORM_ENV.captures.encode({
        REDACTION_CONFIG: { detectors: {}, customPatterns: [], allowedAttributes: [] },
        HASH_KEY_SECRET_ARN: SECRET_ARN,
        ENROLMENTS: [],
      }),
      ENROLMENTS: '[{"cohort":"c","reason":"r","expires_at":"tomorrow"}]',
    };
    expect(configError(() => decodeTransformEnv('captures', env))).toBe(
      `ENROLMENTS is invalid: 0.expires_at: Invalid ISO datetime; expected ${ENROLMENTS_ALLOWED}`,
    );
  });

  it('fails when the rollup environment has a malformed bucket name and no SLICES', () => {
    const env = { ...rollupEnvFromPolicy(POLICIES[0]![1], ROLLUP_REFS), METRICS_BUCKET: 'My_Bucket', SLICES: undefined };
    expect(configError(() => decodeRollupEnv(env))).toBe(
      [
        'METRICS_BUCKET is "My_Bucket"; expected the name of the metrics-tier S3 bucket',
        'SLICES is not set; expected the policy\'s slices.dimensions as JSON, such as {"intent":{"max_values":8}}',
      ].join('\n'),
    );
  });

  it('fails when TRIP_MAP sets a switch to neither on nor off, or is not JSON', () => {
    expect(configError(() => decodeTripEnv({ SWITCH_PREFIX: '/a/b', TRIP_MAP: '{"a":[{"ref":"tools.x","set":"maybe"}]}' }))).toBe(
      `TRIP_MAP is invalid: a.0.set: Invalid option: expected one of "on"|"off"; expected ${TRIP_MAP_ALLOWED}`,
    );
    expect(configError(() => decodeTripEnv({ SWITCH_PREFIX: '/a/b', TRIP_MAP: '{' }))).toBe(
      `TRIP_MAP is not valid JSON; expected ${TRIP_MAP_ALLOWED}`,
    );
  });

  it('fails when a construct would write a field the handler does not read', () => {
    expect(
      configError(() =>
        TRANSFORM_ENV.events.encode({
          REDACTION_CONFIG: { detectors: {}, customPatterns: [], allowedAttributes: [], pseudonymize: ['user_id'] } as never,
          METRICS_CONFIG: { slices: {}, pricing: {}, rating_scale: 'thumbs', citation_required_intents: ['policy_qna'] },
          HASH_KEY_SECRET_ARN: SECRET_ARN,
          CAPTURE_CONFIG: { samplingRate: 1, outcomeSignals: ['user_rating'] },
        }),
      ),
    ).toBe(`REDACTION_CONFIG would be invalid: (root): Unrecognized key: "pseudonymize"; expected ${REDACTION_ALLOWED}`);
  });
});

/** A physical value for a `{ Ref }` of the synthesized template, by the type of the referenced resource. */
function physical(template: Record<string, { Type: string; Properties?: Record<string, any> }>, policy: Policy, ref: string): string {
  const r = template[ref];
  switch (r?.Type) {
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${ref}-AbCdEf`;
    case 'AWS::Athena::WorkGroup':
      return r.Properties?.Name as string;
    case 'AWS::Glue::Database':
      return r.Properties?.DatabaseInput?.Name as string;
    case 'AWS::S3::Bucket':
      return `${policy.name}-${policy.environment}-${ref.toLowerCase().slice(0, 20)}-1a2b3c`;
    default:
      throw new Error(`no physical value for a Ref to ${ref} (${r?.Type ?? 'not in the template'})`);
  }
}

describe.each(POLICIES)('the synthesized template of %s', (_label, policy) => {
  const { stack, template } = buildStack(policy);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, any> }>;
  const functions = template.findResources('AWS::Lambda::Function');
  const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  const trip = stack.killSwitches.tripFunction;
  if (!trip) throw new Error('both policies map an auto trip: the stack must have a trip function');
  const decoders: Record<string, [service: string, decode: (env: Record<string, string>) => unknown]> = {
    [idOf(stack.ingest.redactFunction)]: [SERVICE_NAMES.redact, (env) => decodeTransformEnv('events', env)],
    [idOf(stack.ingest.debugCaptureFunction)]: [SERVICE_NAMES['debug-capture'], (env) => decodeTransformEnv('captures', env)],
    [idOf(stack.rollups.function)]: [SERVICE_NAMES.rollup, decodeRollupEnv],
    [idOf(trip)]: [SERVICE_NAMES.trip, decodeTripEnv],
    // The Custom::KillSwitch provider reads everything from the request: no variables of its own.
    [idOf(stack.killSwitches.seedFunction)]: [SERVICE_NAMES['switch-seed'], () => undefined],
  };

  /** A function's environment as Lambda would see it, its references resolved to plausible physical names. */
  const envOf = (id: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(functions[id]!.Properties.Environment.Variables as Record<string, unknown>).map(([k, v]) => {
        if (typeof v === 'string') return [k, v];
        const ref = (v as { Ref?: string }).Ref;
        if (ref === undefined) throw new Error(`${id}: ${k} is ${JSON.stringify(v)}, neither a string nor a Ref`);
        return [k, physical(resources, policy, ref)];
      }),
    );

  it('has exactly the five Lambdas with contracts', () => {
    expect(Object.keys(functions).sort()).toEqual(Object.keys(decoders).sort());
  });

  it('gives each function an environment that decodes, and its service name from the one table', () => {
    for (const [id, [service, decode]] of Object.entries(decoders)) {
      const env = envOf(id);
      expect(() => decode(env), id).not.toThrow();
      expect(env.POWERTOOLS_SERVICE_NAME, id).toBe(service);
    }
  });

  it('holds exactly the variables of each contract, besides the Powertools ones', () => {
    const names = (id: string) => Object.keys(envOf(id)).filter((k) => !k.startsWith('POWERTOOLS_'));
    expect(names(idOf(stack.ingest.redactFunction))).toEqual(TRANSFORM_ENV.events.names);
    expect(names(idOf(stack.ingest.debugCaptureFunction))).toEqual(TRANSFORM_ENV.captures.names);
    expect(names(idOf(stack.rollups.function))).toEqual(ROLLUP_ENV.names);
    expect(names(idOf(trip))).toEqual(TRIP_ENV.names);
    expect(names(idOf(stack.killSwitches.seedFunction))).toEqual([]);
  });

  it('decodes to what the policy says, the references resolved to the resources they name', () => {
    const redact = decodeTransformEnv('events', envOf(idOf(stack.ingest.redactFunction)));
    expect(redact).toEqual({
      ...transformConfigFromPolicy(policy),
      enrolments: [],
      hashKeySecretArn: physical(resources, policy, idOf(stack.ingest.hashKey as never)),
    });
    const rollup = decodeRollupEnv(envOf(idOf(stack.rollups.function)));
    expect(rollup).toMatchObject({
      namespace: metricsNamespace(policy),
      workGroup: analystsWorkGroupName(policy),
      database: catalogDatabaseName(policy),
      slices: policy.slices.dimensions,
    });
    expect(decodeTripEnv(envOf(idOf(trip)))).toEqual({ prefix: switchPrefix(policy), map: tripMap(policy) });
  });
});
