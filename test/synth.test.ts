import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildStack, MINIMAL_POLICY_FILE, policyFrom, SHIPPED_POLICY_FILE, shippedPolicyText } from './helpers';

/**
 * Change detectors beside the assertion tests that state what matters; small enough to
 * read when they change. Asset hashes are replaced so a Lambda code change does not
 * churn them; the decision queries' SQL (asserted in catalog.test.ts and run in
 * queries.test.ts) and the dashboard bodies (monitoring.test.ts) are blanked.
 */
function normalized(template: unknown): Record<string, any> {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '<asset-hash>$1'));
}

const BLANKED: Record<string, [property: string, placeholder: string]> = {
  'AWS::Athena::NamedQuery': ['QueryString', '<decision query SQL: catalog.test.ts>'],
  'AWS::CloudWatch::Dashboard': ['DashboardBody', '<dashboard body: monitoring.test.ts>'],
};

function blanked(template: Record<string, any>): Record<string, any> {
  for (const resource of Object.values(template.Resources) as { Type: string; Properties: Record<string, unknown> }[]) {
    const blank = BLANKED[resource.Type];
    if (!blank) continue;
    expect(resource.Properties, resource.Type).toHaveProperty(blank[0]);
    resource.Properties[blank[0]] = blank[1];
  }
  return template;
}

describe('synth snapshots', () => {
  it('of the shipped policy, SQL and dashboard bodies blanked', () => {
    const { template } = buildStack(policyFrom(shippedPolicyText(), SHIPPED_POLICY_FILE));
    expect(blanked(normalized(template.toJSON()))).toMatchSnapshot();
  });

  it('of the minimal dev policy: resource types and logical ids', () => {
    const { template } = buildStack(policyFrom(readFileSync(MINIMAL_POLICY_FILE, 'utf8')));
    const resources = Object.entries(template.toJSON().Resources as Record<string, { Type: string }>)
      .map(([id, r]) => `${r.Type} ${id}`)
      .sort();
    expect(resources).toMatchSnapshot();
  });
});
