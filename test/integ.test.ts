/**
 * The deploy test without an account: the integ app (test/integ/integ.telemetry.ts) is
 * synthesized by the project's cdk CLI, as `npm run integ` does before it deploys, and
 * its cloud assembly must hold the stacks and the assertions; the probe's logic runs
 * offline against a local Firehose and the ingest transform.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTelemetryEvent } from '../lib/core/contract';
import { parseSwitchValue } from '../lib/core/killswitch/values';
import { loadPolicy } from '../lib/core/policy';
import { transformBatch } from '../lib/core/transform/transform';
import { transformConfigFromPolicy, transformContext } from '../lib/core/transform/env';
import { FLIP, FLIPPED_SWITCH, INTEG_APP_COMMAND, INTEG_TEST_ID, integPolicy, MINIMAL_POLICY_FILE } from './integ/integ.telemetry';
import {
  checkVerdict,
  EVENTS_PER_RUN,
  EXPECTED_ERROR_MESSAGE,
  PLANTED,
  PLANTED_ERROR_MESSAGE,
  runDates,
  runEvents,
  runId,
  runQuery,
} from './integ/probe-core';
import { handler as probe } from './integ/probe';
import { fakeEnv } from './support/aws-http-server';
import { startFirehoseServer } from './support/firehose-server';

const RUN = 'integ-20261129T120000-abc123';
const STACK = 'helpdesk-bot-dev-telemetry';
const PROBE_STACK = `${STACK}-integ-probe`;
const ASSERT_ID = `${INTEG_TEST_ID}/DefaultTest/DeployAssert`;
const CDK = join('node_modules', '.bin', 'cdk');

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
interface Assembly {
  readonly dir: string;
  readonly manifest: { artifacts: Record<string, { type: string; dependencies?: string[]; properties?: Record<string, any> }> };
  readonly integ: Record<string, any>;
  template(stack: string): Record<string, any>;
}

let assembly: Assembly;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmops-integ-'));
  // The CLI bundles the Lambdas of the selected stacks only: the probe (this test is the
  // one that really bundles it) and the DeployAssert stack; the telemetry stack's
  // Lambdas are bundled by the tests of their constructs. Every template is written.
  await promisify(execFile)(
    CDK,
    ['synth', '--app', INTEG_APP_COMMAND, '--output', dir, '--quiet', '--no-notices', '--exclusively', ASSERT_ID, PROBE_STACK],
    { env: { ...process.env, LLMOPS_INTEG_RUN: RUN, CDK_DISABLE_CLI_TELEMETRY: 'true' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Assembly['manifest'];
  const stackFile = (id: string) => {
    const entry = Object.entries(manifest.artifacts).find(
      ([k, a]) => a.type === 'aws:cloudformation:stack' && (k === id || a.properties?.stackName === id),
    );
    return entry?.[1].properties?.templateFile as string;
  };
  assembly = {
    dir,
    manifest,
    integ: JSON.parse(readFileSync(join(dir, 'integ.json'), 'utf8')),
    template: (id) => JSON.parse(readFileSync(join(dir, stackFile(id) ?? `${id}.template.json`), 'utf8')),
  };
}, 120_000);

afterAll(() => {
  if (assembly) rmSync(assembly.dir, { recursive: true, force: true });
});

const assertStackName = () => assembly.integ.testCases[`${INTEG_TEST_ID}/DefaultTest`].assertionStackName as string;
const resources = (t: Record<string, any>, type: string | RegExp) =>
  Object.entries(t.Resources as Record<string, Resource>).filter(([, r]) =>
    typeof type === 'string' ? r.Type === type : type.test(r.Type),
  );
/** A DeployAssert SDK call as `<api> <payload action>`, e.g. `invoke check`, `putParameter`. */
const callName = (r: Resource) => {
  const payload = r.Properties.parameters?.Payload;
  const action = payload === undefined ? '' : ` ${(JSON.parse(JSON.parse(payload)) as { action: string }).action}`;
  return `${r.Properties.api}${action}${r.Properties.stateMachineArn ? ' (waiter)' : ''}`;
};

