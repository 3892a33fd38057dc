/**
 * One service name per Lambda, from one table: the function's POWERTOOLS_SERVICE_NAME
 * (the construct sets it), its Logger's `service` (the handler sets it) and, for the
 * functions that publish metrics, the `service` dimension of those metrics. The metric
 * dimension values are the dictionary's (alarms and dashboards select on them), so the
 * names of the publishing functions are taken from there.
 */
import { DEBUG_CAPTURE_SERVICE, SERVICE_OF } from '../metrics/dictionary';

/** The Lambdas of the stack, by their folder under `lambdas/`. */
export type LambdaName = 'redact' | 'debug-capture' | 'rollup' | 'trip' | 'switch-seed';

export const SERVICE_NAMES: Readonly<Record<LambdaName, string>> = {
  /** The events stream's transform publishes the ingest and bucket metrics. */
  redact: SERVICE_OF.ingest,
  'debug-capture': DEBUG_CAPTURE_SERVICE,
  rollup: SERVICE_OF.rollup,
  /** Publishes no metrics. */
  trip: 'kill-switch-trip',
  /** The `Custom::KillSwitch` provider; publishes no metrics. */
  'switch-seed': 'kill-switch-seed',
};
