/**
 * The kill-switch page: derived from the policy, and the committed copy is current.
 * Regenerate docs/kill-switches.md with:
 *   npm run docs
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explainKillSwitches } from '../lib/core/spec/kill-switches';
import { resolveSwitches } from '../lib/core/policy';
import { policyFrom, shippedPolicyData, variantPolicy } from './support/policy';

const shipped = policyFrom(shippedPolicyData());
const rowOf = (md: string, ref: string) =>
  md
    .split('\n')
    .find((l) => l.startsWith(`| \`${ref}\` |`))
    ?.split(' | ');

describe('explainKillSwitches', () => {
  it('docs/kill-switches.md is the output for the shipped policy', () => {
    expect(readFileSync('docs/kill-switches.md', 'utf8')).toBe(explainKillSwitches(shipped));
  });

  it('has one row per switch with its tripped effect, initial state, safe default and the TTL', () => {
    const md = explainKillSwitches(shipped);
    for (const sw of resolveSwitches(shipped)) {
      const row = rowOf(md, sw.ref);
      expect(row?.[0], `a row for ${sw.ref}`).toBe(`| \`${sw.ref}\``);
      expect(row![1]!.startsWith(`${sw.tripped}: `)).toBe(true);
      expect([row![2], row![3]]).toEqual([sw.initial, sw.safeDefault]);
      expect(row![7]).toMatch(/^30 s after the flip/);
    }
    expect(md).toContain('**a flip takes effect within 30 seconds, without a deploy**');
  });

  it('names the alarm that trips a switch, and the trip Lambda among who may flip it, from auto_trips', () => {
    const p = variantPolicy((d) => {
      d.kill_switches.cache_ttl = '45s';
      d.kill_switches.auto_trips = [{ alarm: 'safety.p0-events', switch: 'read_only_mode', set: 'on' }];
    });
    const md = explainKillSwitches(p);
    expect(rowOf(md, 'read_only_mode')!.slice(4, 6)).toEqual([
      'kill-switch operators, the trip Lambda',
      'copilot-prod-safety-p0-events (page on P0Events; fires after 5m of breach)',
    ]);
    expect(rowOf(md, 'connectors.hr_policies')!.slice(4, 6)).toEqual(['kill-switch operators', '-']);
    // the shipped trip names the one connector's series its alarm watches
    expect(rowOf(explainKillSwitches(shipped), 'connectors.hr_policies')![5]).toBe(
      'copilot-prod-safety-access-violation-hr (page on AccessViolations {source=hr_policies}; fires after 5m of breach)',
    );
    expect(rowOf(md, 'read_only_mode')![7]).toBe('45 s after the flip; automatically: the alarm delay, then 45 s |');
  });

  it('lists the runbooks that name a switch', () => {
    const md = explainKillSwitches(shipped);
    expect(rowOf(md, 'read_only_mode')![6]).toBe('reliability.provider-timeouts, safety.p0-events');
    expect(rowOf(md, 'connectors.hr_policies')![6]).toBe('safety.access-violation-hr');
  });
});
