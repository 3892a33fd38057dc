/**
 * The LLMOps telemetry stack as a construct library. `TelemetryStack` composes every
 * construct from a telemetry policy; each construct can also be used alone in a stack of
 * your own, with typed props (no policy file needed) or `fromPolicy(...)`.
 *
 * ```ts
 * import { TelemetryStorage, KillSwitchParameters } from 'llmops-telemetry-stack';
 * ```
 *
 * Application code (the producer SDK, the kill-switch client) is in
 * `llmops-telemetry-stack/client`, which imports no aws-cdk-lib.
 */
export { TelemetryStack, stackNameFor, type TelemetryStackProps } from './constructs/stack';
export { buildApp, type BuildAppOptions } from './constructs/app';
export { CONTROL_TOWER_EXEMPTIONS, controlTowerChecks, ControlsError, type ControlExemption } from './constructs/controls';
export { allowCloudWatchLogs, denyGrantsOutsideAwsServices, TelemetryKey } from './constructs/shared/keys';
export * from './constructs/alerting';
export * from './constructs/aspects';
export * from './constructs/catalog';
export * from './constructs/ingest';
export * from './constructs/kill-switches';
export * from './constructs/monitoring';
export * from './constructs/rollups';
export * from './constructs/storage';
export {
  DEFAULT_POLICY_FILE,
  formatProblem,
  formatWarning,
  loadPolicy,
  parsePolicy,
  PolicyError,
  resolveSwitches,
  type AlarmPolicy,
  type LoadedPolicy,
  type LoadOptions,
  type Policy,
  type PolicyProblem,
  type ResolvedSwitch,
  type Severity,
  type SwitchState,
} from './core/policy';
export type { TripAction, TripMap } from './core/killswitch/trip';
export { describeTiers, STORE_NAMES, type StoreName, type StorageTier, type TierName } from './core/storage';
