/**
 * The access-matrix harness: evaluates the expected matrix of `lib/core/spec/access-matrix.ts`
 * against a synthesized template with an IAM policy evaluator (@cloud-copilot/iam-simulate,
 * AGPL-3.0: a devDependency that only test/ and scripts/ import, never shipped).
 *
 * 1. `stackModelOf` resolves the template to concrete ARNs (`./cfn-resolve.ts`) and finds
 *    what the matrix talks about from the template and the store layout, not from logical
 *    ids: the stores by their construct ids (a public contract), the keys by what they
 *    encrypt, the streams by their destination, the workgroups by their results location,
 *    the tables by their location, the switches by their names, the audit log group as the
 *    target of the Parameter Store change rule, the tier roles and Lambda roles by construct
 *    path. Each principal gets its identity policies (AWS::IAM::Policy and ManagedPolicy
 *    naming its role, inline and managed policies of the role).
 * 2. `callsOf` turns a capability into the calls it takes (action, resource, resource policy).
 * 3. `requestContext` is the one place the request context is set: the evaluator fills no
 *    context key itself, and a deny conditioned on a missing key fires for everyone.
 * 4. `evaluateAccessMatrix` / `evaluateAssumeMatrix` evaluate every cell; `differences`
 *    compares with the expected matrix.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Policy } from '../../lib/core/policy';
import { refOf, switchPrefix } from '../../lib/core/killswitch/values';
import {
  type AccessMatrix,
  type AssumeMatrix,
  type AssumeVerdict,
  type Assumer,
  type Capability,
  type MatrixKey,
  MATRIX_KEYS,
  type MatrixPrincipalId,
  type MatrixStream,
  type Verdict,
} from '../../lib/core/spec/access-matrix';
import { STORE_LAYOUT, STORE_NAMES, type StorageTier, type StoreName } from '../../lib/core/storage';
import type { RoleName } from '../../lib/core/storage/tiers';
import { type CfnTemplate, type FakeEnvironment, findByPath, ResolvedTemplate, type ResolvedResource } from './cfn-resolve';

/** The fake deploying account, region and partition every ARN resolves to. */
export const FAKE_ACCOUNT = '111111111111';
export const FAKE_REGION = 'eu-west-1';
/** An account no policy names: the "other account" of the matrix. */
export const OTHER_ACCOUNT = '222222222222';

export type PolicyDocument = { Version?: string; Statement: unknown };
export interface NamedPolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

/** Who makes a request. */
export interface Actor {
  readonly id: string;
  /** The request principal: a role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) or a user. */
  readonly sessionArn: string;
  /** `aws:PrincipalArn`: the role (or user) ARN. */
  readonly principalArn: string;
  readonly account: string;
  /** The session was obtained with MFA (`aws:MultiFactorAuthPresent`). */
  readonly mfa: boolean;
  /** Session tags (`aws:PrincipalTag/<key>`). */
  readonly tags?: Readonly<Record<string, string>>;
  readonly identityPolicies: readonly NamedPolicy[];
}

