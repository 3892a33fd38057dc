import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../lib/core/policy';
import { explainPolicy } from '../lib/core/spec';
import { runCli } from './cli-helpers';
import { shippedPolicyText } from './support/policy';

const dir = mkdtempSync(join(tmpdir(), 'llmops-cli-'));
const bad = join(dir, 'bad.yaml');
writeFileSync(bad, shippedPolicyText().replace('traces: 30d', 'traces: 365d').replace('severity: ticket\n', 'severity: later\n'));

describe('llmops policy check', () => {
  it('exits 0 on the shipped policy', async () => {
    const r = await runCli(['policy', 'check']);
    expect(r).toEqual({ code: 0, stdout: 'telemetry-policy.yaml: valid (0 warning(s))\n', stderr: '' });
  });

  it('fails when the policy has problems: exit 1, every problem on stderr, no stack trace', async () => {
    const r = await runCli(['policy', 'check', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${bad}:\\d+:\\d+ retention\\.traces: is "365d"; the traces tier keeps data for 1d to 90d$`)),
      expect.stringMatching(
        new RegExp(`^${bad}:\\d+:\\d+ buckets\\.reliability\\.alarms\\[0\\]\\.severity: is "later"; allowed: "page", "ticket"$`),
      ),
      `2 problem(s) in ${bad}`,
    ]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('fails when the file does not exist', async () => {
    const r = await runCli(['policy', 'check', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${join(dir, 'nope.yaml')}:1:1 (root): file not found\n1 problem(s) in ${join(dir, 'nope.yaml')}\n`);
  });

  it('fails with exit 2 on a usage error', async () => {
    expect((await runCli(['policy', 'check', '--bogus'])).code).toBe(2);
    expect((await runCli(['policy', 'check', 'a.yaml', 'b.yaml'])).stderr).toBe(
      'llmops policy check: expected at most one policy file, got 2\n',
    );
    expect((await runCli(['policy', 'check', '--now', 'yesterday'])).code).toBe(2);
    expect((await runCli(['nonsense'])).code).toBe(2);
    expect((await runCli([])).code).toBe(2);
  });
});

describe('llmops policy explain and schema', () => {
  it('prints the spec of the given policy', async () => {
    const r = await runCli(['policy', 'explain', 'test/fixtures/minimal-policy.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(explainPolicy(loadPolicy('test/fixtures/minimal-policy.yaml').policy));
  });

  it('prints the committed JSON Schema', async () => {
    const r = await runCli(['policy', 'schema']);
    expect(r.stdout).toBe(readFileSync('telemetry-policy.schema.json', 'utf8'));
  });
});

describe('--help', () => {
  it('is answered by every command', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}llmops (\S+(?: [a-z]+)?)\s{2,}/gm)].map((m) => m[1]!.split(' '));
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const words of commands) {
      const r = await runCli([...words, '--help']);
      expect(r.code, words.join(' ')).toBe(0);
      expect(r.stdout, words.join(' ')).toMatch(/^Usage: llmops /);
    }
  });
});
