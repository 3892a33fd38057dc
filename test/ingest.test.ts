import { App, Stack, aws_secretsmanager as secrets } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { transformConfigFromPolicy, transformEnvFromPolicy } from '../lib/core/transform/env';
import {
  DEBUG_DATA_PREFIX,
  DEBUG_ERROR_PREFIX,
  EVENTS_DATA_PREFIX,
  EVENTS_ERROR_PREFIX,
  TelemetryIngest,
} from '../lib/constructs/ingest/index';
import { TelemetryCatalog } from '../lib/constructs/catalog/index';
import { TelemetryStorage } from '../lib/constructs/storage';
import { durationDays } from '../lib/core/policy';
import { buildStack, TEST_NOW, variantPolicy } from './helpers';

const shipped = variantPolicy(() => {});
const built = buildStack(shipped);
const { stack, template } = built;
const ingest = built.stack.ingest;

function streamProps(id: 'Events' | 'Debug') {
  const streams = template.findResources('AWS::KinesisFirehose::DeliveryStream');
  const logical = stack.getLogicalId((id === 'Events' ? ingest.eventsStream : ingest.debugStream).node.defaultChild as never);
  return streams[logical]!.Properties;
}

function processorParams(dest: any, type: string): Record<string, string> | undefined {
  const p = dest.ProcessingConfiguration.Processors.find((x: any) => x.Type === type);
  return p && Object.fromEntries(p.Parameters.map((q: any) => [q.ParameterName, q.ParameterValue]));
}

describe('the events stream', () => {
  const props = streamProps('Events');
  const dest = props.ExtendedS3DestinationConfiguration;

  it('is Direct PUT; the buffer under an AWS-owned key (no grant, no producer KMS call), the objects under the data key', () => {
    expect(props.DeliveryStreamType).toBe('DirectPut');
    expect(props.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
    expect(dest.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toEqual(stack.resolve(built.stack.storage.dataKey.keyArn));
  });

  it('is created after its delivery role and the role policy (CreateDeliveryStream checks Glue access)', () => {
    const logical = stack.getLogicalId(ingest.eventsStream.node.defaultChild as never);
    const dependsOn = template.toJSON().Resources[logical].DependsOn as string[];
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes('EventsDeliveryRole'))
      .map(([id]) => id);
    const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.includes('EventsDeliveryRole'));
    expect(policies).toHaveLength(1);
    expect(roles).toHaveLength(1);
    expect(dependsOn).toEqual(expect.arrayContaining([...roles, ...policies]));
  });

  it('de-aggregates JSON, then runs the redaction Lambda with an explicit buffer and retry count', () => {
    expect(dest.ProcessingConfiguration.Enabled).toBe(true);
    expect(dest.ProcessingConfiguration.Processors.map((p: any) => p.Type)).toEqual(['RecordDeAggregation', 'Lambda']);
    expect(processorParams(dest, 'RecordDeAggregation')).toMatchObject({ SubRecordType: 'JSON' });
    expect(processorParams(dest, 'Lambda')).toMatchObject({ BufferSizeInMBs: '2', BufferIntervalInSeconds: '60', NumberOfRetries: '3' });
  });

  it('partitions by the Lambda keys into <area>/event_type=<type>/dt=<date>/, errors under errors/', () => {
    expect(dest.DynamicPartitioningConfiguration).toMatchObject({ Enabled: true });
    expect(dest.Prefix).toBe(EVENTS_DATA_PREFIX);
    expect(EVENTS_DATA_PREFIX).toBe(
      '!{partitionKeyFromLambda:area}/event_type=!{partitionKeyFromLambda:event_type}/dt=!{partitionKeyFromLambda:dt}/',
    );
    expect(dest.ErrorOutputPrefix).toBe(EVENTS_ERROR_PREFIX);
    expect(EVENTS_ERROR_PREFIX.startsWith('errors/')).toBe(true);
    expect(EVENTS_ERROR_PREFIX).toContain('!{firehose:error-output-type}');
    expect(EVENTS_ERROR_PREFIX).not.toContain('partitionKeyFromLambda');
    expect(dest.BufferingHints).toEqual({ SizeInMBs: 128, IntervalInSeconds: 120 });
  });

  it('converts JSON to Parquet with the events table schema', () => {
    const conv = dest.DataFormatConversionConfiguration;
    expect(conv.Enabled).toBe(true);
    expect(conv.InputFormatConfiguration.Deserializer).toHaveProperty('OpenXJsonSerDe');
    expect(conv.OutputFormatConfiguration.Serializer).toHaveProperty('ParquetSerDe');
    expect(conv.SchemaConfiguration.TableName).toEqual(stack.resolve(built.stack.catalog.eventsTable.tableName));
    expect(conv.SchemaConfiguration.DatabaseName).toEqual(stack.resolve(built.stack.catalog.database.databaseName));
  });

  it('keeps no source-record backup (it would store every raw record and cannot be turned off)', () => {
    for (const id of ['Events', 'Debug'] as const) {
      const d = streamProps(id).ExtendedS3DestinationConfiguration;
      expect(d.S3BackupMode ?? 'Disabled').toBe('Disabled');
      expect(d.S3BackupConfiguration).toBeUndefined();
    }
  });

  it("logs Firehose's own errors to a log group with the policy's log retention", () => {
    for (const id of ['Events', 'Debug'] as const) {
      const logging = streamProps(id).ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions;
      expect(logging.Enabled).toBe(true);
      const group = template.findResources('AWS::Logs::LogGroup')[logging.LogGroupName.Ref];
      expect(group?.Properties.RetentionInDays).toBe(durationDays(shipped.retention.logs));
    }
  });
});

