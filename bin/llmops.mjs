#!/usr/bin/env node
// The llmops command line. Runs the TypeScript sources through tsx's loader, so there
// is no build step: `npx llmops --help` works after `npm ci`.
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// V8 inlines functions of up to 460 bytes of bytecode by default. The redaction scanner is
// many such handlers under one hot loop, so the optimizing compiler inlines them into each
// other and recompiles the whole each time a new branch is first seen: on a 20 MB
// `redact --text` that compile work costs about as much CPU as the scan itself. Inlining
// only small functions (character tests, bounds checks) halves it, and the compiled scan
// runs as fast (see bench/redaction.ts). Read by the compiler when it optimizes, so it
// applies to everything below.
setFlagsFromString('--max-inlined-bytecode-size=60');
register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
