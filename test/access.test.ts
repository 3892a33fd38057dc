import { App, Duration, Stack, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../lib/core/policy';
import { DENIED_OBJECT_READS, principalTagPrincipal, TelemetryStorage } from '../lib/constructs/storage';
import type { StoreName } from '../lib/core/storage';
import { buildStack, policyFrom, shippedPolicyText, variantPolicy } from './helpers';
import { buildStorageStack, grant, grantsOf, roleLogicalId, TEST_ENV } from './support/storage-stack';
import { CONSOLE_ACTIONS, glueCatalogArn, QUERY_ACTIONS } from '../lib/constructs/catalog';

const shipped = policyFrom(shippedPolicyText(), 'telemetry-policy.yaml');
const OTHER_ACCOUNT = '210987654321';
const ONCALL_ROLE = 'arn:aws:iam::123456789012:role/oncall/IncidentLead';
const crossAccount = variantPolicy((d) => {
  d.access.metrics_readers.principals = ['this-account', OTHER_ACCOUNT];
  d.access.trace_analysts.principals = [OTHER_ACCOUNT];
  d.access.incident_responders.principals = [ONCALL_ROLE, 'this-account'];
  d.access.kill_switch_operators.principals = [ONCALL_ROLE];
});

// With the cdk.json flags (@aws-cdk/core:enablePartitionLiterals) the partition is a literal.
const root = (account: string) => `arn:aws:iam::${account}:root`;
const MFA = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } };

/** The storage construct alone in a stack, and its template once `mutate` has added writers or readers. */
function build(policy: Policy, mutate?: (stack: Stack, storage: TelemetryStorage) => void) {
  const built = buildStorageStack(policy, mutate);
  const { stack, storage: s } = built;
  const arn = (role: iam.IRole) => stack.resolve(role.roleArn);
  const objects = (name: StoreName, prefix: string) => stack.resolve(s.bucket(name).arnForObjects(prefix));
  const bucketRef = (name: StoreName) => stack.resolve(s.bucket(name).bucketName);
  return { ...built, s, arn, objects, bucketRef };
}