describe('the debug stream', () => {
  const props = streamProps('Debug');
  const dest = props.ExtendedS3DestinationConfiguration;

  it('delivers to the debug bucket with the debug key, through the debug-capture Lambda', () => {
    expect(props.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
    const logical = stack.getLogicalId(ingest.debugStream.node.defaultChild as never);
    expect(template.toJSON().Resources[logical].DependsOn).toEqual(
      expect.arrayContaining(Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => id.includes('DebugDeliveryRole'))),
    );
    expect(dest.BucketARN).toEqual(stack.resolve(built.stack.storage.debugBucket.bucketArn));
    expect(dest.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toEqual(stack.resolve(built.stack.storage.debugKey.keyArn));
    expect(dest.Prefix).toBe(DEBUG_DATA_PREFIX);
    expect(dest.ErrorOutputPrefix).toBe(DEBUG_ERROR_PREFIX);
    const lambdaArn = dest.ProcessingConfiguration.Processors.find((p: any) => p.Type === 'Lambda').Parameters.find(
      (q: any) => q.ParameterName === 'LambdaArn',
    ).ParameterValue;
    expect(lambdaArn).toEqual(stack.resolve(ingest.debugCaptureFunction.functionArn));
  });

  it('gets the enrolments only when debug capture is enabled', () => {
    const fnEnv = (p: typeof shipped) => {
      const b = buildStack(p);
      const fn =
        b.template.findResources('AWS::Lambda::Function')[
          b.stack.getLogicalId(b.stack.ingest.debugCaptureFunction.node.defaultChild as never)
        ];
      return JSON.parse(fn!.Properties.Environment.Variables.ENROLMENTS);
    };
    expect(fnEnv(shipped)).toEqual([]);
    const expires = new Date(TEST_NOW.getTime() + 24 * 3_600_000).toISOString();
    const enrolment = { cohort: 'inc_1', tenant_id: 'emea', reason: 'INC-1', expires_at: expires };
    expect(
      fnEnv(
        variantPolicy((d) => {
          d.debug_capture = { enabled: true, enrolments: [enrolment] };
        }),
      ),
    ).toEqual([enrolment]);
    expect(
      fnEnv(
        variantPolicy((d) => {
          d.debug_capture = { enabled: false, enrolments: [enrolment] };
        }),
      ),
    ).toEqual([]);
  });
});

describe('access around the streams', () => {
  it('gives the delivery roles only what delivery needs: no delete, no wildcard resource', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('DeliveryRole'),
    );
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      for (const st of p.Properties.PolicyDocument.Statement) {
        const actions = [st.Action].flat();
        expect(actions.some((a: string) => a.startsWith('s3:Delete'))).toBe(false);
        expect(actions.some((a: string) => a.startsWith('s3:GetObject'))).toBe(false);
        expect(st.Resource).not.toBe('*');
      }
    }
  });

  it('exposes a managed policy that may only put records to the events stream', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
            Resource: stack.resolve(ingest.eventsStream.deliveryStreamArn),
          },
        ],
      },
    });
  });

  it('hands each transform the environment of its contract, and lets both read the hash key', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hash-key-AbCdEf';
    for (const [fn, kind, service] of [
      [ingest.redactFunction, 'events', 'ingest'],
      [ingest.debugCaptureFunction, 'captures', 'debug-capture'],
    ] as const) {
      const variables = transformEnvFromPolicy(shipped, kind, { hashKeySecretArn: arn });
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: Match.absent(),
        Architectures: ['arm64'],
        Environment: {
          Variables: {
            ...variables,
            HASH_KEY_SECRET_ARN: stack.resolve(ingest.hashKey.secretArn),
            POWERTOOLS_SERVICE_NAME: service,
            POWERTOOLS_METRICS_NAMESPACE: 'LLMOps/copilot-prod',
          },
        },
        Role: stack.resolve((fn.role!.node.defaultChild as never as { attrArn: string }).attrArn),
      });
    }
    const readers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      p.Properties.PolicyDocument.Statement.some((s: any) => [s.Action].flat().includes('secretsmanager:GetSecretValue')),
    );
    expect(readers).toHaveLength(2);
  });

  it('fails when the transform configuration would not fit in a Lambda environment', () => {
    const big = variantPolicy((d) => {
      d.redaction.custom_patterns = Array.from({ length: 20 }, (_, i) => ({
        name: `p${i}`,
        pattern: `X[0-9]{${i + 1}}${'[A-Z]'.repeat(20)}`,
        placeholder: `P${i}X`,
      }));
    });
    const c = transformConfigFromPolicy(big);
    const env = {
      REDACTION_CONFIG: JSON.stringify(c.redaction),
      METRICS_CONFIG: JSON.stringify(c.metrics),
      CAPTURE_CONFIG: JSON.stringify(c.capture),
    };
    const size = Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    expect(size).toBeGreaterThan(3500);
    const refs = { hashKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k' };
    expect(() => transformEnvFromPolicy(big, 'events', refs)).toThrow(
      `the transform configuration is ${size} bytes; Lambda environments hold at most 4 KB, so redaction.custom_patterns, capture.attributes, slices values and pricing.models must fit in 3500 bytes`,
    );
    // The debug stream's part (no METRICS_CONFIG) has room for these patterns, not for twice as many.
    expect(() => transformEnvFromPolicy(big, 'captures', refs)).not.toThrow();
    const bigger = variantPolicy((d) => {
      d.redaction.custom_patterns = Array.from({ length: 40 }, (_, i) => ({
        name: `p${i}`,
        pattern: `X[0-9]{${i + 1}}${'[A-Z]'.repeat(20)}`,
        placeholder: `P${i}X`,
      }));
    });
    const captureSize = Buffer.byteLength(`REDACTION_CONFIG${JSON.stringify(transformConfigFromPolicy(bigger).redaction)}ENROLMENTS[]`);
    expect(captureSize).toBeGreaterThan(3500);
    expect(() => transformEnvFromPolicy(bigger, 'captures', refs)).toThrow(
      `the transform configuration is ${captureSize} bytes; Lambda environments hold at most 4 KB, so redaction.custom_patterns, capture.attributes and debug_capture.enrolments must fit in 3500 bytes`,
    );
    expect(JSON.parse(transformEnvFromPolicy(shipped, 'events', refs).METRICS_CONFIG!)).toEqual({
      slices: shipped.slices.dimensions,
      pricing: shipped.pricing.models,
      rating_scale: 'thumbs',
      citation_required_intents: ['policy_qna'],
    });
    expect(JSON.parse(transformEnvFromPolicy(shipped, 'events', refs).CAPTURE_CONFIG!)).toEqual({
      samplingRate: 1,
      outcomeSignals: ['user_rating', 'escalated_to_human', 'follow_up_within_5m', 'abandoned'],
    });
  });
});

