/**
 * The kill-switch seed: what the `Custom::KillSwitch` resource does to its parameter on
 * each CloudFormation request, decided from the request alone (no I/O here). The
 * construct writes the resource properties with `seedProperties`; the switch-seed Lambda
 * plans with `planSeed`, applies the plan through `lib/aws/switch-seed.ts` and answers
 * CloudFormation with `seedResponse`.
 *
 * Why a custom resource and not `AWS::SSM::Parameter`: on any property change (a
 * description edit, a tag, an `AllowedPattern`) CloudFormation's SSM handler sends
 * `PutParameter` with the template's `Value` and `Overwrite: true`, silently undoing an
 * operator's flip or an automatic trip
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-parameter.html:
 * every property but `Name` updates with no interruption; registry handler
 * aws-cloudformation-resource-providers-ssm, `UpdateHandler`/`Translator.updatePutParameterRequest`).
 *
 * The rules:
 * - **Create**: `PutParameter` with `Overwrite: false` (its default,
 *   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).
 *   `ParameterAlreadyExists` means a switch is already there (a retained one, or one made
 *   by hand): it is adopted with its value.
 * - **Update**: the value is written (`Overwrite: true`) only when `InitialValue` differs
 *   between `OldResourceProperties` and `ResourceProperties`
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html),
 *   which `cdk diff` shows as that property of the switch changing. Any other change
 *   (description, pattern, tags) never writes the value: SSM has no call that changes a
 *   description without a value, and a read-then-write would race a trip landing between
 *   the two calls. So the description and pattern are written when the parameter is
 *   created and whenever its value is written, and otherwise stay as they are; tags are
 *   changed with `AddTagsToResource`/`RemoveTagsFromResource`, which leave the value alone.
 *   A parameter deleted out of band is created again (`Overwrite: false`, as on Create). A
 *   new `Name` is a replacement: the new name is created or adopted, and CloudFormation
 *   then sends a Delete for the old physical id.
 * - **Delete**: `DeleteParameter` of the physical id, unless `RemovalPolicy` is `Retain`;
 *   `ParameterNotFound` counts as deleted. After a failed Create, CloudFormation sends a
 *   Delete with the physical id of the FAILED response: that id is a marker that no
 *   parameter name can equal, and such a Delete does nothing (it must not delete a
 *   parameter this request did not create).
 * - The physical id is the parameter name.
 */
import { parseSwitchValue } from './values';

/** The CloudFormation type of a switch. */
export const KILL_SWITCH_RESOURCE_TYPE = 'Custom::KillSwitch';

/**
 * What Parameter Store accepts as a switch value (`AllowedPattern`): a one-line JSON
 * object with a `state` of on or off. A console edit such as `off` is refused at write
 * time instead of putting the switch at its safe default; the client still validates
 * the whole document.
 */
export const SWITCH_VALUE_PATTERN = '^\\{.*"state":"(on|off)".*\\}$';

/** SSM parameter descriptions hold at most 1024 characters. */
export const MAX_DESCRIPTION_CHARS = 1024;

/** The physical id answered for a Create that failed: not a parameter path, so no Delete acts on it. */
export const CREATE_FAILED_ID = 'kill-switch-create-failed';

/**
 * CloudFormation's response body may not exceed 4096 bytes
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html): the
 * reason is cut to 1000 characters, and the ids (a stack ARN, a UUID, a logical id of at
 * most 255 characters, a parameter name of at most 1011) leave room for it.
 */
const MAX_REASON_CHARS = 1000;

const PARAMETER_PATH = /^(?:\/[A-Za-z0-9_.-]+)+$/;

/** What a stack removal does to the parameter. */
export type SeedRemoval = 'Retain' | 'Delete';

export interface SeedTag {
  readonly Key: string;
  readonly Value: string;
}

/** The properties of a `Custom::KillSwitch`, as the construct writes them. */
export interface SeedProperties {
  /** The parameter name, e.g. `/copilot/prod/kill-switches/tools/create_ticket`. */
  readonly Name: string;
  /** The document written at creation, and again only when this changes. */
  readonly InitialValue: string;
  readonly Description: string;
  readonly AllowedPattern: string;
  /** `Retain`: a Delete leaves the parameter. */
  readonly RemovalPolicy: SeedRemoval;
  /** @default - no tags */
  readonly Tags?: readonly SeedTag[];
}

