/**
 * The storage tiers: one bucket per kind of data, their keys (the logs tier's too), one
 * role per tier, the bucket and key policies that deny reads to everyone else, and the
 * CloudTrail trail that records who read the debug tier. Lifetimes come from `retention`,
 * readers from `access`, the layout from `layout.ts`.
 */
import { resourcePrefix } from '../../core/policy/names';
import { Annotations, Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Policy } from '../../core/policy/schema';
import { describeTiers, type RoleName } from '../../core/storage/tiers';
import { STORE_LAYOUT, STORE_NAMES, foreignPrefixes, type StoreName, type StorageTier } from '../../core/storage/stores';
import { lifecycleRulesFor, type StoreRetention } from '../../core/storage/lifecycle';
import { durationSeconds } from '../../core/policy/durations';
import { validating, validationError } from '../shared/errors';
import { allowCloudWatchLogs, TelemetryKey } from '../shared/keys';
import { removalPolicyFor } from '../shared/retention';
import { toLifecycleRule } from './lifecycle';
import { federatedPrincipalsFor, principalsFor, trustedPrincipals } from './principals';

/** How long each tier keeps its data (the policy's `retention`). */
export interface TierRetention {
  /** Redacted request, span and feedback records (traces tier); whole days. */
  readonly traces: Duration;
  /** Rollups (metrics tier); whole days. */
  readonly metrics: Duration;
  /** Debug captures, the ingest quarantine and Firehose error output (debug tier); whole hours, rounded up to days by S3. */
  readonly debug: Duration;
  /** Access logs and CloudTrail (audit tier); whole days. */
  readonly audit: Duration;
  /**
   * Move current objects of a tier to S3 Standard-IA after this long.
   * @default - no transition
   */
  readonly infrequentAccessAfter?: { readonly traces?: Duration; readonly metrics?: Duration; readonly audit?: Duration };
}

/** Who may assume each tier role. Each list becomes the role's trust policy. */
export interface TierRolePrincipals {
  /** @default - the deploying account (any principal of it whose own IAM policy allows sts:AssumeRole) */
  readonly metricsReaders?: iam.IPrincipal[];
  /** @default - the deploying account */
  readonly traceAnalysts?: iam.IPrincipal[];
  /** Always with MFA (`aws:MultiFactorAuthPresent`). @default - the deploying account */
  readonly incidentResponders?: iam.IPrincipal[];
  /**
   * Responders whose sessions cannot carry `aws:MultiFactorAuthPresent` (IAM Identity Center
   * and SAML sessions come from AssumeRoleWithSAML, which has no MFA parameters), trusted
   * without that condition: MFA is then the identity provider's job. Each must carry its own
   * condition, e.g. `ssoPermissionSetPrincipal(this, ['IncidentResponse'])` or
   * `principalTagPrincipal({ team: 'incident-response' })`; an unconditioned principal is
   * a validation error, since it would bypass MFA.
   * @default - none
   */
  readonly federatedIncidentResponders?: iam.IPrincipal[];
  /** @default - the deploying account */
  readonly killSwitchOperators?: iam.IPrincipal[];
}

export interface TelemetryStorageProps {
  /** Prefix of the key and role descriptions and of the trail name (`<prefix>-debug-reads`), e.g. `copilot-prod`. */
  readonly prefix: string;
  /** Retention of each tier, enforced by lifecycle rules on every store of the tier. */
  readonly retention: TierRetention;
  /** Who may assume each tier role. @default - the deploying account for every role */
  readonly principals?: TierRolePrincipals;
  /**
   * What happens to the buckets and keys when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * A key of your own for the traces, metrics and results buckets. Its key policy is yours:
   * the construct only grants through IAM.
   * @default - a new customer-managed key with rotation
   */
  readonly existingDataKey?: kms.IKey;
  /**
   * A key of your own for the debug bucket. The construct cannot add the statement that
   * denies decryption outside the debug tier to an imported key's policy: add it yourself
   * (a warning says so at synth).
   * @default - a new customer-managed key with rotation, whose policy denies decryption outside the debug tier
   */
  readonly existingDebugKey?: kms.IKey;
}

/** The props key of each tier role. */
const ROLE_PROPS: Readonly<Record<RoleName, keyof TierRolePrincipals>> = {
  metrics_readers: 'metricsReaders',
  trace_analysts: 'traceAnalysts',
  incident_responders: 'incidentResponders',
  kill_switch_operators: 'killSwitchOperators',
};

