/**
 * The access matrix (lib/core/spec/access-matrix.ts, printed by `llmops policy explain`)
 * evaluated cell by cell against the synthesized template with an IAM policy evaluator:
 * identity policies of each principal, bucket, key and trust policies, the request context
 * of each call (test/support/iam-matrix.ts). For the shipped and the minimal policy, in a
 * stack for the fake account 111111111111 in eu-west-1. Then the harness itself: the
 * template resolver on pseudo parameters and intrinsics (an environment-agnostic template,
 * as `cdk synth` without credentials writes it, holds them), and planted breakages of a
 * template copy that flip the cells they should, so it cannot pass silently.
 */
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackNameFor, TelemetryStack } from '../lib/constructs/stack';
import type { Policy } from '../lib/core/policy';
import {
  accessMatrix,
  assumeMatrix,
  type AccessMatrix,
  type Assumer,
  type AssumeMatrix,
  type Capability,
} from '../lib/core/spec/access-matrix';
import { STORE_NAMES } from '../lib/core/storage';
import { type CfnTemplate, cdkLogicalId, ResolvedTemplate } from './support/cfn-resolve';
import {
  type Difference,
  differences,
  evaluateAccessMatrix,
  evaluateAssumeMatrix,
  evaluateCall,
  evaluateCell,
  FAKE_ACCOUNT,
  FAKE_REGION,
  formatDifferences,
  OTHER_ACCOUNT,
  requestContext,
  type StackModel,
  stackModelOf,
} from './support/iam-matrix';
import { CDK_CONTEXT, MINIMAL_POLICY_FILE, policyFrom, SHIPPED_POLICY_FILE, shippedPolicyText, variantPolicy } from './support/policy';

/**
 * Cells where the template does something else than the expected matrix says, each with
 * the evidence, until the product is fixed. The test fails when a gap disappears: remove
 * the entry with the fix. Empty: the template does what the spec says, cell for cell.
 */
const KNOWN_GAPS: readonly { readonly policy: string; readonly cell: string; readonly evaluated: string; readonly why: string }[] = [];

const POLICIES: [string, Policy][] = [
  [SHIPPED_POLICY_FILE, policyFrom(shippedPolicyText(), SHIPPED_POLICY_FILE)],
  [MINIMAL_POLICY_FILE, policyFrom(readFileSync(MINIMAL_POLICY_FILE, 'utf8'), MINIMAL_POLICY_FILE)],
];

const built = new Map<Policy, { stack: TelemetryStack; template: CfnTemplate }>();

/** The stack for a policy in the fake account and region (as `cdk deploy` builds it with credentials), Lambdas not bundled; built once per policy. */
function synthesize(policy: Policy): { stack: TelemetryStack; template: CfnTemplate } {
  const hit = built.get(policy);
  if (hit) return hit;
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new TelemetryStack(app, stackNameFor(policy), { policy, env: { account: FAKE_ACCOUNT, region: FAKE_REGION } });
  const out = { stack, template: Template.fromStack(stack).toJSON() as CfnTemplate };
  built.set(policy, out);
  return out;
}

const envFor = (policy: Policy) => ({ account: FAKE_ACCOUNT, region: FAKE_REGION, partition: 'aws', stackName: stackNameFor(policy) });
const logicalId = (stack: Stack, c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);