/** One call a capability takes. */
export interface Call {
  readonly action: string;
  readonly resource: string;
  /** The bucket, key or trust policy of the resource, if it has one. */
  readonly resourcePolicy?: PolicyDocument;
  /** A KMS call a service makes for the caller (`kms:ViaService`). */
  readonly via?: 'firehose' | 's3';
  /** A call Athena makes with the caller's credentials (`aws:CalledVia`). */
  readonly calledVia?: 'athena';
  /** The prefix a ListBucket asks for (`s3:prefix`). */
  readonly s3Prefix?: string;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/**
 * The request context of a call: every context key the stack's policies may test, set here
 * and nowhere else. `aws:MultiFactorAuthPresent` only in an MFA session; `kms:ViaService`
 * only for a KMS call a service makes for the caller; `s3:prefix` only for ListBucket.
 */
export function requestContext(actor: Actor, call: Call, env: Pick<FakeEnvironment, 'region'>): Record<string, string | string[]> {
  const ctx: Record<string, string | string[]> = {
    'aws:PrincipalArn': actor.principalArn,
    'aws:PrincipalAccount': actor.account,
    'aws:PrincipalType': actor.sessionArn.includes(':assumed-role/') ? 'AssumedRole' : 'User',
    'aws:SecureTransport': 'true',
    'aws:RequestedRegion': env.region,
  };
  if (actor.mfa) ctx['aws:MultiFactorAuthPresent'] = 'true';
  for (const [k, v] of Object.entries(actor.tags ?? {})) ctx[`aws:PrincipalTag/${k}`] = v;
  if (call.action.startsWith('kms:')) ctx['kms:CallerAccount'] = actor.account;
  if (call.via) {
    ctx['kms:ViaService'] = `${call.via}.${env.region}.amazonaws.com`;
    ctx['aws:ViaAWSService'] = 'true';
  }
  if (call.calledVia) {
    const service = `${call.calledVia}.amazonaws.com`;
    ctx['aws:CalledVia'] = [service];
    ctx['aws:CalledViaFirst'] = service;
    ctx['aws:CalledViaLast'] = service;
    ctx['aws:ViaAWSService'] = 'true';
  }
  if (call.s3Prefix !== undefined) ctx['s3:prefix'] = call.s3Prefix;
  return ctx;
}

/** Evaluates one call; an input the evaluator refuses throws (never a silent pass). */
export async function evaluateCall(
  actor: Actor,
  call: Call,
  env: Pick<FakeEnvironment, 'account' | 'region'>,
  context: Record<string, string | string[]> = requestContext(actor, call, env),
): Promise<Decision> {
  const res = await runSimulation(
    {
      request: {
        principal: actor.sessionArn,
        action: call.action,
        resource: { resource: call.resource, accountId: env.account },
        contextVariables: context,
      },
      identityPolicies: actor.identityPolicies.map((p) => ({ name: p.name, policy: p.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(call.resourcePolicy ? { resourcePolicy: call.resourcePolicy } : {}),
    },
    {},
  );
  if (res.resultType === 'error')
    throw new Error(`${actor.id} ${call.action} on ${call.resource}: the evaluator refused the input: ${JSON.stringify(res.errors)}`);
  if (res.resultType !== 'single')
    throw new Error(`${actor.id} ${call.action} on ${call.resource}: expected one resource, got ${res.resultType}`);
  return res.overallResult as Decision;
}

// ---------------------------------------------------------------- the stack, from the template

interface StoreModel {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly policy?: PolicyDocument;
  /** The KMS key of the bucket's default encryption (undefined: S3-managed). */
  readonly keyArn?: string;
}

interface KeyModel {
  readonly logicalId: string;
  readonly arn: string;
  readonly policy: PolicyDocument;
  readonly description?: string;
}

interface WorkGroupModel {
  readonly name: string;
  readonly arn: string;
  readonly store: StoreName;
  readonly prefix: string;
  readonly tier: StorageTier;
  readonly keyArn?: string;
}

interface TableModel {
  readonly database: string;
  readonly name: string;
  readonly store: StoreName;
  readonly prefix: string;
  readonly tier: StorageTier;
}

interface StreamModel {
  readonly arn: string;
  /** The customer-managed key of its server-side encryption, if any. */
  readonly sseKeyArn?: string;
}

export interface StackModel {
  readonly env: FakeEnvironment;
  readonly template: ResolvedTemplate;
  readonly stores: Partial<Record<StoreName, StoreModel>>;
  readonly keys: Partial<Record<MatrixKey, KeyModel>>;
  /** KMS keys of the template that no row of the matrix covers (logical id and description). */
  readonly uncoveredKeys: readonly string[];
  readonly keysByArn: ReadonlyMap<string, KeyModel>;
  readonly streams: Partial<Record<MatrixStream, StreamModel>>;
  readonly workGroups: ReadonlyMap<string, WorkGroupModel>;
  readonly tables: readonly TableModel[];
  readonly switches: ReadonlyMap<string, { name: string; arn: string }>;
  readonly switchPathArn: string;
  readonly auditLogGroup?: { name: string };
  /** Tier roles by the `access` entry. */
  readonly tierRoles: Partial<Record<RoleName, RoleModel>>;
  readonly actors: Partial<Record<MatrixPrincipalId, Actor>>;
}

interface RoleModel {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly trust: PolicyDocument;
  readonly identityPolicies: NamedPolicy[];
}

/** Construct ids below the stack (a public contract: renaming one replaces the resource). */
const STORE_PATHS: Record<StoreName, string> = {
  traces: 'Storage/Traces/Resource',
  metrics: 'Storage/Metrics/Resource',
  debug: 'Storage/Debug/Resource',
  audit: 'Storage/Audit/Resource',
  results: 'Storage/Results/Resource',
};
const TIER_ROLE_PATHS: Record<RoleName, string> = {
  metrics_readers: 'Storage/MetricsReader/Resource',
  trace_analysts: 'Storage/TraceAnalyst/Resource',
  incident_responders: 'Storage/IncidentResponder/Resource',
  kill_switch_operators: 'Storage/KillSwitchOperator/Resource',
};
/** The policies the stack publishes for applications (the producer of the matrix holds them all). */
const APPLICATION_POLICY_PATHS = [
  'Ingest/ProducerPolicy/Resource',
  'Ingest/DebugProducerPolicy/Resource',
  'KillSwitches/ReadPolicy/Resource',
];
const FUNCTION_PATHS = { trip_function: 'KillSwitches/TripFn/Resource', rollup_function: 'Rollups/RollupFn/Resource' } as const;

const ALLOW_EVERYTHING: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const s3Location = (url: unknown): { bucket: string; key: string } | undefined => {
  const m = typeof url === 'string' ? /^s3:\/\/([^/]+)\/(.*)$/.exec(url) : null;
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
};

/** A role session's ARN. */
function sessionOf(principalArn: string, session = 'matrix'): string {
  const m = /^arn:([^:]+):iam::([0-9]{12}):role\/(?:.*\/)?([^/]+)$/.exec(principalArn);
  return m ? `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${session}` : principalArn;
}

const accountOf = (arn: string) => /^arn:[^:]+:(?:iam|sts)::([0-9]{12}):/.exec(arn)?.[1] ?? FAKE_ACCOUNT;

/** Locates what the matrix talks about in a template, resolved for `env`. */
export function stackModelOf(template: CfnTemplate, policy: Policy, env: FakeEnvironment): StackModel {
  const t = new ResolvedTemplate(template, env);
  const arn = (service: string, resource: string) => `arn:${env.partition}:${service}:${env.region}:${env.account}:${resource}`;

  // Keys: every key of the template, by ARN.
  const keysByArn = new Map<string, KeyModel>();
  for (const k of t.ofType('AWS::KMS::Key'))
    keysByArn.set(t.attr(k.logicalId, 'Arn') as string, {
      logicalId: k.logicalId,
      arn: t.attr(k.logicalId, 'Arn') as string,
      policy: k.props.KeyPolicy as PolicyDocument,
      description: k.props.Description,
    });
  const keyArnOf = (ref: unknown): string | undefined => {
    if (typeof ref !== 'string') return undefined;
    if (keysByArn.has(ref)) return ref;
    const byId = [...keysByArn.values()].find((k) => k.arn.endsWith(`/${ref}`));
    return byId?.arn ?? ref;
  };

  // Stores, by construct id; their bucket policies.
  const bucketPolicies = new Map<string, PolicyDocument>();
  for (const bp of t.ofType('AWS::S3::BucketPolicy'))
    bucketPolicies.set(bp.props.Bucket as string, bp.props.PolicyDocument as PolicyDocument);
  const stores: Partial<Record<StoreName, StoreModel>> = {};
  for (const name of STORE_NAMES) {
    const b = findByPath(t, STORE_PATHS[name]);
    if (!b || b.type !== 'AWS::S3::Bucket') continue;
    const bucketName = t.ref(b.logicalId) as string;
    const sse = (b.props.BucketEncryption?.ServerSideEncryptionConfiguration ?? []) as {
      ServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: string };
    }[];
    const kms = sse.map((x) => x.ServerSideEncryptionByDefault).find((d) => d?.SSEAlgorithm?.startsWith('aws:kms'));
    const keyArn = keyArnOf(kms?.KMSMasterKeyID);
    const policyDoc = bucketPolicies.get(bucketName);
    stores[name] = {
      logicalId: b.logicalId,
      name: bucketName,
      arn: t.attr(b.logicalId, 'Arn') as string,
      ...(policyDoc ? { policy: policyDoc } : {}),
      ...(keyArn ? { keyArn } : {}),
    };
  }
  const storeOfBucket = (bucket: string) => STORE_NAMES.find((n) => stores[n]?.name === bucket);
  /** The store and layout prefix an S3 location falls under. */
  const placeOf = (url: unknown) => {
    const loc = s3Location(url);
    const store = loc && storeOfBucket(loc.bucket);
    if (!loc || !store) return undefined;
    const p = STORE_LAYOUT[store].prefixes.find((x) => loc.key.startsWith(x.prefix));
    return p ? { store, prefix: p.prefix, tier: p.tier } : undefined;
  };

  // Workgroups, by their results location.
  const workGroups = new Map<string, WorkGroupModel>();
  for (const wg of t.ofType('AWS::Athena::WorkGroup')) {
    const result = wg.props.WorkGroupConfiguration?.ResultConfiguration;
    const place = placeOf(result?.OutputLocation);
    if (!place) continue;
    const keyArn = keyArnOf(result?.EncryptionConfiguration?.KmsKey);
    workGroups.set(place.prefix.replace(/\/$/, ''), {
      name: wg.props.Name,
      arn: arn('athena', `workgroup/${wg.props.Name}`),
      ...place,
      ...(keyArn ? { keyArn } : {}),
    });
  }

  // Tables, by their location.
  const tables: TableModel[] = [];
  for (const tb of t.ofType('AWS::Glue::Table')) {
    const place = placeOf(tb.props.TableInput?.StorageDescriptor?.Location);
    if (place) tables.push({ database: tb.props.DatabaseName, name: tb.props.TableInput.Name, ...place });
  }

  // Matrix keys, by what they encrypt.
  const keys: Partial<Record<MatrixKey, KeyModel>> = {};
  const setKey = (k: MatrixKey, keyArn: string | undefined) => {
    const model = keyArn ? keysByArn.get(keyArn) : undefined;
    if (model) keys[k] = model;
  };
  setKey('data', stores.traces?.keyArn);
  setKey('debug', stores.debug?.keyArn);
  /** The one key every resource of a type is encrypted with (the matrix has one row for it). */
  const oneKeyOf = (type: string, property: string): string | undefined => {
    const used = [...new Set(t.ofType(type).map((x) => keyArnOf(x.props[property])))].filter((x) => x !== undefined);
    if (used.length > 1) throw new Error(`the ${type} resources use ${used.length} keys; the matrix has one row for them`);
    return used[0];
  };
  setKey('audit', oneKeyOf('AWS::CloudTrail::Trail', 'KMSKeyId'));
  setKey('logs', oneKeyOf('AWS::Logs::LogGroup', 'KmsKeyId'));
  setKey('alerts', oneKeyOf('AWS::SNS::Topic', 'KmsMasterKeyId'));
  const covered = new Set(MATRIX_KEYS.map((k) => keys[k]?.arn));
  const uncoveredKeys = [...keysByArn.values()]
    .filter((k) => !covered.has(k.arn))
    .map((k) => `${k.logicalId} (${k.description ?? 'no description'})`);

  // Streams, by destination.
  const streams: Partial<Record<MatrixStream, StreamModel>> = {};
  for (const s of t.ofType('AWS::KinesisFirehose::DeliveryStream')) {
    const dest = s.props.ExtendedS3DestinationConfiguration ?? s.props.S3DestinationConfiguration;
    const store = STORE_NAMES.find((n) => stores[n]?.arn === dest?.BucketARN);
    const kind: MatrixStream | undefined = store === 'traces' ? 'events' : store === 'debug' ? 'debug' : undefined;
    if (!kind) continue;
    const sse = s.props.DeliveryStreamEncryptionConfigurationInput as { KeyType?: string; KeyARN?: string } | undefined;
    const sseKeyArn = sse?.KeyType === 'CUSTOMER_MANAGED_CMK' ? keyArnOf(sse.KeyARN) : undefined;
    streams[kind] = { arn: t.attr(s.logicalId, 'Arn') as string, ...(sseKeyArn ? { sseKeyArn } : {}) };
  }

  // Switches, by name under the policy's path.
  const prefix = switchPrefix(policy);
  const switches = new Map<string, { name: string; arn: string }>();
  for (const p of [...t.ofType('Custom::KillSwitch'), ...t.ofType('AWS::SSM::Parameter')]) {
    const name = p.props.Name as string;
    const ref = refOf(prefix, name);
    if (ref) switches.set(ref, { name, arn: arn('ssm', `parameter${name}`) });
  }

  // The audit log group: the target of the rule on Parameter Store changes.
  const logGroups = t.ofType('AWS::Logs::LogGroup').map((g) => ({ name: t.ref(g.logicalId) as string }));
  const auditTargets = t
    .ofType('AWS::Events::Rule')
    .filter((r) => JSON.stringify(r.props.EventPattern?.source ?? []).includes('aws.ssm'))
    .flatMap((r) => (r.props.Targets ?? []) as { Arn: string }[]);
  const auditLogGroup = logGroups.find((g) =>
    auditTargets.some((x) => x.Arn === arn('logs', `log-group:${g.name}`) || x.Arn === arn('logs', `log-group:${g.name}:*`)),
  );

  // Roles and their identity policies.
  const roleModel = (r: ResolvedResource): RoleModel => {
    const name = t.ref(r.logicalId) as string;
    const roleArn = t.attr(r.logicalId, 'Arn') as string;
    const identity: NamedPolicy[] = [];
    for (const p of (r.props.Policies ?? []) as { PolicyName: string; PolicyDocument: PolicyDocument }[])
      identity.push({ name: `${r.logicalId}/${p.PolicyName}`, policy: p.PolicyDocument });
    for (const policyArn of (r.props.ManagedPolicyArns ?? []) as string[]) {
      const managed = t.ofType('AWS::IAM::ManagedPolicy').find((m) => t.ref(m.logicalId) === policyArn);
      if (!managed)
        throw new Error(
          `role ${r.logicalId} has the managed policy ${policyArn}, which is not in the template: the harness cannot evaluate it offline`,
        );
      identity.push({ name: managed.logicalId, policy: managed.props.PolicyDocument });
    }
    for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'])
      for (const p of t.ofType(type))
        if (((p.props.Roles ?? []) as string[]).includes(name)) identity.push({ name: p.logicalId, policy: p.props.PolicyDocument });
    for (const p of t.ofType('AWS::IAM::RolePolicy'))
      if (p.props.RoleName === name) identity.push({ name: p.logicalId, policy: p.props.PolicyDocument });
    return { logicalId: r.logicalId, name, arn: roleArn, trust: r.props.AssumeRolePolicyDocument, identityPolicies: identity };
  };
  const roleByArn = (roleArn: unknown) => {
    const r = t.ofType('AWS::IAM::Role').find((x) => t.attr(x.logicalId, 'Arn') === roleArn);
    return r ? roleModel(r) : undefined;
  };

  const tierRoles: Partial<Record<RoleName, RoleModel>> = {};
  for (const [role, path] of Object.entries(TIER_ROLE_PATHS) as [RoleName, string][]) {
    const r = findByPath(t, path);
    if (r?.type === 'AWS::IAM::Role') tierRoles[role] = roleModel(r);
  }

  const actors: Partial<Record<MatrixPrincipalId, Actor>> = {};
  const roleActor = (id: MatrixPrincipalId, r: RoleModel | undefined, mfa = false) => {
    if (r)
      actors[id] = {
        id,
        sessionArn: sessionOf(r.arn),
        principalArn: r.arn,
        account: env.account,
        mfa,
        identityPolicies: r.identityPolicies,
      };
  };
  const appPolicies = APPLICATION_POLICY_PATHS.map((p) => findByPath(t, p)).filter((p) => p?.type === 'AWS::IAM::ManagedPolicy');
  if (appPolicies.length) {
    const producerArn = `arn:${env.partition}:iam::${env.account}:role/matrix-producer`;
    actors.producer = {
      id: 'producer',
      sessionArn: sessionOf(producerArn),
      principalArn: producerArn,
      account: env.account,
      mfa: false,
      identityPolicies: appPolicies.map((p) => ({ name: p!.logicalId, policy: p!.props.PolicyDocument })),
    };
  }
  roleActor('metrics_reader', tierRoles.metrics_readers);
  roleActor('trace_analyst', tierRoles.trace_analysts);
  roleActor('incident_responder', tierRoles.incident_responders, true);
  roleActor('kill_switch_operator', tierRoles.kill_switch_operators);
  for (const [id, path] of Object.entries(FUNCTION_PATHS) as [MatrixPrincipalId, string][]) {
    const fn = findByPath(t, path);
    if (fn?.type === 'AWS::Lambda::Function') roleActor(id, roleByArn(fn.props.Role));
  }
  const synthetic = (id: MatrixPrincipalId, account: string, name: string, policies: NamedPolicy[]): Actor => {
    const principalArn = `arn:${env.partition}:iam::${account}:role/${name}`;
    return { id, sessionArn: sessionOf(principalArn), principalArn, account, mfa: false, identityPolicies: policies };
  };
  actors.account_principal = synthetic('account_principal', env.account, 'matrix-ordinary', []);
  actors.account_admin = synthetic('account_admin', env.account, 'matrix-administrator', [
    { name: 'AdministratorAccess', policy: ALLOW_EVERYTHING },
  ]);
  actors.other_account = synthetic('other_account', OTHER_ACCOUNT, 'matrix-administrator', [
    { name: 'AdministratorAccess', policy: ALLOW_EVERYTHING },
  ]);

  return {
    env,
    template: t,
    stores,
    keys,
    uncoveredKeys,
    keysByArn,
    streams,
    workGroups,
    tables,
    switches,
    switchPathArn: arn('ssm', `parameter${prefix}`),
    ...(auditLogGroup ? { auditLogGroup } : {}),
    tierRoles,
    actors,
  };
}

// ---------------------------------------------------------------- capabilities as calls

/** The key objects under a store's prefix are written with, from the template: a workgroup writing there uses its own key, anything else the bucket's. */
function objectKeyArn(m: StackModel, store: StoreName, prefix: string): string | undefined {
  const wg = [...m.workGroups.values()].find((w) => w.store === store && w.prefix === prefix);
  return wg ? wg.keyArn : m.stores[store]?.keyArn;
}

/** The calls that read objects under a prefix: list it, get an object, decrypt it through S3. */
function readCalls(m: StackModel, store: StoreName, prefix: string, calledVia?: 'athena'): Call[] | undefined {
  const s = m.stores[store];
  if (!s) return undefined;
  const via = calledVia ? { calledVia } : {};
  const rp = s.policy ? { resourcePolicy: s.policy } : {};
  const calls: Call[] = [
    { action: 's3:ListBucket', resource: s.arn, s3Prefix: prefix, ...rp, ...via },
    { action: 's3:GetObject', resource: `${s.arn}/${prefix}matrix-probe`, ...rp, ...via },
  ];
  const keyArn = objectKeyArn(m, store, prefix);
  if (keyArn) calls.push(kmsCall(m, 'kms:Decrypt', keyArn, 's3', calledVia));
  return calls;
}

function kmsCall(m: StackModel, action: string, keyArn: string, via?: Call['via'], calledVia?: 'athena'): Call {
  const key = m.keysByArn.get(keyArn);
  return {
    action,
    resource: keyArn,
    ...(key ? { resourcePolicy: key.policy } : {}),
    ...(via ? { via } : {}),
    ...(calledVia ? { calledVia } : {}),
  };
}

/** The calls a capability takes in this stack; undefined when the template lacks what it needs (the cell is absent). */
export function callsOf(m: StackModel, c: Capability): Call[] | undefined {
  const arn = (service: string, resource: string) => `arn:${m.env.partition}:${service}:${m.env.region}:${m.env.account}:${resource}`;
  switch (c.kind) {
    case 'put-records': {
      const s = m.streams[c.stream];
      if (!s) return undefined;
      // With a customer-managed stream key, PutRecordBatch is modelled as also asking KMS, through Firehose and as the
      // producer, for a data key and its decryption (the model of issue 15's findings 2 and 3). With the AWS-owned key
      // the streams use now there is no KMS call on our keys.
      const kms = s.sseKeyArn ? ['kms:GenerateDataKey', 'kms:Decrypt'].map((a) => kmsCall(m, a, s.sseKeyArn!, 'firehose')) : [];
      return [{ action: 'firehose:PutRecordBatch', resource: s.arn }, ...kms];
    }
    case 'read':
      return readCalls(m, c.store, c.prefix);
    case 'decrypt': {
      const k = m.keys[c.key];
      return k ? [kmsCall(m, 'kms:Decrypt', k.arn)] : undefined;
    }
    case 'query': {
      const wg = m.workGroups.get(c.workGroup);
      const tables = m.tables.filter((x) => x.tier === c.tier);
      if (!wg || tables.length === 0 || !wg.keyArn) return undefined;
      const catalog = arn('glue', 'catalog');
      const databases = [...new Set(tables.map((x) => x.database))];
      const glue: Call[] = [
        ...databases.flatMap((db) => [catalog, arn('glue', `database/${db}`)].map((r) => ({ action: 'glue:GetDatabase', resource: r }))),
        ...tables.flatMap((tb) =>
          ['glue:GetTable', 'glue:GetPartitions'].flatMap((action) =>
            [catalog, arn('glue', `database/${tb.database}`), arn('glue', `table/${tb.database}/${tb.name}`)].map((resource) => ({
              action,
              resource,
            })),
          ),
        ),
      ];
      const data = tables.flatMap((tb) => readCalls(m, tb.store, tb.prefix, 'athena') ?? []);
      const results = m.stores[wg.store]!;
      const resultsRp = results.policy ? { resourcePolicy: results.policy } : {};
      const object = `${results.arn}/${wg.prefix}matrix-probe.csv`;
      return [
        ...['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'].map((action) => ({
          action,
          resource: wg.arn,
        })),
        ...glue,
        ...data,
        { action: 's3:PutObject', resource: object, calledVia: 'athena', ...resultsRp },
        kmsCall(m, 'kms:GenerateDataKey', wg.keyArn, 's3', 'athena'),
        { action: 's3:GetObject', resource: object, calledVia: 'athena', ...resultsRp },
        kmsCall(m, 'kms:Decrypt', wg.keyArn, 's3', 'athena'),
      ];
    }
    case 'flip': {
      const s = m.switches.get(c.ref);
      return s ? [{ action: 'ssm:PutParameter', resource: s.arn }] : undefined;
    }
    case 'read-switches':
      return m.switches.size ? [{ action: 'ssm:GetParametersByPath', resource: m.switchPathArn }] : undefined;
    case 'read-switch-audit': {
      const g = m.auditLogGroup;
      if (!g) return undefined;
      return [
        { action: 'logs:FilterLogEvents', resource: arn('logs', `log-group:${g.name}`) },
        { action: 'logs:GetLogEvents', resource: arn('logs', `log-group:${g.name}:log-stream:matrix-probe`) },
      ];
    }
  }
}

// ---------------------------------------------------------------- evaluating the matrices

export interface EvaluatedCall {
  readonly call: Call;
  readonly decision: Decision;
}

export interface EvaluatedCell {
  /** `absent`: the template lacks the principal or the resources of the capability. */
  readonly verdict: Verdict | 'absent';
  readonly calls: readonly EvaluatedCall[];
}

/** Allowed when every call is; denied when any call is explicitly denied; otherwise not granted. */
export function verdictOfCalls(decisions: readonly Decision[]): Verdict {
  if (decisions.some((d) => d === 'ExplicitlyDenied')) return 'denied';
  if (decisions.some((d) => d === 'ImplicitlyDenied')) return 'not granted';
  return 'allowed';
}

/** Evaluates calls once each per actor (a query repeats the read calls). */
class CallCache {
  private readonly memo = new Map<string, Promise<Decision>>();
  constructor(private readonly env: FakeEnvironment) {}
  decide(actor: Actor, call: Call): Promise<Decision> {
    const key = JSON.stringify([
      actor.id,
      actor.sessionArn,
      actor.mfa,
      call.action,
      call.resource,
      call.via,
      call.calledVia,
      call.s3Prefix,
    ]);
    let hit = this.memo.get(key);
    if (!hit) {
      hit = evaluateCall(actor, call, this.env);
      this.memo.set(key, hit);
    }
    return hit;
  }
}

export type EvaluatedMatrix = Map<string, Partial<Record<MatrixPrincipalId, EvaluatedCell>>>;

/** Evaluates every cell of the expected matrix against the stack. */
export async function evaluateAccessMatrix(m: StackModel, expected: AccessMatrix): Promise<EvaluatedMatrix> {
  const cache = new CallCache(m.env);
  const out: EvaluatedMatrix = new Map();
  await Promise.all(
    expected.rows.map(async (row) => {
      const calls = callsOf(m, row.capability);
      const cells: Partial<Record<MatrixPrincipalId, EvaluatedCell>> = {};
      await Promise.all(
        expected.principals.map(async (p) => {
          const actor = m.actors[p.id];
          if (!actor || !calls) {
            cells[p.id] = { verdict: 'absent', calls: [] };
            return;
          }
          const decisions = await Promise.all(calls.map((call) => cache.decide(actor, call)));
          cells[p.id] = { verdict: verdictOfCalls(decisions), calls: calls.map((call, i) => ({ call, decision: decisions[i]! })) };
        }),
      );
      out.set(row.id, cells);
    }),
  );
  return out;
}

/** The actor of an assumer of the assumption matrix. */
export function assumerActor(a: Assumer, env: FakeEnvironment, mfa: boolean): Actor {
  const allowAssume: NamedPolicy = {
    name: 'AssumeAnyRole',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] },
  };
  const account = a.account === 'this-account' ? env.account : a.account === 'other' ? OTHER_ACCOUNT : a.account;
  // An Identity Center role: aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_<set>_<16-character suffix>.
  const sso = a.federated && 'permissionSet' in a.federated ? a.federated.permissionSet : undefined;
  const principalArn =
    a.arn ??
    (sso
      ? `arn:${env.partition}:iam::${account}:role/aws-reserved/sso.amazonaws.com/${env.region}/AWSReservedSSO_${sso}_0123456789abcdef`
      : `arn:${env.partition}:iam::${account}:role/${a.allowedByOwnPolicy ? 'matrix-assumer' : 'matrix-ordinary'}`);
  return {
    id: a.id,
    sessionArn: sessionOf(principalArn),
    principalArn,
    account: accountOf(principalArn),
    // A federated session never carries the MFA key.
    mfa: mfa && !a.federated,
    ...(a.federated && 'tags' in a.federated ? { tags: a.federated.tags } : {}),
    identityPolicies:
      a.id === 'other-account' ? [{ name: 'AdministratorAccess', policy: ALLOW_EVERYTHING }] : a.allowedByOwnPolicy ? [allowAssume] : [],
  };
}

export interface EvaluatedAssumption {
  readonly verdict: AssumeVerdict | 'denied' | 'absent';
  readonly withoutMfa?: Decision;
  readonly withMfa?: Decision;
}

/** Evaluates who may assume each tier role against its trust policy, with and without MFA. */
export async function evaluateAssumeMatrix(
  m: StackModel,
  expected: AssumeMatrix,
): Promise<Map<RoleName, Record<string, EvaluatedAssumption>>> {
  const out = new Map<RoleName, Record<string, EvaluatedAssumption>>();
  for (const row of expected.rows) {
    const role = m.tierRoles[row.role];
    const cells: Record<string, EvaluatedAssumption> = {};
    await Promise.all(
      expected.assumers.map(async (a) => {
        if (!role) {
          cells[a.id] = { verdict: 'absent' };
          return;
        }
        const call: Call = { action: 'sts:AssumeRole', resource: role.arn, resourcePolicy: role.trust };
        const [withoutMfa, withMfa] = await Promise.all([false, true].map((mfa) => evaluateCall(assumerActor(a, m.env, mfa), call, m.env)));
        const verdict: EvaluatedAssumption['verdict'] =
          withoutMfa === 'Allowed' && withMfa === 'Allowed'
            ? 'allowed'
            : withMfa === 'Allowed' && withoutMfa !== 'Allowed'
              ? 'MFA only'
              : withoutMfa === 'ExplicitlyDenied' || withMfa === 'ExplicitlyDenied'
                ? 'denied'
                : 'not granted';
        cells[a.id] = { verdict, withoutMfa: withoutMfa!, withMfa: withMfa! };
      }),
    );
    out.set(row.role, cells);
  }
  return out;
}

// ---------------------------------------------------------------- comparing

export interface Difference {
  /** `<row id> / <principal>` or `assume <role> / <assumer>`. */
  readonly cell: string;
  readonly expected: string;
  readonly evaluated: string;
  /** The calls that decided it (those not allowed, or all when the cell is allowed against expectation). */
  readonly evidence: readonly string[];
}

const showCall = (e: EvaluatedCall) =>
  `${e.call.action} on ${e.call.resource}${e.call.via ? ` via ${e.call.via}` : ''}${e.call.calledVia ? ` called via ${e.call.calledVia}` : ''}${e.call.s3Prefix !== undefined ? ` (s3:prefix ${e.call.s3Prefix})` : ''}: ${e.decision}`;

/** Cells where the evaluation differs from the expected matrix. */
export function differences(
  expected: AccessMatrix,
  evaluated: EvaluatedMatrix,
  assume?: { expected: AssumeMatrix; evaluated: Map<RoleName, Record<string, EvaluatedAssumption>> },
): Difference[] {
  const out: Difference[] = [];
  for (const row of expected.rows) {
    for (const p of expected.principals) {
      const want = row.cells[p.id].verdict;
      const got = evaluated.get(row.id)?.[p.id];
      if (!got || got.verdict !== want) {
        const calls = got?.calls ?? [];
        const notAllowed = calls.filter((c) => c.decision !== 'Allowed');
        out.push({
          cell: `${row.id} / ${p.id}`,
          expected: want,
          evaluated: got?.verdict ?? 'absent',
          evidence: (notAllowed.length ? notAllowed : calls).map(showCall),
        });
      }
    }
  }
  if (assume) {
    for (const row of assume.expected.rows) {
      for (const a of assume.expected.assumers) {
        const want = row.cells[a.id]!;
        const got = assume.evaluated.get(row.role)?.[a.id];
        if (!got || got.verdict !== want)
          out.push({
            cell: `assume ${row.role} / ${a.id}`,
            expected: want,
            evaluated: got?.verdict ?? 'absent',
            evidence: got?.withMfa ? [`sts:AssumeRole without MFA: ${got.withoutMfa}`, `with MFA: ${got.withMfa}`] : [],
          });
      }
    }
  }
  return out;
}

/** One line per difference, for a test message or the script's output. */
export function formatDifferences(diffs: readonly Difference[]): string {
  return diffs
    .map(
      (d) => `${d.cell}: expected ${d.expected}, evaluated ${d.evaluated}${d.evidence.length ? `\n    ${d.evidence.join('\n    ')}` : ''}`,
    )
    .join('\n');
}

/** Evaluates one cell: a capability for one principal of the model. */
export async function evaluateCell(m: StackModel, capability: Capability, principal: MatrixPrincipalId): Promise<EvaluatedCell> {
  const actor = m.actors[principal];
  const calls = callsOf(m, capability);
  if (!actor || !calls) return { verdict: 'absent', calls: [] };
  const decisions = await Promise.all(calls.map((call) => evaluateCall(actor, call, m.env)));
  return { verdict: verdictOfCalls(decisions), calls: calls.map((call, i) => ({ call, decision: decisions[i]! })) };
}
