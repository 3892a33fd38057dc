/**
 * AWS Control Tower's proactive controls as an opt-in validation plugin (issue 15): one real
 * synth with `-c controls=control-tower` (the shipped policy through `buildApp`, plus the
 * minimal dev policy as a second stack: one cfn-guard run, about 30 s here) must find
 * nothing; each disabled control must fail on exactly what its row of the one table says;
 * the option is registered only when asked, and a bad value or a missing package fails
 * with what to do; and the fixes are asserted in the template.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CfnElement,
  Stack,
  Validations,
  type IPolicyValidationContextBeta1,
  type IPolicyValidationPluginBeta1,
  type PolicyValidationPluginReportBeta1,
} from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../lib/constructs/app';
import {
  CFN_GUARD_PACKAGE,
  CONTROL_TOWER_EXEMPTIONS,
  ControlsError,
  controlsPlugins,
  controlTowerChecks,
  loadCfnGuard,
  type CfnGuardModule,
} from '../lib/constructs/controls';
import { DENY_GRANTS_SID } from '../lib/constructs/shared/keys';
import { stackNameFor, TelemetryStack } from '../lib/constructs/stack';
import { loadPolicy } from '../lib/core/policy';
import { buildStack, CDK_CONTEXT, MINIMAL_POLICY_FILE, policyFrom, SHIPPED_POLICY_FILE, shippedPolicyText } from './helpers';
import { roleLogicalId } from './support/storage-stack';

const requireHere = createRequire(import.meta.url);
const guard = requireHere(CFN_GUARD_PACKAGE) as CfnGuardModule;
const RULES_DIR = join(dirname(requireHere.resolve(`${CFN_GUARD_PACKAGE}/package.json`)), 'rules', 'control-tower', 'cfn-guard');
/** Every Control Tower rule file of the package, by rule id (`ct-s3-pr-9`). */
const RULE_FILES = new Map(
  readdirSync(RULES_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.guard'))
    .map((f) => [f.replace(/^.*\//, '').replace(/\.guard$/, ''), join(RULES_DIR, f)]),
);
const PLUGIN_NAME = 'cdk-validator-cfnguard';
const CONTEXT = { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] };
const dir = mkdtempSync(join(tmpdir(), 'llmops-controls-'));

interface ReportFile {
  pluginReports: { pluginName: string; conclusion: string; violations: unknown[]; suppressedViolations?: unknown[] }[];
}

/**
 * `cdk synth -c controls=control-tower` of the shipped policy, as the app runs it, with a
 * second stack of the minimal dev policy in the same app (the plugin checks every stack of
 * the app in one cfn-guard run), and what the cfn-guard plugin answered.
 */
function synthWithControls(outdir: string) {
  const validate = vi.spyOn(guard.CfnGuardValidator.prototype as IPolicyValidationPluginBeta1, 'validate');
  try {
    const { app, stack } = buildApp({ appProps: { context: { ...CONTEXT, controls: 'control-tower' }, outdir } });
    const minimal = loadPolicy(MINIMAL_POLICY_FILE).policy;
    const dev = new TelemetryStack(app, stackNameFor(minimal), { policy: minimal });
    app.synth();
    const answers = validate.mock.results.map((r) => r.value as PolicyValidationPluginReportBeta1);
    const contexts = validate.mock.calls.map(([context]) => context);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ReportFile;
    const template = (x: Stack) => join(outdir, `${x.stackName}.template.json`);
    return { stacks: { shipped: stack, minimal: dev }, answers, contexts, report, template };
  } finally {
    validate.mockRestore();
  }
}

/** Logical id to construct path (below the stack), for reading guard's answers. */
function pathsByLogicalId(stack: Stack): Map<string, string> {
  return new Map(
    stack.node
      .findAll()
      .filter((c): c is CfnElement => CfnElement.isCfnElement(c))
      .map((e) => [stack.getLogicalId(e), e.node.path.replace(`${stack.node.path}/`, '').replace(/\/Resource$/, '')]),
  );
}

/** Control id (`CT.S3.PR.9`) to the construct paths a guard report names, sorted. */
function violationsByControl(report: PolicyValidationPluginReportBeta1, stack: Stack): Record<string, string[]> {
  const paths = pathsByLogicalId(stack);
  const out: Record<string, string[]> = {};
  for (const v of report.violations) {
    const control = /^\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(v.description)?.[1] ?? v.ruleName;
    out[control] = [
      ...(out[control] ?? []),
      ...v.violatingResources.map((r) => paths.get(r.resourceLogicalId) ?? r.resourceLogicalId),
    ].sort();
  }
  return out;
}

describe('AWS Control Tower proactive controls (-c controls=control-tower)', () => {
  let run: ReturnType<typeof synthWithControls>;
  beforeAll(() => {
    run = synthWithControls(join(dir, 'synth'));
  }, 120_000);

  it('run in the synth on every stack template and find no violation: the plugin answers clean and the report file holds none of it', () => {
    expect(run.contexts).toHaveLength(1);
    expect([...run.contexts[0]!.templatePaths].sort()).toEqual([run.template(run.stacks.shipped), run.template(run.stacks.minimal)].sort());
    expect(run.answers).toEqual([{ success: true, violations: [] }]);
    // A clean plugin is left out of the report file; whatever entry it has must hold nothing.
    const entries = run.report.pluginReports.filter((r) => r.pluginName === PLUGIN_NAME);
    expect(entries.flatMap((r) => [...r.violations, ...(r.suppressedViolations ?? [])])).toEqual([]);
    expect(entries.every((r) => r.conclusion === 'success')).toBe(true);
  });

  it.each(['shipped', 'minimal'] as const)(
    'each disabled control is needed, and fails on exactly what its entry says (%s policy)',
    (which) => {
      const stack = run.stacks[which];
      const exempted = new guard.CfnGuardValidator({
        controlTowerRulesEnabled: false,
        rules: CONTROL_TOWER_EXEMPTIONS.map((x) => RULE_FILES.get(x.rule)!),
      }).validate({ templatePaths: [run.template(stack)] } as IPolicyValidationContextBeta1);
      const buckets = (...names: string[]) => names.map((n) => `Storage/${n}`);
      const serviceLogGroups = [
        'Ingest/DebugCaptureLogGroup',
        'Ingest/DebugDeliveryLogs',
        'Ingest/EventsDeliveryLogs',
        'Ingest/RedactLogGroup',
        'KillSwitches/SeedFnLogGroup',
        'KillSwitches/TripFnLogGroup',
        'Rollups/RollupFnLogGroup',
      ];
      // The kill-switch audit log keeps retention.audit: 400d in the shipped policy, 30d in the minimal one.
      const shortAudit = which === 'minimal' ? ['KillSwitches/AuditLog'] : [];
      const all = ['Audit', 'Debug', 'Metrics', 'Results', 'Traces'];
      expect(violationsByControl(exempted, stack)).toEqual({
        'CT.CLOUDWATCH.PR.2': [...serviceLogGroups, ...shortAudit].sort(),
        'CT.CLOUDTRAIL.PR.3': ['Storage/DebugReads'],
        'CT.LAMBDA.PR.3': ['Ingest/DebugCapture', 'Ingest/Redact', 'KillSwitches/SeedFn', 'KillSwitches/TripFn', 'Rollups/RollupFn'],
        'CT.S3.PR.2': buckets('Audit'),
        'CT.S3.PR.4': buckets(...all),
        'CT.S3.PR.9': buckets(...all),
        'CT.S3.PR.10': buckets('Audit'),
        'CT.S3.PR.11': buckets('Debug', 'Results', 'Traces'),
      });
    },
  );
});

describe('registering the controls', () => {
  const registered = (context: Record<string, unknown>) => {
    const add = vi.spyOn(Validations.prototype, 'addPlugins');
    try {
      buildApp({ appProps: { context: { ...CONTEXT, ...context }, outdir: join(dir, 'registered') } });
      return add.mock.calls.flat().map((p) => p.name);
    } finally {
      add.mockRestore();
    }
  };

  it('without -c controls, only cdk-nag runs', () => {
    expect(registered({})).toEqual(['AwsSolutions']);
  });

  it('with -c controls=control-tower, cdk-nag and the cfn-guard plugin run', () => {
    expect(registered({ controls: 'control-tower' })).toEqual(['AwsSolutions', PLUGIN_NAME]);
  });

  it('fails when -c controls names anything else, saying what is allowed', () => {
    for (const bad of ['controltower', 'nist', true]) {
      expect(() => registered({ controls: bad })).toThrow(
        new ControlsError(
          `context controls is ${JSON.stringify(bad)}; allowed: control-tower (AWS Control Tower proactive controls, e.g. npx cdk synth -c controls=control-tower), or leave it out for cdk-nag alone`,
        ),
      );
    }
  });

  it('fails when -c controls is bad at the command line: exit 1, the message, no stack trace', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ controls: 'nist' }), CDK_OUTDIR: join(dir, 'cli') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'context controls is "nist"; allowed: control-tower (AWS Control Tower proactive controls, e.g. npx cdk synth -c controls=control-tower), or leave it out for cdk-nag alone',
    ]);
  });

  it('fails when the plugin package is not installed, saying how to install it', () => {
    const missing = () => {
      throw Object.assign(new Error(`Cannot find module '${CFN_GUARD_PACKAGE}'`), { code: 'MODULE_NOT_FOUND' });
    };
    expect(() => controlsPlugins('control-tower', () => loadCfnGuard(missing))).toThrow(
      new ControlsError(
        `-c controls=control-tower needs ${CFN_GUARD_PACKAGE}, which is not installed: npm i -D ${CFN_GUARD_PACKAGE} (or synth without -c controls).`,
      ),
    );
    // Anything else is rethrown as is: a package that fails to load, or misses a module of its own.
    const broken = () => {
      throw new Error('a bug in the package');
    };
    expect(() => loadCfnGuard(broken)).toThrow(new Error('a bug in the package'));
    const ownModule = Object.assign(new Error("Cannot find module './check'"), { code: 'MODULE_NOT_FOUND' });
    expect(() =>
      loadCfnGuard(() => {
        throw ownModule;
      }),
    ).toThrow(ownModule);
  });
});

