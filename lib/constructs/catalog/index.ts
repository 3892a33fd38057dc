/**
 * The Glue catalog and Athena: tables over the partitioned records (columns derived from
 * the event contract, never retyped), partition projection so no crawler or MSCK REPAIR
 * is needed, two workgroups with enforced settings and scan limits, and the decision
 * queries as named queries. `TelemetryCatalog.fromPolicy` builds it from a telemetry policy.
 */
import { resourcePrefix } from '../../core/policy/names';
import {
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  aws_athena as athena,
  aws_iam as iam,
  aws_glue as glue,
  type aws_kms as kms,
  type aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { contractColumns, debugCaptureColumns, EVENT_TYPES, type ContractColumn } from '../../core/contract';
import { durationSeconds, type Policy } from '../../core/policy';
import { catalogDatabaseName } from '../../core/rollup/names';
import { removalPolicyFor } from '../shared/retention';
import { loadDecisionQueries, namedQueryDescription, toPositional } from '../../core/queries';

export interface TelemetryCatalogProps {
  /** Prefix of the workgroup names and descriptions, e.g. `copilot-prod` (workgroups `<prefix>-analysts`, `<prefix>-incident`). */
  readonly prefix: string;
  /**
   * The Glue database.
   * @default - the prefix with underscores for hyphens, then `_telemetry` (`copilot_prod_telemetry`)
   */
  readonly databaseName?: string;
  /** How long the traces tier keeps records: partition projection of `events` spans it (plus 2 days). */
  readonly tracesRetention: Duration;
  /** How long the debug tier keeps records: partition projection of `quarantine` and `captures` spans it (plus 2 days). */
  readonly debugRetention: Duration;
  /**
   * Each query stops after scanning this much (both workgroups).
   * @default Size.gibibytes(1)
   */
  readonly scanLimit?: Size;
  /**
   * What happens to the Glue database and the workgroups when the stack is deleted; any policy but RETAIN deletes the
   * workgroups' saved results too. The database has a fixed name: a retained one makes the next deploy of the same
   * policy fail (`AlreadyExistsException`).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Holds `events/` (traces tier) and `quarantine/` (debug tier). */
  readonly tracesBucket: s3.IBucket;
  /** Holds `captures/`. */
  readonly debugBucket: s3.IBucket;
  /** Athena results: `analysts/` and `incident/`. */
  readonly resultsBucket: s3.IBucket;
  /** Encrypts the analysts' results. */
  readonly dataKey: kms.IKey;
  /** Encrypts the incident responders' results. */
  readonly debugKey: kms.IKey;
}

/** The stores and keys the catalog reads and writes: a `TelemetryStorage` has them all. */
export type TelemetryCatalogStores = Pick<TelemetryCatalogProps, 'tracesBucket' | 'debugBucket' | 'resultsBucket' | 'dataKey' | 'debugKey'>;

/** Area prefixes in the traces bucket, written by the transform's `area` partition key. */
export const EVENTS_PREFIX = 'events/';
export const QUARANTINE_PREFIX = 'quarantine/';
export const CAPTURES_PREFIX = 'captures/';

/** Athena engine v3 is Trino SQL: what the decision queries are written in. */
const ENGINE_V3 = 'Athena engine version 3';

/** Contract column type to Glue type. */
export function glueType(t: ContractColumn['type']): glue.Type {
  switch (t) {
    case 'string':
      return glue.Schema.STRING;
    case 'int':
      return glue.Schema.BIG_INT;
    case 'double':
      return glue.Schema.DOUBLE;
    case 'boolean':
      return glue.Schema.BOOLEAN;
    case 'array<string>':
      return glue.Schema.array(glue.Schema.STRING);
    case 'map<string,string>':
      return glue.Schema.map(glue.Schema.STRING, glue.Schema.STRING);
  }
}

/** The Glue columns of the events and quarantine tables: the contract minus the partition columns. */
export function recordColumns(): glue.Column[] {
  return contractColumns()
    .filter((c) => c.name !== 'event_type')
    .map((c) => ({ name: c.name, type: glueType(c.type) }));
}

/** The two workgroups: analysts query the traces tier, incident responders the debug tier. */
export type WorkGroupName = 'analysts' | 'incident';

/** Running a query in a workgroup. */
export const QUERY_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:StopQueryExecution',
] as const;

/** What the Athena console also reads of a workgroup (AWS's example policy for running queries in a workgroup). */
export const CONSOLE_ACTIONS = [
  'athena:GetWorkGroup',
  'athena:BatchGetQueryExecution',
  'athena:ListQueryExecutions',
  'athena:GetQueryResultsStream',
  'athena:GetNamedQuery',
  'athena:ListNamedQueries',
  'athena:BatchGetNamedQuery',
] as const;

/** The account's Glue Data Catalog: `arn:<partition>:glue:<region>:<account>:catalog`. */
export function glueCatalogArn(scope: Construct): string {
  return Stack.of(scope).formatArn({ service: 'glue', resource: 'catalog' });
}