/** The resource properties for one switch; throws when a value could never be written. */
export function seedProperties(props: SeedProperties): SeedProperties {
  const problems = propertyProblems({ ...props });
  if (problems.length) throw new Error(`kill switch ${props.Name}: ${problems.join('; ')}`);
  return { ...props, Description: truncateDescription(props.Description) };
}

/** A description cut to what SSM stores. */
export function truncateDescription(text: string): string {
  return text.length <= MAX_DESCRIPTION_CHARS ? text : `${text.slice(0, MAX_DESCRIPTION_CHARS - 1)}…`;
}

// ---------------------------------------------------------------- requests

interface RequestBase {
  readonly RequestId: string;
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly ResponseURL: string;
  readonly ResourceType: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
}

/** A CloudFormation custom resource request, the fields this resource reads. */
export type SeedRequest =
  | (RequestBase & { readonly RequestType: 'Create' })
  | (RequestBase & {
      readonly RequestType: 'Update';
      readonly PhysicalResourceId: string;
      readonly OldResourceProperties: Readonly<Record<string, unknown>>;
    })
  | (RequestBase & { readonly RequestType: 'Delete'; readonly PhysicalResourceId: string });

/** The parameter a step writes. */
export interface SeedParameter {
  readonly name: string;
  readonly value: string;
  readonly description: string;
  readonly allowedPattern: string;
  readonly tags: readonly SeedTag[];
}

/** One thing to do to Parameter Store. */
export type SeedStep =
  /** `PutParameter` without overwrite, with the tags; when it exists, keep its value and add the tags. */
  | { readonly kind: 'create'; readonly parameter: SeedParameter }
  /** `PutParameter` with overwrite (the initial value changed), then the tag changes. */
  | { readonly kind: 'write'; readonly parameter: SeedParameter; readonly removeTagKeys: readonly string[] }
  /** `PutParameter` without overwrite; when it exists, keep it and apply only the tag changes. */
  | {
      readonly kind: 'ensure';
      readonly parameter: SeedParameter;
      readonly addTags: readonly SeedTag[];
      readonly removeTagKeys: readonly string[];
    }
  /** `DeleteParameter`; not found counts as done. */
  | { readonly kind: 'delete'; readonly name: string }
  /** Nothing to do. */
  | { readonly kind: 'none'; readonly why: 'retained' | 'create-failed' | 'not-a-parameter' };

export interface SeedPlan {
  /** The physical id to answer with. */
  readonly physicalResourceId: string;
  readonly step: SeedStep;
}

/** What applying a step did, safe to log and to return as the resource's data. */
export type SeedOutcome =
  'created' | 'adopted' | 'written' | 'kept' | 'recreated' | 'deleted' | 'already-deleted' | 'retained' | 'nothing-to-delete';

/** What a request asks for. Throws, naming the bad property, when the properties are not a switch's. */
export function planSeed(request: SeedRequest): SeedPlan {
  switch (request.RequestType) {
    case 'Create': {
      const next = readProperties(request.ResourceProperties);
      return { physicalResourceId: next.name, step: { kind: 'create', parameter: next } };
    }
    case 'Update': {
      const next = readProperties(request.ResourceProperties);
      // A new name is a new parameter: CloudFormation deletes the old physical id afterwards.
      if (next.name !== request.PhysicalResourceId) return { physicalResourceId: next.name, step: { kind: 'create', parameter: next } };
      const old = request.OldResourceProperties;
      const oldTags = readTags(old.Tags, 'OldResourceProperties.Tags');
      const removeTagKeys = oldTags.map((t) => t.Key).filter((k) => !next.tags.some((t) => t.Key === k));
      if (old.InitialValue !== next.value)
        return { physicalResourceId: next.name, step: { kind: 'write', parameter: next, removeTagKeys } };
      const addTags = next.tags.filter((t) => !oldTags.some((o) => o.Key === t.Key && o.Value === t.Value));
      return { physicalResourceId: next.name, step: { kind: 'ensure', parameter: next, addTags, removeTagKeys } };
    }
    case 'Delete': {
      const id = request.PhysicalResourceId;
      if (id === CREATE_FAILED_ID) return { physicalResourceId: id, step: { kind: 'none', why: 'create-failed' } };
      if (!PARAMETER_PATH.test(id)) return { physicalResourceId: id, step: { kind: 'none', why: 'not-a-parameter' } };
      // Anything but an explicit Delete retains: a property lost or misspelt must not delete a live switch.
      if (request.ResourceProperties.RemovalPolicy !== 'Delete') return { physicalResourceId: id, step: { kind: 'none', why: 'retained' } };
      return { physicalResourceId: id, step: { kind: 'delete', name: id } };
    }
    default:
      throw new Error(
        `RequestType is ${JSON.stringify((request as { RequestType?: unknown }).RequestType)}; expected Create, Update or Delete`,
      );
  }
}