/** Construct ids of the tier roles: a public contract, like the bucket ids. */
const ROLE_IDS: Readonly<Record<RoleName, string>> = {
  metrics_readers: 'MetricsReader',
  trace_analysts: 'TraceAnalyst',
  incident_responders: 'IncidentResponder',
  kill_switch_operators: 'KillSwitchOperator',
};

const BUCKET_IDS: Readonly<Record<StoreName, string>> = {
  traces: 'Traces',
  metrics: 'Metrics',
  debug: 'Debug',
  audit: 'Audit',
  results: 'Results',
};

/** Object reads the bucket and key policies deny outside a tier's readers and writers. */
export const DENIED_OBJECT_READS = ['s3:GetObject', 's3:GetObjectVersion'] as const;

/** The policy's `retention` (tiers in S3) as Durations. */
export function tierRetentionOf(retention: Policy['retention']): TierRetention {
  const d = (text: string) => Duration.seconds(durationSeconds(text));
  const ia = Object.entries(retention.transitions).filter(([, t]) => t !== undefined);
  return {
    traces: d(retention.traces),
    metrics: d(retention.metrics),
    debug: d(retention.debug),
    audit: d(retention.audit),
    ...(ia.length ? { infrequentAccessAfter: Object.fromEntries(ia.map(([tier, t]) => [tier, d(t!.infrequent_access_after)])) } : {}),
  };
}

/** Durations back to the policy's words (`30d`, `72h`), for the lifecycle rules of lib/core. */
function retentionWords(r: TierRetention): StoreRetention {
  const days = (what: string, x: Duration) => {
    const n = x.toHours() / 24;
    if (!Number.isInteger(n)) throw new Error(`retention.${what} is ${x.toHours()} hours; give whole days`);
    return `${n}d`;
  };
  const hours = (x: Duration) => {
    const n = x.toSeconds() / 3600;
    if (!Number.isInteger(n)) throw new Error(`retention.debug is ${x.toSeconds()} seconds; give whole hours`);
    return `${n}h`;
  };
  const transitions: StoreRetention['transitions'] = {};
  for (const [tier, after] of Object.entries(r.infrequentAccessAfter ?? {})) {
    if (after)
      transitions[tier as keyof typeof transitions] = {
        infrequent_access_after: days(`transitions.${tier}.infrequent_access_after`, after),
      };
  }
  return {
    traces: days('traces', r.traces),
    metrics: days('metrics', r.metrics),
    debug: hours(r.debug),
    audit: days('audit', r.audit),
    transitions,
  };
}

