import { App, AspectPriority, Aspects, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BoundedLogsAspect, FUNCTION_WITHOUT_LOG_GROUP, LOG_GROUP_WITHOUT_RETENTION } from '../lib/constructs/aspects';
import { PROJECT_ROOT, TelemetryFunction } from '../lib/constructs/shared/function';
import type { Policy } from '../lib/core/policy';
import { TelemetryStack } from '../lib/constructs/stack';
import { auditLogRetention, logRetention } from '../lib/constructs/shared/retention';
import { CDK_CONTEXT, policyFrom, shippedPolicyText, variantPolicy } from './support/policy';
import { TEST_ENV } from './support/storage-stack';

const shipped = policyFrom(shippedPolicyText(), 'telemetry-policy.yaml');
const dev14 = variantPolicy((d) => {
  d.environment = 'dev';
  d.retention.logs = '14d';
});

// A handler written at test time, under the project root (esbuild's root) in the
// git-ignored tmp/: TelemetryFunction needs an entry that exists.
mkdirSync(join(PROJECT_ROOT, 'tmp'), { recursive: true });
const dir = mkdtempSync(join(PROJECT_ROOT, 'tmp', 'fn-'));
const ENTRY = join(dir, 'probe.ts');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  ENTRY,
  [
    "import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';",
    "import { createHash } from 'node:crypto';",
    'const client = new SecretsManagerClient({});',
    'export const handler = async (event: { id: string }) => ({',
    "  id: createHash('sha256').update(event.id).digest('hex'),",
    '  command: new GetSecretValueCommand({ SecretId: "x" }).constructor.name,',
    '  region: await client.config.region(),',
    '});',
    '',
  ].join('\n'),
);

const NO_BUNDLING = { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] };

/** A telemetry stack plus what `extra` adds, synthesized (the aspect runs at synth). */
function synth(policy: Policy, extra: (stack: TelemetryStack) => void, context: Record<string, unknown> = NO_BUNDLING, outdir?: string) {
  const app = new App({ context, ...(outdir ? { outdir } : {}) });
  const stack = new TelemetryStack(app, 'Probe', { policy, env: TEST_ENV });
  extra(stack);
  const template = Template.fromStack(stack);
  return { app, stack, template, errors: Annotations.fromStack(stack).findError('*', Match.anyValue()) };
}

/** A stack holding only what `extra` adds (a TelemetryFunction in isolation), with the aspect the telemetry stack applies. */
function alone(extra: (stack: Stack) => void, context: Record<string, unknown> = NO_BUNDLING, outdir?: string) {
  const app = new App({ context, ...(outdir ? { outdir } : {}) });
  const stack = new Stack(app, 'Probe', { env: TEST_ENV });
  Aspects.of(stack).add(new BoundedLogsAspect(), { priority: AspectPriority.READONLY });
  extra(stack);
  const template = Template.fromStack(stack);
  return { app, stack, template, errors: Annotations.fromStack(stack).findError('*', Match.anyValue()) };
}

const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);

/** Lambda's 200 KB bundle budget (set for the redaction Lambda), for every Lambda of the stack. */
const BUNDLE_BUDGET_BYTES = 200 * 1024;
const REQUIRE_SHIM = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** One asset of a real synth: its single file's name and code. */
function bundleOf(out: string, template: Template, fnId: string): { files: string[]; code: string; bytes: number } {
  const fn = template.findResources('AWS::Lambda::Function')[fnId];
  const key = fn?.Properties.Code?.S3Key as string | undefined;
  if (!key) throw new Error(`${fnId} has no asset code`);
  const dir = join(out, `asset.${key.replace(/\.zip$/, '')}`);
  const files = readdirSync(dir);
  const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
  return { files, code, bytes: Buffer.byteLength(code) };
}