describe('the deploy test, synthesized by the cdk CLI without an account', () => {
  it('has the telemetry stack, the probe and the DeployAssert stack, which deploys after both', () => {
    const stacks = Object.entries(assembly.manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id, a]) => [id, (a.dependencies ?? []).filter((d) => !d.endsWith('.assets')).sort()]);
    expect(Object.fromEntries(stacks)).toEqual({
      [STACK]: [],
      [PROBE_STACK]: [STACK],
      [assertStackName()]: [STACK, PROBE_STACK].sort(),
    });
    expect(assembly.integ.testCases).toEqual({
      [`${INTEG_TEST_ID}/DefaultTest`]: {
        stacks: [STACK, PROBE_STACK],
        cdkCommandOptions: { destroy: { args: { force: true } } },
        stackUpdateWorkflow: false,
        assertionStack: ASSERT_ID,
        assertionStackName: assertStackName(),
      },
    });
  });

  it('sends through the probe, then waits for the stored run every 30 s for up to 15 minutes, stopping early on an error', () => {
    const t = assembly.template(assertStackName());
    const calls = Object.fromEntries(resources(t, /^Custom::DeployAssert@SdkCall/).map(([id, r]) => [id, r]));
    const byName = Object.fromEntries(Object.entries(calls).map(([id, r]) => [callName(r), { id, r }]));
    expect(Object.keys(byName).sort()).toEqual(['getParameter', 'invoke check', 'invoke check (waiter)', 'invoke send', 'putParameter']);
    for (const name of ['invoke send', 'invoke check', 'invoke check (waiter)']) {
      expect(JSON.parse(JSON.parse(byName[name]!.r.Properties.parameters.Payload)).run, name).toBe(RUN);
    }
    // Send, then wait, then read what is stored: each waits for the one before.
    expect(byName['invoke check (waiter)']!.r.DependsOn).toContain(byName['invoke send']!.id);
    expect(byName['invoke check']!.r.DependsOn).toContain(byName['invoke check (waiter)']!.id);
    const waiter = byName['invoke check (waiter)']!.r.Properties;
    expect([waiter.actualPath, JSON.parse(waiter.expected)]).toEqual(['Payload.status', { $StringLike: '^(found|error)' }]);
    const [machine] = resources(t, 'AWS::StepFunctions::StateMachine');
    expect(JSON.stringify(machine?.[1].Properties.DefinitionString)).toContain(
      JSON.stringify('"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":30,"MaxAttempts":30,"BackoffRate":1}]').slice(1, -1),
    );
  });

  it('asserts what is stored and the switch read back, each assertion failing the deployment when it does not hold', () => {
    const t = assembly.template(assertStackName());
    const calls = t.Resources as Record<string, Resource>;
    const asserted = resources(t, 'Custom::DeployAssert@AssertEquals').map(([, r]) => {
      const [callId, attribute] = r.Properties.actual['Fn::GetAtt'] as [string, string];
      return [
        callName(calls[callId]!),
        attribute.replace(/^apiCallResponse\./, ''),
        JSON.parse(r.Properties.expected),
        r.Properties.failDeployment,
      ];
    });
    expect(asserted).toEqual([
      ['invoke send', 'Payload.status', { $Exact: 'sent' }, true],
      ['invoke send', 'Payload.sent', { $Exact: String(EVENTS_PER_RUN) }, true],
      ['invoke check', 'Payload.status', { $Exact: 'found' }, true],
      ['invoke check', 'Payload.parquet', { $Exact: 'PAR1' }, true],
      ['invoke check', 'Payload.events', { $Exact: String(EVENTS_PER_RUN) }, true],
      ['invoke check', 'Payload.planted_email', { $Exact: 'absent' }, true],
      ['invoke check', 'Payload.planted_key', { $Exact: 'absent' }, true],
      ['invoke check', 'Payload.error_message', { $Exact: EXPECTED_ERROR_MESSAGE }, true],
      ['getParameter', 'Parameter.Value.state', { $Exact: FLIP.state }, true],
      ['getParameter', 'Parameter.Value.reason', { $Exact: FLIP.reason }, true],
      ['getParameter', 'Parameter.Value.changed_by', { $Exact: FLIP.changed_by }, true],
    ]);
    // The planted values are not in the template: only their placeholders are.
    expect(JSON.stringify(t)).not.toContain(PLANTED.email);
    expect(JSON.stringify(t)).not.toContain(PLANTED.awsAccessKey);
  });

  it(`flips ${FLIPPED_SWITCH} with a valid switch document, then reads it back`, () => {
    const t = assembly.template(assertStackName());
    const call = (api: string) => resources(t, /^Custom::DeployAssert@SdkCall/).find(([, r]) => r.Properties.api === api)!;
    const [putId, put] = call('putParameter');
    const [, get] = call('getParameter');
    const name = '/helpdesk-bot/dev/kill-switches/read_only_mode';
    const params = Object.fromEntries(Object.entries(put.Properties.parameters).map(([k, v]) => [k, JSON.parse(v as string)]));
    expect(params).toEqual({ Name: name, Value: expect.any(String), Type: 'String', Overwrite: true });
    expect(parseSwitchValue(params.Value)).toEqual({ ok: true, value: FLIP });
    expect(JSON.parse(get.Properties.parameters.Name)).toBe(name);
    expect(get.DependsOn).toContain(putId);
    // The provider may call both (the flip needs nothing else).
    Template.fromJSON(t).hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Action: ['ssm:PutParameter'], Resource: ['*'] }),
              Match.objectLike({ Action: ['ssm:GetParameter'], Resource: ['*'] }),
            ]),
          },
        },
      ],
    });
  });

  it('gives the probe the stack producer policy and the right to assume the trace analyst role, nothing more', () => {
    const stack = assembly.template(STACK);
    const probe = Template.fromJSON(assembly.template(PROBE_STACK));
    // The probe stack reads these outputs of the telemetry stack.
    const output = (name: string) => (stack.Outputs[name]?.Value ?? {}) as Record<string, any>;
    const read = (name: string) => ({ 'Fn::GetStackOutput': { StackName: STACK, Region: { Ref: 'AWS::Region' }, OutputName: name } });
    const outputOf = (match: (v: Record<string, any>) => boolean) => Object.keys(stack.Outputs).find((n) => match(output(n)))!;
    const producerPolicy = outputOf(
      (v) => stack.Resources[v.Ref]?.Type === 'AWS::IAM::ManagedPolicy' && v.Ref.startsWith('IngestProducerPolicy'),
    );
    expect(stack.Resources[output(producerPolicy).Ref].Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'], Effect: 'Allow' }),
    ]);
    const analyst = outputOf((v) => v['Fn::GetAtt']?.[0]?.startsWith('StorageTraceAnalyst') && v['Fn::GetAtt'][1] === 'Arn');
    probe.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
      ManagedPolicyArns: [read(producerPolicy)],
    });
    const statements = Object.values(probe.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((s: any) => s.Action !== undefined && !String(s.Action).startsWith('logs:'))).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Resource: read(analyst) },
    ]);
    probe.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Environment: {
        Variables: Match.objectLike({
          ANALYST_ROLE_ARN: read(analyst),
          DATABASE: 'helpdesk_bot_dev_telemetry',
          WORKGROUP: 'helpdesk-bot-dev-analysts',
          STREAM_NAME: Match.anyValue(),
          TRACES_BUCKET: Match.anyValue(),
        }),
      },
    });
  });

  it('really bundles the probe, leaving the AWS SDK (STS included) to the Lambda runtime', () => {
    const assets = JSON.parse(readFileSync(join(assembly.dir, `${PROBE_STACK}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const code = Object.values(assets.files).find((f) => f.source.packaging === 'zip')!;
    const bundle = readFileSync(join(assembly.dir, code.source.path, 'index.mjs'), 'utf8');
    for (const sdk of ['client-firehose', 'client-athena', 'client-s3', 'client-sts']) expect(bundle).toContain(`"@aws-sdk/${sdk}"`);
    expect(existsSync(join(assembly.dir, code.source.path, 'node_modules'))).toBe(false);
  });
});

describe('the deploy test policy', () => {
  it('is the minimal fixture, with every role trusted by the deploying account and no https subscription', () => {
    const fixture = loadPolicy(MINIMAL_POLICY_FILE).policy;
    const integ = integPolicy();
    const access = Object.fromEntries(Object.entries(fixture.access).map(([role, a]) => [role, { ...a, principals: ['this-account'] }]));
    expect(Object.keys(access)).toHaveLength(4);
    expect(integ).toEqual({
      ...fixture,
      access,
      alerting: { ...fixture.alerting, page: { subscriptions: [] }, ticket: { subscriptions: [] } },
    });
    expect(fixture.alerting.page.subscriptions).toHaveLength(1);
  });
});

describe('the probe, offline', () => {
  it('sends the run through the producer SDK as one Firehose record; the ingest transform stores placeholders, never the planted values', async () => {
    const server = await startFirehoseServer();
    const saved = { ...process.env };
    Object.assign(process.env, fakeEnv(server.region), {
      AWS_ENDPOINT_URL_FIREHOSE: server.endpoint,
      STREAM_NAME: 'helpdesk-bot-dev-events',
      ANALYST_ROLE_ARN: 'arn:aws:iam::123456789012:role/analyst',
      TRACES_BUCKET: 'traces',
      DATABASE: 'helpdesk_bot_dev_telemetry',
      WORKGROUP: 'helpdesk-bot-dev-analysts',
    });
    try {
      expect(await probe({ action: 'send', run: RUN })).toEqual({
        status: 'sent',
        events: String(EVENTS_PER_RUN),
        sent: String(EVENTS_PER_RUN),
        dropped: '0',
        records: '1',
      });
    } finally {
      process.env = saved;
      await server.close();
    }
    expect(server.records.map((r) => r.stream)).toEqual(['helpdesk-bot-dev-events']);
    const sent = server.events();
    expect(sent).toHaveLength(EVENTS_PER_RUN);
    expect(sent.every((e) => parseTelemetryEvent(e).ok)).toBe(true);
    expect(sent.find((e) => e.request_id === `${RUN}-0`)).toMatchObject({ error_message: PLANTED_ERROR_MESSAGE, user_id: PLANTED.email });

    // Firehose de-aggregates the record into one record per line before the transform.
    const lines = server.records.flatMap((r) => r.data.split('\n').filter((l) => l !== ''));
    const policy = integPolicy();
    const ctx = transformContext(transformConfigFromPolicy(policy).redaction, randomBytes(32), () => new Date());
    const { response } = transformBatch(
      { records: lines.map((l, i) => ({ recordId: `r${i}`, data: Buffer.from(l).toString('base64') })) },
      ctx,
    );
    expect(response.records.map((r) => [r.result, r.metadata.partitionKeys.area])).toEqual(lines.map(() => ['Ok', 'events']));
    const stored = response.records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')) as Record<string, unknown>);
    expect(checkVerdict({ run: RUN, objects: 1, head: 'PAR1', tail: 'PAR1', rows: stored })).toEqual({
      status: 'found',
      parquet: 'PAR1',
      objects: '1',
      events: String(EVENTS_PER_RUN),
      planted_email: 'absent',
      planted_key: 'absent',
      error_message: EXPECTED_ERROR_MESSAGE,
    });
  });

  it('check reports the planted values when they are stored, and waits while the run is missing', () => {
    const raw = runEvents(RUN).map((e, i) => ({ ...e, event_id: `e${i}` }));
    expect(checkVerdict({ run: RUN, objects: 1, head: 'PAR1', tail: 'PAR1', rows: raw })).toMatchObject({
      status: 'found',
      planted_email: 'present',
      planted_key: 'present',
      error_message: PLANTED_ERROR_MESSAGE,
    });
    expect(checkVerdict({ run: RUN, objects: 0, head: '', tail: '', rows: [] })).toMatchObject({
      status: 'waiting: no object under the run partitions yet',
      parquet: 'none',
    });
    expect(checkVerdict({ run: RUN, objects: 2, head: '{"sc', tail: '"}\n', rows: raw.slice(0, 3) })).toMatchObject({
      status: `waiting: 3 of ${EVENTS_PER_RUN} events in the table`,
      parquet: 'not Parquet ({"sc..."}\n)',
    });
  });

  it('queries only the run, in the partitions it can be in; ids and names are checked before they reach SQL', () => {
    expect(runDates(new Date('2026-11-29T00:05:00Z'))).toEqual(['2026-11-29', '2026-11-28']);
    expect(runQuery('helpdesk_bot_dev_telemetry', RUN, ['2026-11-29', '2026-11-28'])).toBe(
      `SELECT * FROM "helpdesk_bot_dev_telemetry"."events" WHERE event_type = 'request' AND dt IN ('2026-11-29', '2026-11-28') AND trace_id = '${RUN}'`,
    );
    expect(() => runQuery('helpdesk_bot_dev_telemetry', "x' OR '1'='1", ['2026-11-29'])).toThrow(/must match/);
    expect(() => runQuery('db"; DROP', RUN, ['2026-11-29'])).toThrow(/must match/);
    expect(runId(new Date('2026-11-29T12:00:00.123Z'), 'abc123')).toBe(RUN);
  });
});
