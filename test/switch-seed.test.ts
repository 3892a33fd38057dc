/**
 * The `Custom::KillSwitch` provider (lambdas/switch-seed) on the real code path: the
 * handler with the real SSMClient against the local SSM server, answering through the
 * real PUT to a local response URL, driven by CloudFormation-shaped Create, Update and
 * Delete requests whose properties are taken from synthesized templates of the policy
 * and its variants. A deploy must change a live switch only when the policy's initial
 * state for that switch changed.
 */
import { App, Stack, Tags } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSwitch } from '../lib/aws/switch-store';
import { AlertRouting } from '../lib/constructs/alerting/index';
import { KillSwitchParameters } from '../lib/constructs/kill-switches/index';
import {
  CREATE_FAILED_ID,
  KILL_SWITCH_RESOURCE_TYPE,
  planSeed,
  seedProperties,
  SWITCH_VALUE_PATTERN,
  type SeedProperties,
} from '../lib/core/killswitch/seed';
import { initialValue, parameterName, parseSwitchValue, serializeSwitchValue, switchPrefix } from '../lib/core/killswitch/values';
import { resolveSwitches, type Policy } from '../lib/core/policy';
import { createSeedHandler, handlerWith } from '../lambdas/switch-seed/index';
import { startAwsHttpServer, type AwsHttpServer } from './support/aws-http-server';
import { policyFrom, shippedPolicyData, variantPolicy } from './support/policy';
import { startSsmServer, type SsmServer } from './support/ssm-server';

const shipped = policyFrom(shippedPolicyData());
const prefix = switchPrefix(shipped);
const REF = 'read_only_mode';
const NAME = parameterName(prefix, REF);
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/copilot-prod/5b918d10-cd98-11ea-90d5-0a9cd3354c10';
const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:copilot-prod-SeedFn';

/** The Custom::KillSwitch properties of every switch of a policy, as synthesized (ServiceToken resolved as CloudFormation would). */
function synthesizedProperties(policy: Policy, tags: Record<string, string> = {}): Map<string, Record<string, unknown>> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Seed', { env: { account: '123456789012', region: 'eu-west-1' } });
  for (const [k, v] of Object.entries(tags)) Tags.of(stack).add(k, v);
  const alerts = AlertRouting.fromPolicy(stack, 'Alerting', policy);
  KillSwitchParameters.fromPolicy(stack, 'KillSwitches', policy, { pageTopic: alerts.pageTopic, ticketTopic: alerts.ticketTopic });
  const resources = Template.fromStack(stack).findResources(KILL_SWITCH_RESOURCE_TYPE);
  return new Map(
    Object.values(resources).map((r) => [r.Properties.Name as string, { ...r.Properties, ServiceToken: SERVICE_TOKEN }] as const),
  );
}
const propsOf = (policy: Policy, name = NAME, tags?: Record<string, string>) => synthesizedProperties(policy, tags).get(name)!;

/** A local stand-in for the presigned S3 response URL: records every PUT. */
interface ResponseSink {
  readonly url: (requestId: string) => string;
  readonly received: { method: string; path: string; contentType: string | undefined; body: Record<string, any> }[];
  status: number;
  readonly server: AwsHttpServer;
}
async function startResponseSink(): Promise<ResponseSink> {
  const received: ResponseSink['received'] = [];
  const state = { status: 200 };
  const server = await startAwsHttpServer({
    handle: async (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.writeHead(state.status).end();
    },
  });
  return {
    url: (requestId) => `${server.endpoint}/cloudformation-custom-resource-response/${requestId}?X-Amz-Signature=abc`,
    received,
    get status() {
      return state.status;
    },
    set status(s: number) {
      state.status = s;
    },
    server,
  };
}

let ssm: SsmServer;
let sink: ResponseSink;
let requests = 0;
const silent = { info: () => undefined, error: () => undefined };
beforeEach(async () => {
  ssm = await startSsmServer();
  sink = await startResponseSink();
});
afterEach(async () => {
  await ssm.close();
  await sink.server.close();
});

