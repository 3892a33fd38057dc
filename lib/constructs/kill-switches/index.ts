/**
 * Kill switches as AWS resources: one SSM String parameter per switch, seeded with its
 * initial document by a `Custom::KillSwitch` resource (a deploy writes a live switch only
 * when the policy's initial state for it changes), read and flip grants, a trip Lambda for
 * the alarms mapped in `autoTrips`, and an audit of every change (EventBridge to an audit
 * log group, and a topic if given). `KillSwitchParameters.fromPolicy` builds them from a
 * telemetry policy.
 */
import {
  ArnFormat,
  CustomResource,
  Duration,
  Lazy,
  RemovalPolicy,
  Stack,
  TagManager,
  TagType,
  Token,
  Validations,
  type ITaggable,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  type aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sns as sns,
  aws_sns_subscriptions as subs,
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
import { KILL_SWITCH_RESOURCE_TYPE, seedProperties, SWITCH_VALUE_PATTERN } from '../../core/killswitch/seed';

export { KILL_SWITCH_RESOURCE_TYPE, SWITCH_VALUE_PATTERN } from '../../core/killswitch/seed';

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
  /**
   * Encrypts the switch Lambdas' log groups and the audit log group (`TelemetryStorage.logsKey`).
   * @default - CloudWatch Logs' own server-side encryption
   */
  readonly logsKey?: kms.IKey;
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
  /**
   * What happens to the switch parameters and the log groups when the stack is deleted or
   * a switch is removed: `RETAIN` leaves the parameters (a later deploy adopts them with
   * their state), `DESTROY` deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** A kill switch's parameter, as grants and dependencies need it. */
export interface IKillSwitchParameter {
  /** The switch ref, e.g. `tools.create_ticket`. */
  readonly ref: string;
  /** The parameter name, e.g. `/copilot/prod/kill-switches/tools/create_ticket`. */
  readonly parameterName: string;
  /** The parameter ARN (built from the name, so grants need no reference to the resource). */
  readonly parameterArn: string;
  /** The `Custom::KillSwitch` that creates the parameter: depend on it to run after the switch exists. */
  readonly resource: CustomResource;
}

export interface KillSwitchParameterProps {
  /** The parameter path the switch lives under, e.g. `/copilot/prod/kill-switches`. */
  readonly prefix: string;
  /** The switch. */
  readonly switch: KillSwitchDefinition;
  /** The ARN of the Lambda function that provides `Custom::KillSwitch` (`KillSwitchParameters.seedFunction`). */
  readonly serviceToken: string;
  /** `RETAIN` leaves the parameter when the resource is deleted; `DESTROY` deletes it. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One switch's parameter, owned by a `Custom::KillSwitch` resource instead of an
 * `AWS::SSM::Parameter`, whose every update rewrites the value (see
 * `lib/core/killswitch/seed.ts` for the rules and the AWS documentation behind them).
 * Taggable: tags (the stack's included) reach the parameter without touching its value.
 *
 * Its construct path differs from the former `AWS::SSM::Parameter` (`<ref>/Resource`), so
 * its logical id does too: CloudFormation refuses to change a resource's type in place.
 * A stack deployed with those parameters would delete them in the update's cleanup,
 * after the new resources adopted them; nothing was deployed with them.
 */
export class KillSwitchParameter extends Construct implements IKillSwitchParameter, ITaggable {
  readonly ref: string;
  readonly parameterName: string;
  readonly parameterArn: string;
  readonly resource: CustomResource;
  readonly tags = new TagManager(TagType.KEY_VALUE, KILL_SWITCH_RESOURCE_TYPE);

  constructor(scope: Construct, id: string, props: KillSwitchParameterProps) {
    super(scope, id);
    const sw = props.switch;
    this.ref = sw.ref;
    this.parameterName = parameterName(props.prefix, sw.ref);
    this.parameterArn = parameterArnOf(this, this.parameterName);
    const properties = validating(this, () =>
      seedProperties({
        Name: this.parameterName,
        // `cdk diff` shows a change of the policy's initial state as this property changing:
        // the only change on which a deploy writes the live switch.
        InitialValue: serializeSwitchValue(initialValue(sw)),
        Description: `Kill switch ${sw.ref}: on means ${sw.meaning}. Safe default ${sw.safeDefault ?? sw.initial}.`,
        AllowedPattern: SWITCH_VALUE_PATTERN,
        RemovalPolicy: props.removalPolicy === RemovalPolicy.RETAIN ? 'Retain' : 'Delete',
      }),
    );
    this.resource = new CustomResource(this, 'KillSwitch', {
      serviceToken: props.serviceToken,
      resourceType: KILL_SWITCH_RESOURCE_TYPE,
      properties: { ...properties, Tags: Lazy.any({ produce: () => this.tags.renderTags() }) },
      // The handler answers within its own timeout; this bounds a lost answer to minutes
      // instead of CloudFormation's default hour (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html).
      serviceTimeout: Duration.minutes(10),
      // The handler honours RemovalPolicy too (a Delete it receives leaves a Retain switch).
      removalPolicy: props.removalPolicy,
    });
  }
}

/** One SSM parameter per kill switch (seeded by `Custom::KillSwitch`), and the access, trips and audit around them. */
export class KillSwitchParameters extends Construct {
  /**
   * The switches a policy declares (`kill_switches`, `debug_capture`) under `/<name>/<environment>/kill-switches`,
   * its `auto_trips` on the page topic, changes to the ticket topic, the audit log kept for `retention.audit`.
   */
  static fromPolicy(
    scope: Construct,
    id: string,
    policy: Pick<Policy, 'name' | 'environment' | 'retention' | 'kill_switches' | 'debug_capture' | 'sources'>,
    deps: KillSwitchParametersDeps,
  ): KillSwitchParameters {
    return new KillSwitchParameters(scope, id, {
      ...logsPropsFromPolicy(policy),
      encryptionKey: deps.logsKey,
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
  /** The provider of the `Custom::KillSwitch` resources: creates, adopts, rewrites (initial state changed) and deletes the parameters. */
  readonly seedFunction: lambda.IFunction;

  private readonly params = new Map<string, KillSwitchParameter>();

  constructor(scope: Construct, id: string, props: KillSwitchParametersProps) {
    super(scope, id);
    this.prefix = props.prefix;
    this.switches = props.switches;
    this.tripMap = props.autoTrips ?? {};
    this.validate(props);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const seed = this.createSeedFunction(props, removalPolicy);
    this.seedFunction = seed;
    const container = new Construct(this, 'Switches');
    for (const sw of this.switches) {
      this.params.set(
        sw.ref,
        new KillSwitchParameter(container, sw.ref, { prefix: this.prefix, switch: sw, serviceToken: seed.functionArn, removalPolicy }),
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
  parameter(ref: string): IKillSwitchParameter {
    const p = this.params.get(ref);
    if (!p)
      throw validationError(this, `kill switch ${JSON.stringify(ref)} is not declared. Declared: ${[...this.params.keys()].join(', ')}`);
    return p;
  }

  /** The ARN of the parameter path, as `GetParametersByPath` authorizes it. */
  get prefixArn(): string {
    return parameterArnOf(this, this.prefix);
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

  /**
   * The provider of the `Custom::KillSwitch` resources, invoked by CloudFormation directly:
   * fewer resources than `cr.Provider` (no framework Lambda, role and log group) and no
   * acknowledgement for the framework's invoke grant. Its role may create and overwrite
   * the declared switches and tag them, and, only where switches are destroyed with the
   * stack, delete parameters under the prefix: a switch removed from the policy is deleted
   * in the update's cleanup, after its ARN has left every statement.
   */
  private createSeedFunction(props: KillSwitchParametersProps, removalPolicy: RemovalPolicy): lambda.IFunction {
    const role = new iam.Role(this, 'SeedRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Seeds the kill-switch parameters under ${this.prefix} at deploy (Custom::KillSwitch)`,
    });
    const fn = new TelemetryFunction(this, 'SeedFn', {
      entry: 'lambdas/switch-seed/index.ts',
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      logEncryptionKey: props.encryptionKey,
      serviceName: SERVICE_NAMES['switch-seed'],
      description: `Creates the kill-switch parameters under ${this.prefix}; a deploy writes one only when its initial state changes`,
      role,
      memorySize: 256,
      timeout: Duration.minutes(1),
    });
    fn.logGroup.grantWrite(role);
    // Literal ARNs, not references: the role's policy must exist before the resources
    // that invoke the function, and those resources must not be needed to build it.
    const arns = this.switches.map((s) => parameterArnOf(this, parameterName(this.prefix, s.ref)));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SeedSwitches',
        // PutParameter with Tags also needs AddTagsToResource.
        actions: ['ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'],
        resources: arns,
      }),
    );
    if (removalPolicy !== RemovalPolicy.RETAIN) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'DeleteSwitchesUnderPrefix', actions: ['ssm:DeleteParameter'], resources: [`${this.prefixArn}/*`] }),
      );
      const stack = Stack.of(this);
      const shown = (v: string, token: string) => (Token.isUnresolved(v) ? `<${token}>` : v);
      Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${shown(stack.partition, 'AWS::Partition')}:ssm:${shown(stack.region, 'AWS::Region')}:${shown(stack.account, 'AWS::AccountId')}:parameter${this.prefix}/*]`,
        reason:
          'The switch-seed Lambda deletes a switch removed from the policy in the update cleanup, after its ARN has left the template, so it cannot be named; the grant covers the kill-switch path only, and only where switches are destroyed with the stack (RETAIN, prod, has no delete grant).',
      });
    }
    return fn;
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
      logEncryptionKey: props.encryptionKey,
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
      encryptionKey: props.encryptionKey,
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

/** The ARN of a parameter (or a path) by name: `arn:<partition>:ssm:<region>:<account>:parameter/<name without its leading slash>`. */
function parameterArnOf(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: name.slice(1),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
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
