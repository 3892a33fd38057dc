/**
 * A CloudFormation template with its intrinsic functions resolved to concrete values, as
 * an account would see it after deployment: a fake account, region and partition; every
 * resource a physical name and ARN in the form its service uses (bucket names, key ids,
 * role names, stream, log group, function and topic ARNs...). `Ref`, `Fn::GetAtt`,
 * `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::If` (with the template's
 * conditions), `Fn::FindInMap`, `Fn::Base64` and the pseudo parameters are resolved;
 * `AWS::NoValue` removes the property or element. Anything else throws, naming where.
 *
 * Used by the access-matrix harness (`./iam-matrix.ts`) to hand an IAM evaluator the
 * policies of the template with the ARNs the requests name.
 */
import { createHash } from 'node:crypto';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
}

export interface FakeEnvironment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly stackName: string;
}

export interface ResolvedResource {
  readonly logicalId: string;
  readonly type: string;
  /** The properties with every intrinsic resolved. */
  readonly props: Record<string, any>;
  readonly path?: string;
}

/** A template's resources with their properties, `Ref` and attribute values resolved. */
export class ResolvedTemplate {
  private readonly cache = new Map<string, Record<string, any>>();
  private readonly resolving = new Set<string>();

  constructor(
    readonly template: CfnTemplate,
    readonly env: FakeEnvironment,
  ) {}

  get logicalIds(): string[] {
    return Object.keys(this.template.Resources).filter((id) => this.exists(id));
  }

  /** Resources of a type (those whose condition holds). */
  ofType(type: string): ResolvedResource[] {
    return this.logicalIds.filter((id) => this.template.Resources[id]!.Type === type).map((id) => this.resource(id));
  }

  resource(logicalId: string): ResolvedResource {
    const r = this.template.Resources[logicalId];
    if (!r) throw new Error(`no resource ${logicalId} in the template`);
    const path = r.Metadata?.['aws:cdk:path'];
    return { logicalId, type: r.Type, props: this.props(logicalId), ...(typeof path === 'string' ? { path } : {}) };
  }

  /** The resolved properties of a resource. */
  props(logicalId: string): Record<string, any> {
    const hit = this.cache.get(logicalId);
    if (hit) return hit;
    if (this.resolving.has(logicalId)) throw new Error(`circular reference through ${logicalId}`);
    this.resolving.add(logicalId);
    try {
      const raw = this.template.Resources[logicalId]?.Properties ?? {};
      const out = (this.resolve(raw, `${logicalId}.Properties`) ?? {}) as Record<string, any>;
      this.cache.set(logicalId, out);
      return out;
    } finally {
      this.resolving.delete(logicalId);
    }
  }

  private exists(logicalId: string): boolean {
    const c = this.template.Resources[logicalId]?.Condition;
    return c === undefined || this.condition(c);
  }

  private condition(name: string): boolean {
    const c = this.template.Conditions?.[name];
    if (c === undefined) throw new Error(`no condition ${name} in the template`);
    return this.truth(c, `Conditions.${name}`);
  }

  private truth(expr: unknown, where: string): boolean {
    if (typeof expr === 'boolean') return expr;
    if (expr && typeof expr === 'object' && !Array.isArray(expr)) {
      const [fn, arg] = Object.entries(expr)[0] ?? [];
      const args = arg as unknown[];
      switch (fn) {
        case 'Condition':
          return this.condition(arg as string);
        case 'Fn::Equals':
          return JSON.stringify(this.resolve(args[0], where)) === JSON.stringify(this.resolve(args[1], where));
        case 'Fn::Not':
          return !this.truth(args[0], where);
        case 'Fn::And':
          return args.every((a) => this.truth(a, where));
        case 'Fn::Or':
          return args.some((a) => this.truth(a, where));
        case 'Fn::Contains': {
          const list = this.resolve(args[0], where) as unknown[];
          const v = this.resolve(args[1], where);
          return list.some((x) => JSON.stringify(x) === JSON.stringify(v));
        }
      }
    }
    throw new Error(`${where}: cannot evaluate the condition ${JSON.stringify(expr)}`);
  }

