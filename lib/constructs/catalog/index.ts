/**
 * The Glue catalog and Athena: tables over the partitioned records (columns derived from
 * the event contract, never retyped), partition projection so no crawler or MSCK REPAIR
 * is needed, two workgroups with enforced settings and scan limits, and the decision
 * queries as named queries. `TelemetryCatalog.fromPolicy` builds it from a telemetry policy.
 */
import { resourcePrefix } from '../../core/policy/names';
import { Duration, RemovalPolicy, Size, aws_athena as athena, aws_glue as glue, type aws_kms as kms, type aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { contractColumns, debugCaptureColumns, EVENT_TYPES, type ContractColumn } from '../../core/contract';
import { durationSeconds, type Policy } from '../../core/policy';
import { catalogDatabaseName } from '../../core/rollup/names';
import { removalPolicyFor } from '../shared/retention';
import { loadDecisionQueries } from '../../core/queries';

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

  constructor(scope: Construct, id: string, props: TelemetryCatalogProps) {
    super(scope, id);
    const { prefix } = props;
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
    for (const wg of [this.analystsWorkGroup, this.incidentWorkGroup]) {
      wg.applyRemovalPolicy(removalPolicy);
    }

    this.namedQueries = loadDecisionQueries().map((q) => {
      const nq = new athena.CfnNamedQuery(this, `Query-${q.id}`, {
        name: `${prefix}-${q.id}`,
        description: q.decision.slice(0, 1024),
        database: this.database.databaseName,
        workGroup: this.analystsWorkGroup.ref,
        queryString: q.sql,
      });
      return nq;
    });
  }
}
