#!/usr/bin/env -S node --max-inlined-bytecode-size=60
// The llmops command line. Runs the TypeScript sources through tsx's loader, so there
// is no build step: `npx llmops --help` works after `npm ci`.
import { register } from 'tsx/esm/api';

// The shebang sets --max-inlined-bytecode-size=60 when V8 starts (Node documents that
// changing V8 flags after start can crash the process). V8 inlines functions of up to 460
// bytes of bytecode by default; the redaction scanner is many such handlers under one hot
// loop, and re-inlining them into each other on every new branch costs about as much CPU
// as the scan on a 20 MB `redact --text`. Inlining only small functions halves that (see
// bench/redaction.ts). `node bin/llmops.mjs` without the flag runs the same, a bit slower.
register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