export class TelemetryCatalog extends Construct {
  /**
   * The catalog of a policy over its storage: names from `name` and `environment`, projection windows from
   * `retention`, the scan limit `queries.scan_limit_mb` (decimal megabytes), workgroups kept in `prod`; `storage` is
   * usually the `TelemetryStorage`.
   */
  static fromPolicy(
    scope: Construct,
    id: string,
    policy: Pick<Policy, 'name' | 'environment' | 'retention' | 'queries'>,
    storage: TelemetryCatalogStores,
  ): TelemetryCatalog {
    return new TelemetryCatalog(scope, id, {
      prefix: resourcePrefix(policy),
      databaseName: catalogDatabaseName(policy),
      tracesRetention: Duration.seconds(durationSeconds(policy.retention.traces)),
      debugRetention: Duration.seconds(durationSeconds(policy.retention.debug)),
      scanLimit: Size.bytes(policy.queries.scan_limit_mb * 1_000_000),
      removalPolicy: removalPolicyFor(policy.environment),
      tracesBucket: storage.tracesBucket,
      debugBucket: storage.debugBucket,
      resultsBucket: storage.resultsBucket,
      dataKey: storage.dataKey,
      debugKey: storage.debugKey,
    });
  }

  readonly database: glue.Database;
  /** Redacted records, traces tier. */
  readonly eventsTable: glue.S3Table;
  /** Rejected-record stubs, debug tier. */
  readonly quarantineTable: glue.S3Table;
  /** Redacted debug captures, debug tier. */
  readonly capturesTable: glue.S3Table;
  /** Over the traces tier; results kept for the traces retention. */
  readonly analystsWorkGroup: athena.CfnWorkGroup;
  /** Over the debug tier; results kept for the debug retention. */
  readonly incidentWorkGroup: athena.CfnWorkGroup;
  readonly namedQueries: readonly athena.CfnNamedQuery[];

  private readonly props: TelemetryCatalogProps;
  private readonly workGroups: Record<WorkGroupName, athena.CfnWorkGroup>;
  private readonly results: Record<WorkGroupName, { prefix: string; key: kms.IKey }>;

  constructor(scope: Construct, id: string, props: TelemetryCatalogProps) {
    super(scope, id);
    const { prefix } = props;
    this.props = props;
    const tracesDays = Math.ceil(props.tracesRetention.toSeconds() / 86_400);
    const debugDays = Math.ceil(props.debugRetention.toSeconds() / 86_400);
    const scanBytes = (props.scanLimit ?? Size.gibibytes(1)).toBytes();
    const scanMb = scanBytes / 1_000_000;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.database = new glue.Database(this, 'Database', {
      databaseName: props.databaseName ?? `${prefix.replace(/-/g, '_')}_telemetry`,
      description: `Telemetry records of ${prefix} (redacted; no raw text)`,
    });
    // The L2 retains the database whatever the stack's setting; it holds only table definitions.
    this.database.applyRemovalPolicy(removalPolicy);

    const partitionKeys = [
      { name: 'event_type', type: glue.Schema.STRING },
      { name: 'dt', type: glue.Schema.STRING },
    ];
    const recordTable = (
      tableId: string,
      tableName: string,
      area: string,
      days: number,
      eventTypes: readonly string[],
      description: string,
    ) =>
      new glue.S3Table(this, tableId, {
        database: this.database,
        tableName,
        description,
        columns: recordColumns(),
        partitionKeys,
        dataFormat: glue.DataFormat.PARQUET,
        storage: glue.S3TableStorage.fromBucket(props.tracesBucket),
        s3Prefix: area,
        partitionProjection: {
          // Only the days the tier keeps can hold data: older partitions are never scanned.
          dt: glue.PartitionProjectionConfiguration.date({
            min: `NOW-${days}DAYS`,
            max: 'NOW',
            format: 'yyyy-MM-dd',
            step: { interval: 1, intervalUnit: glue.DateIntervalUnit.DAYS },
          }),
          event_type: glue.PartitionProjectionConfiguration.enum({ values: [...eventTypes] }),
        },
        parameters: {
          'storage.location.template': `s3://${props.tracesBucket.bucketName}/${area}event_type=\${event_type}/dt=\${dt}/`,
        },
      });
    this.eventsTable = recordTable(
      'Events',
      'events',
      EVENTS_PREFIX,
      tracesDays + 2,
      EVENT_TYPES,
      'Redacted request, span and feedback records (traces tier), Parquet, partitioned by event_type and dt',
    );
    this.quarantineTable = recordTable(
      'Quarantine',
      'quarantine',
      QUARANTINE_PREFIX,
      debugDays + 2,
      [...EVENT_TYPES, 'unknown'],
      'Rejected records as redacted stubs: reason, sizes, hash, ids (debug tier)',
    );

    this.capturesTable = new glue.S3Table(this, 'Captures', {
      database: this.database,
      tableName: 'captures',
      description: 'Redacted debug captures of enrolled cohorts (debug tier)',
      columns: debugCaptureColumns().map((c) => ({ name: c.name, type: glueType(c.type) })),
      partitionKeys: [{ name: 'dt', type: glue.Schema.STRING }],
      dataFormat: glue.DataFormat.JSON,
      storage: glue.S3TableStorage.fromBucket(props.debugBucket),
      s3Prefix: CAPTURES_PREFIX,
      partitionProjection: {
        dt: glue.PartitionProjectionConfiguration.date({
          min: `NOW-${debugDays + 2}DAYS`,
          max: 'NOW',
          format: 'yyyy-MM-dd',
          step: { interval: 1, intervalUnit: glue.DateIntervalUnit.DAYS },
        }),
      },
      parameters: { 'storage.location.template': `s3://${props.debugBucket.bucketName}/${CAPTURES_PREFIX}dt=\${dt}/` },
    });

    const workGroup = (wgId: string, name: string, resultsPrefix: string, key: kms.IKey, description: string) =>
      new athena.CfnWorkGroup(this, wgId, {
        name: `${prefix}-${name}`,
        description,
        state: 'ENABLED',
        recursiveDeleteOption: removalPolicy !== RemovalPolicy.RETAIN,
        workGroupConfiguration: {
          enforceWorkGroupConfiguration: true,
          publishCloudWatchMetricsEnabled: true,
          bytesScannedCutoffPerQuery: scanBytes,
          engineVersion: { selectedEngineVersion: ENGINE_V3 },
          resultConfiguration: {
            outputLocation: props.resultsBucket.s3UrlForObject(resultsPrefix),
            encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: key.keyArn },
          },
        },
      });
    this.analystsWorkGroup = workGroup(
      'AnalystsWorkGroup',
      'analysts',
      'analysts/',
      props.dataKey,
      `Trace analysts: queries over the traces tier; stops at ${scanMb} MB scanned`,
    );
    this.incidentWorkGroup = workGroup(
      'IncidentWorkGroup',
      'incident',
      'incident/',
      props.debugKey,
      `Incident responders: queries over the debug tier; stops at ${scanMb} MB scanned`,
    );
    this.workGroups = { analysts: this.analystsWorkGroup, incident: this.incidentWorkGroup };
    this.results = { analysts: { prefix: 'analysts/', key: props.dataKey }, incident: { prefix: 'incident/', key: props.debugKey } };
    for (const wg of [this.analystsWorkGroup, this.incidentWorkGroup]) {
      wg.applyRemovalPolicy(removalPolicy);
    }

