import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Worker processes (vitest's default count: cores - 1, at least 1) reused across test
    // files: aws-cdk-lib, lib/ and the CDK's CloudFormation validation engine (about 4 s to
    // start, run by every synth) load once per worker instead of once per file, and
    // test/helpers.ts shares built stacks between the files of a worker. A test file must
    // therefore restore what it changes globally (env variables, mocks, listeners).
    pool: 'forks',
    isolate: false,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
