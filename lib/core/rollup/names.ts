/**
 * Names the rollup Lambda and the gate's Athena source derive from the policy, the same
 * way the catalog construct names its resources (a construct test checks they agree).
 * Plain functions, no aws-cdk-lib: the CLI and the Lambda import them.
 */
import { resourcePrefix } from '../policy/names';
import type { Policy } from '../policy/schema';

type Named = Pick<Policy, 'name' | 'environment'>;

/** The analysts' Athena workgroup: `<name>-<environment>-analysts`. */
export function analystsWorkGroupName(policy: Named): string {
  return `${resourcePrefix(policy)}-analysts`;
}

/** The Glue database of the telemetry tables: `<name>_<environment>_telemetry`, hyphens as underscores. */
export function catalogDatabaseName(policy: Named): string {
  return `${policy.name}_${policy.environment}_telemetry`.replace(/-/g, '_');
}

/**
 * The rollup's own failure metric (not in the metric dictionary, which lists the
 * telemetry's metrics): one datum per query that failed after its retries, published
 * twice, with the `Query` dimension and without dimensions (what the ticket alarm watches).
 */
export const ROLLUP_FAILURES_METRIC = 'RollupFailures';
export const ROLLUP_FAILURES_DIMENSION = 'Query';