describe('the exemption table (CONTROL_TOWER_EXEMPTIONS)', () => {
  const plugin = controlTowerChecks() as IPolicyValidationPluginBeta1 & { disabledRules: string[] };

  it('is what the plugin disables: the rule ids of the table, and no other', () => {
    expect(plugin.disabledRules).toEqual(CONTROL_TOWER_EXEMPTIONS.map((x) => x.rule));
    // The plugin's own ids of the rules it runs (`ct-s3-pr-9` runs as `s3pr9`).
    const id = (rule: string) => rule.replace('ct-', '').replace(/-/g, '');
    const running = [...RULE_FILES.keys()].filter((r) => !CONTROL_TOWER_EXEMPTIONS.some((x) => x.rule === r));
    expect([...(plugin.ruleIds ?? [])].sort()).toEqual(running.map(id).sort());
    expect(running.length).toBeGreaterThan(100);
  });

  it('names each control by a rule file of the package, as the rule titles it, once, with what it applies to and why', () => {
    expect(new Set(CONTROL_TOWER_EXEMPTIONS.map((x) => x.rule)).size).toBe(CONTROL_TOWER_EXEMPTIONS.length);
    for (const x of CONTROL_TOWER_EXEMPTIONS) {
      const file = RULE_FILES.get(x.rule);
      expect(file, `${x.rule} is a rule file of ${CFN_GUARD_PACKAGE}`).toBeDefined();
      expect(readFileSync(file!, 'utf8')).toContain(`[${x.control}]: ${x.title}`);
      expect(x.appliesTo.length, x.rule).toBeGreaterThan(5);
      expect(x.reason.length, x.rule).toBeGreaterThan(100);
    }
  });

  it('exempts none of the fixed controls', () => {
    const fixed = ['ct-cloudtrail-pr-1', 'ct-cloudwatch-pr-3', 'ct-kms-pr-3'];
    for (const rule of fixed) expect(RULE_FILES.has(rule), rule).toBe(true);
    expect(CONTROL_TOWER_EXEMPTIONS.filter((x) => fixed.includes(x.rule))).toEqual([]);
  });
});