describe.each(POLICIES)('the access matrix of %s', (file, policy) => {
  let stack: TelemetryStack;
  let model: StackModel;
  let expected: AccessMatrix;
  let assume: AssumeMatrix;
  let diffs: Difference[];

  beforeAll(async () => {
    const synth = synthesize(policy);
    stack = synth.stack;
    model = stackModelOf(synth.template, policy, envFor(policy));
    expected = accessMatrix(policy);
    assume = assumeMatrix(policy);
    diffs = differences(expected, await evaluateAccessMatrix(model, expected), {
      expected: assume,
      evaluated: await evaluateAssumeMatrix(model, assume),
    });
  });

  it('names no account the harness uses for its fake principals', () => {
    const named = Object.values(policy.access).flatMap((r) => r.principals);
    expect(named.filter((p) => p.includes(FAKE_ACCOUNT) || p.includes(OTHER_ACCOUNT))).toEqual([]);
  });

  it('finds every principal and resource the matrix names in the template, where the stack objects put them', () => {
    const s = stack.storage;
    for (const name of STORE_NAMES) expect(model.stores[name]?.logicalId, name).toBe(logicalId(stack, s.bucket(name)));
    expect(model.keys.data?.logicalId).toBe(logicalId(stack, s.dataKey));
    expect(model.keys.debug?.logicalId).toBe(logicalId(stack, s.debugKey));
    expect(model.keys.alerts?.logicalId).toBe(logicalId(stack, stack.alerting.key));
    expect(model.keys.audit?.logicalId).toBe(logicalId(stack, s.auditKey));
    expect(model.keys.logs?.logicalId).toBe(logicalId(stack, s.logsKey));
    expect(model.tierRoles.trace_analysts?.logicalId).toBe(logicalId(stack, s.traceAnalystRole));
    expect(model.tierRoles.incident_responders?.logicalId).toBe(logicalId(stack, s.incidentResponderRole));
    expect(model.tierRoles.metrics_readers?.logicalId).toBe(logicalId(stack, s.metricsReaderRole));
    expect(model.tierRoles.kill_switch_operators?.logicalId).toBe(logicalId(stack, s.killSwitchOperatorRole));
    expect(model.actors.rollup_function?.principalArn).toBe(
      `arn:aws:iam::${FAKE_ACCOUNT}:role/${model.template.ref(logicalId(stack, stack.rollups.function.role!)) as string}`,
    );
    expect([...model.switches.keys()].sort()).toEqual(stack.killSwitches.switches.map((x) => x.ref).sort());
    expect(model.auditLogGroup?.name).toBe(model.template.ref(logicalId(stack, stack.killSwitches.auditLogGroup)));
    expect([...model.workGroups.values()].map((w) => w.name).sort()).toEqual(
      [stack.catalog.analystsWorkGroup.name, stack.catalog.incidentWorkGroup.name].sort(),
    );
    expect(model.tables.map((x) => x.name).sort()).toEqual(['captures', 'events', 'quarantine']);
    for (const p of expected.principals) expect(model.actors[p.id], p.id).toBeDefined();
  });

  it('covers every KMS key of the template with a row', () => {
    expect(model.uncoveredKeys).toEqual([]);
  });

  it('evaluates every cell as the expected matrix says (the known gaps aside), and who may assume each tier role', () => {
    const gaps = KNOWN_GAPS.filter((g) => g.policy === file);
    const unexpected = diffs.filter((d) => !gaps.some((g) => g.cell === d.cell && g.evaluated === d.evaluated));
    expect(diffs.filter((d) => d.evaluated === 'absent')).toEqual([]);
    expect(unexpected, formatDifferences(unexpected)).toEqual([]);
    expect(expected.rows.length * expected.principals.length).toBeGreaterThan(200);
  });

  it('still has each known gap (remove the entry from KNOWN_GAPS when the product is fixed)', () => {
    for (const g of KNOWN_GAPS.filter((x) => x.policy === file))
      expect(
        diffs.some((d) => d.cell === g.cell && d.evaluated === g.evaluated),
        `${g.cell} no longer evaluates ${g.evaluated}: remove it from KNOWN_GAPS`,
      ).toBe(true);
  });
});

