import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readmeBlocks, renderReadme } from '../lib/cli/readme';
import { loadPolicy } from '../lib/core/policy';

describe('README', () => {
  const readme = readFileSync('README.md', 'utf8');

  it('has its generated blocks current: stores, queries, alarms, acknowledgements, producer example (regenerate with npm run docs)', () => {
    expect(readme).toBe(renderReadme(readme, readmeBlocks(loadPolicy('telemetry-policy.yaml').policy)));
  });

  it('shows the producer example exactly as compiled and run by the tests', () => {
    expect(readme).toContain(['```ts', readFileSync('examples/producer.ts', 'utf8').trimEnd(), '```'].join('\n'));
  });

  it('gives exactly two commands for a fresh machine, the second being the one CI runs', () => {
    const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Architecture'));
    const block = /```sh\n([\s\S]*?)```/.exec(quick)?.[1] ?? '';
    const commands = block
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => l.replace(/\s+#.*$/, '').trim());
    expect(commands).toEqual(['npm ci && npx cdk synth --quiet', 'npm test']);
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^npm test$/m);
  });

  it('fails when a generated block has lost its markers', () => {
    expect(() => renderReadme('# no blocks\n', { stores: 'x' })).toThrow(
      'README.md has no <!-- BEGIN generated:stores --> ... <!-- END generated:stores --> block',
    );
  });
});
