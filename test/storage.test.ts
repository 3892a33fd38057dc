import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../lib/core/policy';
import { describeTiers, NONCURRENT_VERSION_DAYS, STORE_LAYOUT, STORE_NAMES, tierExpirationDays, type StoreName } from '../lib/core/storage';
import { TelemetryStorage, tierRetentionOf } from '../lib/constructs/storage';
import { buildStack, policyFrom, shippedPolicyText, variantPolicy } from './helpers';
import { buildStorageStack } from './support/storage-stack';

const shipped = policyFrom(shippedPolicyText(), 'telemetry-policy.yaml');
const VARIANTS: Record<string, Policy> = {
  'shipped (prod)': shipped,
  'dev, traces 7d, debug 24h': variantPolicy((d) => {
    d.environment = 'dev';
    d.retention.traces = '7d';
    d.retention.debug = '24h';
  }),
  'traces 90d with Standard-IA, debug 48h, audit 500d, no transitions on metrics': variantPolicy((d) => {
    d.environment = 'staging';
    d.retention.traces = '90d';
    d.retention.debug = '48h';
    d.retention.audit = '500d';
    d.retention.transitions = { traces: { infrequent_access_after: '45d' }, audit: { infrequent_access_after: '90d' } };
  }),
  'traces 1d shorter than debug 3d, metrics 30d': variantPolicy((d) => {
    d.retention.traces = '1d';
    d.retention.debug = '3d';
    d.retention.metrics = '30d';
    d.retention.transitions = {};
  }),
};

function logicalIdOf(storage: TelemetryStorage, name: StoreName): string {
  const stack = Stack.of(storage);
  return stack.getLogicalId(storage.bucket(name).node.defaultChild as CfnBucket);
}

interface CfnRule {
  Id: string;
  Prefix?: string;
  ExpirationInDays?: number;
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
  ExpiredObjectDeleteMarker?: boolean;
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  Transitions?: { StorageClass: string; TransitionInDays: number }[];
}