/** What a bundle with the AWS SDK left to the runtime looks like (asserted without printing the bundle). */
function expectSdkLeftToRuntime(code: string, what: string) {
  // The SDK appears only as import specifiers...
  const withoutImports = code.replace(/\bfrom\s*"@aws-sdk\/[^"]+"/g, '').replace(/\bimport\s*\(\s*"@aws-sdk\/[^"]+"\s*\)/g, '');
  expect(withoutImports.match(/.{0,60}@aws-sdk\/.{0,60}/g) ?? [], what).toEqual([]);
  // ...and none of its code is inlined: every client carries @aws-sdk/core's user agent.
  expect(code.includes('aws-sdk-js'), `${what} inlines the AWS SDK`).toBe(false);
}

/**
 * Minified: long lines (esbuild's unminified output averages a few dozen characters a
 * line). Not "no indented line": a bundled library's template literals (zod's generated
 * parsers) keep their own indentation.
 */
function expectMinified(code: string, what: string) {
  const lines = code.split('\n').length;
  expect(Buffer.byteLength(code) / lines, `${what}: ${lines} lines`).toBeGreaterThan(1000);
}

/**
 * Synthesizes an app that should fail: with the cdk.json flags
 * (`@aws-cdk/core:annotationsInValidationReport`) an error annotation fails the synth
 * itself, and the validation report lists it. Returns the report's errors as [construct path, message].
 */
function synthErrors(app: App): [string, string][] {
  const outdir = app.outdir;
  expect(() => app.synth()).toThrow(/Validation failed|ValidationFailed|Annotation/i);
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { violations: { description: string; severity: string; violatingConstructs: { constructPath: string }[] }[] }[];
  };
  return report.pluginReports.flatMap((r) =>
    r.violations
      .filter((v) => v.severity === 'error')
      .flatMap((v) => v.violatingConstructs.map((c): [string, string] => [c.constructPath, v.description])),
  );
}

function appOf(policy: Policy, extra: (stack: TelemetryStack) => void): App {
  const app = new App({ context: NO_BUNDLING, outdir: mkdtempSync(join(tmpdir(), 'llmops-aspect-')) });
  extra(new TelemetryStack(app, 'Probe', { policy, env: TEST_ENV }));
  return app;
}

