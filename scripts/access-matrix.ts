/**
 * Evaluates the access matrix (`lib/core/spec/access-matrix.ts`) against any synthesized
 * template with the IAM evaluator of test/support/iam-matrix.ts, and prints the cells that
 * differ from the expected matrix: what a template lets each principal do, beside what the
 * spec says it may.
 *
 *   npx tsx scripts/access-matrix.ts cdk.out/copilot-prod-telemetry.template.json [--policy telemetry-policy.yaml] [--region eu-west-1]
 *
 * The region is the one the template was synthesized for when cdk.out/manifest.json names
 * it (ARNs with a literal region must match the ones resolved from AWS::Region), else
 * eu-west-1; the account is the fake 111111111111. A cell whose principal or resources the
 * template lacks is `absent`. Exit code 0 when nothing differs, 1 otherwise, 2 on a usage error.
 * Prints ARNs and decisions only, never policy or record content.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_POLICY_FILE, loadPolicy } from '../lib/core/policy';
import { accessMatrix, assumeMatrix } from '../lib/core/spec/access-matrix';
import type { CfnTemplate } from '../test/support/cfn-resolve';
import {
  differences,
  evaluateAccessMatrix,
  evaluateAssumeMatrix,
  FAKE_ACCOUNT,
  FAKE_REGION,
  formatDifferences,
  stackModelOf,
} from '../test/support/iam-matrix';

/** The region a template was synthesized for, from the cloud assembly's manifest beside it. */
function manifestRegion(templatePath: string): string | undefined {
  const manifest = join(dirname(templatePath), 'manifest.json');
  if (!existsSync(manifest)) return undefined;
  const stack = basename(templatePath).replace(/\.template\.json$/, '');
  const artifacts =
    (JSON.parse(readFileSync(manifest, 'utf8')) as { artifacts?: Record<string, { environment?: string }> }).artifacts ?? {};
  const region = artifacts[stack]?.environment?.split('/')[3];
  return region && region !== 'unknown-region' ? region : undefined;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { policy: { type: 'string' }, region: { type: 'string' } },
  });
  const templatePath = positionals[0];
  if (!templatePath || positionals.length > 1) {
    process.stderr.write('usage: tsx scripts/access-matrix.ts <template.json> [--policy FILE] [--region REGION]\n');
    return 2;
  }
  const policy = loadPolicy(values.policy ?? DEFAULT_POLICY_FILE).policy;
  const template = JSON.parse(readFileSync(templatePath, 'utf8')) as CfnTemplate;
  const region = values.region ?? manifestRegion(templatePath) ?? FAKE_REGION;
  const stackName = basename(templatePath).replace(/\.template\.json$/, '');
  const model = stackModelOf(template, policy, { account: FAKE_ACCOUNT, region, partition: 'aws', stackName });
  const expected = accessMatrix(policy);
  const assume = assumeMatrix(policy);
  const diffs = differences(expected, await evaluateAccessMatrix(model, expected), {
    expected: assume,
    evaluated: await evaluateAssumeMatrix(model, assume),
  });
  const cells = expected.rows.length * expected.principals.length + assume.rows.length * assume.assumers.length;
  process.stdout.write(
    `${templatePath} (account ${FAKE_ACCOUNT}, ${region}): ${cells} cells, ${diffs.length} differ from the expected matrix\n`,
  );
  if (model.uncoveredKeys.length) process.stdout.write(`KMS keys no row covers: ${model.uncoveredKeys.join(', ')}\n`);
  if (diffs.length) process.stdout.write(`${formatDifferences(diffs)}\n`);
  return diffs.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
