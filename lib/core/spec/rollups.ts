/**
 * The scheduled rollups in words (Markdown), derived from the policy and the plan: what
 * runs when, which metrics it publishes with which slices, how to read them (Maximum),
 * where the aggregates are kept, and what happens when a query fails.
 */
import { resourcePrefix } from '../policy/names';
import { metricsNamespace } from '../metrics/dictionary';
import type { Policy } from '../policy/schema';
import { ROLLUP_FAILURES_METRIC } from '../rollup/names';

export function explainRollups(policy: Pick<Policy, 'name' | 'environment' | 'retention' | 'slices'>): string {
  const dims = Object.keys(policy.slices.dimensions);
  const has = (d: string) => dims.includes(d);
  const sliceList = (wanted: string[]) =>
    wanted
      .filter(has)
      .map((d) => `\`${d}\``)
      .join(', ') || 'none';
  return [
    '## Scheduled rollups',
    '',
    'Figures that need a whole day or week of records are computed by a Lambda from the traces tier with the decision queries, in the analysts workgroup, and published to CloudWatch (namespace `' +
      metricsNamespace(policy) +
      '`) and to the metrics tier.',
    '',
    '| schedule | metric | from | slices |',
    '|---|---|---|---|',
    `| hourly (minute 15), today and yesterday (UTC) | ActiveUsersDaily, ActiveUsersWeekly | active-users | ${sliceList(['tenant_id'])} |`,
    `| hourly | DailyCostUsd | cost-per-successful-task | ${sliceList(['intent', 'tenant_id'])} |`,
    '| hourly | NewIntents | new-intents | none |',
    '| daily (00:30), the 7 days ending yesterday | RepeatUsers | repeat-users | none |',
    '',
    "- **Read them with `Maximum`.** Each datapoint is the whole figure, stamped at the start of its period (today's at the run's hour, yesterday's final figure at 23:00, weekly figures at 00:00 of the last day). A rerun publishes the same datapoint again, and CloudWatch keeps both: `Maximum` reads it once, `Sum` would count it twice.",
    "- Slices: one dimension set per slice, never their cross product; values outside a slice's `values` list are counted as `other`. Distinct users folded into `other` are an upper bound (a user active in two of its tenants counts twice); listed values and totals are exact.",
    `- Aggregates: \`rollups/metric=<name>/dt=<YYYY-MM-DD>/hour=<HH>.json\` in the metrics bucket (JSON Lines), kept ${policy.retention.metrics} (retention.metrics). A rerun overwrites the same keys.`,
    `- Failures: a query is tried 3 times; if it still fails it is counted as \`${ROLLUP_FAILURES_METRIC}\` (by \`Query\`, and in total) and the ticket alarm \`${resourcePrefix(policy)}-rollup-failures\` fires; the other figures are still published.`,
    '',
  ].join('\n');
}