describe('the template resolver', () => {
  const env = { account: FAKE_ACCOUNT, region: FAKE_REGION, partition: 'aws', stackName: 's' };

  it('resolves pseudo parameters, Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If and AWS::NoValue to the names a deployed stack has', () => {
    const t = new ResolvedTemplate(
      {
        Conditions: { InRegion: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, FAKE_REGION] } },
        Resources: {
          Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'my-bucket' } },
          Key: { Type: 'AWS::KMS::Key', Properties: {} },
          Role: { Type: 'AWS::IAM::Role', Properties: { Path: '/svc/' } },
          Doc: {
            Type: 'AWS::IAM::Policy',
            Properties: {
              Roles: [{ Ref: 'Role' }],
              Resource: [
                {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':parameter/x'],
                  ],
                },
                { 'Fn::Sub': '${Bucket.Arn}/events/*' },
                { 'Fn::Sub': ['arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${Id}', { Id: { Ref: 'Key' } }] },
                { 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] },
                { 'Fn::If': ['InRegion', 'here', 'elsewhere'] },
                { 'Fn::If': ['InRegion', { Ref: 'AWS::NoValue' }, 'dropped'] },
                { 'Fn::GetAtt': ['Role', 'Arn'] },
              ],
            },
          },
        },
      },
      env,
    );
    const keyId = t.ref('Key') as string;
    expect(keyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(t.props('Doc')).toEqual({
      Roles: [t.ref('Role')],
      Resource: [
        `arn:aws:ssm:${FAKE_REGION}:${FAKE_ACCOUNT}:parameter/x`,
        'arn:aws:s3:::my-bucket/events/*',
        `arn:aws:kms:${FAKE_REGION}:${FAKE_ACCOUNT}:key/${keyId}`,
        'b',
        'here',
        `arn:aws:iam::${FAKE_ACCOUNT}:role/svc/${t.ref('Role') as string}`,
      ],
    });
  });

  it('fails when it meets what it cannot resolve, naming where', () => {
    const t = (props: Record<string, unknown>) =>
      new ResolvedTemplate({ Resources: { P: { Type: 'AWS::IAM::Policy', Properties: props } } }, env).props('P');
    expect(() => t({ X: { 'Fn::ImportValue': 'shared-key' } })).toThrow(
      'P.Properties.X (Fn::ImportValue): the harness does not resolve Fn::ImportValue',
    );
    expect(() => t({ X: [{ Ref: 'Missing' }] })).toThrow('P.Properties.X[0]: Ref to Missing, which is not in the template');
  });

  it('finds a resource by construct path, as CDK allocates its logical id', () => {
    expect(cdkLogicalId('Storage/TraceAnalyst/Resource')).toBe('StorageTraceAnalystD650695F');
    // "Switches" dropped after "KillSwitches", "Default" hidden: the id of the switch's custom resource.
    expect(cdkLogicalId('KillSwitches/Switches/read_only_mode/KillSwitch/Default')).toBe('KillSwitchesreadonlymodeKillSwitchCF00267E');
  });
});

