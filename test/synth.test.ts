import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildStack, policyFrom, shippedPolicyText } from './helpers';

/**
 * Change detectors for the whole template, beside the assertion tests that state what
 * matters. Asset hashes are replaced so a Lambda code change does not churn them.
 */
function normalized(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '<asset-hash>$1'));
}

describe('synth snapshots', () => {
  it('of the shipped policy', () => {
    const { template } = buildStack(policyFrom(shippedPolicyText(), 'telemetry-policy.yaml'));
    expect(normalized(template.toJSON())).toMatchSnapshot();
  });

  it('of the minimal dev policy', () => {
    const { template } = buildStack(policyFrom(readFileSync('test/fixtures/minimal-policy.yaml', 'utf8')));
    expect(normalized(template.toJSON())).toMatchSnapshot();
  });
});
