/**
 * The cdk-nag acknowledgements of a construct tree, for the inventory test and for
 * review: every rule the stack chose not to follow, where, and why.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  /** Path of the construct that carries it (it covers that construct's subtree). */
  readonly path: string;
  /** The rule id as cdk-nag reports it, e.g. `AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]`. */
  readonly id: string;
  readonly reason: string;
}

export function acknowledgements(scope: IConstruct): Acknowledgement[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && m.data)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([qualified, reason]) => ({
          path: c.node.path,
          // aws-cdk-lib records an id without a plugin namespace as an annotation id.
          id: qualified.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}
