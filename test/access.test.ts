import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../lib/policy';
import { TelemetryStack } from '../lib/stack';
import { DENIED_OBJECT_READS } from '../lib/storage';
import { buildStack, policyFrom, shippedPolicyText, variantPolicy } from './helpers';

const shipped = policyFrom(shippedPolicyText(), 'telemetry-policy.yaml');
const OTHER_ACCOUNT = '210987654321';
const ONCALL_ROLE = 'arn:aws:iam::123456789012:role/oncall/IncidentLead';
const crossAccount = variantPolicy((d) => {
  d.access.metrics_readers.principals = ['this-account', OTHER_ACCOUNT];
  d.access.trace_analysts.principals = [OTHER_ACCOUNT];
  d.access.incident_responders.principals = [ONCALL_ROLE, 'this-account'];
  d.access.kill_switch_operators.principals = [ONCALL_ROLE];
});

const root = (account: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:root`]] });
const MFA = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } };

/** A stack, and its template once `mutate` has added writers or readers. */
function build(policy: Policy, mutate?: (stack: TelemetryStack) => void) {
  const built = mutate ? mutated(policy, mutate) : buildStack(policy);
  const { stack, template } = built;
  const s = stack.storage;
  const arn = (role: iam.IRole) => stack.resolve(role.roleArn);
  const objects = (name: Parameters<typeof s.bucket>[0], prefix: string) => stack.resolve(s.bucket(name).arnForObjects(prefix));
  const bucketRef = (name: Parameters<typeof s.bucket>[0]) => stack.resolve(s.bucket(name).bucketName);
  return { ...built, s, arn, objects, bucketRef, template };
}

function mutated(policy: Policy, mutate: (stack: TelemetryStack) => void) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new TelemetryStack(app, 'Mutated', { policy, env: { account: '123456789012', region: 'eu-west-1' } });
  mutate(stack);
  return { app, stack, template: Template.fromStack(stack) };
}

describe('one role per tier, trusted principals from the policy', () => {
  it('this-account is the deploying account root; the incident responder needs MFA, the others do not', () => {
    const { s, template, stack } = build(shipped);
    template.resourceCountIs('AWS::IAM::Role', 4);
    for (const role of [s.metricsReaderRole, s.traceAnalystRole, s.killSwitchOperatorRole]) {
      template.hasResourceProperties('AWS::IAM::Role', {
        RoleName: Match.absent(),
        Description: Match.stringLikeRegexp('^copilot-prod: '),
        AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: root('123456789012') }, Condition: Match.absent() }] },
      });
      expect(stack.resolve(role.roleArn)['Fn::GetAtt'][0]).toMatch(/^Storage(MetricsReader|TraceAnalyst|KillSwitchOperator)/);
    }
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: root('123456789012') }, Condition: MFA }] },
      MaxSessionDuration: 3600,
    });
  });

  it('a 12-digit id is that account; an ARN is that principal; every incident responder principal needs MFA', () => {
    const { template } = build(crossAccount);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: root('123456789012') } },
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: root(OTHER_ACCOUNT) } },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: root(OTHER_ACCOUNT) } }] },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: ONCALL_ROLE }, Condition: MFA },
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: root('123456789012') }, Condition: MFA },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: ONCALL_ROLE }, Condition: Match.absent() }] },
    });
  });

  it('the kill-switch operator has no grant yet', () => {
    const { s, template, stack } = build(shipped);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(stack.resolve(s.killSwitchOperatorRole.roleName).Ref),
    );
    expect(policies).toEqual([]);
  });
});

describe('each reader role reads its tier and nothing else', () => {
  const { s, template, objects, stack } = build(shipped);
  const statementsOf = (role: iam.IRole) => {
    const ref = stack.resolve(role.roleName);
    const p = Object.values(template.findResources('AWS::IAM::Policy')).find((x) => JSON.stringify(x.Properties.Roles) === JSON.stringify([ref]));
    return (p?.Properties.PolicyDocument.Statement ?? []) as { Action: string | string[]; Resource: unknown }[];
  };
  const objectReads = (role: iam.IRole) =>
    statementsOf(role)
      .filter((x) => x.Action === 's3:GetObject')
      .map((x) => x.Resource);

  it('trace analyst: traces events/ and the analysts/ results, never the debug prefixes', () => {
    expect(objectReads(s.traceAnalystRole)).toEqual([objects('traces', 'events/*'), objects('results', 'analysts/*')]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [stack.resolve(s.traceAnalystRole.roleName)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: stack.resolve(s.tracesBucket.bucketArn), Condition: { StringLike: { 's3:prefix': ['events/*'] } } },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: stack.resolve(s.dataKey.keyArn) },
        ]),
      },
    });
  });

  it('incident responder: every debug-tier store (with the debug key) and the audit bucket', () => {
    expect(objectReads(s.incidentResponderRole)).toEqual([
      [objects('traces', 'quarantine/*'), objects('traces', 'errors/*')],
      objects('debug', 'captures/*'),
      objects('results', 'incident/*'),
    ]);
    const versioned = statementsOf(s.incidentResponderRole).filter((x) => JSON.stringify(x.Action) === JSON.stringify([...DENIED_OBJECT_READS]));
    expect(versioned.map((x) => x.Resource)).toEqual([[objects('audit', 'access-logs/*'), objects('audit', 'cloudtrail/*')]]);
    const decrypt = statementsOf(s.incidentResponderRole).filter((x) => x.Action === 'kms:Decrypt').map((x) => x.Resource);
    expect(decrypt).toEqual(expect.arrayContaining([stack.resolve(s.debugKey.keyArn), stack.resolve(s.dataKey.keyArn)]));
  });

  it('metrics reader: the metrics rollups (current and old versions)', () => {
    expect(statementsOf(s.metricsReaderRole).filter((x) => JSON.stringify(x.Action) === JSON.stringify([...DENIED_OBJECT_READS])).map((x) => x.Resource)).toEqual([
      objects('metrics', 'rollups/*'),
    ]);
  });

  it('no wildcard action is granted on data', () => {
    for (const role of [s.traceAnalystRole, s.incidentResponderRole, s.metricsReaderRole]) {
      for (const st of statementsOf(role)) for (const a of [st.Action].flat()) expect(a).not.toContain('*');
    }
  });
});

describe('bucket and key policies deny object reads outside a tier', () => {
  const { s, template, arn, objects, bucketRef } = build(shipped);
  const deny = (sid: string, principals: unknown[], where: Record<string, unknown>) =>
    Match.objectLike({
      Sid: sid,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: [...DENIED_OBJECT_READS],
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': principals } },
      ...where,
    });

  it('traces bucket: events (every key outside the debug prefixes) to trace analysts; quarantine/ and errors/ to incident responders', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: bucketRef('traces'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          deny('DenyReadsOutsideTracesTier', [arn(s.traceAnalystRole)], { NotResource: [objects('traces', 'quarantine/*'), objects('traces', 'errors/*')] }),
          deny('DenyReadsQuarantineOutsideDebugTier', [arn(s.incidentResponderRole)], { Resource: objects('traces', 'quarantine/*') }),
          deny('DenyReadsErrorsOutsideDebugTier', [arn(s.incidentResponderRole)], { Resource: objects('traces', 'errors/*') }),
        ]),
      },
    });
  });

  it('debug, metrics and audit buckets: the whole bucket to its tier reader', () => {
    const cases = [
      ['debug', 'DenyReadsOutsideDebugTier', s.incidentResponderRole],
      ['metrics', 'DenyReadsOutsideMetricsTier', s.metricsReaderRole],
      ['audit', 'DenyReadsOutsideAuditTier', s.incidentResponderRole],
    ] as const;
    for (const [name, sid, role] of cases) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: bucketRef(name),
        PolicyDocument: { Statement: Match.arrayWith([deny(sid, [arn(role)], { Resource: objects(name, '*') })]) },
      });
    }
  });

  it('results bucket: incident/ to incident responders, the rest to trace analysts', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: bucketRef('results'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          deny('DenyReadsOutsideTracesTier', [arn(s.traceAnalystRole)], { NotResource: objects('results', 'incident/*') }),
          deny('DenyReadsIncidentOutsideDebugTier', [arn(s.incidentResponderRole)], { Resource: objects('results', 'incident/*') }),
        ]),
      },
    });
  });

  it('the debug key denies Decrypt to all but the debug tier', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('debug'),
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'DenyDecryptOutsideDebugTier',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'kms:Decrypt',
            Resource: '*',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.incidentResponderRole)] } },
          },
        ]),
      },
    });
  });

  it('only data actions are denied: no deny names a bucket-management action', () => {
    for (const bp of Object.values(template.findResources('AWS::S3::BucketPolicy'))) {
      const denies = (bp.Properties.PolicyDocument.Statement as { Effect: string; Sid?: string; Action: string | string[] }[]).filter((x) => x.Effect === 'Deny' && x.Sid);
      expect(denies.length).toBeGreaterThan(0);
      for (const d of denies) expect(d.Action).toEqual([...DENIED_OBJECT_READS]);
    }
  });
});

describe('writers: grantWrite and allowWriter', () => {
  it('grantWrite grants object writes and the key, and exempts the writer from every read deny of the bucket', () => {
    let firehose!: iam.Role;
    const { stack, s, template, arn, objects, bucketRef } = build(shipped, (st) => {
      firehose = new iam.Role(st, 'EventsDelivery', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
      st.storage.grantWrite('traces', firehose);
    });

    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [stack.resolve(firehose.roleName)],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: objects('traces', '*') },
          { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: stack.resolve(s.tracesBucket.bucketArn) },
          { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: stack.resolve(s.dataKey.keyArn) },
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: bucketRef('traces'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'DenyReadsOutsideTracesTier', Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.traceAnalystRole), arn(firehose)] } } }),
          Match.objectLike({ Sid: 'DenyReadsErrorsOutsideDebugTier', Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.incidentResponderRole), arn(firehose)] } } }),
        ]),
      },
    });
    // Not a writer of the debug bucket: the debug key still denies it.
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'DenyDecryptOutsideDebugTier', Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.incidentResponderRole)] } } })]) },
    });
  });

  it('a writer of the debug bucket is exempt from the debug key deny too', () => {
    let capture!: iam.Role;
    const { s, template, arn } = build(shipped, (st) => {
      capture = new iam.Role(st, 'DebugDelivery', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
      st.storage.grantWrite('debug', capture);
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'DenyDecryptOutsideDebugTier', Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.incidentResponderRole), arn(capture)] } } }),
        ]),
      },
    });
  });

  it('allowWriter exempts without granting', () => {
    let writer!: iam.Role;
    const { stack, s, template, arn, bucketRef } = build(shipped, (st) => {
      writer = new iam.Role(st, 'RollupWriter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      st.storage.allowWriter('metrics', writer);
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: bucketRef('metrics'),
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Sid: 'DenyReadsOutsideMetricsTier', Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.metricsReaderRole), arn(writer)] } } })]),
      },
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain(stack.resolve(writer.roleName).Ref);
  });

  it('grantRead adds a reader to every store of the tier', () => {
    let rollup!: iam.Role;
    const { s, template, arn, bucketRef } = build(shipped, (st) => {
      rollup = new iam.Role(st, 'Rollup', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      st.storage.grantRead('traces', rollup);
    });
    for (const [name, sid] of [['traces', 'DenyReadsOutsideTracesTier'], ['results', 'DenyReadsOutsideTracesTier']] as const) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: bucketRef(name),
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: sid, Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.traceAnalystRole), arn(rollup)] } } })]) },
      });
    }
  });

  it('fails when the grantee has no role ARN to exempt', () => {
    const { s } = build(shipped);
    expect(() => s.grantWrite('traces', new iam.ServicePrincipal('firehose.amazonaws.com'))).toThrow(
      new Error(
        'the storage tiers exempt principals from their read denies by role ARN; ServicePrincipal(firehose.amazonaws.com) has none. Grant to an IAM role (a Lambda function or Firehose stream role).',
      ),
    );
  });
});

describe('grants to an imported role', () => {
  it('are acknowledged on the policy CDK adds to the import, so cdk-nag stays clean', () => {
    const { stack } = mutated(shipped, (st) => {
      st.storage.grantWrite('results', iam.Role.fromRoleArn(st, 'Athena', 'arn:aws:iam::123456789012:role/AthenaRunner'));
    });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
