/**
 * The README's generated blocks: the parts that restate the shipped policy, the stack or
 * the code (stores, alarms, queries, acknowledged findings, disabled Control Tower
 * controls, the producer example), kept
 * between `<!-- BEGIN generated:NAME -->` and `<!-- END generated:NAME -->` markers. `npm
 * run docs` rewrites them; a test fails when the committed README differs.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { BUCKETS } from '../core/metrics/dictionary';
import { CONTROL_TOWER_EXEMPTIONS } from '../constructs/controls';
import { acknowledgements } from '../constructs/shared/nag';
import { alarmCondition, alarmName, type Policy } from '../core/policy';
import { describeTiers } from '../core/storage';
import { table } from '../core/spec';
import { limitRows } from '../core/policy/limits';
import { loadDecisionQueries } from '../core/queries';
import { TelemetryStack } from '../constructs/stack';

const ROLE_TITLES: Record<string, string> = {
  metrics_readers: 'metrics readers',
  trace_analysts: 'trace analysts',
  incident_responders: 'incident responders (MFA)',
  kill_switch_operators: 'kill-switch operators',
};

export function storesBlock(policy: Policy): string {
  return table(
    ['tier', 'retention', 'store', 'key', 'readers'],
    describeTiers(policy).flatMap((t) =>
      t.stores.map((s) => [
        t.tier,
        t.retention,
        s.store,
        s.key ?? t.key,
        t.reader ? (ROLE_TITLES[t.reader] ?? t.reader) : 'operators (console)',
      ]),
    ),
  );
}

/** Every hard limit of the policy, from the one table the rules check. */
export function limitsBlock(): string {
  return table(
    ['policy key', 'hard limit'],
    limitRows().map((r) => [`\`${r.key}\``, r.limit]),
  );
}

export function alarmsBlock(policy: Policy): string {
  return table(
    ['alarm', 'severity', 'routes to', 'condition'],
    BUCKETS.flatMap((b) =>
      policy.buckets[b].alarms.map((a) => [
        alarmName(policy, b, a.id),
        a.severity,
        a.severity === 'page' ? 'page topic' : 'ticket topic',
        alarmCondition(a),
      ]),
    ),
  );
}

export function queriesBlock(): string {
  return table(
    ['query', 'bucket', 'decision it supports'],
    loadDecisionQueries().map((q) => [`\`queries/${q.id}.sql\``, q.bucket, q.decision]),
  );
}

export function acknowledgementsBlock(policy: Policy): string {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new TelemetryStack(app, 'Readme', { policy, env: { account: '123456789012', region: 'eu-west-1' } });
  const rows = acknowledgements(stack).map((a) => [`\`${a.id}\``, `\`${a.path.replace(/^Readme\//, '')}\``, a.reason]);
  return table(['finding', 'where', 'why it is acknowledged'], rows);
}

/** The Control Tower controls the stack does not follow, from the one table the plugin disables. */
export function controlsBlock(): string {
  return table(
    ['control', 'requires', 'fails on', 'why it is disabled'],
    CONTROL_TOWER_EXEMPTIONS.map((x) => [`\`${x.control}\``, x.title, x.appliesTo, x.reason]),
  );
}

/** An example file of examples/ as a TypeScript block. */
export function exampleBlock(file = 'producer.ts'): string {
  return ['```ts', readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8').trimEnd(), '```'].join('\n');
}

export function readmeBlocks(policy: Policy): Record<string, string> {
  return {
    stores: storesBlock(policy),
    alarms: alarmsBlock(policy),
    limits: limitsBlock(),
    queries: queriesBlock(),
    acknowledgements: acknowledgementsBlock(policy),
    controls: controlsBlock(),
    'producer-example': exampleBlock(),
    'construct-example': exampleBlock('team-stack.ts'),
  };
}

/** The README with every generated block replaced; throws when a block's markers are missing. */
export function renderReadme(text: string, blocks: Record<string, string>): string {
  let out = text;
  for (const [name, body] of Object.entries(blocks)) {
    const re = new RegExp(`(<!-- BEGIN generated:${name} -->\\n)[\\s\\S]*?(<!-- END generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`README.md has no <!-- BEGIN generated:${name} --> ... <!-- END generated:${name} --> block`);
    out = out.replace(re, (_m, a: string, b: string) => `${a}${body}\n${b}`);
  }
  return out;
}