function readProperties(p: Readonly<Record<string, unknown>>): SeedParameter {
  const problems = propertyProblems(p);
  if (problems.length) throw new Error(`ResourceProperties: ${problems.join('; ')}`);
  return {
    name: p.Name as string,
    value: p.InitialValue as string,
    description: p.Description as string,
    allowedPattern: p.AllowedPattern as string,
    tags: readTags(p.Tags, 'Tags'),
  };
}

/** Every problem of a set of properties; none when the switch can be written as given. */
function propertyProblems(p: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  const name = str('Name');
  if (name === undefined || !PARAMETER_PATH.test(name))
    problems.push(`Name is ${show(p.Name)}; give a parameter path such as /copilot/prod/kill-switches/read_only_mode`);
  const pattern = str('AllowedPattern');
  let re: RegExp | undefined;
  if (pattern === undefined) problems.push(`AllowedPattern is ${show(p.AllowedPattern)}; give a regular expression`);
  else {
    try {
      re = new RegExp(pattern);
    } catch {
      problems.push(`AllowedPattern ${show(pattern)} is not a regular expression`);
    }
  }
  const value = str('InitialValue');
  if (value === undefined) problems.push(`InitialValue is ${show(p.InitialValue)}; give a switch document`);
  else {
    const parsed = parseSwitchValue(value);
    if (!parsed.ok) problems.push(`InitialValue is not a switch document: ${parsed.problem}`);
    else if (re && !re.test(value)) problems.push(`InitialValue does not match AllowedPattern ${pattern}`);
  }
  if (str('Description') === undefined) problems.push(`Description is ${show(p.Description)}; give a text`);
  if (p.RemovalPolicy !== 'Retain' && p.RemovalPolicy !== 'Delete')
    problems.push(`RemovalPolicy is ${show(p.RemovalPolicy)}; expected Retain or Delete`);
  try {
    readTags(p.Tags, 'Tags');
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}

function readTags(v: unknown, what: string): SeedTag[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((t) => t && typeof t === 'object' && typeof t.Key === 'string' && typeof t.Value === 'string'))
    throw new Error(`${what} is ${show(v)}; expected a list of { Key, Value } strings`);
  return v.map((t: SeedTag) => ({ Key: t.Key, Value: t.Value }));
}

const show = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v));

// ---------------------------------------------------------------- response

/** The body PUT to the request's ResponseURL (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html). */
export interface SeedResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: { readonly Outcome: SeedOutcome };
}

/** The answer to a request: SUCCESS with the plan's physical id, or FAILED with the reason. */
export function seedResponse(
  request: Pick<RequestBase, 'StackId' | 'RequestId' | 'LogicalResourceId'> & {
    readonly RequestType: string;
    readonly PhysicalResourceId?: string;
  },
  result: { readonly ok: true; readonly plan: SeedPlan; readonly outcome: SeedOutcome } | { readonly ok: false; readonly reason: string },
): SeedResponse {
  const ids = { StackId: request.StackId, RequestId: request.RequestId, LogicalResourceId: request.LogicalResourceId };
  if (result.ok)
    return { Status: 'SUCCESS', PhysicalResourceId: result.plan.physicalResourceId, ...ids, Data: { Outcome: result.outcome } };
  // A failed Create answers the marker, so that the rollback's Delete touches nothing;
  // a failed Update or Delete keeps the id CloudFormation knows.
  const physical = request.RequestType === 'Create' || !request.PhysicalResourceId ? CREATE_FAILED_ID : request.PhysicalResourceId;
  return { Status: 'FAILED', Reason: cut(result.reason, MAX_REASON_CHARS), PhysicalResourceId: physical, ...ids };
}

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
