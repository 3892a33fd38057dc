import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aws_s3 as s3 } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../lib/constructs/app';
import { shippedPolicyText } from './support/policy';

const dir = mkdtempSync(join(tmpdir(), 'llmops-app-'));
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

describe('the CDK app', () => {
  it('reads the policy from context `policy` and names the stack from it', () => {
    const { stack } = buildApp({ appProps: { context: { ...NO_BUNDLING, policy: 'test/fixtures/minimal-policy.yaml' } } });
    expect(stack.stackName).toBe('helpdesk-bot-dev-telemetry');
    expect(stack.policy.environment).toBe('dev');
  });

  it('defaults to ./telemetry-policy.yaml', () => {
    const { stack } = buildApp({ appProps: { context: NO_BUNDLING } });
    expect(stack.stackName).toBe('copilot-prod-telemetry');
  });

  it('fails the synth on an unacknowledged cdk-nag finding (AwsSolutions is registered as a validation plugin)', () => {
    const { app, stack } = buildApp({ appProps: { context: NO_BUNDLING, outdir: join(dir, 'nag') } });
    new s3.Bucket(stack, 'Careless', { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });

  it('fails when the policy is bad: exit 1, the problem list, no stack trace', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, shippedPolicyText().replace('debug: 72h', 'debug: 7d').replace('name: copilot ', 'name: -x '));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ policy: bad }), CDK_OUTDIR: join(dir, 'out') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'The telemetry policy has 2 problem(s); nothing was synthesized:',
      expect.stringMatching(new RegExp(`^${bad}:\\d+:\\d+ name: is "-x"; name must be`)),
      expect.stringMatching(new RegExp(`^${bad}:\\d+:\\d+ retention\\.debug: is "7d"; the debug tier keeps raw captures for 24h to 72h$`)),
    ]);
  });
});