  /** The value of `{ Ref: id }`. */
  ref(id: string, where = id): unknown {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': this.env.account,
      'AWS::Region': this.env.region,
      'AWS::Partition': this.env.partition,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.env.stackName,
      'AWS::StackId': `arn:${this.env.partition}:cloudformation:${this.env.region}:${this.env.account}:stack/${this.env.stackName}/00000000-0000-0000-0000-000000000000`,
    };
    if (id in pseudo) return pseudo[id];
    if (id === 'AWS::NoValue') return NO_VALUE;
    const param = this.template.Parameters?.[id];
    if (param) return param.Default ?? `${id}-parameter`;
    const r = this.template.Resources[id];
    if (!r) throw new Error(`${where}: Ref to ${id}, which is not in the template`);
    return physical(this, id, r.Type).ref;
  }

  /** The value of `{ 'Fn::GetAtt': [id, attribute] }`. */
  attr(id: string, attribute: string, where = id): unknown {
    const r = this.template.Resources[id];
    if (!r) throw new Error(`${where}: Fn::GetAtt of ${id}, which is not in the template`);
    const p = physical(this, id, r.Type);
    return attribute in p.attrs ? p.attrs[attribute] : `${id}.${attribute}`;
  }

  /** Resolves an intrinsic-bearing value. */
  resolve(value: unknown, where: string): unknown {
    if (Array.isArray(value))
      return value.map((v, i) => this.resolve(v, `${where}[${i}]`)).filter((v) => v !== NO_VALUE && v !== undefined);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      if (fn === 'Ref') return this.ref(arg as string, where);
      if (fn.startsWith('Fn::') || fn === 'Condition') return this.intrinsic(fn, arg, where);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const r = this.resolve(v, `${where}.${k}`);
      if (r !== NO_VALUE && r !== undefined) out[k] = r;
    }
    return out;
  }

  private intrinsic(fn: string, arg: any, where: string): unknown {
    const at = `${where} (${fn})`;
    switch (fn) {
      case 'Fn::GetAtt': {
        const [id, ...rest] = Array.isArray(arg) ? arg : String(arg).split('.');
        return this.attr(id as string, rest.join('.'), at);
      }
      case 'Fn::Join': {
        const [sep, list] = arg as [string, unknown];
        const parts = this.resolve(list, at) as unknown[];
        return parts.map((p) => str(p, at)).join(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg as string, {}];
        const values = this.resolve(vars, at) as Record<string, unknown>;
        return text.replace(/\$\{(!?)([^}]+)\}/g, (_m, bang: string, name: string) => {
          if (bang) return `\${${name}}`;
          if (name in values) return str(values[name], at);
          const [id, ...attr] = name.split('.');
          return str(attr.length ? this.attr(id!, attr.join('.'), at) : this.ref(id!, at), at);
        });
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = this.resolve(list, at) as unknown[];
        return items[Number(this.resolve(index, at))];
      }
      case 'Fn::Split': {
        const [sep, text] = arg as [string, unknown];
        return str(this.resolve(text, at), at).split(sep);
      }
      case 'Fn::If': {
        const [cond, yes, no] = arg as [string, unknown, unknown];
        return this.resolve(this.condition(cond) ? yes : no, at);
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as unknown[]).map((x) => this.resolve(x, at)) as [string, string, string];
        const v = this.template.Mappings?.[map]?.[top]?.[second];
        if (v === undefined) throw new Error(`${at}: no mapping ${map}.${top}.${second}`);
        return v;
      }
      case 'Fn::Base64':
        return Buffer.from(str(this.resolve(arg, at), at)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${this.env.region}${z}`);
      case 'Condition':
        return this.condition(arg as string);
      default:
        throw new Error(`${at}: the harness does not resolve ${fn}`);
    }
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

function str(v: unknown, where: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${where}: expected a string, got ${JSON.stringify(v)}`);
}

/** A stable fake id for a resource: lowercase hex from the logical id. */
function fakeId(logicalId: string, length = 32): string {
  return createHash('sha256').update(logicalId).digest('hex').slice(0, length);
}