/** Who may assume a role, and on what condition: one `[principal, condition]` per trusted principal, sorted. */
function trustOf(template: Template, roleId: string): [unknown, unknown][] {
  const doc = template.findResources('AWS::IAM::Role')[roleId]?.Properties.AssumeRolePolicyDocument as {
    Statement: { Effect: string; Action: string; Principal: { AWS: unknown }; Condition?: unknown }[];
  };
  return doc.Statement.flatMap((x) => {
    expect([x.Effect, x.Action]).toEqual(['Allow', 'sts:AssumeRole']);
    return [x.Principal.AWS].flat().map((p): [unknown, unknown] => [p, x.Condition ?? null]);
  }).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('one role per tier, trusted principals from the policy', () => {
  it('this-account is the deploying account root; the incident responder needs MFA, the others do not', () => {
    const { s, template, stack } = build(shipped);
    template.resourceCountIs('AWS::IAM::Role', 4);
    for (const role of [s.metricsReaderRole, s.traceAnalystRole, s.incidentResponderRole, s.killSwitchOperatorRole]) {
      const id = roleLogicalId(stack, role);
      expect(id).toMatch(/^Storage(MetricsReader|TraceAnalyst|IncidentResponder|KillSwitchOperator)/);
      const props = template.findResources('AWS::IAM::Role')[id]!.Properties;
      expect(props.RoleName).toBeUndefined();
      expect(props.Description).toMatch(/^copilot-prod: /);
      expect(props.MaxSessionDuration).toBe(3600);
      expect(trustOf(template, id)).toEqual([[root('123456789012'), role === s.incidentResponderRole ? MFA : null]]);
    }
  });

  it('a 12-digit id is that account; an ARN is that principal; every incident responder principal needs MFA', () => {
    const { s, template, stack } = build(crossAccount);
    const trust = (role: iam.IRole) => trustOf(template, roleLogicalId(stack, role));
    expect(trust(s.metricsReaderRole)).toEqual(
      [
        [root(OTHER_ACCOUNT), null],
        [root('123456789012'), null],
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    expect(trust(s.traceAnalystRole)).toEqual([[root(OTHER_ACCOUNT), null]]);
    expect(trust(s.incidentResponderRole)).toEqual(
      [
        [ONCALL_ROLE, MFA],
        [root('123456789012'), MFA],
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    expect(trust(s.killSwitchOperatorRole)).toEqual([[ONCALL_ROLE, null]]);
  });

  it('federated responders: a permission set by its role ARN pattern, session tags all required, both without the MFA key their sessions cannot carry; IAM sessions still need MFA', () => {
    const federated = variantPolicy((d) => {
      d.access.incident_responders.federated = {
        sso_permission_sets: ['IncidentResponse', 'IncidentResponse'],
        principal_tags: { team: 'incident-response', 'oncall:tier': 'p0' },
      };
    });
    const { s, template, stack } = build(federated);
    const sso = 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com';
    const suffix = '?'.repeat(16);
    expect(trustOf(template, roleLogicalId(stack, s.incidentResponderRole))).toEqual(
      [
        [root('123456789012'), MFA],
        [
          root('123456789012'),
          {
            ArnLike: {
              'aws:PrincipalArn': [
                `${sso}/AWSReservedSSO_IncidentResponse_${suffix}`,
                `${sso}/*/AWSReservedSSO_IncidentResponse_${suffix}`,
              ],
            },
          },
        ],
        [root('123456789012'), { StringEquals: { 'aws:PrincipalTag/team': 'incident-response', 'aws:PrincipalTag/oncall:tier': 'p0' } }],
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    // the other roles do not change
    expect(trustOf(template, roleLogicalId(stack, s.traceAnalystRole))).toEqual([[root('123456789012'), null]]);
  });

  it('a federated responder without a condition of its own is refused: it would bypass MFA', () => {
    const storage = (federatedIncidentResponders: iam.IPrincipal[]) =>
      new TelemetryStorage(new Stack(new App(), 'Federated', { env: TEST_ENV }), 'Storage', {
        prefix: 'refunds-dev',
        retention: { traces: Duration.days(30), metrics: Duration.days(365), debug: Duration.hours(72), audit: Duration.days(365) },
        principals: { federatedIncidentResponders },
      });
    expect(() => storage([new iam.AccountRootPrincipal()])).toThrow(/federatedIncidentResponders: every principal needs a condition/);
    expect(() => storage([principalTagPrincipal({ team: 'ir' })])).not.toThrow();
  });

  it('the storage construct grants the kill-switch operator nothing (the kill-switch construct grants what a flip needs)', () => {
    const { s, template, stack } = build(shipped);
    expect(grantsOf(template, roleLogicalId(stack, s.killSwitchOperatorRole))).toEqual([]);
  });
});

describe('each reader role reads its tier and nothing else', () => {
  const { s, template, objects, stack } = build(shipped);
  const grantsOfRole = (role: iam.IRole) => grantsOf(template, roleLogicalId(stack, role));
  const arnOf = (name: StoreName) => stack.resolve(s.bucket(name).bucketArn);
  const list = (name: StoreName, prefixes: string[]) =>
    grant('Allow', 's3:ListBucket', arnOf(name), { StringLike: { 's3:prefix': prefixes } });
  const get = (name: StoreName, prefix: string, actions: readonly string[] = ['s3:GetObject']) =>
    actions.map((a) => grant('Allow', a, objects(name, prefix)));
  const decrypt = (key: { keyArn: string }) => grant('Allow', 'kms:Decrypt', stack.resolve(key.keyArn));
  const location = (name: StoreName) => grant('Allow', 's3:GetBucketLocation', arnOf(name));

  it('trace analyst: traces events/ and the analysts/ results, never the debug prefixes', () => {
    expect(grantsOfRole(s.traceAnalystRole)).toEqual(
      [
        ...get('traces', 'events/*'),
        ...get('results', 'analysts/*'),
        list('traces', ['events/*']),
        list('results', ['analysts/*']),
        location('traces'),
        location('results'),
        decrypt(s.dataKey),
      ].sort(),
    );
  });

  it('incident responder: every debug-tier store (with the debug key) and the audit bucket (current and old versions, and the audit key CloudTrail encrypts its files with)', () => {
    expect(grantsOfRole(s.incidentResponderRole)).toEqual(
      [
        ...get('traces', 'quarantine/*'),
        ...get('traces', 'errors/*'),
        ...get('debug', 'captures/*'),
        ...get('debug', 'errors/*'),
        ...get('results', 'incident/*'),
        ...get('audit', 'access-logs/*', DENIED_OBJECT_READS),
        ...get('audit', 'cloudtrail/*', DENIED_OBJECT_READS),
        list('traces', ['quarantine/*', 'errors/*']),
        list('debug', ['captures/*', 'errors/*']),
        list('results', ['incident/*']),
        list('audit', ['access-logs/*', 'cloudtrail/*']),
        ...(['traces', 'debug', 'results', 'audit'] as const).map(location),
        decrypt(s.dataKey),
        decrypt(s.debugKey),
        decrypt(s.auditKey),
      ].sort(),
    );
  });

  it('metrics reader: the metrics rollups (current and old versions)', () => {
    expect(grantsOfRole(s.metricsReaderRole)).toEqual(
      [...get('metrics', 'rollups/*', DENIED_OBJECT_READS), list('metrics', ['rollups/*']), location('metrics'), decrypt(s.dataKey)].sort(),
    );
  });

  it('no wildcard action is granted on data', () => {
    for (const role of [s.traceAnalystRole, s.incidentResponderRole, s.metricsReaderRole]) {
      const actions = grantsOfRole(role).map((g) => (JSON.parse(g) as string[])[1]);
      expect(actions.length).toBeGreaterThan(0);
      for (const a of actions) expect(a).not.toContain('*');
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
          deny('DenyReadsOutsideTracesTier', [arn(s.traceAnalystRole)], {
            NotResource: [objects('traces', 'quarantine/*'), objects('traces', 'errors/*')],
          }),
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
      const denies = (bp.Properties.PolicyDocument.Statement as { Effect: string; Sid?: string; Action: string | string[] }[]).filter(
        (x) => x.Effect === 'Deny' && x.Sid,
      );
      expect(denies.length).toBeGreaterThan(0);
      for (const d of denies) expect(d.Action).toEqual([...DENIED_OBJECT_READS]);
    }
  });
});

describe('writers: grantWrite and allowWriter', () => {
  it('grantWrite grants object writes and the key, and exempts the writer from every read deny of the bucket', () => {
    let firehose!: iam.Role;
    const { stack, s, template, arn, objects, bucketRef } = build(shipped, (st, storage) => {
      firehose = new iam.Role(st, 'EventsDelivery', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
      storage.grantWrite('traces', firehose);
    });

    expect(grantsOf(template, roleLogicalId(stack, firehose))).toEqual(
      [
        grant('Allow', 's3:PutObject', objects('traces', '*')),
        grant('Allow', 's3:AbortMultipartUpload', objects('traces', '*')),
        ...['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'].map((a) =>
          grant('Allow', a, stack.resolve(s.tracesBucket.bucketArn)),
        ),
        ...['kms:GenerateDataKey', 'kms:Decrypt'].map((a) => grant('Allow', a, stack.resolve(s.dataKey.keyArn))),
      ].sort(),
    );
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: bucketRef('traces'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DenyReadsOutsideTracesTier',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.traceAnalystRole), arn(firehose)] } },
          }),
          Match.objectLike({
            Sid: 'DenyReadsErrorsOutsideDebugTier',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.incidentResponderRole), arn(firehose)] } },
          }),
        ]),
      },
    });
    // Not a writer of the debug bucket: the debug key still denies it.
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DenyDecryptOutsideDebugTier',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.incidentResponderRole)] } },
          }),
        ]),
      },
    });
  });

  it('a writer of the debug bucket is exempt from the debug key deny too', () => {
    let capture!: iam.Role;
    const { s, template, arn } = build(shipped, (st, storage) => {
      capture = new iam.Role(st, 'DebugDelivery', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
      storage.grantWrite('debug', capture);
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DenyDecryptOutsideDebugTier',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.incidentResponderRole), arn(capture)] } },
          }),
        ]),
      },
    });
  });

  it('allowWriter exempts without granting', () => {
    let writer!: iam.Role;
    const { stack, s, template, arn, bucketRef } = build(shipped, (st, storage) => {
      writer = new iam.Role(st, 'RollupWriter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      storage.allowWriter('metrics', writer);
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: bucketRef('metrics'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DenyReadsOutsideMetricsTier',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.metricsReaderRole), arn(writer)] } },
          }),
        ]),
      },
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain(stack.resolve(writer.roleName).Ref);
  });

  it('grantRead adds a reader to every store of the tier', () => {
    let rollup!: iam.Role;
    const { s, template, arn, bucketRef } = build(shipped, (st, storage) => {
      rollup = new iam.Role(st, 'Rollup', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      storage.grantRead('traces', rollup);
    });
    for (const [name, sid] of [
      ['traces', 'DenyReadsOutsideTracesTier'],
      ['results', 'DenyReadsOutsideTracesTier'],
    ] as const) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: bucketRef(name),
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Sid: sid, Condition: { ArnNotEquals: { 'aws:PrincipalArn': [arn(s.traceAnalystRole), arn(rollup)] } } }),
          ]),
        },
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
    const { stack } = build(shipped, (st, storage) => {
      storage.grantWrite('results', iam.Role.fromRoleArn(st, 'Athena', 'arn:aws:iam::123456789012:role/AthenaRunner'));
    });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});