const pascal = (s: string) => s.replace(/(^|[-_/])([a-z])/g, (_m, _sep, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');

export class TelemetryStorage extends Construct {
  /** How long each tier keeps its data, as given. */
  readonly retention: TierRetention;
  /** Encrypts the traces, metrics and Athena results buckets. */
  readonly dataKey: kms.IKey;
  /** Encrypts the debug bucket only; its key policy denies decryption outside the debug tier. */
  readonly debugKey: kms.IKey;
  /** Encrypts the CloudTrail log files under the audit bucket's `cloudtrail/`; the audit tier's readers may decrypt. */
  readonly auditKey: kms.IKey;
  /**
   * Encrypts log groups (the logs tier, and the kill-switch audit log): its key policy lets
   * CloudWatch Logs of this account and region use it. Pass it as `encryptionKey` of the
   * constructs' `TelemetryLogsProps`.
   */
  readonly logsKey: kms.IKey;

  readonly tracesBucket: s3.IBucket;
  readonly metricsBucket: s3.IBucket;
  readonly debugBucket: s3.IBucket;
  /** S3 server access logs (`access-logs/`) and CloudTrail (`cloudtrail/`); SSE-S3, see the constructor. */
  readonly auditBucket: s3.IBucket;
  readonly resultsBucket: s3.IBucket;

  readonly metricsReaderRole: iam.IRole;
  readonly traceAnalystRole: iam.IRole;
  /** Assumable only with MFA. Reads the debug and audit tiers. */
  readonly incidentResponderRole: iam.IRole;
  /** No grants here: the kill-switch construct grants what flipping a switch needs. */
  readonly killSwitchOperatorRole: iam.IRole;

  /** Records S3 data events (reads and writes) of every debug-tier store. */
  readonly trail: cloudtrail.Trail;

  private readonly buckets: Record<StoreName, s3.Bucket>;
  /** Keys of prefixes whose objects are not under their bucket's key (CloudTrail's log files). */
  private readonly prefixKeys: Partial<Record<StoreName, Readonly<Record<string, kms.IKey>>>>;
  private readonly roles: Record<RoleName, iam.Role>;
  /** Principal ARNs exempt from the read denies: per tier (readers) and per bucket (writers). */
  private readonly readerArns = new Map<StorageTier, Set<string>>();
  private readonly writerArns = new Map<StoreName, Set<string>>();

  /**
   * The storage tiers a telemetry policy declares: `retention`, the principals of `access`,
   * and the environment's removal policy (`prod` retains its stores).
   */
  static fromPolicy(
    scope: Construct,
    id: string,
    policy: Pick<Policy, 'name' | 'environment' | 'retention' | 'access'>,
    deps: Pick<TelemetryStorageProps, 'existingDataKey' | 'existingDebugKey'> = {},
  ): TelemetryStorage {
    const principals = (role: RoleName) => principalsFor(policy.access[role].principals);
    return new TelemetryStorage(scope, id, {
      prefix: resourcePrefix(policy),
      retention: tierRetentionOf(policy.retention),
      principals: {
        metricsReaders: principals('metrics_readers'),
        traceAnalysts: principals('trace_analysts'),
        incidentResponders: principals('incident_responders'),
        federatedIncidentResponders: federatedPrincipalsFor(scope, policy.access.incident_responders.federated),
        killSwitchOperators: principals('kill_switch_operators'),
      },
      removalPolicy: removalPolicyFor(policy.environment),
      ...deps,
    });
  }

  constructor(scope: Construct, id: string, props: TelemetryStorageProps) {
    super(scope, id);
    // Log delivery through the audit bucket's policy, not its ACL: ACLs are disabled
    // (BucketOwnerEnforced). Set here so the construct does not depend on the app's cdk.json.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { prefix } = props;
    // Named from the prefix so the audit key's policy can name the trail (aws:SourceArn)
    // without a reference cycle: the trail references the key.
    const trailName = `${prefix}-debug-reads`;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/.test(trailName) || /[._-]{2}/.test(trailName)) {
      throw validationError(
        this,
        `prefix is ${JSON.stringify(prefix)}; the trail name ${JSON.stringify(trailName)} must start with a letter or digit and hold only letters, digits, '.', '_' and '-' (no two in a row), 3 to 128 characters`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.retention = props.retention;
    const retention = validating(this, () => retentionWords(props.retention));

    const dataKey =
      props.existingDataKey ??
      new TelemetryKey(this, 'DataKey', { description: `${prefix}: traces, metrics and Athena results buckets`, removalPolicy });
    const debugKey =
      props.existingDebugKey ??
      new TelemetryKey(this, 'DebugKey', { description: `${prefix}: debug captures (debug tier only)`, removalPolicy });
    this.dataKey = dataKey;
    this.debugKey = debugKey;
    this.auditKey = new TelemetryKey(this, 'AuditKey', { description: `${prefix}: CloudTrail log files (audit tier)`, removalPolicy });
    this.logsKey = new TelemetryKey(this, 'LogsKey', { description: `${prefix}: CloudWatch log groups`, removalPolicy });
    allowCloudWatchLogs(this.logsKey);

    // Server access log delivery does not support SSE-KMS target buckets, so the audit
    // bucket uses SSE-S3 (S3-managed keys); it holds no record content. CloudTrail encrypts
    // its own files with the audit key (below). It logs no access of its own (that would log
    // its log deliveries); cdk-nag's S1 accepts a log target. No Object Lock either: S3 does
    // not deliver server access logs to a bucket with Object Lock
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html,
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html).
    const audit = new s3.Bucket(this, BUCKET_IDS.audit, {
      ...this.commonBucketProps('audit', retention, removalPolicy),
      encryption: s3.BucketEncryption.S3_MANAGED,
    });

    const bucket = (name: Exclude<StoreName, 'audit'>, key: kms.IKey) =>
      new s3.Bucket(this, BUCKET_IDS[name], {
        ...this.commonBucketProps(name, retention, removalPolicy),
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: key,
        bucketKeyEnabled: true,
        serverAccessLogsBucket: audit,
        serverAccessLogsPrefix: `access-logs/${name}/`,
      });
    this.buckets = {
      traces: bucket('traces', dataKey),
      metrics: bucket('metrics', dataKey),
      debug: bucket('debug', debugKey),
      audit,
      results: bucket('results', dataKey),
    };
    this.tracesBucket = this.buckets.traces;
    this.metricsBucket = this.buckets.metrics;
    this.debugBucket = this.buckets.debug;
    this.auditBucket = this.buckets.audit;
    this.resultsBucket = this.buckets.results;
    this.prefixKeys = { audit: { 'cloudtrail/': this.auditKey } };

    for (const name of STORE_NAMES) this.denyReadsOutsideTiers(name);
    const denied = debugKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyDecryptOutsideDebugTier',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.exemptArns('debug', 'debug') } },
      }),
    );
    if (!denied.statementAdded) {
      Annotations.of(this).addWarningV2(
        'llmops:debugKeyPolicy',
        'existingDebugKey is imported, so its key policy is not ours to change: add a statement that denies kms:Decrypt to every principal but the debug tier readers and writers (the statement DenyDecryptOutsideDebugTier this construct puts on a key it creates).',
      );
    }

    const federated = props.principals?.federatedIncidentResponders ?? [];
    validating(this, () => {
      for (const p of federated) {
        if (Object.keys(p.policyFragment.conditions).length === 0) {
          throw new Error(
            'federatedIncidentResponders: every principal needs a condition (a permission set, a session tag); an unconditioned one would bypass the MFA requirement',
          );
        }
      }
    });
    const role = (name: RoleName, description: string, conditions?: iam.Conditions, extra: iam.IPrincipal[] = []) =>
      new iam.Role(this, ROLE_IDS[name], {
        description: `${prefix}: ${description}`,
        assumedBy: trustedPrincipals(props.principals?.[ROLE_PROPS[name]] ?? [new iam.AccountRootPrincipal()], conditions, extra),
        maxSessionDuration: Duration.hours(1),
      });
    this.roles = {
      metrics_readers: role('metrics_readers', 'reads the metrics tier (dashboards, rollups)'),
      trace_analysts: role('trace_analysts', 'reads the traces tier (Athena over redacted records)'),
      incident_responders: role(
        'incident_responders',
        `reads the debug and audit tiers; MFA required${federated.length > 0 ? ' (federated: at sign-in)' : ''}, reads recorded by CloudTrail`,
        // Present only for sessions from AssumeRole/GetSessionToken with MFA; Bool on an absent
        // key is false, so long-term keys and federated sessions never match it
        // (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html).
        { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
        federated,
      ),
      kill_switch_operators: role('kill_switch_operators', 'flips kill switches'),
    };
    this.metricsReaderRole = this.roles.metrics_readers;
    this.traceAnalystRole = this.roles.trace_analysts;
    this.incidentResponderRole = this.roles.incident_responders;
    this.killSwitchOperatorRole = this.roles.kill_switch_operators;

    // The tier table names each tier's reader; the grants follow it.
    for (const t of describeTiers({ retention: { ...retention, logs: '1d' } })) {
      if (t.tier !== 'logs' && t.reader) this.grantRead(t.tier, this.roles[t.reader]);
    }

    this.allowCloudTrail(this.auditKey, trailName);
    this.trail = new cloudtrail.Trail(this, 'DebugReads', {
      trailName,
      bucket: audit,
      s3KeyPrefix: 'cloudtrail',
      encryptionKey: this.auditKey,
      enableFileValidation: true,
      managementEvents: cloudtrail.ReadWriteType.NONE,
      includeGlobalServiceEvents: false,
      isMultiRegionTrail: false,
    });
    // Every key of a debug bucket, and the debug prefixes of the other buckets.
    this.trail.addS3EventSelector(
      STORE_NAMES.flatMap((name) =>
        STORE_LAYOUT[name].tier === 'debug'
          ? [{ bucket: this.buckets[name] }]
          : foreignPrefixes(name)
              .filter((p) => p.tier === 'debug')
              .map((p) => ({ bucket: this.buckets[name], objectPrefix: p.prefix })),
      ),
      { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false },
    );
  }

  /**
   * Lets CloudTrail encrypt the log files of the trail `trailName` with `key`, and describe
   * it; readers decrypt through IAM (`grantRead('audit', ...)`).
   * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html)
   */
  private allowCloudTrail(key: kms.IKey, trailName: string): void {
    const stack = Stack.of(this);
    const trailArn = stack.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: trailName });
    const cloudTrail = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailToEncryptLogFiles',
        principals: [cloudTrail],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: {
            'kms:EncryptionContext:aws:cloudtrail:arn': stack.formatArn({
              service: 'cloudtrail',
              region: '*',
              resource: 'trail',
              resourceName: '*',
            }),
          },
        },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailToDescribeKey',
        principals: [cloudTrail],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
      }),
    );
  }

  /** A bucket by name. */
  bucket(name: StoreName): s3.IBucket {
    return this.buckets[name];
  }

  /** The role of an `access` entry. */
  role(name: RoleName): iam.IRole {
    return this.roles[name];
  }

  /**
   * Bytes a store holds (S3's daily storage metric `BucketSizeBytes`, Standard storage).
   * @default - Average over one day
   */
  metricStoredBytes(store: StoreName, props: cw.MetricOptions = {}): cw.Metric {
    return this.s3StorageMetric(store, 'BucketSizeBytes', 'StandardStorage', props);
  }

  /**
   * Objects a store holds (S3's daily storage metric `NumberOfObjects`).
   * @default - Average over one day
   */
  metricStoredObjects(store: StoreName, props: cw.MetricOptions = {}): cw.Metric {
    return this.s3StorageMetric(store, 'NumberOfObjects', 'AllStorageTypes', props);
  }

  private s3StorageMetric(store: StoreName, metricName: string, storageType: string, props: cw.MetricOptions): cw.Metric {
    return new cw.Metric({
      namespace: 'AWS/S3',
      metricName,
      statistic: 'Average',
      period: Duration.days(1),
      ...props,
      dimensionsMap: { BucketName: this.buckets[store].bucketName, StorageType: storageType, ...props.dimensionsMap },
    });
  }

  /**
   * Lets `grantee` read every store of `tier` (its prefixes in every bucket, and the
   * key that encrypts them), and exempts it from the tier's read denies.
   */
  grantRead(tier: StorageTier, grantee: iam.IGrantable): iam.Grant {
    this.exempt(this.readerArns, tier, grantee);
    const grants: iam.Grant[] = [];
    for (const name of STORE_NAMES) {
      const prefixes = STORE_LAYOUT[name].prefixes.filter((p) => p.tier === tier).map((p) => p.prefix);
      if (prefixes.length === 0) continue;
      const b = this.buckets[name];
      const actions = STORE_LAYOUT[name].versioned ? [...DENIED_OBJECT_READS] : ['s3:GetObject'];
      grants.push(iam.Grant.addToPrincipal({ grantee, actions, resourceArns: prefixes.map((p) => b.arnForObjects(`${p}*`)) }));
      grants.push(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:ListBucket'],
          resourceArns: [b.bucketArn],
          conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
        }),
      );
      grants.push(iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetBucketLocation'], resourceArns: [b.bucketArn] }));
      const keys = new Set([b.encryptionKey, ...prefixes.map((p) => this.prefixKeys[name]?.[p])].filter((k) => k !== undefined));
      for (const key of keys) grants.push(iam.Grant.addToPrincipal({ grantee, actions: ['kms:Decrypt'], resourceArns: [key.keyArn] }));
      this.acknowledgeObjectWildcards(
        grantee,
        name,
        prefixes.map((p) => `${p}*`),
        `read the ${tier} tier`,
      );
    }
    return grants.reduce((a, b) => a.combine(b));
  }

  /**
   * Lets `grantee` write objects anywhere in `bucket` (a Firehose stream delivers to one
   * bucket, its error output included) and exempts it from the bucket's read denies.
   * Writers are per bucket, readers per tier: a tier spans buckets, a writer does not.
   */
  grantWrite(bucket: StoreName, grantee: iam.IGrantable): iam.Grant {
    this.allowWriter(bucket, grantee);
    const b = this.buckets[bucket];
    let grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: [b.arnForObjects('*')],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resourceArns: [b.bucketArn],
      }),
    );
    // Decrypt: S3 reads the data key back to complete a multipart upload.
    if (b.encryptionKey)
      grant = grant.combine(
        iam.Grant.addToPrincipal({ grantee, actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [b.encryptionKey.keyArn] }),
      );
    this.acknowledgeObjectWildcards(grantee, bucket, ['*'], `write the ${bucket} bucket`);
    return grant;
  }

  /**
   * Exempts a writer from the bucket's read denies without granting anything, for a
   * writer whose permissions are granted elsewhere (e.g. by the Firehose L2).
   */
  allowWriter(bucket: StoreName, writer: iam.IGrantable): void {
    this.exempt(this.writerArns, bucket, writer);
  }

  private commonBucketProps(name: StoreName, retention: StoreRetention, removalPolicy: RemovalPolicy): s3.BucketProps {
    return {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: STORE_LAYOUT[name].versioned,
      lifecycleRules: lifecycleRulesFor(name, { retention }).map(toLifecycleRule),
      // DESTROY without autoDeleteObjects (which would add a custom-resource Lambda):
      // CloudFormation deletes an empty bucket; a non-empty one stays, its stack deletion
      // fails on it, and its lifecycle rules keep expiring what is left.
      removalPolicy,
    };
  }

  /**
   * One deny per tier present in the bucket: object reads under the tier's prefixes (for
   * the bucket's own tier: every key outside the other tiers' prefixes) by anyone but
   * the tier's readers and the bucket's writers. Only data actions are denied, so
   * CloudFormation and administrators still manage the bucket and its policy.
   */
  private denyReadsOutsideTiers(name: StoreName): void {
    const b = this.buckets[name];
    const layout = STORE_LAYOUT[name];
    const foreign = foreignPrefixes(name);
    b.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `DenyReadsOutside${pascal(layout.tier)}Tier`,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...DENIED_OBJECT_READS],
        ...(foreign.length === 0
          ? { resources: [b.arnForObjects('*')] }
          : { notResources: foreign.map((p) => b.arnForObjects(`${p.prefix}*`)) }),
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.exemptArns(layout.tier, name) } },
      }),
    );
    for (const p of foreign) {
      b.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `DenyReads${pascal(p.prefix)}Outside${pascal(p.tier)}Tier`,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: [...DENIED_OBJECT_READS],
          resources: [b.arnForObjects(`${p.prefix}*`)],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.exemptArns(p.tier, name) } },
        }),
      );
    }
  }

  /** The readers of a tier and the writers of a bucket, resolved at synth (grants may come later). */
  private exemptArns(tier: StorageTier, bucket: StoreName): string[] {
    return Lazy.list({ produce: () => [...new Set([...(this.readerArns.get(tier) ?? []), ...(this.writerArns.get(bucket) ?? [])])] });
  }

  private exempt<K>(registry: Map<K, Set<string>>, key: K, grantee: iam.IGrantable): void {
    const arn = principalArn(grantee.grantPrincipal);
    const set = registry.get(key) ?? new Set<string>();
    set.add(arn);
    registry.set(key, set);
  }

  /**
   * Object-level S3 actions name objects by key, so a grant on a prefix is a wildcard
   * resource: acknowledged with the exact finding on the grantee's policy, nowhere wider.
   */
  private acknowledgeObjectWildcards(grantee: iam.IGrantable, bucket: StoreName, patterns: string[], what: string): void {
    const principal = grantee.grantPrincipal;
    // A role keeps its grants in `DefaultPolicy`; an imported role in an iam.Policy child whose
    // id depends on a feature flag (`Policy` or `Policy<unique id>`), so look for the type.
    const holder = Construct.isConstruct(principal) ? principal : undefined;
    const policy = holder?.node.tryFindChild('DefaultPolicy') ?? holder?.node.children.find((c) => c instanceof iam.Policy);
    if (!policy) return;
    const logicalId = Stack.of(this).getLogicalId(this.buckets[bucket].node.defaultChild as s3.CfnBucket);
    for (const pattern of patterns) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${pattern}]`,
        reason: `Object actions to ${what} name objects by key prefix (${bucket} bucket, ${pattern}), the narrowest resource S3 offers; the bucket policy denies reads outside the tier's readers and writers.`,
      });
    }
  }
}

/** The ARN `aws:PrincipalArn` carries for a grantee (for a role: the role ARN, also in its sessions). */
function principalArn(principal: iam.IPrincipal): string {
  if ('roleArn' in principal && typeof principal.roleArn === 'string') return principal.roleArn;
  if (principal instanceof iam.ArnPrincipal) return principal.arn;
  throw new Error(
    `the storage tiers exempt principals from their read denies by role ARN; ${principal.toString()} has none. Grant to an IAM role (a Lambda function or Firehose stream role).`,
  );
}