describe('TelemetryIngest as a library construct', () => {
  it('offers the events stream delivery health as metric methods (AWS/Firehose, the stream by name)', () => {
    const stream = { name: 'DeliveryStreamName', value: stack.resolve(ingest.eventsStream.deliveryStreamName) };
    const cases = [
      [ingest.metricDataFreshness(), 'DeliveryToS3.DataFreshness', 'Maximum'],
      [ingest.metricDeliverySuccess(), 'DeliveryToS3.Success', 'Average'],
      [ingest.metricProcessingSuccess(), 'ExecuteProcessing.Success', 'Average'],
      [ingest.metricProcessingDuration(), 'ExecuteProcessing.Duration', 'Maximum'],
      [ingest.metricThrottledRecords(), 'ThrottledRecords', 'Sum'],
    ] as const;
    for (const [metric, name, statistic] of cases) {
      const config = metric.toMetricConfig().metricStat!;
      expect([config.namespace, config.metricName, config.statistic, config.period.toMinutes()]).toEqual([
        'AWS/Firehose',
        name,
        statistic,
        5,
      ]);
      expect(stack.resolve(config.dimensions)).toEqual([stream]);
    }
    // the reliability dashboard graphs them
    const reliability = JSON.stringify(
      stack.resolve((built.stack.monitoring.dashboards.reliability.node.defaultChild as any).dashboardBody),
    );
    for (const [, name] of cases) expect(reliability).toContain(`\\"AWS/Firehose\\",\\"${name}\\"`);
  });
});

