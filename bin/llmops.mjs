#!/usr/bin/env node
// The llmops command line. Runs the TypeScript sources through tsx's loader, so there
// is no build step: `npx llmops --help` works after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