const base = (properties: Record<string, unknown>) => {
  const RequestId = `req-${++requests}`;
  return {
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: sink.url(RequestId),
    StackId: STACK_ID,
    RequestId,
    LogicalResourceId: 'KillSwitchesSwitchesreadonlymodeKillSwitch0A1B2C3D',
    ResourceType: KILL_SWITCH_RESOURCE_TYPE,
    ResourceProperties: properties,
  };
};
const create = (p: Record<string, unknown>) => ({ ...base(p), RequestType: 'Create' }) as CloudFormationCustomResourceEvent;
const update = (physical: string, old: Record<string, unknown>, p: Record<string, unknown>) =>
  ({ ...base(p), RequestType: 'Update', PhysicalResourceId: physical, OldResourceProperties: old }) as CloudFormationCustomResourceEvent;
const del = (physical: string, p: Record<string, unknown>) =>
  ({ ...base(p), RequestType: 'Delete', PhysicalResourceId: physical }) as CloudFormationCustomResourceEvent;

/** Runs the handler and returns what CloudFormation received. */
async function send(event: CloudFormationCustomResourceEvent, remainingMs = 60_000) {
  const handle = handlerWith({ ssm: ssm.client(), logger: silent });
  await handle(event, { getRemainingTimeInMillis: () => remainingMs });
  const answer = sink.received.at(-1)!;
  expect(answer.path).toBe(new URL(event.ResponseURL).pathname + new URL(event.ResponseURL).search);
  return answer.body;
}
const stateOf = (name = NAME) => {
  const p = ssm.parameters.get(name);
  if (!p) return undefined;
  const parsed = parseSwitchValue(p.value);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.value;
};
const overwrites = () => ssm.callsOf('PutParameter').filter((c) => c.body.Overwrite === true);

/** An operator's flip or an automatic trip: the same PutParameter the trip Lambda and the CLI send. */
const trip = (state: 'on' | 'off', ref = REF) =>
  writeSwitch(ssm.client(), prefix, ref, {
    state,
    reason: 'alarm copilot-prod-safety-p0-events entered ALARM',
    changed_by: 'auto-trip',
    changed_at: '2026-11-29T12:00:00.000Z',
  });

// The parameter description says the safe default: changing it changes Description only.
const descriptionChanged = variantPolicy((d) => (d.kill_switches.read_only_mode.safe_default = 'off'));
const initialChanged = variantPolicy((d) => (d.kill_switches.read_only_mode.initial = 'on'));
const devPolicy = variantPolicy((d) => (d.environment = 'dev'));

