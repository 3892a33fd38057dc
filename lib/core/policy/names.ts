/** Names and words derived from the policy that several layers share (alarm names, alarm conditions). */
import type { AlarmPolicy, Policy } from './schema';

/** What every resource name of a policy's stack starts with: `<name>-<environment>`, e.g. `copilot-prod`. */
export function resourcePrefix(policy: Pick<Policy, 'name' | 'environment'>): string {
  return `${policy.name}-${policy.environment}`;
}

/** The alarm's physical name: `<name>-<environment>-<bucket>-<alarm id>`. */
export function alarmName(policy: Pick<Policy, 'name' | 'environment'>, bucket: string, id: string): string {
  return `${resourcePrefix(policy)}-${bucket}-${id}`;
}

/** The alarm's condition in words, e.g. `ProviderTimeoutRate (Average) above 5 over 1 x 5m`. */
export function alarmCondition(a: AlarmPolicy): string {
  const stat = a.statistic ? ` ${a.statistic}` : '';
  const dims = Object.entries(a.dimensions ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const subject = `${a.metric}${stat}${dims ? ` {${dims}}` : ''}`;
  const test =
    a.anomaly_band !== undefined
      ? `${a.comparison} its learned band (${a.anomaly_band} standard deviations)`
      : `${a.comparison} ${a.threshold}`;
  const m = a.datapoints_to_alarm ?? a.evaluation_periods;
  return `${subject} ${test}, ${m} of ${a.evaluation_periods} x ${a.period}`;
}