describe('TelemetryFunction (in a stack of its own)', () => {
  it.each([
    ['shipped (prod, logs 30d)', shipped, 30, 'Retain'],
    ['dev, logs 14d', dev14, 14, 'Delete'],
  ] as const)(
    '%s: newest Node.js on arm64, an explicit log group with retention.logs, Powertools defaults',
    (_n, policy, days, removal) => {
      let fn!: TelemetryFunction;
      const { stack, template, errors } = alone((st) => {
        fn = new TelemetryFunction(st, 'ProbeFn', {
          ...TelemetryFunction.propsFromPolicy(policy),
          entry: ENTRY,
          environment: { EXTRA: 'yes' },
        });
      });
      expect(errors).toEqual([]);
      template.resourceCountIs('AWS::Lambda::Function', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        LoggingConfig: { LogGroup: stack.resolve(fn.logGroup.logGroupName) },
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: 'probe-fn',
            POWERTOOLS_METRICS_NAMESPACE: `LLMOps/${policy.name}-${policy.environment}`,
            EXTRA: 'yes',
          },
        },
      });
      expect(stack.resolve(fn.logGroup.logGroupName)).toEqual({ Ref: logicalId(stack, fn.logGroup) });
      expect(template.findResources('AWS::Logs::LogGroup')).toEqual({
        [logicalId(stack, fn.logGroup)]: expect.objectContaining({ Properties: { RetentionInDays: days }, DeletionPolicy: removal }),
      });
    },
  );

  it('the newest runtime aws-cdk-lib offers is the one used', () => {
    const newest = Object.entries(lambda.Runtime)
      .filter(([k]) => /^NODEJS_\d+_X$/.test(k))
      .map(([k]) => Number(/\d+/.exec(k)![0]))
      .sort((a, b) => b - a)[0];
    expect(lambda.Runtime.NODEJS_24_X.name).toBe(`nodejs${newest}.x`);
  });

  it('the caller overrides an environment default; the execution role may only write its own log group', () => {
    let fn!: TelemetryFunction;
    const { stack, template } = alone((st) => {
      fn = new TelemetryFunction(st, 'Redact', {
        ...TelemetryFunction.propsFromPolicy(shipped),
        entry: ENTRY,
        serviceName: 'redact',
        environment: { POWERTOOLS_METRICS_NAMESPACE: 'Custom' },
      });
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'redact', POWERTOOLS_METRICS_NAMESPACE: 'Custom' } },
    });
    const roles = template.findResources('AWS::IAM::Role');
    expect(Object.keys(roles)).toEqual([logicalId(stack, fn.role!)]);
    expect(Object.values(roles)[0]!.Properties).toEqual({
      AssumeRolePolicyDocument: expect.objectContaining({
        Statement: [expect.objectContaining({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies.map((p) => [p.Properties.Roles, p.Properties.PolicyDocument.Statement])).toEqual([
      [
        [stack.resolve(fn.role!.roleName)],
        [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: stack.resolve(fn.logGroup.logGroupArn) }],
      ],
    ]);
  });

  it('passes cdk-nag AwsSolutions with no acknowledgement', () => {
    const { stack } = alone((st) => new TelemetryFunction(st, 'ProbeFn', { ...TelemetryFunction.propsFromPolicy(shipped), entry: ENTRY }));
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations).toEqual([]);
    expect(
      stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)),
    ).toEqual([]);
  });

  it('really bundles: one minified ESM file with the require shim, the AWS SDK left to the runtime', () => {
    const out = mkdtempSync(join(tmpdir(), 'llmops-bundle-'));
    let fn!: TelemetryFunction;
    const { app, stack, template } = alone(
      (st) => (fn = new TelemetryFunction(st, 'ProbeFn', { ...TelemetryFunction.propsFromPolicy(shipped), entry: ENTRY })),
      CDK_CONTEXT,
      out,
    );
    app.synth();
    expect(readdirSync(out).filter((d) => d.startsWith('asset.'))).toHaveLength(1);
    const { files, code } = bundleOf(out, template, logicalId(stack, fn));
    expect(files).toEqual(['index.mjs']);
    expect(code.startsWith(REQUIRE_SHIM)).toBe(true);
    expect(/from\s*"@aws-sdk\/client-secrets-manager"/.test(code)).toBe(true);
    expectSdkLeftToRuntime(code, 'probe');
    expect(/export\s*\{[^}]*handler/.test(code)).toBe(true);
    expect(code.includes('\n  ')).toBe(false);
  }, 120_000);
});

describe('the Lambdas of the stack, really bundled', () => {
  it(`each is one minified ESM file with the require shim, the AWS SDK left to the runtime, under ${BUNDLE_BUDGET_BYTES / 1024} KB`, () => {
    const out = mkdtempSync(join(tmpdir(), 'llmops-bundle-'));
    const { app, stack, template, errors } = synth(shipped, () => undefined, CDK_CONTEXT, out);
    app.synth();
    expect(errors).toEqual([]);
    const fnIds = Object.keys(template.findResources('AWS::Lambda::Function'));
    const named = {
      redact: stack.ingest.redactFunction,
      'debug-capture': stack.ingest.debugCaptureFunction,
      trip: stack.killSwitches.tripFunction!,
      'switch-seed': stack.killSwitches.seedFunction,
    };
    expect(fnIds).toEqual(expect.arrayContaining(Object.values(named).map((f) => logicalId(stack, f))));
    const nameOf = (id: string) => Object.entries(named).find(([, f]) => logicalId(stack, f) === id)?.[0] ?? id;
    const sizes: Record<string, number> = {};
    for (const id of fnIds) {
      const what = nameOf(id);
      const { files, code, bytes } = bundleOf(out, template, id);
      if (id === logicalId(stack, stack.rollups.function)) {
        // the rollup runs the decision queries: the .sql files ship beside its bundle
        expect(files, what).toEqual(['index.mjs', 'queries']);
        const key = (template.findResources('AWS::Lambda::Function')[id]!.Properties.Code.S3Key as string).replace(/\.zip$/, '');
        expect(readdirSync(join(out, `asset.${key}`, 'queries')).every((f) => f.endsWith('.sql'))).toBe(true);
      } else expect(files, what).toEqual(['index.mjs']);
      expect(code.startsWith(REQUIRE_SHIM), what).toBe(true);
      expect(/export\s*\{[^}]*handler/.test(code), what).toBe(true);
      expectMinified(code, what);
      expectSdkLeftToRuntime(code, what);
      sizes[what] = bytes;
    }
    // All of them in one assertion, so a failure names every bundle over the budget.
    expect(
      Object.entries(sizes)
        .filter(([, b]) => b >= BUNDLE_BUDGET_BYTES)
        .map(([name, b]) => `${name}: ${b} bytes, budget ${BUNDLE_BUDGET_BYTES}`),
    ).toEqual([]);
  }, 180_000);
});