    // Athena runs `?` execution parameters, never `:name` ones: each named query holds the
    // positional form (Run in the console asks for the values in order; StartQueryExecution
    // takes them as ExecutionParameters) and its description lists the parameters in that order.
    this.namedQueries = loadDecisionQueries().map((q) => {
      const nq = new athena.CfnNamedQuery(this, `Query-${q.id}`, {
        name: `${prefix}-${q.id}`,
        description: namedQueryDescription(q),
        database: this.database.databaseName,
        workGroup: this.analystsWorkGroup.ref,
        queryString: toPositional(q).sql,
      });
      return nq;
    });
  }

  /**
   * Lets `grantee` run queries in a workgroup, as Athena requires of the caller
   * (athena/latest/ug/example-policies-workgroup.html; athena/latest/ug/encryption.html:
   * "To work with encrypted query results, the minimum allowed actions are kms:GenerateDataKey
   * and kms:Decrypt"): start, poll, read and stop queries in that workgroup only; read the
   * Glue catalog, the database and the tables of its tier; write its results prefix, encrypted
   * with its key. Reading the data itself is the storage's `grantRead(tier)`.
   * `console: true` adds what the Athena console reads of the workgroup (query history, saved queries).
   */
  grantQuery(grantee: iam.IGrantable, workGroup: WorkGroupName, opts: { readonly console?: boolean } = {}): iam.Grant {
    const wg = this.workGroups[workGroup];
    const actions = [...QUERY_ACTIONS, ...(opts.console ? CONSOLE_ACTIONS : [])];
    const tables = workGroup === 'analysts' ? [this.eventsTable] : [this.quarantineTable, this.capturesTable];
    const results = this.results[workGroup];
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [Stack.of(this).formatArn({ service: 'athena', resource: 'workgroup', resourceName: wg.ref })],
    })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
          resourceArns: [glueCatalogArn(this), this.database.databaseArn, ...tables.map((t) => t.tableArn)],
        }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resourceArns: [this.props.resultsBucket.arnForObjects(`${results.prefix}*`)],
        }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:ListBucketMultipartUploads'],
          resourceArns: [this.props.resultsBucket.bucketArn],
        }),
      )
      .combine(iam.Grant.addToPrincipal({ grantee, actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [results.key.keyArn] }));
  }
}