describe('the harness cannot pass silently', () => {
  const policy = POLICIES[0]![1];
  let pristine: CfnTemplate;
  let stack: TelemetryStack;
  let model: StackModel;

  beforeAll(() => {
    const synth = synthesize(policy);
    stack = synth.stack;
    pristine = synth.template;
    model = stackModelOf(pristine, policy, envFor(policy));
  });

  /** The model of a copy of the template that `edit` changed. */
  const broken = (edit: (t: any) => void): StackModel => {
    const copy = structuredClone(pristine);
    edit(copy);
    return stackModelOf(copy, policy, envFor(policy));
  };
  const read = (store: (typeof STORE_NAMES)[number], prefix: string): Capability => {
    const row = accessMatrix(policy).rows.find(
      (r) => r.capability.kind === 'read' && r.capability.store === store && r.capability.prefix === prefix,
    );
    return row!.capability;
  };
  const withoutStatement = (resource: any, path: string[], sid: string) => {
    const doc = path.reduce((o, k) => o[k], resource.Properties);
    const before = doc.Statement.length;
    doc.Statement = doc.Statement.filter((x: { Sid?: string }) => x.Sid !== sid);
    expect(doc.Statement.length, `${sid} removed`).toBe(before - 1);
  };
  const bucketPolicyOf = (t: any, store: (typeof STORE_NAMES)[number]) =>
    Object.values(t.Resources).find(
      (r: any) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === model.stores[store]!.logicalId,
    ) as any;

  it('a copy without the traces bucket deny on quarantine/ lets the trace analyst through to "not granted" and the administrator to "allowed"', async () => {
    const quarantine = read('traces', 'quarantine/');
    expect((await evaluateCell(model, quarantine, 'trace_analyst')).verdict).toBe('denied');
    expect((await evaluateCell(model, quarantine, 'account_admin')).verdict).toBe('denied');
    const m = broken((t) => withoutStatement(bucketPolicyOf(t, 'traces'), ['PolicyDocument'], 'DenyReadsQuarantineOutsideDebugTier'));
    expect((await evaluateCell(m, quarantine, 'trace_analyst')).verdict).toBe('not granted');
    expect((await evaluateCell(m, quarantine, 'account_admin')).verdict).toBe('allowed');
  });

  it('a copy without the debug bucket and debug key denies flips the trace analyst reading debug captures from "denied" to "not granted"', async () => {
    const captures = read('debug', 'captures/');
    expect((await evaluateCell(model, captures, 'trace_analyst')).verdict).toBe('denied');
    const m = broken((t) => {
      withoutStatement(bucketPolicyOf(t, 'debug'), ['PolicyDocument'], 'DenyReadsOutsideDebugTier');
      withoutStatement(t.Resources[model.keys.debug!.logicalId], ['KeyPolicy'], 'DenyDecryptOutsideDebugTier');
    });
    expect((await evaluateCell(m, captures, 'trace_analyst')).verdict).toBe('not granted');
    expect((await evaluateCell(m, captures, 'account_admin')).verdict).toBe('allowed');
  });

  it('a copy without the trace analyst grants leaves it reading nothing', async () => {
    const events = read('traces', 'events/');
    expect((await evaluateCell(model, events, 'trace_analyst')).verdict).toBe('allowed');
    const m = broken((t) => {
      for (const r of Object.values(t.Resources) as any[])
        if (r.Type === 'AWS::IAM::Policy')
          r.Properties.Roles = r.Properties.Roles.filter((x: any) => x.Ref !== model.tierRoles.trace_analysts!.logicalId);
    });
    expect((await evaluateCell(m, events, 'trace_analyst')).verdict).toBe('not granted');
    expect((await evaluateCell(m, { kind: 'query', workGroup: 'analysts', tier: 'traces', key: 'data' }, 'trace_analyst')).verdict).toBe(
      'not granted',
    );
  });

  it('a copy with the events stream encrypted under the data key: the producer cannot send without KMS grants (finding 2)', async () => {
    const send: Capability = { kind: 'put-records', stream: 'events' };
    expect((await evaluateCell(model, send, 'producer')).calls.map((c) => c.call.action)).toEqual(['firehose:PutRecordBatch']);
    const m = broken((t) => {
      const s = Object.values(t.Resources).find(
        (r: any) =>
          r.Type === 'AWS::KinesisFirehose::DeliveryStream' && JSON.stringify(r.Properties).includes(model.stores.traces!.logicalId),
      ) as any;
      s.Properties.DeliveryStreamEncryptionConfigurationInput = {
        KeyType: 'CUSTOMER_MANAGED_CMK',
        KeyARN: { 'Fn::GetAtt': [model.keys.data!.logicalId, 'Arn'] },
      };
    });
    const cell = await evaluateCell(m, send, 'producer');
    expect(cell.verdict).toBe('not granted');
    expect(cell.calls.filter((c) => c.decision !== 'Allowed').map((c) => `${c.call.action} via ${c.call.via}`)).toEqual([
      'kms:GenerateDataKey via firehose',
      'kms:Decrypt via firehose',
    ]);
  });

  it('a copy without the MFA condition lets the responder role be assumed without MFA', async () => {
    const a = assumeMatrix(policy);
    const before = await evaluateAssumeMatrix(model, a);
    expect(before.get('incident_responders')?.account?.verdict).toBe('MFA only');
    const m = broken((t) => {
      for (const x of t.Resources[model.tierRoles.incident_responders!.logicalId].Properties.AssumeRolePolicyDocument.Statement)
        delete x.Condition;
    });
    expect((await evaluateAssumeMatrix(m, a)).get('incident_responders')?.account?.verdict).toBe('allowed');
  });

  it('a request without aws:PrincipalArn is denied by the tier deny, even for the incident responder (the evaluator fills no context key); so is one over plain HTTP', async () => {
    const responder = model.actors.incident_responder!;
    const debug = model.stores.debug!;
    const call = { action: 's3:GetObject', resource: `${debug.arn}/captures/matrix-probe`, resourcePolicy: debug.policy! };
    const full = requestContext(responder, call, model.env);
    expect(await evaluateCall(responder, call, model.env, full)).toBe('Allowed');
    const { 'aws:PrincipalArn': _dropped, ...withoutArn } = full;
    expect(await evaluateCall(responder, call, model.env, withoutArn)).toBe('ExplicitlyDenied');
    // Over plain HTTP the bucket's TLS deny fires (a missing key would not match its Bool condition).
    expect(await evaluateCall(responder, call, model.env, { ...full, 'aws:SecureTransport': 'false' })).toBe('ExplicitlyDenied');
  });

  it('a planted expectation that the template contradicts is reported with its evidence', async () => {
    const expected = accessMatrix(policy);
    const planted: AccessMatrix = {
      ...expected,
      rows: expected.rows.map((r) =>
        r.id === 'decrypt debug' ? { ...r, cells: { ...r.cells, trace_analyst: { verdict: 'allowed' as const } } } : r,
      ),
    };
    const diffs = differences(planted, await evaluateAccessMatrix(model, planted));
    expect(diffs.map((d) => [d.cell, d.expected, d.evaluated])).toEqual([['decrypt debug / trace_analyst', 'allowed', 'denied']]);
    expect(diffs[0]!.evidence).toEqual([`kms:Decrypt on ${model.keys.debug!.arn}: ExplicitlyDenied`]);
  });

  it('a stack object the harness locates is really there (the rollup role has the rollup grants)', () => {
    const rollup = model.actors.rollup_function!;
    expect(rollup.identityPolicies.length).toBeGreaterThan(0);
    expect(JSON.stringify(rollup.identityPolicies)).toContain('athena:StartQueryExecution');
    expect(rollup.principalArn).toContain(model.template.ref(logicalId(stack, stack.rollups.function.role!)) as string);
  });
});