describe('in the composed stack', () => {
  const alone = build(shipped);
  const { stack, template } = buildStack(shipped);
  const s = stack.storage;
  const composedGrants = (role: iam.IRole) => grantsOf(template, roleLogicalId(stack, role));
  const aloneGrants = (role: iam.IRole) => grantsOf(alone.template, roleLogicalId(alone.stack, role));
  const eventsDelivery = stack.ingest.eventsStream.grantPrincipal as iam.IRole;
  const debugDelivery = stack.ingest.debugStream.grantPrincipal as iam.IRole;
  const idOf = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  /** The exempt principals of each read deny (bucket policies and the debug key), by resource and Sid. */
  const exemptions = (t: Template) => {
    const denies = [
      ...Object.values(t.findResources('AWS::S3::BucketPolicy')).map(
        (p) => [JSON.stringify(p.Properties.Bucket), p.Properties.PolicyDocument.Statement] as const,
      ),
      ...Object.entries(t.findResources('AWS::KMS::Key')).map(([id, k]) => [id, k.Properties.KeyPolicy.Statement] as const),
    ].flatMap(([where, statements]) =>
      (statements as { Effect: string; Sid?: string; Condition?: { ArnNotEquals?: { 'aws:PrincipalArn': unknown[] } } }[])
        .filter((x) => x.Effect === 'Deny' && x.Condition?.ArnNotEquals)
        .map((x) => [`${where} ${x.Sid}`, x.Condition!.ArnNotEquals!['aws:PrincipalArn']] as const),
    );
    return Object.fromEntries(denies) as Record<string, unknown[]>;
  };

  it('the tier roles are those of the construct alone (same logical ids, same trust)', () => {
    for (const role of [s.metricsReaderRole, s.traceAnalystRole, s.incidentResponderRole, s.killSwitchOperatorRole]) {
      const id = roleLogicalId(stack, role);
      expect(template.findResources('AWS::IAM::Role')[id]?.Properties.AssumeRolePolicyDocument).toEqual(
        alone.template.findResources('AWS::IAM::Role')[id]?.Properties.AssumeRolePolicyDocument,
      );
    }
  });

  it('the kill-switch operator role has exactly the flip grant on the kill-switch parameters', () => {
    const ks = stack.killSwitches;
    const parameters = ks.switches.map((x) => stack.resolve(ks.parameter(x.ref).parameterArn));
    // Every SSM parameter of the stack is a kill switch (a Custom::KillSwitch), so the grant covers them all.
    expect(Object.keys(template.findResources('AWS::SSM::Parameter'))).toEqual([]);
    expect(Object.keys(template.findResources('Custom::KillSwitch')).sort()).toEqual(
      ks.switches.map((x) => idOf(ks.parameter(x.ref).resource)).sort(),
    );
    expect(parameters.length).toBeGreaterThan(0);
    const expected = [
      grant('Allow', 'ssm:GetParametersByPath', stack.resolve(ks.prefixArn)),
      ...['ssm:GetParameter', 'ssm:GetParameters', 'ssm:PutParameter', 'ssm:GetParameterHistory'].flatMap((a) =>
        parameters.map((p) => grant('Allow', a, p)),
      ),
    ].sort();
    expect(composedGrants(s.killSwitchOperatorRole)).toEqual(expected);
  });

  it('the metrics reader reads CloudWatch (metrics, alarms, the stack dashboards) and, in S3, only its tier', () => {
    const dashboards = Object.values(stack.monitoring.dashboards).map((d) => stack.resolve(d.dashboardArn));
    expect(dashboards.length).toBeGreaterThan(0);
    const cloudwatch = [
      // No resource-level permissions for these (acknowledged IAM5[Resource::*], see nag.test.ts).
      ...['GetMetricData', 'GetMetricStatistics', 'ListMetrics', 'DescribeAlarms', 'DescribeAlarmHistory', 'ListDashboards'].map((a) =>
        grant('Allow', `cloudwatch:${a}`, '*'),
      ),
      ...dashboards.map((d) => grant('Allow', 'cloudwatch:GetDashboard', d)),
    ];
    expect(composedGrants(s.metricsReaderRole)).toEqual([...aloneGrants(s.metricsReaderRole), ...cloudwatch].sort());
  });

  it('the trace analyst and the incident responder hold what the storage grants them, plus queries in their own workgroup (and the switch audit log for responders)', () => {
    const c = stack.catalog;
    const objects = (name: StoreName, prefix: string) => stack.resolve(s.bucket(name).arnForObjects(prefix));
    const queryGrants = (wg: 'analysts' | 'incident', tables: IConstruct[], key: { keyArn: string }, prefix: string) => {
      const wgArn = stack.resolve(
        stack.formatArn({
          service: 'athena',
          resource: 'workgroup',
          resourceName: (wg === 'analysts' ? c.analystsWorkGroup : c.incidentWorkGroup).ref,
        }),
      );
      const athena = [...QUERY_ACTIONS, ...CONSOLE_ACTIONS].map((a) => grant('Allow', a, wgArn));
      const glueResources = [
        glueCatalogArn(stack),
        c.database.databaseArn,
        ...tables.map((t) => (t as unknown as { tableArn: string }).tableArn),
      ].map((r) => stack.resolve(r));
      const glue = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'].flatMap((a) =>
        glueResources.map((r) => grant('Allow', a, r)),
      );
      const results = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'].map((a) =>
        grant('Allow', a, objects('results', prefix)),
      );
      const kms = ['kms:GenerateDataKey', 'kms:Decrypt'].map((a) => grant('Allow', a, stack.resolve(key.keyArn)));
      return [
        ...athena,
        ...glue,
        ...results,
        grant('Allow', 's3:ListBucketMultipartUploads', stack.resolve(s.resultsBucket.bucketArn)),
        ...kms,
      ];
    };
    const added = (role: iam.IRole) => composedGrants(role).filter((g) => !aloneGrants(role).includes(g));
    expect(aloneGrants(s.traceAnalystRole).every((g) => composedGrants(s.traceAnalystRole).includes(g))).toBe(true);
    const expectAdded = (role: iam.IRole, expected: string[]) => {
      for (const g of expected) expect(composedGrants(role)).toContain(g);
      return [...new Set(expected)].filter((g) => !aloneGrants(role).includes(g)).sort();
    };
    expect(added(s.traceAnalystRole).sort()).toEqual(
      expectAdded(s.traceAnalystRole, queryGrants('analysts', [c.eventsTable], s.dataKey, 'analysts/*')),
    );
    const auditId = stack.getLogicalId(stack.killSwitches.auditLogGroup.node.defaultChild as CfnElement);
    const responder = added(s.incidentResponderRole);
    const logs = responder.filter((g) => JSON.parse(g)[1].startsWith('logs:'));
    expect(logs.length).toBeGreaterThan(0);
    for (const g of logs) expect(JSON.stringify(JSON.parse(g)[2])).toContain(`"${auditId}"`);
    expect(responder.filter((g) => !logs.includes(g)).sort()).toEqual(
      expectAdded(s.incidentResponderRole, queryGrants('incident', [c.quarantineTable, c.capturesTable], s.debugKey, 'incident/*')),
    );
  });

  it('the Firehose delivery roles are exempt writers of exactly their bucket (and the debug one of the debug key); the rollup reads the traces tier and writes the metrics tier', () => {
    const events = stack.resolve(eventsDelivery.roleArn);
    const debug = stack.resolve(debugDelivery.roleArn);
    const rollup = stack.resolve(stack.rollups.function.role!.roleArn);
    const extra: Record<string, unknown[]> = {};
    const add = (key: string, p: unknown) => (extra[key] = [...(extra[key] ?? []), p]);
    for (const [sid, name] of [
      ['DenyReadsOutsideTracesTier', 'traces'],
      ['DenyReadsQuarantineOutsideDebugTier', 'traces'],
      ['DenyReadsErrorsOutsideDebugTier', 'traces'],
    ] as const) {
      add(`${JSON.stringify(stack.resolve(s.bucket(name).bucketName))} ${sid}`, events);
    }
    add(`${JSON.stringify(stack.resolve(s.debugBucket.bucketName))} DenyReadsOutsideDebugTier`, debug);
    add(`${idOf(s.debugKey)} DenyDecryptOutsideDebugTier`, debug);
    // the rollup: a reader of the traces tier (events/ and the analysts/ results) and the writer of the metrics bucket
    add(`${JSON.stringify(stack.resolve(s.tracesBucket.bucketName))} DenyReadsOutsideTracesTier`, rollup);
    add(`${JSON.stringify(stack.resolve(s.resultsBucket.bucketName))} DenyReadsOutsideTracesTier`, rollup);
    add(`${JSON.stringify(stack.resolve(s.metricsBucket.bucketName))} DenyReadsOutsideMetricsTier`, rollup);

    const before = exemptions(alone.template);
    const after = exemptions(template);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const k of Object.keys(extra)) expect(before, k).toHaveProperty([k]);
    const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
    for (const [k, principals] of Object.entries(before))
      expect(sorted(after[k] ?? []), k).toEqual(sorted([...principals, ...(extra[k] ?? [])]));
  });

  it('no bucket policy grants a delivery role anything: it writes with the identity policy grantWrite gives it, nothing more', () => {
    const roles = [eventsDelivery, debugDelivery].map((r) => JSON.stringify(stack.resolve(r.roleArn)));
    const allows = Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Effect: string; Principal?: unknown; Action: unknown }[])
        .filter((x) => x.Effect === 'Allow' && roles.some((r) => JSON.stringify(x.Principal ?? null).includes(r)))
        .map((x) => `${p.Properties.Bucket.Ref} allows ${JSON.stringify(x.Principal)}: ${[x.Action].flat().join(', ')}`),
    );
    expect(allows).toEqual([]);
  });

  it('each delivery role writes its own bucket only, with exactly what grantWrite grants', () => {
    for (const [role, name, key] of [
      [eventsDelivery, 'traces', s.dataKey],
      [debugDelivery, 'debug', s.debugKey],
    ] as const) {
      const b = s.bucket(name);
      const s3 = composedGrants(role).filter((g) => (JSON.parse(g) as string[])[1]!.startsWith('s3:'));
      expect(s3).toEqual(
        [
          ...['s3:PutObject', 's3:AbortMultipartUpload'].map((a) => grant('Allow', a, stack.resolve(b.arnForObjects('*')))),
          ...['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'].map((a) =>
            grant('Allow', a, stack.resolve(b.bucketArn)),
          ),
        ].sort(),
      );
      expect(composedGrants(role)).toEqual(
        expect.arrayContaining(['kms:GenerateDataKey', 'kms:Decrypt'].map((a) => grant('Allow', a, stack.resolve(key.keyArn)))),
      );
      // The other tier's key: never.
      const other = key === s.dataKey ? s.debugKey : s.dataKey;
      expect(composedGrants(role).filter((g) => g.includes(JSON.stringify(stack.resolve(other.keyArn))))).toEqual([]);
    }
  });
});
