import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One process per core, reused across test files: aws-cdk-lib, the lib modules and the
    // CloudFormation validation engine of the synth (about 4 s to start) load once per
    // worker instead of once per file. Measured: 178 s -> 77 s for the suite.
    pool: 'forks',
    isolate: false,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