describe('Create', () => {
  it('writes the initial document with its description and pattern, and answers SUCCESS with the parameter name', async () => {
    const props = propsOf(shipped);
    const answer = await send(create(props));
    expect(answer).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: NAME,
      StackId: STACK_ID,
      RequestId: expect.stringMatching(/^req-/),
      LogicalResourceId: expect.any(String),
      Data: { Outcome: 'created' },
    });
    const sw = resolveSwitches(shipped).find((s) => s.ref === REF)!;
    expect(ssm.parameters.get(NAME)).toMatchObject({
      value: serializeSwitchValue(initialValue(sw)),
      type: 'String',
      version: 1,
      allowedPattern: SWITCH_VALUE_PATTERN,
      description: props.Description,
    });
    const [put] = ssm.callsOf('PutParameter');
    expect(put!.body).toMatchObject({
      Name: NAME,
      Overwrite: false,
      Type: 'String',
      Tier: 'Standard',
      AllowedPattern: SWITCH_VALUE_PATTERN,
    });
    expect(put!.signed).toBe(true);
  });

  it('answers with a PUT of JSON bytes and no Content-Type (the presigned URL is signed without one)', async () => {
    await send(create(propsOf(shipped)));
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.method).toBe('PUT');
    expect(sink.received[0]!.contentType ?? '').toBe('');
  });

  it('adopts a parameter that already exists (a retained switch) with its value, and gives it the tags', async () => {
    await trip('on'); // left by a deleted prod stack, tripped
    const before = ssm.parameters.get(NAME)!.value;
    const answer = await send(create(propsOf(shipped, NAME, { 'llmops:name': 'copilot' })));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME, Data: { Outcome: 'adopted' } });
    expect(ssm.parameters.get(NAME)!.value).toBe(before);
    expect(stateOf()!.state).toBe('on');
    expect(ssm.parameters.get(NAME)!.tags).toEqual({ 'llmops:name': 'copilot' });
    expect(overwrites()).toHaveLength(1); // the trip's own
  });

  it('creates with the stack tags in the same PutParameter', async () => {
    await send(create(propsOf(shipped, NAME, { 'llmops:environment': 'prod' })));
    expect(ssm.callsOf('PutParameter')[0]!.body.Tags).toEqual([{ Key: 'llmops:environment', Value: 'prod' }]);
    expect(ssm.callsOf('AddTagsToResource')).toEqual([]);
  });

  it('answers FAILED with the reason, and a physical id that the rollback Delete leaves alone', async () => {
    ssm.failNext({ operation: 'PutParameter', type: 'AccessDeniedException', message: 'not authorized to perform ssm:PutParameter' });
    const props = propsOf(devPolicy, parameterName(switchPrefix(devPolicy), REF));
    const failed = await send(create(props));
    expect(failed).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: CREATE_FAILED_ID,
      Reason: 'AccessDeniedException: not authorized to perform ssm:PutParameter',
    });
    expect(failed.Data).toBeUndefined();
    // someone else's parameter of that name appears; the rollback must not delete it
    ssm.put(props.Name as string, serializeSwitchValue({ state: 'on', reason: 'r', changed_by: 'alice' }));
    const rollback = await send(del(CREATE_FAILED_ID, props));
    expect(rollback).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: CREATE_FAILED_ID, Data: { Outcome: 'nothing-to-delete' } });
    expect(ssm.callsOf('DeleteParameter')).toEqual([]);
    expect(ssm.parameters.has(props.Name as string)).toBe(true);
  });

  it('fails when the properties are not a switch, naming every bad property', async () => {
    const props = { ...propsOf(shipped), InitialValue: 'off', RemovalPolicy: 'Keep' };
    const answer = await send(create(props));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toBe(
      'Error: ResourceProperties: InitialValue is not a switch document: value is not JSON; RemovalPolicy is "Keep"; expected Retain or Delete',
    );
    expect(ssm.calls).toEqual([]);
  });

  it('answers FAILED before the function times out when Parameter Store does not answer', async () => {
    ssm.delayMs = 3_000;
    const started = Date.now();
    const answer = await send(create(propsOf(shipped)), 6_000);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^(TimeoutError|AbortError)/);
    expect(Date.now() - started).toBeLessThan(2_900);
  });

  it('fails the invocation when the answer cannot be delivered (Lambda retries it)', async () => {
    sink.status = 403;
    const handle = handlerWith({ ssm: ssm.client(), logger: silent });
    await expect(handle(create(propsOf(shipped)))).rejects.toThrow('the CloudFormation response URL answered HTTP 403');
    // the retry adopts what the first attempt created
    sink.status = 200;
    expect((await send(create(propsOf(shipped)))).Data).toEqual({ Outcome: 'adopted' });
  });
});

