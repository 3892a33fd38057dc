/**
 * Validation errors of the constructs, as CDK reports its own: a `ValidationError`
 * attached to the construct (its path is shown), so `Errors.isValidationError(e)` holds.
 */
import { ValidationError } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

type ErrorName = ConstructorParameters<typeof ValidationError>[0];

/** A ValidationError naming `scope`, e.g. `retention.debug is 96h; the debug tier keeps ... (Stack/Storage)`. */
export function validationError(scope: IConstruct, message: string): Error {
  // The name is a literal in aws-cdk-lib's own code (a branded string); ours is fixed too.
  return new ValidationError('LLMOpsTelemetryValidation' as ErrorName, message, scope);
}

/** Runs `f` and rethrows any error it throws as a ValidationError of `scope`. */
export function validating<T>(scope: IConstruct, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if ((e as { type?: string }).type === 'validation') throw e;
    throw validationError(scope, (e as Error).message);
  }
}