describe.each(Object.entries(VARIANTS))('the storage tiers, policy %s', (_name, policy) => {
  // The construct alone: the composed stack's own resources are checked below.
  const { stack, storage, template } = buildStorageStack(policy);
  const buckets = template.findResources('AWS::S3::Bucket');
  const bucketOf = (name: StoreName) => {
    const b = buckets[logicalIdOf(storage, name)];
    if (!b) throw new Error(`no ${name} bucket in the template`);
    return b;
  };
  const byName = Object.fromEntries(STORE_NAMES.map((n) => [n, bucketOf(n)])) as Record<StoreName, ReturnType<typeof bucketOf>>;
  const prod = policy.environment === 'prod';

  it('has exactly the five buckets of the layout', () => {
    expect(Object.keys(buckets).sort()).toEqual(STORE_NAMES.map((n) => logicalIdOf(storage, n)).sort());
  });

  it.each(STORE_NAMES)('%s: expires current objects at its tier retention, aborts uploads after a day, bounds versions', (name) => {
    const layout = STORE_LAYOUT[name];
    const rules = byName[name].Properties.LifecycleConfiguration.Rules as CfnRule[];
    const wide = rules.filter((r) => r.Prefix === undefined && r.ExpirationInDays !== undefined);
    expect(wide).toHaveLength(1);
    expect(wide[0]).toMatchObject({
      Status: 'Enabled',
      ExpirationInDays: tierExpirationDays(layout.tier, policy),
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    });
    if (layout.versioned) {
      expect(byName[name].Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(rules).toContainEqual({
        Id: 'noncurrent-versions',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_DAYS },
        ExpiredObjectDeleteMarker: true,
      });
    } else {
      expect(byName[name].Properties.VersioningConfiguration).toBeUndefined();
      expect(rules.some((r) => r.NoncurrentVersionExpiration || r.ExpiredObjectDeleteMarker)).toBe(false);
    }
    // No rule keeps anything longer than the bucket's tier.
    for (const r of rules)
      if (r.ExpirationInDays !== undefined) expect(r.ExpirationInDays).toBeLessThanOrEqual(tierExpirationDays(layout.tier, policy));
  });

  it('traces: errors/ and quarantine/ expire at the debug retention in whole days (or sooner, with a shorter traces tier)', () => {
    const debugDays = Math.min(tierExpirationDays('debug', policy), tierExpirationDays('traces', policy));
    const rules = byName.traces.Properties.LifecycleConfiguration.Rules as CfnRule[];
    expect(rules).toContainEqual({ Id: 'prefix-errors', Status: 'Enabled', Prefix: 'errors/', ExpirationInDays: debugDays });
    expect(rules).toContainEqual({ Id: 'prefix-quarantine', Status: 'Enabled', Prefix: 'quarantine/', ExpirationInDays: debugDays });
  });

  it('Athena results: analysts/ at the traces retention, incident/ at the debug retention', () => {
    const rules = byName.results.Properties.LifecycleConfiguration.Rules as CfnRule[];
    expect(rules.find((r) => r.Id === 'current-objects')?.ExpirationInDays).toBe(tierExpirationDays('traces', policy));
    expect(rules).toContainEqual({
      Id: 'prefix-incident',
      Status: 'Enabled',
      Prefix: 'incident/',
      ExpirationInDays: Math.min(tierExpirationDays('debug', policy), tierExpirationDays('traces', policy)),
    });
  });

  it('transitions to Standard-IA exactly where the policy asks for them', () => {
    for (const name of STORE_NAMES) {
      const tier = STORE_LAYOUT[name].tier;
      const asked = STORE_LAYOUT[name].transitions && tier !== 'debug' ? policy.retention.transitions[tier] : undefined;
      const transitions = (byName[name].Properties.LifecycleConfiguration.Rules as CfnRule[]).flatMap((r) => r.Transitions ?? []);
      expect(transitions).toEqual(
        asked ? [{ StorageClass: 'STANDARD_IA', TransitionInDays: Number(asked.infrequent_access_after.slice(0, -1)) }] : [],
      );
    }
  });

  it.each(STORE_NAMES)('%s: public access blocked, ACLs disabled, no fixed name, removal from the environment', (name) => {
    const b = byName[name];
    expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(b.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(b.Properties.StoreName).toBeUndefined();
    expect(b.DeletionPolicy).toBe(prod ? 'Retain' : 'Delete');
    expect(b.UpdateReplacePolicy).toBe(prod ? 'Retain' : 'Delete');
  });

  it.each(STORE_NAMES.filter((n) => n !== 'audit'))(
    '%s: SSE-KMS with bucket keys under its key, access logs to the audit bucket',
    (name) => {
      const key = name === 'debug' ? storage.debugKey : storage.dataKey;
      expect(byName[name].Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: stack.resolve(key.keyArn) } },
        ],
      });
      expect(byName[name].Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: stack.resolve(storage.auditBucket.bucketName),
        LogFilePrefix: `access-logs/${name}/`,
      });
    },
  );

  it('audit: SSE-S3 (log delivery does not support SSE-KMS targets) and logs nowhere', () => {
    expect(byName.audit.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(byName.audit.Properties.LoggingConfiguration).toBeUndefined();
  });

  it.each(STORE_NAMES)('%s: TLS 1.2 only', (name) => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: stack.resolve(storage.bucket(name).bucketName),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  it('four customer-managed keys (data, debug, audit, logs) with rotation, grants only for AWS services, removal from the environment', () => {
    const keys = template.findResources('AWS::KMS::Key');
    expect(Object.keys(keys).sort()).toEqual(
      [storage.dataKey, storage.debugKey, storage.auditKey, storage.logsKey].map((k) => stack.resolve(k.keyId).Ref).sort(),
    );
    for (const k of Object.values(keys)) {
      expect(k.Properties.EnableKeyRotation).toBe(true);
      expect(k.Properties.KeyPolicy.Statement).toContainEqual({
        Sid: 'DenyGrantsOutsideAwsServices',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
      });
      expect(k.DeletionPolicy).toBe(prod ? 'Retain' : 'Delete');
    }
  });

  it('the logs key lets CloudWatch Logs of this account and region use it for log groups only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('CloudWatch log groups'),
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowCloudWatchLogsOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
            // Sorted by the minimizePolicies flag.
            Action: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
            Resource: '*',
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:*' } },
          },
        ]),
      },
    });
  });

  it('the audit bucket accepts server access logs from each bucket by bucket policy, never by ACL', () => {
    for (const name of STORE_NAMES.filter((n) => n !== 'audit')) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: stack.resolve(storage.auditBucket.bucketName),
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
              Condition: {
                ArnLike: { 'aws:SourceArn': stack.resolve(storage.bucket(name).bucketArn) },
                StringEquals: { 'aws:SourceAccount': '123456789012' },
              },
            }),
          ]),
        },
      });
    }
    expect(byName.audit.Properties.AccessControl).toBeUndefined();
  });

  it('a CloudTrail trail records reads and writes of every debug-tier store into the audit bucket, encrypted with the audit key, with log file validation', () => {
    const arn = (name: StoreName, prefix: string) => stack.resolve(`${storage.bucket(name).bucketArn}/${prefix}`);
    template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      TrailName: `${policy.name}-${policy.environment}-debug-reads`,
      KMSKeyId: stack.resolve(storage.auditKey.keyArn),
      IsLogging: true,
      EnableLogFileValidation: true,
      IsMultiRegionTrail: false,
      IncludeGlobalServiceEvents: false,
      S3BucketName: stack.resolve(storage.auditBucket.bucketName),
      S3KeyPrefix: 'cloudtrail',
      EventSelectors: [
        {
          IncludeManagementEvents: false,
          ReadWriteType: 'All',
          DataResources: [
            {
              Type: 'AWS::S3::Object',
              Values: [arn('traces', 'quarantine/'), arn('traces', 'errors/'), arn('debug', ''), arn('results', 'incident/')],
            },
          ],
        },
      ],
    });
  });

  it('the audit key lets CloudTrail encrypt the files of this trail only, and describe the key', () => {
    const trail = `arn:aws:cloudtrail:eu-west-1:123456789012:trail/${policy.name}-${policy.environment}-debug-reads`;
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('CloudTrail log files'),
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowCloudTrailToEncryptLogFiles',
            Effect: 'Allow',
            Principal: { Service: 'cloudtrail.amazonaws.com' },
            Action: 'kms:GenerateDataKey*',
            Resource: '*',
            Condition: {
              StringEquals: { 'aws:SourceArn': trail },
              StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': 'arn:aws:cloudtrail:*:123456789012:trail/*' },
            },
          },
          {
            Sid: 'AllowCloudTrailToDescribeKey',
            Effect: 'Allow',
            Principal: { Service: 'cloudtrail.amazonaws.com' },
            Action: 'kms:DescribeKey',
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceArn': trail } },
          },
        ]),
      },
    });
  });

  it('creates no custom resource (no autoDeleteObjects, no LogRetention singleton)', () => {
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.filter((t) => t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource')).toEqual([]);
  });
});

describe.each(Object.entries(VARIANTS))('in the composed stack, policy %s', (_name, policy) => {
  const alone = buildStorageStack(policy);
  const { stack, template } = buildStack(policy);
  const ids = STORE_NAMES.map((n) => logicalIdOf(stack.storage, n));
  const before = alone.template.findResources('AWS::S3::Bucket');
  const after = template.findResources('AWS::S3::Bucket');

  it('the buckets are the five of the layout, each with the lifecycle, versioning, encryption, logging and removal of the construct alone', () => {
    expect(Object.keys(after).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(after[id]!.Properties.LifecycleConfiguration?.Rules?.length, id).toBeGreaterThan(0);
      for (const key of [
        'LifecycleConfiguration',
        'VersioningConfiguration',
        'BucketEncryption',
        'LoggingConfiguration',
        'PublicAccessBlockConfiguration',
        'OwnershipControls',
        'StoreName',
      ]) {
        expect(after[id]!.Properties[key], `${id} ${key}`).toEqual(before[id]!.Properties[key]);
      }
      expect([after[id]!.DeletionPolicy, after[id]!.UpdateReplacePolicy], id).toEqual([
        before[id]!.DeletionPolicy,
        before[id]!.UpdateReplacePolicy,
      ]);
    }
  });

  it('every bucket policy keeps every statement of the construct alone; a read deny only gains exempt principals', () => {
    type Statement = { Effect: string; Sid?: string; Condition?: { ArnNotEquals?: { 'aws:PrincipalArn': unknown[] } } };
    const byBucket = (t: typeof template) =>
      Object.fromEntries(
        Object.values(t.findResources('AWS::S3::BucketPolicy')).map((p) => [
          JSON.stringify(p.Properties.Bucket),
          p.Properties.PolicyDocument.Statement as Statement[],
        ]),
      );
    const was = byBucket(alone.template);
    const is = byBucket(template);
    expect(Object.keys(is).sort()).toEqual(Object.keys(was).sort());
    expect(Object.keys(is).sort()).toEqual(ids.map((id) => JSON.stringify({ Ref: id })).sort());
    for (const [bucket, statements] of Object.entries(was)) {
      expect(statements.filter((x) => x.Effect === 'Deny' && x.Sid?.startsWith('DenyReads')).length, bucket).toBeGreaterThan(0);
      for (const x of statements) {
        const exempt = x.Condition?.ArnNotEquals?.['aws:PrincipalArn'];
        if (!exempt) {
          expect(is[bucket], `${bucket}: ${JSON.stringify(x)}`).toContainEqual(x);
          continue;
        }
        // Sids of the read denies are unique per bucket policy.
        const now = is[bucket]!.filter((y) => y.Sid === x.Sid);
        expect(now, `${bucket} ${x.Sid}`).toHaveLength(1);
        const gained = now[0]!.Condition?.ArnNotEquals?.['aws:PrincipalArn'].slice(exempt.length) ?? [];
        expect(now[0], `${bucket} ${x.Sid}`).toEqual({
          ...x,
          Condition: { ...x.Condition, ArnNotEquals: { 'aws:PrincipalArn': [...exempt, ...gained] } },
        });
      }
    }
  });

  it('creates no custom resource in the stack but the kill switches (no autoDeleteObjects, no LogRetention singleton, no AwsCustomResource)', () => {
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.length).toBeGreaterThan(Object.keys(alone.template.toJSON().Resources).length);
    const custom = types.filter((t) => t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource');
    expect(new Set(custom)).toEqual(new Set(['Custom::KillSwitch']));
    expect(custom).toHaveLength(stack.killSwitches.switches.length);
  });
});

describe('the store layout, the tier table and the template agree', () => {
  const tiers = describeTiers(shipped);
  // Every (store, prefix) of the layout with the row the tier table prints for it.
  const s3Stores = STORE_NAMES.flatMap((bucket) =>
    STORE_LAYOUT[bucket].prefixes.map((p) => {
      const tier = tiers.find((t) => t.tier === p.tier)!;
      const row = tier.stores.find((r) => r.store === `${STORE_LAYOUT[bucket].label}, ${p.prefix}`);
      return { tier: p.tier, bucket, prefix: p.prefix, row, key: row?.key ?? tier.key, versions: row?.versions };
    }),
  );

  it('the tier table has one row for every prefix of the layout, under the tier that governs it', () => {
    expect(s3Stores.filter((s) => s.row === undefined).map((s) => `${s.bucket}:${s.prefix}`)).toEqual([]);
    const s3Rows = tiers.flatMap((t) => t.stores.filter((r) => / bucket, .+\/$/.test(r.store)));
    expect(s3Rows).toHaveLength(s3Stores.length);
  });

  it('the table names the key each store is encrypted with (for Athena results, the key its workgroup enforces), and says which stores keep old versions', () => {
    const { stack, template } = buildStack(shipped);
    const keyOf = (arn: unknown) =>
      ({
        [JSON.stringify(stack.resolve(stack.storage.dataKey.keyArn))]: /^data key/,
        [JSON.stringify(stack.resolve(stack.storage.debugKey.keyArn))]: /^debug key/,
        [JSON.stringify(stack.resolve(stack.storage.auditKey.keyArn))]: /^audit key/,
      })[JSON.stringify(arn)];
    // CloudTrail writes its files under cloudtrail/ with the trail's key, whatever the bucket's default.
    const [trail] = Object.values(template.findResources('AWS::CloudTrail::Trail'));
    expect(trail!.Properties.S3KeyPrefix).toBe('cloudtrail');
    const trailKey = keyOf(trail!.Properties.KMSKeyId);
    const workGroups = Object.values(template.findResources('AWS::Athena::WorkGroup')).map((w) => w.Properties.WorkGroupConfiguration);
    const resultsKey = (prefix: string) => {
      const wg = workGroups.filter((c) => JSON.stringify(c.ResultConfiguration.OutputLocation).endsWith(`/${prefix}"]]}`));
      expect(wg, `the workgroup writing results/${prefix}`).toHaveLength(1);
      expect(wg[0].EnforceWorkGroupConfiguration).toBe(true);
      expect(wg[0].ResultConfiguration.EncryptionConfiguration.EncryptionOption).toBe('SSE_KMS');
      return keyOf(wg[0].ResultConfiguration.EncryptionConfiguration.KmsKey);
    };
    expect(s3Stores.filter((s) => s.bucket === 'results').length).toBeGreaterThan(0);
    for (const s of s3Stores) {
      const expectedKey =
        s.bucket === 'results'
          ? resultsKey(s.prefix)
          : s.bucket === 'debug'
            ? /^debug key/
            : s.bucket === 'audit'
              ? s.prefix === 'cloudtrail/'
                ? trailKey
                : /^S3-managed/
              : /^data key/;
      // Undefined when a results workgroup enforces a key that is neither the data nor the debug key.
      expect(expectedKey, `${s.bucket} ${s.prefix}: the key its workgroup enforces is the data or the debug key`).toBeInstanceOf(RegExp);
      expect(s.key, `${s.bucket} ${s.prefix}`).toMatch(expectedKey as RegExp);
      expect(s.versions !== undefined).toBe(STORE_LAYOUT[s.bucket].versioned);
    }
  });
});

describe('the trail name', () => {
  it('fails when the prefix makes no valid CloudTrail trail name', () => {
    const stack = new Stack();
    const retention = tierRetentionOf(shipped.retention);
    expect(() => new TelemetryStorage(stack, 'Storage', { prefix: 'copilot prod', retention })).toThrow(
      /^prefix is "copilot prod"; the trail name "copilot prod-debug-reads" must start with a letter or digit and hold only letters, digits, '\.', '_' and '-' \(no two in a row\), 3 to 128 characters/,
    );
    expect(() => new TelemetryStorage(stack, 'Other', { prefix: 'copilot-', retention })).toThrow(/the trail name "copilot--debug-reads"/);
  });
});
