// One linter, pinned in package.json: typescript-eslint's recommended rules over the
// TypeScript sources. Formatting is not linted.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './lint/layers.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'cdk.out.integ/**', 'coverage/**', 'bin/llmops.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // The layers of shared/design/architecture.md: imports point down (lint/layers.js).
    files: ['lib/**/*.ts', 'lambdas/**/*.ts'],
    plugins: { layers },
    rules: { 'layers/imports': 'error' },
  },
  {
    // The AGPL-3.0 IAM evaluator of the access-matrix test stays in test/ and scripts/ (lint/layers.js, TEST_ONLY).
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    plugins: { layers },
    rules: { 'layers/test-only': 'error' },
  },
  {
    // The core is pure: it reads no environment; the handlers and the CLI pass what it needs.
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'lib/core reads no environment: take the value as a parameter (the handler decodes process.env).',
        },
      ],
    },
  },
  {
    // Tests edit arbitrary policy and event data to build failing cases.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