describe('federated incident responders, evaluated against the trust policy', () => {
  const federated = variantPolicy((d) => {
    d.access.incident_responders.federated = { sso_permission_sets: ['IncidentResponse'], principal_tags: { team: 'incident-response' } };
  });
  const shipped = POLICIES[0]![1];

  /** The evaluated assumption of the responder role by an assumer of the expected matrix, or by a variant of it. */
  async function responderVerdict(policy: Policy, id: string, change?: (a: Assumer) => Assumer): Promise<string | undefined> {
    const model = stackModelOf(synthesize(policy).template, policy, envFor(policy));
    const a = assumeMatrix(policy);
    const changed: AssumeMatrix = { ...a, assumers: a.assumers.map((x) => (x.id === id && change ? change(x) : x)) };
    return (await evaluateAssumeMatrix(model, changed)).get('incident_responders')?.[id]?.verdict;
  }

  it('every cell of who may assume each role is as the spec says, the federated sessions included', async () => {
    const model = stackModelOf(synthesize(federated).template, federated, envFor(federated));
    const a = assumeMatrix(federated);
    expect(a.assumers.map((x) => x.id)).toEqual(expect.arrayContaining(['sso-session', 'tagged-session']));
    const diffs = differences(accessMatrix(federated), await evaluateAccessMatrix(model, accessMatrix(federated)), {
      expected: a,
      evaluated: await evaluateAssumeMatrix(model, a),
    });
    expect(formatDifferences(diffs)).toBe(formatDifferences([]));
  });

  it('an Identity Center session of the named permission set assumes the responder role without MFA; without federated it is locked out', async () => {
    expect(await responderVerdict(federated, 'sso-session')).toBe('allowed');
    expect(await responderVerdict(shipped, 'sso-session')).toBe('not granted');
  });

  it('a permission set whose name only starts with the named one is not admitted (the suffix pattern is exact)', async () => {
    expect(
      await responderVerdict(federated, 'sso-session', (x) => ({ ...x, federated: { permissionSet: 'IncidentResponse_Admin' } })),
    ).toBe('not granted');
  });

  it('a session with the tag assumes it; the wrong value, or no tag, does not', async () => {
    expect(await responderVerdict(federated, 'tagged-session')).toBe('allowed');
    expect(await responderVerdict(federated, 'tagged-session', (x) => ({ ...x, federated: { tags: { team: 'sales' } } }))).toBe(
      'not granted',
    );
    expect(await responderVerdict(federated, 'tagged-session', (x) => ({ ...x, federated: { tags: {} } }))).toBe('not granted');
  });
});