describe('the fixed findings, in the template', () => {
  const { stack, template } = buildStack(policyFrom(shippedPolicyText(), SHIPPED_POLICY_FILE));
  const storage = stack.storage;
  const keyArn = (key: { keyArn: string }) => stack.resolve(key.keyArn);

  it('CT.CLOUDTRAIL.PR.1: the trail encrypts its log files with the audit key', () => {
    const trails = Object.values(template.findResources('AWS::CloudTrail::Trail'));
    expect(trails.map((t) => t.Properties.KMSKeyId)).toEqual([keyArn(storage.auditKey)]);
  });

  it('CT.CLOUDWATCH.PR.3: every log group of the stack is encrypted with the logs key', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(8);
    for (const g of groups) expect(g.Properties.KmsKeyId).toEqual(keyArn(storage.logsKey));
  });

  it('CT.KMS.PR.3: every key of the stack keeps kms:CreateGrant for AWS services', () => {
    const keys = template.findResources('AWS::KMS::Key');
    expect(Object.keys(keys).sort()).toEqual(
      [storage.dataKey, storage.debugKey, storage.auditKey, storage.logsKey, stack.alerting.key]
        .map((k) => stack.resolve(k.keyId).Ref)
        .sort(),
    );
    for (const k of Object.values(keys)) {
      expect(k.Properties.KeyPolicy.Statement).toContainEqual({
        Sid: DENY_GRANTS_SID,
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
      });
    }
  });

  it('incident responders can still read the trail: kms:Decrypt on the audit key by IAM, which its key policy lets IAM grant and denies to no one', () => {
    expectDecrypts(stack, template, storage.incidentResponderRole, storage.auditKey);
    // Nobody else reads the audit tier, so nobody else holds the audit key.
    for (const role of [storage.traceAnalystRole, storage.metricsReaderRole, storage.killSwitchOperatorRole]) {
      expect(identityStatements(template, roleLogicalId(stack, role)).filter((x) => mentions(x, keyArn(storage.auditKey)))).toEqual([]);
    }
  });

  it('incident responders read the kill-switch audit log group without a KMS grant (CloudWatch Logs decrypts for its readers)', () => {
    const group = stack.resolve((stack.killSwitches.auditLogGroup as unknown as { logGroupArn: string }).logGroupArn);
    const statements = identityStatements(template, roleLogicalId(stack, storage.incidentResponderRole));
    expect(statements.some((x) => [x.Action].flat().includes('logs:FilterLogEvents') && mentions(x, group))).toBe(true);
    expect(statements.filter((x) => mentions(x, keyArn(storage.logsKey)))).toEqual([]);
  });
});