describe('BoundedLogsAspect', () => {
  it.each([
    ['shipped (prod, logs 30d)', shipped],
    ['dev, logs 14d', dev14],
  ] as const)(
    'the stack as built from the policy (%s) passes: every log group has its retention, every Lambda its own log group',
    (_n, policy) => {
      const { stack, template, errors } = synth(policy, () => undefined);
      expect(errors).toEqual([]);
      const groups = template.findResources('AWS::Logs::LogGroup');
      const fns = Object.values(template.findResources('AWS::Lambda::Function'));
      const audit = logicalId(stack, stack.killSwitches.auditLogGroup);
      expect(Object.keys(groups)).toContain(audit);
      expect(Object.keys(groups).length).toBeGreaterThan(1);
      for (const [id, g] of Object.entries(groups)) {
        expect(g.Properties.RetentionInDays, id).toBe(id === audit ? auditLogRetention(policy) : logRetention(policy));
      }
      expect(fns.length).toBeGreaterThan(0);
      const targets = fns.map((f) => f.Properties.LoggingConfig?.LogGroup as { Ref?: string } | undefined);
      for (const t of targets) expect(Object.keys(groups)).toContain(t?.Ref);
      // Each Lambda its own group (none shares, none writes the audit group).
      expect(new Set(targets.map((t) => t?.Ref)).size).toBe(fns.length);
      expect(targets.map((t) => t?.Ref)).not.toContain(audit);
    },
  );

  it('fails when a log group keeps its events forever', () => {
    const app = appOf(shipped, (st) => new logs.LogGroup(st, 'Forever', { retention: logs.RetentionDays.INFINITE }));
    expect(synthErrors(app)).toEqual([['Probe/Forever/Resource', LOG_GROUP_WITHOUT_RETENTION]]);
    expect(LOG_GROUP_WITHOUT_RETENTION).toBe(
      'AWS::Logs::LogGroup without RetentionInDays keeps its events forever; set a retention from the policy (retention.logs, or the audit retention for audit log groups).',
    );
  });

  it('fails when a Lambda logs to the implicit log group', () => {
    const app = appOf(
      shipped,
      (st) =>
        new lambda.Function(st, 'Bare', {
          runtime: lambda.Runtime.NODEJS_24_X,
          handler: 'index.handler',
          code: lambda.Code.fromInline('exports.handler = async () => 1;'),
        }),
    );
    expect(synthErrors(app)).toEqual([['Probe/Bare/Resource', FUNCTION_WITHOUT_LOG_GROUP]]);
    expect(FUNCTION_WITHOUT_LOG_GROUP).toBe(
      'AWS::Lambda::Function without an explicit log group (LoggingConfig.LogGroup) logs to a group Lambda creates with no retention; build Lambdas with TelemetryFunction, which creates one with retention.logs.',
    );
  });

  it('fails the synth (the CLI refuses the app) on such an error, naming it', () => {
    const app = appOf(shipped, (st) => new logs.LogGroup(st, 'Forever', { retention: logs.RetentionDays.INFINITE }));
    expect(() => app.synth()).toThrow(LOG_GROUP_WITHOUT_RETENTION);
  });

  it('is applied by the stack itself', () => {
    const { stack } = synth(shipped, () => undefined);
    expect(Aspects.of(stack).all.some((a) => a instanceof BoundedLogsAspect)).toBe(true);
  });
});
