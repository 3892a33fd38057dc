/**
 * `npm run integ`: the deploy test (test/integ/integ.telemetry.ts) in the account and
 * region of your AWS credentials. Deploys the minimal policy's stack, the probe and the
 * DeployAssert stack (its custom resources send, wait, assert, flip and read back; any
 * failed assertion fails the deployment), then destroys all three, whatever happened.
 *
 *   npm run integ                deploy, assert, destroy (exit 0 only if every assertion held and the destroy completed)
 *   npm run integ -- --synth     synthesize only, no credentials needed (what CI checks)
 *   npm run integ -- --keep      deploy and assert, keep the stacks (to look around); then:
 *   npm run integ -- --destroy   empty the buckets and destroy the stacks of a kept run
 *
 * Before each destroy the stack's buckets are emptied (every object version): the dev
 * policy deletes its buckets with the stack, and CloudFormation cannot delete a bucket
 * that holds objects. S3 delivers server access logs late, so a destroy that fails on a
 * non-empty bucket is retried after emptying again.
 */
import {
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  ListObjectVersionsCommand,
  S3Client,
  paginateListBuckets,
  type ObjectIdentifier,
} from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stackNameFor } from '../lib/constructs/stack';
import { INTEG_APP_COMMAND as INTEG_APP, integPolicy } from '../test/integ/integ.telemetry';

/** The synthesized integ app; deploy and destroy read it, so both see the same stacks (and the same run id). */
const INTEG_OUT = 'cdk.out.integ';
const DESTROY_ATTEMPTS = 3;

const CDK = join('node_modules', '.bin', process.platform === 'win32' ? 'cdk.cmd' : 'cdk');

function cdk(args: string[]): boolean {
  process.stderr.write(`\n$ cdk ${args.join(' ')}\n`);
  return spawnSync(CDK, args, { stdio: 'inherit' }).status === 0;
}

/** Assertion results the deployment reported (integ-runner reads the same outputs). */
function failedAssertions(outputsFile: string): string[] {
  if (!existsSync(outputsFile)) return [];
  const outputs = JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
  return Object.values(outputs).flatMap((o) =>
    Object.entries(o)
      .filter(([k, v]) => k.startsWith('AssertionResults') && !/"status"\s*:\s*"success"/.test(v))
      .map(([k, v]) => `${k}: ${v}`),
  );
}

/** Deletes every object version and delete marker of the buckets CloudFormation created for `stackName`. */
async function emptyBuckets(stackName: string): Promise<void> {
  const s3 = new S3Client({ followRegionRedirects: true });
  for await (const page of paginateListBuckets({ client: s3 }, {})) {
    for (const b of page.Buckets ?? []) {
      if (!b.Name?.startsWith(`${stackName.toLowerCase()}-`)) continue;
      const regional = new S3Client({ region: b.BucketRegion, followRegionRedirects: true });
      const tags = await regional.send(new GetBucketTaggingCommand({ Bucket: b.Name })).catch(() => ({ TagSet: [] }));
      // Only buckets of this stack, by the tag CloudFormation puts on them.
      if (!tags.TagSet?.some((t) => t.Key === 'aws:cloudformation:stack-name' && t.Value === stackName)) continue;
      let deleted = 0;
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      do {
        const v = await regional.send(
          new ListObjectVersionsCommand({ Bucket: b.Name, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
        );
        const objects: ObjectIdentifier[] = [...(v.Versions ?? []), ...(v.DeleteMarkers ?? [])].map((o) => ({
          Key: o.Key,
          VersionId: o.VersionId,
        }));
        if (objects.length > 0) {
          const r = await regional.send(new DeleteObjectsCommand({ Bucket: b.Name, Delete: { Objects: objects, Quiet: true } }));
          for (const e of r.Errors ?? []) process.stderr.write(`could not delete s3://${b.Name}/${e.Key}: ${e.Code} ${e.Message}\n`);
          deleted += objects.length - (r.Errors?.length ?? 0);
        }
        keyMarker = v.IsTruncated ? v.NextKeyMarker : undefined;
        versionIdMarker = v.IsTruncated ? v.NextVersionIdMarker : undefined;
      } while (keyMarker);
      process.stderr.write(`emptied s3://${b.Name} (${deleted} object versions)\n`);
    }
  }
}

async function destroy(app: string, stackName: string): Promise<boolean> {
  for (let attempt = 1; attempt <= DESTROY_ATTEMPTS; attempt++) {
    await emptyBuckets(stackName).catch((e: Error) => process.stderr.write(`could not empty the buckets: ${e.name}: ${e.message}\n`));
    if (cdk(['destroy', '--all', '--force', '--app', app])) return true;
    if (attempt < DESTROY_ATTEMPTS) {
      process.stderr.write(`destroy failed (attempt ${attempt} of ${DESTROY_ATTEMPTS}); emptying the buckets again in 60 s\n`);
      await sleep(60_000);
    }
  }
  return false;
}

async function main(argv: string[]): Promise<number> {
  const mode = argv[0] ?? '';
  if (!['', '--synth', '--keep', '--destroy'].includes(mode) || argv.length > 1) {
    process.stderr.write('usage: npm run integ [-- --synth | --keep | --destroy]\n');
    return 2;
  }
  const stackName = stackNameFor(integPolicy());
  if (mode === '--destroy') {
    // A kept run's assembly, so the stack names and the DeployAssert stack are the deployed ones.
    return (await destroy(existsSync(join(INTEG_OUT, 'manifest.json')) ? INTEG_OUT : INTEG_APP, stackName)) ? 0 : 1;
  }
  if (!cdk(['synth', '--app', INTEG_APP, '--output', INTEG_OUT, '--quiet'])) return 1;
  if (mode === '--synth') return 0;
  try {
    await new S3Client({}).config.credentials();
  } catch (e) {
    process.stderr.write(
      `no AWS credentials (${(e as Error).message}): the deploy test needs an account; \`npm run integ -- --synth\` needs none\n`,
    );
    return 1;
  }

  const outputs = join(INTEG_OUT, 'outputs.json');
  const deployed = cdk(['deploy', '--all', '--app', INTEG_OUT, '--require-approval', 'never', '--outputs-file', outputs]);
  const failed = failedAssertions(outputs);
  for (const f of failed) process.stderr.write(`assertion failed: ${f}\n`);
  const passed = deployed && failed.length === 0;
  process.stderr.write(passed ? '\ndeploy test passed\n' : '\ndeploy test FAILED (see the CloudFormation events of the stack above)\n');
  if (mode === '--keep') {
    process.stderr.write('stacks kept; destroy them with: npm run integ -- --destroy\n');
    return passed ? 0 : 1;
  }
  const destroyed = await destroy(INTEG_OUT, stackName);
  if (!destroyed)
    process.stderr.write(
      `destroy did not complete: delete what is left of ${stackName} (and its probe and DeployAssert stacks) in the CloudFormation console\n`,
    );
  return passed && destroyed ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