/** A fake key id in the form KMS uses (a UUID). */
function fakeKeyId(logicalId: string): string {
  const h = fakeId(logicalId);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface Physical {
  readonly ref: unknown;
  readonly attrs: Record<string, unknown>;
}

/** The physical name (what `Ref` returns) and attributes of a resource, by type, from its resolved properties. */
function physical(t: ResolvedTemplate, id: string, type: string): Physical {
  const { account, region, partition, stackName } = t.env;
  const arn = (service: string, resource: string, r = region, a: string = account) => `arn:${partition}:${service}:${r}:${a}:${resource}`;
  const generated = (max: number, lower = false) => {
    const name = `${stackName}-${id}-${fakeId(id, 12).toUpperCase()}`.slice(0, max);
    return lower ? name.toLowerCase() : name;
  };
  // Only the naming property is resolved here: resolving every property could run in a circle
  // (a bucket whose notifications name a function whose environment names the bucket).
  const raw = t.template.Resources[id]?.Properties ?? {};
  const p = (): Record<string, any> =>
    new Proxy(raw, {
      get: (target, key: string) => {
        const v = t.resolve((target as Record<string, unknown>)[key], `${id}.Properties.${key}`);
        return v === NO_VALUE ? undefined : v;
      },
    });
  switch (type) {
    case 'AWS::S3::Bucket': {
      const name = (p().BucketName as string | undefined) ?? generated(63, true);
      return {
        ref: name,
        attrs: {
          Arn: `arn:${partition}:s3:::${name}`,
          DomainName: `${name}.s3.amazonaws.com`,
          RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
          DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
          WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
        },
      };
    }
    case 'AWS::KMS::Key': {
      const keyId = fakeKeyId(id);
      return { ref: keyId, attrs: { Arn: arn('kms', `key/${keyId}`), KeyId: keyId } };
    }
    case 'AWS::KMS::Alias': {
      const name = p().AliasName as string;
      return { ref: name, attrs: {} };
    }
    case 'AWS::IAM::Role': {
      const name = (p().RoleName as string | undefined) ?? generated(64);
      const path = (p().Path as string | undefined) ?? '/';
      return {
        ref: name,
        attrs: { Arn: `arn:${partition}:iam::${account}:role${path}${name}`, RoleId: `AROA${fakeId(id, 17).toUpperCase()}` },
      };
    }
    case 'AWS::IAM::ManagedPolicy': {
      const name = (p().ManagedPolicyName as string | undefined) ?? generated(128);
      const path = (p().Path as string | undefined) ?? '/';
      const policyArn = `arn:${partition}:iam::${account}:policy${path}${name}`;
      return { ref: policyArn, attrs: { PolicyArn: policyArn } };
    }
    case 'AWS::IAM::Policy':
      return { ref: (p().PolicyName as string | undefined) ?? generated(128), attrs: {} };
    case 'AWS::KinesisFirehose::DeliveryStream': {
      const name = (p().DeliveryStreamName as string | undefined) ?? generated(64);
      return { ref: name, attrs: { Arn: arn('firehose', `deliverystream/${name}`) } };
    }
    case 'AWS::Athena::WorkGroup':
      return { ref: p().Name, attrs: {} };
    case 'AWS::Glue::Database':
      return { ref: p().DatabaseInput?.Name ?? generated(255, true), attrs: {} };
    case 'AWS::Glue::Table':
      return { ref: p().TableInput?.Name ?? generated(255, true), attrs: {} };
    case 'AWS::SSM::Parameter':
      return { ref: (p().Name as string | undefined) ?? generated(200), attrs: { Type: p().Type, Value: p().Value } };
    case 'Custom::KillSwitch':
      // The seed handler answers with the parameter name as the physical id.
      return { ref: p().Name, attrs: {} };
    case 'AWS::Logs::LogGroup': {
      const name = (p().LogGroupName as string | undefined) ?? generated(512);
      return { ref: name, attrs: { Arn: arn('logs', `log-group:${name}:*`) } };
    }
    case 'AWS::Logs::LogStream':
      return { ref: (p().LogStreamName as string | undefined) ?? generated(512), attrs: {} };
    case 'AWS::Lambda::Function': {
      const name = (p().FunctionName as string | undefined) ?? generated(64);
      return { ref: name, attrs: { Arn: arn('lambda', `function:${name}`) } };
    }
    case 'AWS::SNS::Topic': {
      const name = (p().TopicName as string | undefined) ?? generated(256);
      const topicArn = arn('sns', name);
      return { ref: topicArn, attrs: { TopicArn: topicArn, TopicName: name } };
    }
    case 'AWS::SecretsManager::Secret': {
      const name = (p().Name as string | undefined) ?? generated(200);
      const secretArn = arn('secretsmanager', `secret:${name}-AbCdEf`);
      return { ref: secretArn, attrs: { Id: secretArn } };
    }
    case 'AWS::Events::Rule': {
      const name = (p().Name as string | undefined) ?? generated(64);
      return { ref: name, attrs: { Arn: arn('events', `rule/${name}`) } };
    }
    case 'AWS::CloudTrail::Trail': {
      const name = (p().TrailName as string | undefined) ?? generated(128);
      return { ref: name, attrs: { Arn: arn('cloudtrail', `trail/${name}`) } };
    }
    case 'AWS::CloudWatch::Alarm': {
      const name = (p().AlarmName as string | undefined) ?? generated(255);
      return { ref: name, attrs: { Arn: arn('cloudwatch', `alarm:${name}`) } };
    }
    default:
      return { ref: id, attrs: { Arn: arn(type.split('::')[1]?.toLowerCase() ?? 'unknown', id) } };
  }
}

/**
 * The logical id CDK allocates to the element at `path` (construct ids below the stack, e.g.
 * `Storage/TraceAnalyst/Resource`): the human part (no `Default`, no `Resource`, a component
 * dropped when the previous one ends with it, non-alphanumerics removed) and the first 8 hex
 * digits of the MD5 of the path without `Default` (aws-cdk-lib core, private/uniqueid.ts).
 */
export function cdkLogicalId(path: string): string {
  const components = path.split('/').filter((c) => c !== 'Default');
  const hash = createHash('md5').update(components.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const c of components.filter((x) => x !== 'Resource')) if (!human.length || !human[human.length - 1]!.endsWith(c)) human.push(c);
  return `${human
    .join('')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 255 - 8)}${hash}`;
}

/** The resource at a construct path (below the stack): by its `aws:cdk:path` metadata when the template has it, else by CDK's logical id for the path. */
export function findByPath(t: ResolvedTemplate, path: string): ResolvedResource | undefined {
  const byMetadata = t.logicalIds.find((id) => {
    const p = t.template.Resources[id]!.Metadata?.['aws:cdk:path'];
    return typeof p === 'string' && p.split('/').slice(1).join('/') === path;
  });
  if (byMetadata) return t.resource(byMetadata);
  const id = cdkLogicalId(path);
  return t.template.Resources[id] ? t.resource(id) : undefined;
}
