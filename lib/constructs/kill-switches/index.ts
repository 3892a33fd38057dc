/**
 * Kill switches as AWS resources: one SSM String parameter per switch with its initial
 * document, read and flip grants, a trip Lambda for the alarms mapped in `autoTrips`, and
 * an audit of every change (EventBridge to an audit log group, and a topic if given).
 * `KillSwitchParameters.fromPolicy` builds them from a telemetry policy.
 */
import {
  ArnFormat,
  Duration,
  RemovalPolicy,
  Stack,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sns as sns,
  aws_sns_subscriptions as subs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { TelemetryFunction } from '../shared/function';
import type { Policy } from '../../core/policy/schema';
import { resolveSwitches, type SwitchState } from '../../core/policy/switches';
import { auditLogRetention, logsPropsFromPolicy, type TelemetryLogsProps } from '../shared/retention';
import { metricsNamespace } from '../../core/metrics/dictionary';
import { validating, validationError } from '../shared/errors';
import { tripMap, type TripMap } from '../../core/killswitch/trip';
import { tripEnv } from '../../core/killswitch/env';
import { SERVICE_NAMES } from '../../core/env/services';
import { initialValue, parameterName, serializeSwitchValue, switchPrefix } from '../../core/killswitch/values';

/**
 * What Parameter Store accepts as a switch value (`AllowedPattern`): a one-line JSON
 * object with a `state` of on or off. A console edit such as `off` is refused at write
 * time instead of putting the switch at its safe default; the client still validates
 * the whole document.
 */
export const SWITCH_VALUE_PATTERN = '^\\{.*"state":"(on|off)".*\\}$';

/** A switch ref: lowercase words, at most one dot (`read_only_mode`, `tools.create_ticket`). */
const REF_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?$/;

/** A parameter path (SSM allows letters, digits and `.-_` in each segment). */
const PREFIX_PATTERN = /^(?:\/[A-Za-z0-9_.-]+)+$/;

/** Room for TRIP_MAP in the trip Lambda's environment (4 KB in all, shared with the Powertools variables). */
export { MAX_TRIP_MAP_CHARS } from '../../core/killswitch/env';

/** One switch: an SSM parameter holding `{"state":"on"|"off",...}`. */
export interface KillSwitchDefinition {
  /** Stable reference, the parameter's last path segment: `read_only_mode`, `tools.create_ticket`... */
  readonly ref: string;
  /** What `on` means, in words (the parameter's description). */
  readonly meaning: string;
  /** The state written at the first deploy. */
  readonly initial: SwitchState;
  /**
   * The state an application assumes when it cannot read the switch (the parameter's description says it).
   * @default - the initial state
   */
  readonly safeDefault?: SwitchState;
}

/** What `fromPolicy` takes besides the policy. */
export interface KillSwitchParametersDeps {
  /** Page alarms notify this topic; the trip Lambda subscribes to it. */
  readonly pageTopic: sns.ITopic;
  /** Every change of a switch is notified to this topic. */
  readonly ticketTopic: sns.ITopic;
  /** Granted `grantFlip`. @default - none */
  readonly operatorRole?: iam.IGrantable;
}

export interface KillSwitchParametersProps extends TelemetryLogsProps {
  /** The parameter path every switch lives under, e.g. `/copilot/prod/kill-switches` (no trailing slash). */
  readonly prefix: string;
  /** The switches, one parameter each. */
  readonly switches: readonly KillSwitchDefinition[];
  /**
   * Alarm name to the switches it sets when it enters ALARM (`{ 'copilot-prod-safety-p0-events': [{ ref: 'read_only_mode', set: 'on' }] }`).
   * A trip Lambda subscribed to `alarmTopic` applies them.
   * @default - no automatic trips, no trip Lambda
   */
  readonly autoTrips?: TripMap;
  /**
   * The topic the alarms of `autoTrips` notify. Required when `autoTrips` maps any alarm.
   * @default - none
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Every change of a switch is notified to this topic too.
   * @default - changes go to the audit log group only
   */
  readonly changeTopic?: sns.ITopic;
  /**
   * Granted `grantFlip`.
   * @default - no one is granted here; call `grantFlip` yourself
   */
  readonly operatorRole?: iam.IGrantable;
  /**
   * How long the audit log group keeps every change.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly auditLogRetention?: logs.RetentionDays;
  /**
   * The CloudWatch namespace of the trip Lambda's metrics.
   * @default - Powertools' default
   */
  readonly metricsNamespace?: string;
}

/** One SSM parameter per kill switch, and the access, trips and audit around them. */
export class KillSwitchParameters extends Construct {
  /**
   * The switches a policy declares (`kill_switches`, `debug_capture`) under `/<name>/<environment>/kill-switches`,
   * its `auto_trips` on the page topic, changes to the ticket topic, the audit log kept for `retention.audit`.
   */
  static fromPolicy(
    scope: Construct,
    id: string,
    policy: Pick<Policy, 'name' | 'environment' | 'retention' | 'kill_switches' | 'debug_capture'>,
    deps: KillSwitchParametersDeps,
  ): KillSwitchParameters {
    return new KillSwitchParameters(scope, id, {
      ...logsPropsFromPolicy(policy),
      prefix: switchPrefix(policy),
      switches: resolveSwitches(policy),
      autoTrips: tripMap(policy),
      alarmTopic: deps.pageTopic,
      changeTopic: deps.ticketTopic,
      operatorRole: deps.operatorRole,
      auditLogRetention: validating(scope, () => auditLogRetention(policy)),
      metricsNamespace: metricsNamespace(policy),
    });
  }

  /** The parameter path, e.g. `/copilot/prod/kill-switches`. */
  readonly prefix: string;
  /** The switches, one parameter each. */
  readonly switches: readonly KillSwitchDefinition[];
  /** A managed policy for applications that only read the switches (attach it to their roles). */
  readonly readPolicy: iam.ManagedPolicy;
  /** Flips the switches `autoTrips` maps; undefined when it maps none. */
  readonly tripFunction?: lambda.IFunction;
  /** Alarm name to switches, as given to the trip Lambda. */
  readonly tripMap: TripMap;
  /** Receives every change of a switch, kept for the audit retention. */
  readonly auditLogGroup: logs.ILogGroup;
  /** Parameter Store changes under the prefix. */
  readonly auditRule: events.Rule;

  private readonly params = new Map<string, ssm.StringParameter>();

  constructor(scope: Construct, id: string, props: KillSwitchParametersProps) {
    super(scope, id);
    this.prefix = props.prefix;
    this.switches = props.switches;
    this.tripMap = props.autoTrips ?? {};
    this.validate(props);

    const container = new Construct(this, 'Switches');
    for (const sw of this.switches) {
      this.params.set(
        sw.ref,
        new ssm.StringParameter(container, sw.ref, {
          parameterName: parameterName(this.prefix, sw.ref),
          stringValue: serializeSwitchValue(initialValue(sw)),
          description: truncateDescription(`Kill switch ${sw.ref}: on means ${sw.meaning}. Safe default ${sw.safeDefault ?? sw.initial}.`),
          tier: ssm.ParameterTier.STANDARD,
          allowedPattern: SWITCH_VALUE_PATTERN,
        }),
      );
    }

    this.readPolicy = new iam.ManagedPolicy(this, 'ReadPolicy', {
      description: `Read the kill switches under ${this.prefix} (no changes)`,
      statements: this.readStatements(),
    });
    if (props.operatorRole) this.grantFlip(props.operatorRole);

    this.tripFunction = this.createTripFunction(props);

    const audit = this.createAudit(props);
    this.auditLogGroup = audit.logGroup;
    this.auditRule = audit.rule;
  }

  /** The parameter of a switch by ref (`tools.create_ticket`); throws for a ref the policy does not declare. */
  parameter(ref: string): ssm.IStringParameter {
    const p = this.params.get(ref);
    if (!p)
      throw validationError(this, `kill switch ${JSON.stringify(ref)} is not declared. Declared: ${[...this.params.keys()].join(', ')}`);
    return p;
  }

  /** The ARN of the parameter path, as `GetParametersByPath` authorizes it. */
  get prefixArn(): string {
    return Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: this.prefix.slice(1),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** Lets an application read every switch (what `KillSwitches` needs), and change none. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const [byPath, byName] = this.readStatements();
    return iam.Grant.addToPrincipal({ grantee, actions: byPath!.actions, resourceArns: byPath!.resources }).combine(
      iam.Grant.addToPrincipal({ grantee, actions: byName!.actions, resourceArns: byName!.resources }),
    );
  }

  /** Lets an operator list, read the history of and change every switch (`llmops switch list|set`). */
  grantFlip(grantee: iam.IGrantable): iam.Grant {
    return this.grantRead(grantee).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['ssm:PutParameter', 'ssm:GetParameterHistory'],
        resourceArns: this.switches.map((s) => this.parameter(s.ref).parameterArn),
      }),
    );
  }

  private validate(props: KillSwitchParametersProps): void {
    if (!PREFIX_PATTERN.test(props.prefix))
      throw validationError(
        this,
        `prefix ${JSON.stringify(props.prefix)} is not a parameter path; give one such as /copilot/prod/kill-switches`,
      );
    const refs = new Set<string>();
    for (const sw of props.switches) {
      if (!REF_PATTERN.test(sw.ref))
        throw validationError(
          this,
          `switch ref ${JSON.stringify(sw.ref)} is not allowed; use lowercase words with one optional dot, e.g. tools.create_ticket`,
        );
      if (refs.has(sw.ref)) throw validationError(this, `switch ref ${JSON.stringify(sw.ref)} is declared twice`);
      refs.add(sw.ref);
    }
    for (const [alarm, actions] of Object.entries(this.tripMap)) {
      for (const a of actions)
        if (!refs.has(a.ref))
          throw validationError(
            this,
            `autoTrips: alarm ${alarm} sets switch ${JSON.stringify(a.ref)}, which is not declared. Declared: ${[...refs].join(', ')}`,
          );
    }
    if (Object.keys(this.tripMap).length > 0 && !props.alarmTopic)
      throw validationError(this, 'autoTrips maps alarms but no alarmTopic is given: the trip Lambda needs the topic those alarms notify');
  }

  private readStatements(): iam.PolicyStatement[] {
    return [
      // GetParametersByPath is authorized against the path in the request, not the parameters it returns.
      new iam.PolicyStatement({ sid: 'ReadAllSwitchesByPath', actions: ['ssm:GetParametersByPath'], resources: [this.prefixArn] }),
      new iam.PolicyStatement({
        sid: 'ReadSwitchesByName',
        actions: ['ssm:GetParameter', 'ssm:GetParameters'],
        resources: this.switches.map((s) => this.parameter(s.ref).parameterArn),
      }),
    ];
  }

  /** The trip Lambda, subscribed to the page topic for the mapped alarms only; none when nothing is mapped. */
  private createTripFunction(props: KillSwitchParametersProps): lambda.IFunction | undefined {
    const alarms = Object.keys(this.tripMap);
    if (alarms.length === 0) return undefined;
    const refs = [...new Set(Object.values(this.tripMap).flatMap((actions) => actions.map((a) => a.ref)))];
    const environment = validating(this, () => tripEnv(this.prefix, this.tripMap));

    // Own role instead of the default one, whose AWS managed AWSLambdaBasicExecutionRole
    // would grant log writes to every log group (AwsSolutions-IAM4).
    const role = new iam.Role(this, 'TripRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Trips the kill switches mapped to page alarms under ${this.prefix}`,
    });
    const fn = new TelemetryFunction(this, 'TripFn', {
      entry: 'lambdas/trip/index.ts',
      metricsNamespace: props.metricsNamespace,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      serviceName: SERVICE_NAMES.trip,
      description: `Trips ${refs.length} kill switch(es) under ${this.prefix} when one of ${alarms.length} mapped page alarm(s) enters ALARM`,
      role,
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment,
    });
    fn.logGroup.grantWrite(role);
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['ssm:GetParameters', 'ssm:PutParameter'],
      resourceArns: refs.map((r) => this.parameter(r).parameterArn),
    });

    props.alarmTopic!.addSubscription(
      new subs.LambdaSubscription(fn, {
        // Only the mapped alarms entering ALARM invoke it (the handler checks again).
        filterPolicyWithMessageBody: {
          AlarmName: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: alarms })),
          NewStateValue: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['ALARM'] })),
        },
      }),
    );
    return fn;
  }

  private createAudit(props: KillSwitchParametersProps): { logGroup: logs.LogGroup; rule: events.Rule } {
    const logGroup = new logs.LogGroup(this, 'AuditLog', {
      retention: props.auditLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const rule = new events.Rule(this, 'AuditRule', {
      description: `Every change of a kill switch under ${this.prefix}: audit log${props.changeTopic ? ' and ticket topic' : ''}`,
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['Parameter Store Change'],
        detail: { name: events.Match.prefix(`${this.prefix}/`) },
      },
    });
    rule.addTarget(new AuditLogTarget(logGroup));
    if (props.changeTopic)
      rule.addTarget(
        new targets.SnsTopic(props.changeTopic, {
          message: events.RuleTargetInput.fromText(
            `Kill switch ${events.EventField.fromPath('$.detail.name')}: ${events.EventField.fromPath('$.detail.operation')} at ${events.EventField.time} ` +
              `(account ${events.EventField.account}, ${events.EventField.region}). State, reason and operator: llmops switch list; caller identity: CloudTrail PutParameter.`,
          ),
        }),
      );
    return { logGroup, rule };
  }
}

/**
 * An EventBridge target that writes the whole event to a log group. Unlike
 * `targets.CloudWatchLogGroup`, it does not create a custom-resource Lambda (an
 * `AwsCustomResource` singleton with no explicit log group and a `*` resource policy
 * grant) to set the log group's resource policy: it adds the policy with
 * `AWS::Logs::ResourcePolicy` (`LogGroup.addToResourcePolicy`).
 */
class AuditLogTarget implements events.IRuleTarget {
  constructor(private readonly logGroup: logs.LogGroup) {}

  bind(_rule: events.IRule): events.RuleTargetConfig {
    this.logGroup.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeWritesSwitchChanges',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    return {
      arn: Stack.of(this.logGroup).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: this.logGroup.logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      targetResource: this.logGroup,
    };
  }
}

/** SSM parameter descriptions hold at most 1024 characters. */
function truncateDescription(text: string): string {
  return text.length <= 1024 ? text : `${text.slice(0, 1023)}…`;
}