type Statement = { Effect: string; Action?: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown };

/** The statements of the identity policies (AWS::IAM::Policy) attached to a role. */
function identityStatements(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles ?? []).includes(`"${roleId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const mentions = (x: Statement, resource: unknown) => [x.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(resource));

function expectDecrypts(stack: TelemetryStack, template: Template, role: { roleArn: string }, key: { keyArn: string; keyId: string }) {
  const arn = stack.resolve(key.keyArn);
  const allowed = identityStatements(template, roleLogicalId(stack, role as never)).filter(
    (x) => x.Effect === 'Allow' && [x.Action].flat().includes('kms:Decrypt') && mentions(x, arn) && x.Condition === undefined,
  );
  expect(allowed).toHaveLength(1);
  const policy = template.findResources('AWS::KMS::Key')[stack.resolve(key.keyId).Ref]!.Properties.KeyPolicy.Statement as Statement[];
  // The key policy delegates to IAM (the account root may use the key) ...
  expect(policy).toContainEqual({
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${Stack.of(stack).account}:root` },
    Action: 'kms:*',
    Resource: '*',
  });
  // ... and denies nothing but grant creation outside AWS services.
  expect(policy.filter((x) => x.Effect === 'Deny').map((x) => x.Action)).toEqual(['kms:CreateGrant']);
}