describe('Update', () => {
  it('a trip followed by an Update that changes only the description keeps the tripped value', async () => {
    const old = propsOf(shipped);
    await send(create(old));
    await trip('on');
    const tripped = ssm.parameters.get(NAME)!;
    const next = propsOf(descriptionChanged);
    expect(next.Description).not.toBe(old.Description);
    expect(next.InitialValue).toBe(old.InitialValue);

    const answer = await send(update(NAME, old, next));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME, Data: { Outcome: 'kept' } });
    expect(ssm.parameters.get(NAME)!.value).toBe(tripped.value);
    expect(ssm.parameters.get(NAME)!.version).toBe(tripped.version);
    expect(stateOf()).toMatchObject({ state: 'on', changed_by: 'auto-trip' });
    // the only overwrite is the trip's; the description stays as written at creation
    expect(overwrites().map((c) => c.body.Value)).toEqual([tripped.value]);
    expect(ssm.parameters.get(NAME)!.description).toBe(old.Description);
  });

  it('an Update that changes only the tags changes the tags, not the value', async () => {
    const old = propsOf(shipped, NAME, { team: 'copilot', 'cost-centre': 'a1' });
    await send(create(old));
    await trip('on');
    const version = ssm.parameters.get(NAME)!.version;
    const answer = await send(update(NAME, old, propsOf(shipped, NAME, { team: 'genai' })));
    expect(answer.Data).toEqual({ Outcome: 'kept' });
    expect(ssm.parameters.get(NAME)!.version).toBe(version);
    expect(ssm.parameters.get(NAME)!.tags).toEqual({ team: 'genai' });
    expect(ssm.callsOf('RemoveTagsFromResource').map((c) => c.body.TagKeys)).toEqual([['cost-centre']]);
    expect(ssm.callsOf('AddTagsToResource').map((c) => c.body.Tags)).toEqual([[{ Key: 'team', Value: 'genai' }]]);
  });

  it('an Update that changes InitialValue writes it, with the new description, over a trip', async () => {
    const old = propsOf(shipped);
    await send(create(old));
    await trip('off'); // whatever the live state, the policy's initial state changed
    const next = propsOf(initialChanged);
    expect(next.InitialValue).not.toBe(old.InitialValue);
    const answer = await send(update(NAME, old, next));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME, Data: { Outcome: 'written' } });
    expect(ssm.parameters.get(NAME)!.value).toBe(next.InitialValue);
    expect(stateOf()).toEqual({ state: 'on', reason: 'initial state from the telemetry policy', changed_by: 'deploy' });
    expect(overwrites().at(-1)!.body).toMatchObject({
      Name: NAME,
      Value: next.InitialValue,
      Description: next.Description,
      Overwrite: true,
    });
    expect(overwrites().at(-1)!.body.Tags).toBeUndefined();
  });

  it('creates the parameter again when it was deleted out of band, with the initial document', async () => {
    const old = propsOf(shipped);
    await send(create(old));
    ssm.parameters.delete(NAME);
    const answer = await send(update(NAME, old, propsOf(descriptionChanged)));
    expect(answer.Data).toEqual({ Outcome: 'recreated' });
    expect(ssm.parameters.get(NAME)!.value).toBe(old.InitialValue);
  });

  it('a new name is a replacement: the new parameter is created, the old one is left to the Delete that follows', async () => {
    const renamed = variantPolicy((d) => (d.name = 'helpdesk'));
    const old = propsOf(shipped);
    await send(create(old));
    await trip('on');
    const newName = parameterName(switchPrefix(renamed), REF);
    const answer = await send(update(NAME, old, propsOf(renamed, newName)));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: newName, Data: { Outcome: 'created' } });
    expect(stateOf(newName)!.state).toBe('off');
    expect(stateOf(NAME)!.state).toBe('on');
  });

  it('a failed Update keeps the physical id CloudFormation knows', async () => {
    const old = propsOf(shipped);
    await send(create(old));
    ssm.failNext({ operation: 'PutParameter', type: 'ThrottlingException', message: 'Rate exceeded' });
    const answer = await send(update(NAME, old, propsOf(initialChanged)));
    expect(answer).toMatchObject({ Status: 'FAILED', PhysicalResourceId: NAME, Reason: 'ThrottlingException: Rate exceeded' });
  });
});

