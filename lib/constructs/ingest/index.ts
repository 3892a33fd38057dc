/**
 * Ingest: the events stream (Direct PUT, JSON de-aggregation, the redaction Lambda,
 * dynamic partitioning by the record's own date, Parquet with the Glue schema) and the
 * debug stream (enrolment and expiry checked again, redacted, own bucket and key).
 * `TelemetryIngest.fromPolicy` builds it from a telemetry policy; `metric*()` give the
 * events stream's delivery health.
 */
import { resourcePrefix } from '../../core/policy/names';
import {
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  Validations,
  aws_cloudwatch as cw,
  aws_glue as glue,
  aws_iam as iam,
  aws_kinesisfirehose as firehose,
  aws_kms as kms,
  type aws_lambda as lambda,
  aws_logs as logs,
  aws_s3 as s3,
  aws_secretsmanager as secrets,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { TelemetryCatalog } from '../catalog/index';
import { SERVICE_NAMES } from '../../core/env/services';
import { transformConfigFromPolicy, transformEnv, type TransformConfig, type TransformPolicy } from '../../core/transform/env';
import type { StreamKind } from '../../core/transform/transform';
import { validating } from '../shared/errors';
import { logsPropsFromPolicy, type TelemetryLogsProps } from '../shared/retention';
import { metricsNamespace } from '../../core/metrics/dictionary';
import { TelemetryFunction } from '../shared/function';
import type { Policy } from '../../core/policy';
import type { TelemetryStorage } from '../storage';

/**
 * Processor settings, set explicitly because the L2 leaves gaps: it ignores
 * `retries: 0` (falsy) and never sends its documented 3 MiB buffer, so AWS's 1 MB
 * default would apply silently. 2 MiB keeps the Lambda's request and response (base64,
 * plus metadata) well under the 6 MB invocation cap.
 */
export const PROCESSOR = { bufferSize: Size.mebibytes(2), bufferInterval: Duration.seconds(60), retries: 3 } as const;

/**
 * Stream SSE (the records Firehose holds while buffering, at most 24 hours) uses an AWS-owned
 * key; every object in S3 is written with our keys (the destination's `encryptionKey`). With
 * a customer-managed key, Firehose creates a KMS grant at CreateDeliveryStream (API reference,
 * DeliveryStreamEncryptionConfigurationInput), every producer's PutRecord(Batch) also needs
 * kms:GenerateDataKey and kms:Decrypt on the key, and the debug key's deny (KMS
 * key-policies.html: a grant never overrides an explicit deny) would refuse Firehose. The
 * AWS-owned key needs none of that and keeps the producer's grant to PutRecord(Batch) alone.
 */
export const STREAM_ENCRYPTION = firehose.StreamEncryption.awsOwnedKey();

/** Destination buffering: dynamic partitioning and Parquet need at least 64 MiB; records arrive minutes after they are sent. */
export const EVENTS_BUFFER = { size: Size.mebibytes(128), interval: Duration.seconds(120) } as const;
export const DEBUG_BUFFER = { size: Size.mebibytes(64), interval: Duration.seconds(60) } as const;

/** `<area>/event_type=<type>/dt=<yyyy-mm-dd>/`, all three from the transform's partition keys. */
export const EVENTS_DATA_PREFIX =
  '!{partitionKeyFromLambda:area}/event_type=!{partitionKeyFromLambda:event_type}/dt=!{partitionKeyFromLambda:dt}/';
/** Firehose's error output: raw records on failure, so under the debug tier's `errors/` prefix. No partition keys allowed here. */
export const EVENTS_ERROR_PREFIX = 'errors/events/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/';
export const DEBUG_DATA_PREFIX = '!{partitionKeyFromLambda:area}/dt=!{partitionKeyFromLambda:dt}/';
export const DEBUG_ERROR_PREFIX = 'errors/captures/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/';

/** What `fromPolicy` takes besides the policy. */
export interface TelemetryIngestDeps {
  /** The tiers: the streams write the traces and debug buckets with their keys. */
  readonly storage: TelemetryStorage;
  /** The events table whose schema the Parquet conversion uses. */
  readonly catalog: TelemetryCatalog;
}

export interface TelemetryIngestProps extends TelemetryIngestDeps, TelemetryLogsProps {
  /** Prefix of descriptions, e.g. `copilot-prod`. */
  readonly prefix: string;
  /**
   * What the transforms do: the redaction (detectors, custom patterns, allowed attributes), the bucket metrics
   * (slices, pricing) and the debug enrolments (`transformConfigFromPolicy` makes it from a policy).
   */
  readonly transform: TransformConfig;
  /**
   * The CloudWatch namespace of the transforms' metrics.
   * @default - Powertools' default
   */
  readonly metricsNamespace?: string;
  /**
   * A secret of your own holding the HMAC key that pseudonymizes user ids (a string of 32+ random characters).
   * @default - a new secret of 64 random characters, encrypted with the storage's data key
   */
  readonly existingHashKey?: secrets.ISecret;
}

export class TelemetryIngest extends Construct {
  /** The ingest of a policy: its `redaction`, `capture`, `slices`, `pricing` and `debug_capture`; logs kept for `retention.logs`. */
  static fromPolicy(
    scope: Construct,
    id: string,
    policy: Pick<Policy, 'name' | 'environment' | 'retention'> & TransformPolicy,
    deps: TelemetryIngestDeps,
  ): TelemetryIngest {
    return new TelemetryIngest(scope, id, {
      ...deps,
      ...logsPropsFromPolicy(policy),
      encryptionKey: deps.storage.logsKey,
      prefix: resourcePrefix(policy),
      transform: transformConfigFromPolicy(policy),
      metricsNamespace: metricsNamespace(policy),
    });
  }

  /** The HMAC key that pseudonymizes user ids; read once per cold start. */
  readonly hashKey: secrets.ISecret;
  /** The events stream's transform. */
  readonly redactFunction: TelemetryFunction;
  /** The debug stream's transform. */
  readonly debugCaptureFunction: TelemetryFunction;
  readonly eventsStream: firehose.DeliveryStream;
  readonly debugStream: firehose.DeliveryStream;
  /** Attach to an application's role: PutRecord/PutRecordBatch on the events stream, nothing else. */
  readonly producerPolicy: iam.ManagedPolicy;
  /** Attach to the role that sends debug captures: PutRecord/PutRecordBatch on the debug stream only. */
  readonly debugProducerPolicy: iam.ManagedPolicy;
  /** Firehose's own delivery errors, per stream. */
  readonly eventsLogGroup: logs.LogGroup;
  readonly debugLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TelemetryIngestProps) {
    super(scope, id);
    const { prefix, storage, catalog } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    if (props.existingHashKey) {
      this.hashKey = props.existingHashKey;
    } else {
      this.hashKey = new secrets.Secret(this, 'HashKey', {
        description: `${prefix}: HMAC key that pseudonymizes user ids at ingest`,
        encryptionKey: storage.dataKey,
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy,
      });
      Validations.of(this.hashKey).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The pseudonymization key must stay stable: rotating it changes every pseudonym and breaks joins and distinct-user counts across the rotation. Rotate deliberately, with a re-keying plan, not on a schedule.',
      });
    }
    const functionProps = {
      metricsNamespace: props.metricsNamespace,
      logRetention: retention,
      logRemovalPolicy: removalPolicy,
      logEncryptionKey: props.encryptionKey,
    };
    const env = (kind: StreamKind) =>
      validating(this, () => transformEnv(props.transform, kind, { hashKeySecretArn: this.hashKey.secretArn }));

    this.redactFunction = new TelemetryFunction(this, 'Redact', {
      ...functionProps,
      entry: 'lambdas/redact/index.ts',
      description: 'Firehose transform: validate, minimize, pseudonymize, redact; quarantine what is invalid',
      memorySize: 1024,
      timeout: Duration.minutes(1),
      serviceName: SERVICE_NAMES.redact,
      environment: env('events'),
    });
    this.debugCaptureFunction = new TelemetryFunction(this, 'DebugCapture', {
      ...functionProps,
      entry: 'lambdas/debug-capture/index.ts',
      description: 'Firehose transform of debug captures: enrolment and expiry, redaction',
      memorySize: 1024,
      timeout: Duration.minutes(1),
      serviceName: SERVICE_NAMES['debug-capture'],
      environment: env('captures'),
    });
    for (const fn of [this.redactFunction, this.debugCaptureFunction]) this.hashKey.grantRead(fn);

    const logGroupProps = { retention, removalPolicy, encryptionKey: props.encryptionKey };
    this.eventsLogGroup = new logs.LogGroup(this, 'EventsDeliveryLogs', logGroupProps);
    this.debugLogGroup = new logs.LogGroup(this, 'DebugDeliveryLogs', logGroupProps);

    const eventsTable = catalog.eventsTable.node.defaultChild as glue.CfnTable;
    const eventsRole = this.deliveryRole('EventsDeliveryRole', {
      storage,
      bucket: 'traces',
      logGroup: this.eventsLogGroup,
      transform: this.redactFunction,
      table: eventsTable,
    });
    // The L2 grants its role what it thinks delivery needs; with an immutable role those
    // grants would land in the bucket and key policies instead (s3:DeleteObject*, kms:ReEncrypt*).
    // Handing it references that cannot take policies either keeps the grants ours alone.
    const ref = (refId: string, b: { bucketArn: string }) => s3.Bucket.fromBucketArn(this, refId, b.bucketArn);
    const keyRef = (refId: string, k: kms.IKey) => kms.Key.fromKeyArn(this, refId, k.keyArn);
    const dataKey = keyRef('DataKeyRef', storage.dataKey);
    const debugKey = keyRef('DebugKeyRef', storage.debugKey);
    this.eventsStream = new firehose.DeliveryStream(this, 'Events', {
      encryption: STREAM_ENCRYPTION,
      role: eventsRole.ref,
      destination: new firehose.S3Bucket(ref('TracesBucketRef', storage.tracesBucket), {
        role: eventsRole.ref,
        dataOutputPrefix: EVENTS_DATA_PREFIX,
        errorOutputPrefix: EVENTS_ERROR_PREFIX,
        bufferingSize: EVENTS_BUFFER.size,
        bufferingInterval: EVENTS_BUFFER.interval,
        encryptionKey: dataKey,
        loggingConfig: new firehose.EnableLogging(this.eventsLogGroup),
        processors: [
          // Producers pack many newline-delimited events per record (Firehose bills per 5 KB).
          firehose.RecordDeAggregationProcessor.json(),
          new firehose.LambdaFunctionProcessor(this.redactFunction, PROCESSOR),
        ],
        dynamicPartitioning: { enabled: true, retryDuration: Duration.minutes(5) },
        dataFormatConversion: {
          schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(eventsTable),
          inputFormat: firehose.InputFormat.OPENX_JSON,
          outputFormat: firehose.OutputFormat.PARQUET,
        },
      }),
    });

    // CreateDeliveryStream checks the role's access (Glue for the format conversion) when it
    // runs; the L2 got an immutable reference, so nothing orders the stream after the role's
    // policy. A dependency on the role construct covers the role and its DefaultPolicy.
    // (Firehose docs, controlling-access.html#using-iam-glue; aws/aws-cdk#7236.)
    this.eventsStream.node.addDependency(eventsRole.role);

    const debugRole = this.deliveryRole('DebugDeliveryRole', {
      storage,
      bucket: 'debug',
      logGroup: this.debugLogGroup,
      transform: this.debugCaptureFunction,
    });
    this.debugStream = new firehose.DeliveryStream(this, 'Debug', {
      encryption: STREAM_ENCRYPTION,
      role: debugRole.ref,
      destination: new firehose.S3Bucket(ref('DebugBucketRef', storage.debugBucket), {
        role: debugRole.ref,
        dataOutputPrefix: DEBUG_DATA_PREFIX,
        errorOutputPrefix: DEBUG_ERROR_PREFIX,
        bufferingSize: DEBUG_BUFFER.size,
        bufferingInterval: DEBUG_BUFFER.interval,
        compression: firehose.Compression.GZIP,
        encryptionKey: debugKey,
        loggingConfig: new firehose.EnableLogging(this.debugLogGroup),
        processors: [
          firehose.RecordDeAggregationProcessor.json(),
          new firehose.LambdaFunctionProcessor(this.debugCaptureFunction, PROCESSOR),
        ],
        dynamicPartitioning: { enabled: true, retryDuration: Duration.minutes(5) },
      }),
    });

    this.debugStream.node.addDependency(debugRole.role);

    this.producerPolicy = new iam.ManagedPolicy(this, 'ProducerPolicy', {
      description: `${prefix}: send telemetry records to the events stream`,
      statements: [
        new iam.PolicyStatement({
          actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
          resources: [this.eventsStream.deliveryStreamArn],
        }),
      ],
    });
    this.debugProducerPolicy = new iam.ManagedPolicy(this, 'DebugProducerPolicy', {
      description: `${prefix}: send debug captures of enrolled cohorts`,
      statements: [
        new iam.PolicyStatement({
          actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
          resources: [this.debugStream.deliveryStreamArn],
        }),
      ],
    });
  }

  /**
   * The delivery role with exactly what Firehose needs, handed to the L2 as an immutable
   * reference: the L2 would otherwise grant itself `bucket.grantReadWrite` (s3:DeleteObject*,
   * s3:GetObject* ...) and `glue:GetSchemaVersion` on `*`, none of which delivery needs.
   */
  private deliveryRole(
    id: string,
    o: {
      storage: TelemetryStorage;
      bucket: 'traces' | 'debug';
      logGroup: logs.ILogGroup;
      transform: TelemetryFunction;
      table?: glue.CfnTable;
    },
  ): { role: iam.Role; ref: iam.IRole } {
    const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
    o.storage.grantWrite(o.bucket, role);
    o.logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [o.transform.functionArn],
      }),
    );
    const key = o.bucket === 'traces' ? o.storage.dataKey : o.storage.debugKey;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }),
    );
    if (o.table) {
      const stack = Stack.of(this);
      const db = o.table.databaseName;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
          resources: [
            stack.formatArn({ service: 'glue', resource: 'catalog' }),
            stack.formatArn({ service: 'glue', resource: 'database', resourceName: db }),
            stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${db}/${o.table.ref}` }),
          ],
        }),
      );
    }
    return { role, ref: iam.Role.fromRoleArn(this, `${id}Ref`, role.roleArn, { mutable: false }) };
  }

  /** The transform of the events stream (for its errors, throttles and duration). */
  get transform(): lambda.IFunction {
    return this.redactFunction;
  }

  /** The events transform's log group: its EMF lines hold the ingest metrics. */
  get transformLogGroup(): logs.ILogGroup {
    return this.redactFunction.logGroup;
  }

  /** Age of the oldest record not yet delivered to S3 (seconds, Maximum over 5 minutes). */
  metricDataFreshness(props?: cw.MetricOptions): cw.Metric {
    return this.streamMetric('DeliveryToS3.DataFreshness', 'Maximum', props);
  }

  /** Share of S3 deliveries that succeeded (Average over 5 minutes; 1 is all). */
  metricDeliverySuccess(props?: cw.MetricOptions): cw.Metric {
    return this.streamMetric('DeliveryToS3.Success', 'Average', props);
  }

  /** Share of transform invocations that succeeded (Average over 5 minutes; 1 is all). */
  metricProcessingSuccess(props?: cw.MetricOptions): cw.Metric {
    return this.streamMetric('ExecuteProcessing.Success', 'Average', props);
  }

  /** Time the transform took per invocation, as Firehose saw it (milliseconds, Maximum over 5 minutes). */
  metricProcessingDuration(props?: cw.MetricOptions): cw.Metric {
    return this.streamMetric('ExecuteProcessing.Duration', 'Maximum', props);
  }

  /** Records Firehose throttled at PutRecord(Batch) (Sum over 5 minutes). */
  metricThrottledRecords(props?: cw.MetricOptions): cw.Metric {
    return this.streamMetric('ThrottledRecords', 'Sum', props);
  }

  /** A metric of the events stream (AWS/Firehose), by name; the named methods cover what the dashboards show. */
  private streamMetric(name: string, statistic: string, props?: cw.MetricOptions): cw.Metric {
    return this.eventsStream.metric(name, { statistic, period: Duration.minutes(5), ...props });
  }

  /** Lets an application send telemetry records to the events stream. */
  grantPutRecords(grantee: iam.IGrantable): iam.Grant {
    return this.eventsStream.grantPutRecords(grantee);
  }

  /** Lets an application send debug captures (still checked against enrolments at ingest). */
  grantPutDebugCaptures(grantee: iam.IGrantable): iam.Grant {
    return this.debugStream.grantPutRecords(grantee);
  }
}
