/**
 * A stack holding only `TelemetryStorage`, to test the construct in isolation (the
 * composed `TelemetryStack` adds writers, readers and grants of its own), plus helpers
 * that compare what a role is granted however CDK merged the statements.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Policy } from '../../lib/core/policy';
import { TelemetryStorage } from '../../lib/constructs/storage';
import { CDK_CONTEXT } from '../helpers';

export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

export interface StorageStack {
  readonly app: App;
  readonly stack: Stack;
  readonly storage: TelemetryStorage;
  readonly template: Template;
}

/**
 * `TelemetryStorage` alone (construct id `Storage`, as in `TelemetryStack`, so logical
 * ids match the composed stack's), with the cdk.json feature flags and no bundling;
 * `extra` adds grantees before the template is built.
 */
export function buildStorageStack(policy: Policy, extra?: (stack: Stack, storage: TelemetryStorage) => void): StorageStack {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'StorageOnly', { env: TEST_ENV });
  const storage = TelemetryStorage.fromPolicy(stack, 'Storage', policy);
  extra?.(stack, storage);
  return { app, stack, storage, template: Template.fromStack(stack) };
}

/** The logical id of a role (created here, or imported from a created role's ARN). */
export function roleLogicalId(stack: Stack, role: iam.IRole): string {
  const arn = stack.resolve(role.roleArn) as { 'Fn::GetAtt'?: [string, string] };
  if (!arn['Fn::GetAtt']) throw new Error(`${role.node.path} is not a role of this stack`);
  return arn['Fn::GetAtt'][0];
}

interface CfnStatement {
  Effect: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

/**
 * Every permission a role holds from identity policies (policies and managed policies
 * of the template naming it, its inline policies, its managed policy ARNs), one entry
 * per (effect, action, resource, condition), sorted: equal sets of permissions compare
 * equal however they were merged into statements.
 */
export function grantsOf(template: Template, roleId: string): string[] {
  const role = template.findResources('AWS::IAM::Role')[roleId];
  if (!role) throw new Error(`no role ${roleId} in the template`);
  const names = (p: { [key: string]: any }) =>
    ((p.Properties?.Roles ?? []) as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }));
  const documents = [
    ...Object.values(template.findResources('AWS::IAM::Policy'))
      .filter(names)
      .map((p) => p.Properties.PolicyDocument),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
      .filter(names)
      .map((p) => p.Properties.PolicyDocument),
    ...((role.Properties.Policies ?? []) as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument),
  ] as { Statement: CfnStatement[] }[];
  const entries = documents.flatMap((d) =>
    d.Statement.flatMap((s) => {
      const actions = s.Action !== undefined ? [s.Action].flat() : [s.NotAction].flat().map((a) => `not:${a}`);
      const resources = s.Resource !== undefined ? [s.Resource].flat() : [{ NotResource: s.NotResource }];
      return actions.flatMap((a) => resources.map((r) => grant(s.Effect, a, r, s.Condition)));
    }),
  );
  const managed = ((role.Properties.ManagedPolicyArns ?? []) as unknown[]).map((arn) => `managed policy ${JSON.stringify(arn)}`);
  return [...new Set([...entries, ...managed])].sort();
}

/** One entry of `grantsOf`. */
export function grant(effect: string, action: string, resource: unknown, condition?: unknown): string {
  return JSON.stringify([effect, action, resource, condition ?? null]);
}