describe('Delete', () => {
  it('leaves the parameter when the removal policy is Retain (prod)', async () => {
    const props = propsOf(shipped);
    expect(props.RemovalPolicy).toBe('Retain');
    await send(create(props));
    const answer = await send(del(NAME, props));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME, Data: { Outcome: 'retained' } });
    expect(ssm.parameters.has(NAME)).toBe(true);
    expect(ssm.callsOf('DeleteParameter')).toEqual([]);
  });

  it('deletes the parameter when the removal policy is Delete, and counts one already gone as deleted', async () => {
    const name = parameterName(switchPrefix(devPolicy), REF);
    const props = propsOf(devPolicy, name);
    expect(props.RemovalPolicy).toBe('Delete');
    await send(create(props));
    expect((await send(del(name, props))).Data).toEqual({ Outcome: 'deleted' });
    expect(ssm.parameters.has(name)).toBe(false);
    expect(await send(del(name, props))).toMatchObject({ Status: 'SUCCESS', Data: { Outcome: 'already-deleted' } });
  });

  it('retains when RemovalPolicy is missing or unknown: only an explicit Delete deletes a switch', async () => {
    ssm.put(NAME, serializeSwitchValue({ state: 'on', reason: 'r', changed_by: 'alice' }));
    const { RemovalPolicy: _r, ...withoutRemoval } = propsOf(devPolicy, parameterName(switchPrefix(devPolicy), REF));
    expect((await send(del(NAME, withoutRemoval))).Data).toEqual({ Outcome: 'retained' });
    expect((await send(del(NAME, { ...withoutRemoval, RemovalPolicy: 'delete' }))).Data).toEqual({ Outcome: 'retained' });
    expect(ssm.parameters.has(NAME)).toBe(true);
  });

  it('fails when DeleteParameter is refused, keeping the physical id', async () => {
    const name = parameterName(switchPrefix(devPolicy), REF);
    const props = propsOf(devPolicy, name);
    await send(create(props));
    ssm.failNext({ operation: 'DeleteParameter', type: 'AccessDeniedException', message: 'denied' });
    expect(await send(del(name, props))).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: name,
      Reason: 'AccessDeniedException: denied',
    });
    expect(ssm.parameters.has(name)).toBe(true);
  });
});

describe('the exported handler', () => {
  it('builds its client on the first invocation and answers every request', async () => {
    const handle = createSeedHandler({ ssm: ssm.client(), logger: silent });
    const props = propsOf(shipped);
    await handle(create(props));
    await handle(update(NAME, props, propsOf(descriptionChanged)));
    expect(sink.received.map((r) => [r.body.Status, r.body.Data?.Outcome])).toEqual([
      ['SUCCESS', 'created'],
      ['SUCCESS', 'kept'],
    ]);
  });
});

describe('planSeed and seedProperties (the pure core)', () => {
  const props = () => propsOf(shipped);

  it('plans a write only when InitialValue changed, for every switch of the policy and its variants', () => {
    for (const [variant, changed] of [
      [descriptionChanged, false],
      [initialChanged, true],
      [shipped, false],
    ] as const) {
      const olds = synthesizedProperties(shipped);
      const news = synthesizedProperties(variant);
      for (const [name, old] of olds) {
        const plan = planSeed({
          ...base(news.get(name)!),
          RequestType: 'Update',
          PhysicalResourceId: name,
          OldResourceProperties: old,
        } as never);
        const expected = changed && name === NAME ? 'write' : 'ensure';
        expect(plan.step.kind, name).toBe(expected);
      }
    }
  });

  it('fails when asked for an unknown request type', () => {
    expect(() => planSeed({ ...base(props()), RequestType: 'Replace' } as never)).toThrow(
      'RequestType is "Replace"; expected Create, Update or Delete',
    );
  });

  it('fails when a construct would write a switch that Parameter Store would refuse', () => {
    expect(() =>
      seedProperties({
        Name: 'copilot/prod/x',
        InitialValue: '{"state":"maybe"}',
        Description: 'd',
        AllowedPattern: SWITCH_VALUE_PATTERN,
        RemovalPolicy: 'Retain',
      }),
    ).toThrow(
      /^kill switch copilot\/prod\/x: Name is "copilot\/prod\/x"; give a parameter path such as \/copilot\/prod\/kill-switches\/read_only_mode; InitialValue is not a switch document: state: state must be 'on' or 'off'/,
    );
  });

  it('cuts a description to the 1024 characters SSM stores', () => {
    const p = seedProperties({ ...(props() as unknown as SeedProperties), Description: 'x'.repeat(2000) });
    expect(p.Description).toHaveLength(1024);
  });
});
