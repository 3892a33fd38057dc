/**
 * TelemetryRollups: the scheduled rollup as AWS resources. One Lambda (lambdas/rollup)
 * run by two EventBridge schedules (hourly: daily figures; daily: weekly figures), with
 * least-privilege access to what it touches, and a ticket alarm when a rollup fails.
 *
 * Access (each statement names its resource; nothing else):
 * - Athena: start, poll, read and stop queries in the analysts workgroup only;
 * - Glue: read the catalog, the telemetry database and the events table (Athena reads
 *   the schema as the caller);
 * - S3: read the traces tier (`storage.grantRead('traces')`: `events/` and the
 *   analysts' results `analysts/`, which GetQueryResults reads as the caller), write
 *   the analysts' results prefix only (Athena writes results as the caller; the key
 *   encrypts them), and write the metrics tier (`storage.grantWrite('metrics')`);
 * - CloudWatch: PutMetricData, which has no resource-level permission, on `*` with the
 *   condition `cloudwatch:namespace` = the stack's namespace.
 */
import { resourcePrefix } from '../../core/policy/names';
import { SERVICE_DIMENSION, SERVICE_OF } from '../../core/metrics/dictionary';
import {
  Duration,
  Validations,
  aws_cloudwatch as cw,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { TelemetryCatalog } from '../catalog/index';
import { TelemetryFunction } from '../shared/function';
import { TelemetryMetrics } from '../monitoring/metrics';
import type { Policy } from '../../core/policy/schema';
import type { TelemetryStorage } from '../storage';
import { rollupUnit, type RollupMetricName, type SliceDimensions } from '../../core/rollup/metrics';
import { ROLLUP_FAILURES_METRIC } from '../../core/rollup/names';
import { rollupEnv } from '../../core/rollup/env';
import type { IAlarmRouting } from '../alerting/index';
import { validating } from '../shared/errors';
import { logsPropsFromPolicy, type TelemetryLogsProps } from '../shared/retention';
import { metricsNamespace } from '../../core/metrics/dictionary';
import { SERVICE_NAMES } from '../../core/env/services';

/** The rollup metrics this construct publishes (checked against the dictionary at synth). */
export const ROLLUP_METRICS: readonly RollupMetricName[] = [
  'ActiveUsersDaily',
  'ActiveUsersWeekly',
  'DailyCostUsd',
  'NewIntents',
  'RepeatUsers',
];

/** Room for SLICES in the Lambda environment (4 KB in all). */
export { MAX_SLICES_ENV_CHARS } from '../../core/rollup/env';

/** What `fromPolicy` takes besides the policy. */
export interface TelemetryRollupsDeps {
  /** The storage tiers: traces (read), analysts' results (write), metrics tier (write). */
  readonly storage: TelemetryStorage;
  /** The Glue database and events table, and the analysts workgroup the queries run in. */
  readonly catalog: TelemetryCatalog;
  /** Where the RollupFailures alarm goes (a ticket). */
  readonly routing: IAlarmRouting;
}

export interface TelemetryRollupsProps extends TelemetryRollupsDeps, TelemetryLogsProps {
  /** Prefix of the alarm name and descriptions, e.g. `copilot-prod`. */
  readonly prefix: string;
  /** The CloudWatch namespace the rollups publish to, e.g. `LLMOps/copilot-prod`. */
  readonly metricsNamespace: string;
  /**
   * The slices the rollup metrics are dimensioned by, with their admitted values (the policy's `slices.dimensions`).
   * @default - no slices: totals only
   */
  readonly slices?: SliceDimensions;
  /**
   * When the hourly rollup runs.
   * @default - at minute 15 of every hour (UTC), after Firehose has delivered the previous hour's buffers
   */
  readonly hourlySchedule?: events.Schedule;
  /**
   * When the daily rollup runs.
   * @default - at 00:30 UTC
   */
  readonly dailySchedule?: events.Schedule;
}

export class TelemetryRollups extends Construct {
  /** The rollups of a policy: its namespace, `slices.dimensions`, and `retention.logs` for the function's logs. */
  static fromPolicy(
    scope: Construct,
    id: string,
    policy: Pick<Policy, 'name' | 'environment' | 'retention' | 'slices'>,
    deps: TelemetryRollupsDeps,
  ): TelemetryRollups {
    return new TelemetryRollups(scope, id, {
      ...deps,
      ...logsPropsFromPolicy(policy),
      encryptionKey: deps.storage.logsKey,
      prefix: resourcePrefix(policy),
      metricsNamespace: metricsNamespace(policy),
      slices: policy.slices.dimensions,
    });
  }

  readonly function: TelemetryFunction;
  readonly hourlyRule: events.Rule;
  readonly dailyRule: events.Rule;
  /** RollupFailures (any query, after retries) plus the function's own errors, over 1 hour, above 0: a ticket. */
  readonly failureAlarm: cw.Alarm;
  /** The namespace the rollups publish to. */
  readonly namespace: string;

  private readonly metrics: TelemetryMetrics;

  constructor(scope: Construct, id: string, props: TelemetryRollupsProps) {
    super(scope, id);
    const { prefix, storage, catalog } = props;
    this.namespace = props.metricsNamespace;
    this.metrics = new TelemetryMetrics(this.namespace);
    for (const m of ROLLUP_METRICS) rollupUnit(m);

    const workGroupName = catalog.analystsWorkGroup.ref;
    const environment = validating(this, () =>
      rollupEnv(this.namespace, props.slices ?? {}, {
        workGroup: workGroupName,
        database: catalog.database.databaseName,
        metricsBucket: storage.metricsBucket.bucketName,
      }),
    );
    this.function = new TelemetryFunction(this, 'RollupFn', {
      entry: 'lambdas/rollup/index.ts',
      metricsNamespace: this.namespace,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      logEncryptionKey: props.encryptionKey,
      serviceName: SERVICE_NAMES.rollup,
      description: `${prefix}: scheduled rollups (distinct users, daily cost, new intents, repeat users) from Athena to CloudWatch and the metrics tier`,
      memorySize: 512,
      // Each query: up to 3 attempts of at most 3 minutes (ROLLUP_ATTEMPT_DEADLINE_MS), run side by side.
      timeout: Duration.minutes(15),
      environment,
      bundling: {
        // The handler loads the decision queries from disk (lib/queries reads
        // <cwd>/queries in a bundle): ship the SQL files beside the bundle.
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [`cp -R "${inputDir}/queries" "${outputDir}/queries"`],
        },
      },
    });
    const fn = this.function;
    const role = fn.role as iam.IRole;

    catalog.grantQuery(fn, 'analysts');
    storage.grantRead('traces', fn);
    // The finding for the results prefix (IAM5 on <Results.Arn>/analysts/*) is the one storage.grantRead('traces')
    // already acknowledges on this role: cdk-nag keys findings by resource, so one acknowledgement covers both.
    storage.grantWrite('metrics', fn);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PutMetricDataInStackNamespace',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': this.namespace } },
      }),
    );
    this.acknowledgeOnRole(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      `cloudwatch:PutMetricData has no resource-level permission; the statement is limited by the condition cloudwatch:namespace = ${this.namespace}.`,
    );

    const schedule = (ruleId: string, kind: 'hourly' | 'daily', when: events.Schedule, what: string) => {
      const rule = new events.Rule(this, ruleId, { schedule: when, description: `${prefix}: ${kind} rollup (${what})` });
      rule.addTarget(
        new targets.LambdaFunction(fn, {
          event: events.RuleTargetInput.fromObject({ schedule: kind, time: events.EventField.time }),
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      );
      return rule;
    };
    this.hourlyRule = schedule(
      'HourlySchedule',
      'hourly',
      props.hourlySchedule ?? events.Schedule.cron({ minute: '15' }),
      'daily figures for today and yesterday',
    );
    this.dailyRule = schedule(
      'DailySchedule',
      'daily',
      props.dailySchedule ?? events.Schedule.cron({ minute: '30', hour: '0' }),
      'weekly figures for the 7 days ending yesterday',
    );

    this.failureAlarm = new cw.Alarm(this, 'FailureAlarm', {
      alarmName: `${prefix}-rollup-failures`,
      alarmDescription: [
        `[TICKET] A scheduled rollup failed: a query still failed after its retries (RollupFailures, by Query), or the rollup Lambda itself failed (Errors). Adoption and cost figures (distinct users, daily cost, new intents, repeat users) are missing or stale until a run succeeds.`,
        'MITIGATE: None immediate; the next hourly run recomputes today and yesterday. Rerun a past hour by invoking the function with {"schedule":"hourly","time":"<ISO time>"}.',
        `CONFIRM: RollupFailures in ${this.namespace} by Query; the function's log group (query key, attempt, reason).`,
        'DIAGNOSE: The Athena query history of the analysts workgroup (state change reason: scan limit, permissions, syntax).',
        'ROLL BACK: Revert the change to the queries, the catalog or the workgroup that made the query fail.',
      ].join('\n'),
      metric: new cw.MathExpression({
        expression: 'FILL(failures, 0) + FILL(errors, 0)',
        usingMetrics: { failures: this.metricFailures(), errors: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }) },
        period: Duration.hours(1),
        label: 'Rollup failures',
      }),
      threshold: 0,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    props.routing.route(this.failureAlarm, 'ticket');
  }

  /** A rollup metric of the dictionary (Maximum: a rerun repeats a datapoint, never adds to it). */
  metric(name: RollupMetricName, opts: { dimensions?: Record<string, string>; period?: Duration } = {}): cw.IMetric {
    return this.metrics.metric(name, { ...opts, statistic: 'Maximum' });
  }

  /** RollupFailures in total (Sum over 1 hour): queries that failed after their retries. */
  metricFailures(opts: { period?: Duration } = {}): cw.Metric {
    return new cw.Metric({
      namespace: this.namespace,
      metricName: ROLLUP_FAILURES_METRIC,
      statistic: 'Sum',
      period: opts.period ?? Duration.hours(1),
      dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_OF.rollup },
    });
  }

  private acknowledgeOnRole(role: iam.IRole, id: string, reason: string): void {
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (!policy) throw new Error(`the rollup function's role ${role.node.path} has no DefaultPolicy to acknowledge ${id} on`);
    Validations.of(policy).acknowledge({ id, reason });
  }
}