describe('TelemetryIngest with its own props', () => {
  it('uses an existing hash key instead of creating one, and reads it from the transforms', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const own = new Stack(app, 'Own', { env: { account: '123456789012', region: 'eu-west-1' } });
    const storage = TelemetryStorage.fromPolicy(own, 'Storage', shipped);
    const catalog = TelemetryCatalog.fromPolicy(own, 'Catalog', shipped, storage);
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/pseudonym-key-AbCdEf';
    const existing = secrets.Secret.fromSecretCompleteArn(own, 'TeamKey', arn);
    const mine = new TelemetryIngest(own, 'Ingest', {
      prefix: 'team-dev',
      transform: transformConfigFromPolicy(shipped),
      storage,
      catalog,
      existingHashKey: existing,
    });
    const t = Template.fromStack(own);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(mine.hashKey).toBe(existing);
    for (const fn of [mine.redactFunction, mine.debugCaptureFunction]) {
      const props = t.findResources('AWS::Lambda::Function')[own.getLogicalId(fn.node.defaultChild as never)]!.Properties;
      expect(props.Environment.Variables.HASH_KEY_SECRET_ARN).toBe(arn);
      expect(props.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBeUndefined();
    }
    // both transforms may read it, nothing more
    const reads = Object.values(t.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(reads).toHaveLength(2);
    for (const s of reads) expect(JSON.stringify(s.Resource)).toContain('team/pseudonym-key');
  });
});
